#!/bin/sh
# `make run`: the webhook on loopback with the example policy built into the binary and a
# development CA and certificate (created once in build/dev-certs, renewed when near expiry).
# Stop it with Ctrl-C. PORT overrides the port (default 8443): `make run PORT=8444`. The server
# prints the caBundle path and a ready-to-paste curl command (paths relative to the repository
# root, where this runs).
set -eu
bin=${1:?usage: scripts/run-dev.sh BIN}
case "$bin" in /*) ;; *) bin="$(pwd)/$bin" ;; esac
cd "$(dirname "$0")/.."
port=${PORT:-8443}
# Ctrl-C reaches the server as well, which stops and exits 0; the shell waits for it.
trap ':' INT
status=0
"$bin" serve --dev --listen "127.0.0.1:$port" --dev-certs build/dev-certs || status=$?
if [ "$status" -eq 1 ]; then
    # Exit status 1: the server could not listen (its message above says why).
    echo "make run: 127.0.0.1:$port is not available; set PORT= to use another port, e.g." \
        "make run PORT=$((port + 1))" >&2
fi
exit "$status"

#!/bin/sh
# `make run`: the webhook on loopback with the example policy built into the binary and a
# development CA and certificate (created once in build/dev-certs, renewed when near expiry).
# Stop it with Ctrl-C. PORT overrides the port (default 8443). The server prints the caBundle
# path and a ready-to-paste curl command (paths relative to the repository root, where this runs).
set -eu
bin=${1:?usage: scripts/run-dev.sh BIN}
case "$bin" in /*) ;; *) bin="$(pwd)/$bin" ;; esac
cd "$(dirname "$0")/.."
exec "$bin" serve --dev --listen "127.0.0.1:${PORT:-8443}" --dev-certs build/dev-certs

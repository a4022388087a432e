#!/bin/sh
# `make run`: the webhook in development mode on loopback, with the embedded example policy and a
# development CA + serving certificate kept in build/dev-certs (created on the first run).
# Usage: scripts/run-dev.sh BIN   (LISTEN=127.0.0.1:PORT to change the address; Ctrl-C stops it)
set -eu
bin=${1:?usage: scripts/run-dev.sh BIN}
case "$bin" in /*) ;; *) bin="$(pwd)/$bin" ;; esac
cd "$(dirname "$0")/.."
exec "$bin" serve --dev --listen "${LISTEN:-127.0.0.1:8443}" --dev-certs build/dev-certs

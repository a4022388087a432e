# Sourced by the server suites that need TLS peers: a scratch directory removed on exit (the PIDs
# listed in $pids are stopped first, by TERM and then, after 5 s, KILL), test certificates made
# with the openssl CLI (ECDSA P-256, SAN IP:127.0.0.1 and DNS:localhost, as kube-apiserver
# checks), and helpers to start a server on a free loopback port and talk to it.
tmp=$(mktemp -d)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    for p in $pids; do
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

ossl() { openssl "$@" 2>>"$tmp/openssl.log" >/dev/null; }

# mkca NAME: a CA, $tmp/NAME.key and $tmp/NAME.crt.
mkca() {
    ossl ecparam -name prime256v1 -genkey -noout -out "$tmp/$1.key"
    ossl req -x509 -new -key "$tmp/$1.key" -subj "/CN=$1" -days 2 -out "$tmp/$1.crt"
}

# mkcert NAME CA SERIAL [EKU]: a certificate for 127.0.0.1/localhost signed by CA (serial in hex),
# extended key usage EKU (default serverAuth,clientAuth; "none" leaves the extension out).
mkcert() {
    ossl ecparam -name prime256v1 -genkey -noout -out "$tmp/$1.key"
    ossl req -new -key "$tmp/$1.key" -subj "/CN=localhost" -out "$tmp/$1.csr"
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$tmp/$1.ext"
    [ "${4:-}" = none ] || printf 'extendedKeyUsage=%s\n' "${4:-serverAuth,clientAuth}" >>"$tmp/$1.ext"
    ossl x509 -req -in "$tmp/$1.csr" -CA "$tmp/$2.crt" -CAkey "$tmp/$2.key" -set_serial "0x$3" \
        -days 2 -extfile "$tmp/$1.ext" -out "$tmp/$1.crt"
}

# mkcert_dated NAME CA SERIAL START END: like mkcert, valid from START to END (YYYYMMDDHHMMSSZ),
# which may lie in the past or the future ('openssl ca' is the CLI that sets both dates).
mkcert_dated() {
    ossl ecparam -name prime256v1 -genkey -noout -out "$tmp/$1.key"
    ossl req -new -key "$tmp/$1.key" -subj "/CN=localhost" -out "$tmp/$1.csr"
    mkdir -p "$tmp/ca-db"
    : >"$tmp/ca-db/index.txt"
    printf '[ca]\ndefault_ca = d\n[d]\ndatabase = %s/index.txt\nnew_certs_dir = %s\nserial = %s/serial\n' \
        "$tmp/ca-db" "$tmp/ca-db" "$tmp/ca-db" >"$tmp/ca-db/ca.cnf"
    printf 'default_md = sha256\npolicy = p\nunique_subject = no\n[p]\ncommonName = supplied\n' \
        >>"$tmp/ca-db/ca.cnf"
    printf '[x]\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' \
        >"$tmp/$1.ext"
    printf '%s\n' "$3" >"$tmp/ca-db/serial"
    ossl ca -batch -notext -config "$tmp/ca-db/ca.cnf" -cert "$tmp/$2.crt" -keyfile "$tmp/$2.key" \
        -in "$tmp/$1.csr" -startdate "$4" -enddate "$5" -extfile "$tmp/$1.ext" -extensions x \
        -out "$tmp/$1.crt"
}

# make_pki: the CAs ca (servers), clientca and otherca (clients), serving certificates srv1 (serial
# 1A01) and srv2 (2B02) from ca, client (3C03) from clientca, stranger (4D04) from otherca.
make_pki() {
    mkca ca
    mkca clientca
    mkca otherca
    mkcert srv1 ca 1a01
    mkcert srv2 ca 2b02
    mkcert client clientca 3c03
    mkcert stranger otherca 4d04
    if [ ! -s "$tmp/srv2.crt" ] || [ ! -s "$tmp/stranger.crt" ]; then
        fail "test certificates" "$(cat "$tmp/openssl.log")"
        exit 1
    fi
}

# make_server_cert SERIAL: $tmp/ca.{key,crt} and a serving certificate $tmp/srv.{key,crt}.
make_server_cert() {
    mkca ca
    mkcert srv ca "$1"
    [ -s "$tmp/srv.crt" ] || { fail "test certificates" "$(cat "$tmp/openssl.log")"; exit 1; }
}

# start NAME ARGS...: starts `egressguard serve ARGS` on a free loopback port, outside any
# cluster; sets $pid and $port ("" if it did not start within 60 s); output in $tmp/NAME.out and
# $tmp/NAME.log. The process joins $pids.
start() {
    _name=$1; shift
    env -u KUBERNETES_SERVICE_HOST "$EGRESSGUARD" serve --listen 127.0.0.1:0 "$@" \
        >"$tmp/$_name.out" 2>"$tmp/$_name.log" &
    pid=$!
    pids="$pids $pid"
    port=""
    _i=0
    while [ -z "$port" ] && [ $_i -lt 600 ] && kill -0 "$pid" 2>/dev/null; do
        sleep 0.1; _i=$((_i + 1))
        port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$tmp/$_name.log" | head -1)
    done
    [ -n "$port" ]
}
# serve_tls NAME ARGS...: start with the certificate of make_server_cert.
serve_tls() {
    _tls_name=$1; shift
    start "$_tls_name" --tls-cert "$tmp/srv.crt" --tls-key "$tmp/srv.key" "$@"
}
# wait_exit PID SECONDS: waits for the process to end; its status in $status (124 on timeout).
wait_exit() {
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt $(($2 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "$1" 2>/dev/null; then status=124; else wait "$1"; status=$?; fi
}
U() { echo "https://127.0.0.1:$port$1"; }
C() { curl -sS --max-time 10 --cacert "$tmp/ca.crt" "$@"; }
# post PATH FILE [curl args]: POSTs JSON; body in $out, status in $code.
post() {
    p=$1; f=$2; shift 2
    out=$(C -H 'Content-Type: application/json' --data-binary "@$f" -w '\n%{http_code}' "$@" "$(U "$p")" 2>&1)
    code=$(printf '%s' "$out" | tail -n 1)
    out=$(printf '%s' "$out" | sed '$d')
}
metric() { C "$(U /metrics)" | sed -n "s/^$1 \([0-9]*\)$/\1/p"; }
# until_ok SECONDS CMD...: retries the command until it succeeds (bounded).
until_ok() {
    t=$(($1 * 10)); shift; i=0
    while ! "$@" && [ $i -lt $t ]; do sleep 0.1; i=$((i + 1)); done
    "$@"
}

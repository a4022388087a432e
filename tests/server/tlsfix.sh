# Sourced by the server suites that need TLS peers: a scratch directory removed on exit (the PIDs
# listed in $pids are stopped first, by TERM and then, after 5 s, KILL) and test certificates made
# with the openssl CLI: ECDSA P-256, SAN IP:127.0.0.1 and DNS:localhost, as kube-apiserver checks.
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

# mkcert NAME CA SERIAL: a certificate for 127.0.0.1/localhost signed by CA (serial in hex).
mkcert() {
    ossl ecparam -name prime256v1 -genkey -noout -out "$tmp/$1.key"
    ossl req -new -key "$tmp/$1.key" -subj "/CN=localhost" -out "$tmp/$1.csr"
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' \
        >"$tmp/$1.ext"
    ossl x509 -req -in "$tmp/$1.csr" -CA "$tmp/$2.crt" -CAkey "$tmp/$2.key" -set_serial "0x$3" \
        -days 2 -extfile "$tmp/$1.ext" -out "$tmp/$1.crt"
}

# make_server_cert SERIAL: $tmp/ca.{key,crt} and a serving certificate $tmp/srv.{key,crt}.
make_server_cert() {
    mkca ca
    mkcert srv ca "$1"
    [ -s "$tmp/srv.crt" ] || { fail "test certificates" "$(cat "$tmp/openssl.log")"; exit 1; }
}

# serve_tls NAME ARGS...: starts `egressguard serve` on a free loopback port with the certificate
# of make_server_cert and ARGS, outside any cluster; sets $port ("" if it did not start within
# 10 s); output in $tmp/NAME.out and $tmp/NAME.log. The process joins $pids.
serve_tls() {
    _name=$1; shift
    env -u KUBERNETES_SERVICE_HOST "$EGRESSGUARD" serve --listen 127.0.0.1:0 \
        --tls-cert "$tmp/srv.crt" --tls-key "$tmp/srv.key" "$@" >"$tmp/$_name.out" 2>"$tmp/$_name.log" &
    pids="$pids $!"
    port=""; _i=0
    while [ -z "$port" ] && [ $_i -lt 600 ]; do
        sleep 0.1; _i=$((_i + 1))
        port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$tmp/$_name.log" | head -1)
    done
    [ -n "$port" ]
}

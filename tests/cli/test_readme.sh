# The README's tour, command by command, as written: in a scratch directory that has the
# repository's examples/ and ./egressguard, each command must exit as its "# exits N" comment says
# (0 without one). `serve` runs until it listens and is stopped (with --listen 127.0.0.1:0 added,
# so that parallel runs never fight over 8443); the kubectl line needs a cluster and runs in
# `make e2e` (tests/e2e/run.sh).
. "$(dirname "$0")/../lib.sh"
root=$(cd "$TESTS_DIR/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ln -s "$root/examples" "$tmp/examples"
ln -s "$EGRESSGUARD" "$tmp/egressguard"

awk -v section="## A short tour" -f "$TESTS_DIR/mdcommands.awk" "$root/README.md" >"$tmp/commands"
n=$(grep -c . "$tmp/commands")
[ "$n" -ge 10 ] && pass "readme: the tour has $n commands" || fail "readme: the tour has commands" "found $n"

while IFS= read -r cmd; do
    want=$(printf '%s\n' "$cmd" | sed -n 's/.*# exits \([0-9]\).*/\1/p')
    case "$cmd" in
    kubectl*)
        continue ;;
    *" serve "*)
        : >"$tmp/serve.log"
        (cd "$tmp" && exec sh -c "exec $cmd --listen 127.0.0.1:0") >"$tmp/serve.out" 2>"$tmp/serve.log" &
        pid=$! i=0
        while ! grep -q '"listening on 127.0.0.1:' "$tmp/serve.log" && kill -0 $pid 2>/dev/null &&
            [ $i -lt 240 ]; do
            sleep 0.25; i=$((i + 1))
        done
        if grep -q '"listening on 127.0.0.1:' "$tmp/serve.log"; then pass "readme: $cmd"; else
            fail "readme: $cmd" "$(head -c 400 "$tmp/serve.log")"
        fi
        kill $pid 2>/dev/null; wait $pid 2>/dev/null
        continue ;;
    esac
    run sh -c "cd '$tmp' && $cmd"
    expect_rc "readme: $cmd" "${want:-0}"
done <"$tmp/commands"

# What the commands left behind is what the tour says they make.
expect_in "readme: egress.sarif is SARIF" "$(cat "$tmp/egress.sarif" 2>/dev/null)" '"version": "2.1.0"'
[ -s "$tmp/egressguard-pki/ca.crt" ] && [ -s "$tmp/egressguard-pki/tls.key" ] &&
    pass "readme: certs wrote egressguard-pki/" || fail "readme: certs wrote egressguard-pki/"
exit $t_failed

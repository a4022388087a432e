#!/bin/sh
# `egressguard explain` on the benchmark cluster of bench_model (10,000 namespaces, 50,000 network
# policies of every CNI, 5,000 address sets): offline over the cluster as one JSON List file, and
# online (--kubeconfig) against the fake API server of the server suites (fake_kube.py, on
# loopback) serving the same objects. Each is timed end to end, the answer for one AI namespace
# and one address: wall time (the target: under a second) and the process's CPU time (user +
# system), the median of BENCH_ROUNDS rounds. The online wall time includes the fake API server's
# (python) serving of the LIST pages, which is not egressguard's.
# Usage: BUILD_DIR=build/default EGRESSGUARD=build/default/egressguard tests/bench/explain.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

"$root/scripts/deps.sh" bench || exit 1
command -v python3 >/dev/null && command -v openssl >/dev/null ||
    { echo "explain.sh: python3 and openssl are needed" >&2; exit 1; }
for b in "$EGRESSGUARD" "$BUILD_DIR/tests/bench/bench_model"; do
    [ -x "$b" ] || { echo "explain.sh: $b is missing (make bench builds it)" >&2; exit 1; }
done
tmp=$(mktemp -d)
fake=""
trap '[ -n "$fake" ] && kill "$fake" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM

"$BUILD_DIR/tests/bench/bench_model" --write-cluster "$tmp/cluster.json" || exit 1

# The fake API server: a CA and a serving certificate for 127.0.0.1, the cluster as its seed
# with every kind the cluster holds served.
o() { openssl "$@" 2>>"$tmp/openssl.log" >/dev/null; }
o ecparam -name prime256v1 -genkey -noout -out "$tmp/ca.key"
o req -x509 -new -key "$tmp/ca.key" -subj "/CN=bench-ca" -days 2 -out "$tmp/ca.crt"
o ecparam -name prime256v1 -genkey -noout -out "$tmp/srv.key"
o req -new -key "$tmp/srv.key" -subj "/CN=localhost" -out "$tmp/srv.csr"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$tmp/srv.ext"
o x509 -req -in "$tmp/srv.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -set_serial 0x1 -days 2 \
    -extfile "$tmp/srv.ext" -out "$tmp/srv.crt"
[ -s "$tmp/srv.crt" ] || { echo "explain.sh: test certificates: $(cat "$tmp/openssl.log")" >&2; exit 1; }
mkdir -p "$tmp/kube"
python3 - "$tmp/cluster.json" "$tmp/kube/seed.json" <<'PY' || exit 1
import json, sys
items = json.load(open(sys.argv[1]))["items"]
serve = {}
for o in items:
    g, _, v = o["apiVersion"].rpartition("/")
    if (g, o["kind"]) in (("", "Namespace"), ("networking.k8s.io", "NetworkPolicy")):
        continue
    plural = o["kind"].lower()  # the kinds' plurals: ...policy -> ...policies, ...set -> ...sets
    plural = plural[:-1] + "ies" if plural.endswith("y") else plural + "s"
    serve[(g, v, plural)] = {"group": g, "version": v, "resource": plural, "kind": o["kind"],
                             "namespaced": "namespace" in o["metadata"]}
json.dump({"serve": list(serve.values()), "objects": items}, open(sys.argv[2], "w"))
PY
python3 "$root/tests/server/fake_kube.py" "$tmp/srv.crt" "$tmp/srv.key" "$tmp/kube" 2>"$tmp/kube.log" &
fake=$!
i=0
while [ ! -s "$tmp/kube/port" ] && [ $i -lt 1200 ] && kill -0 "$fake" 2>/dev/null; do
    sleep 0.1; i=$((i + 1))
done
[ -s "$tmp/kube/port" ] || { echo "explain.sh: the fake API server: $(cat "$tmp/kube.log")" >&2; exit 1; }
cat >"$tmp/kubeconfig" <<K
apiVersion: v1
kind: Config
current-context: bench
clusters:
- name: fake
  cluster: {server: "https://127.0.0.1:$(cat "$tmp/kube/port")", certificate-authority: "$tmp/ca.crt"}
users:
- name: bench
  user: {token: bench}
contexts:
- name: bench
  context: {cluster: fake, user: bench}
K

# measure NAME CMD...: runs CMD once; appends "NAME wall_seconds cpu_seconds" to $tmp/results
# (CPU from getrusage(RUSAGE_CHILDREN)). An exit above 1 is a failure.
measure() {
    python3 - "$@" >>"$tmp/results" <<'PY' || return 1
import resource, subprocess, sys, time
name, cmd = sys.argv[1], sys.argv[2:]
t0 = time.monotonic()
p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.monotonic() - t0
if p.returncode > 1:
    sys.exit("explain.sh: %s exited %d: %s" % (name, p.returncode, p.stderr.decode()[-500:]))
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%s %.6f %.6f" % (name, wall, u.ru_utime + u.ru_stime))
PY
}

ask="ns-00005 -p $root/examples/policy.yaml --to 10.20.1.5:443"
echo "explain bench: 10,000 namespaces, 50,000 network policies, 5,000 address sets; $ROUNDS rounds, $(nproc) cores"
: >"$tmp/results"
r=1
while [ "$r" -le "$ROUNDS" ]; do
    # shellcheck disable=SC2086
    measure offline "$EGRESSGUARD" explain $ask "$tmp/cluster.json" || exit 1
    # shellcheck disable=SC2086
    measure online "$EGRESSGUARD" explain $ask --kubeconfig "$tmp/kubeconfig" || exit 1
    r=$((r + 1))
done

# median NAME COLUMN: the median of NAME's values in that column of $tmp/results.
median() { awk -v k="$1" -v c="$2" '$1 == k { v[n++] = $c } END { for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t } printf "%.3f", n % 2 ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2 }' "$tmp/results"; }
for k in offline online; do
    wall=$(median $k 2)
    echo "  explain $k: $wall s wall ($(verdict "$wall" 1) target < 1 s), $(median $k 3) s CPU"
done

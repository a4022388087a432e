#!/bin/sh
# The shape of the source tree (docs/architecture.md): no include cycle between modules, dependencies
# pointing down (server → policy; certs alone), and no source file over the house limit.
. "$(dirname "$0")/../lib.sh"
root=$(cd "$TESTS_DIR/.." && pwd)

out=$(cd "$root" && python3 - <<'PY'
import os, re, sys
mods = {}   # module (path without extension) -> set of modules it includes
for top in ("policy", "server", "certs"):
    for d, _, files in os.walk(top):
        for f in files:
            if not f.endswith((".c", ".h")):
                continue
            p = os.path.join(d, f)
            m = p[:-2]
            deps = mods.setdefault(m, set())
            for line in open(p, encoding="utf-8"):
                r = re.match(r'#include "([^"]+)\.h"', line)
                if r and r.group(1) != m:
                    deps.add(r.group(1))
bad = []
# Layering: policy never includes server; certs includes neither.
for m, deps in mods.items():
    for d in deps:
        if m.startswith("policy/") and d.startswith("server/"):
            bad.append("layer: %s includes %s" % (m, d))
        if m.startswith("certs/") and (d.startswith("server/") or d.startswith("policy/")):
            bad.append("layer: %s includes %s" % (m, d))
# Cycles, by depth-first search over the module graph.
state, stack = {}, []
def visit(m):
    state[m] = 1
    stack.append(m)
    for d in sorted(mods.get(m, ())):
        if state.get(d) == 1:
            bad.append("cycle: " + " -> ".join(stack[stack.index(d):] + [d]))
        elif d in mods and not state.get(d):
            visit(d)
    stack.pop()
    state[m] = 2
sys.setrecursionlimit(10000)
for m in sorted(mods):
    if not state.get(m):
        visit(m)
print("\n".join(bad))
PY
)
if [ -z "$out" ]; then pass "layout_no_include_cycle"; else fail "layout_no_include_cycle" "$out"; fi

long=$(cd "$root" && for f in $(find policy server certs -name '*.c'); do
    n=$(wc -l <"$f"); [ "$n" -gt 850 ] && echo "$f: $n lines"; done)
if [ -z "$long" ]; then pass "layout_files_under_limit"; else fail "layout_files_under_limit" "$long"; fi

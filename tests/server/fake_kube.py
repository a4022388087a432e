#!/usr/bin/env python3
"""A fake Kubernetes API server for the server suites: HTTPS on a free loopback port.

Usage: fake_kube.py CERT KEY DIR. Writes the port to DIR/port, one line per API request,
"METHOD PATH BEARER-TOKEN", to DIR/requests and one per BOOKMARK sent, "RESOURCE RV", to
DIR/bookmarks. DIR/seed.json (optional) holds objects to start
with: {"objects": [...]} (apiVersion and kind decide where they go), and optionally
"serve": [{group,version,resource,kind,namespaced}, ...], kinds served from the start (as the
serve verb below). Stops after 900 s.

What it serves, as kube-apiserver does (https://kubernetes.io/docs/reference/using-api/api-concepts/):
  - discovery: GET /api/v1 and GET /apis/GROUP/VERSION (404 for what is not served);
  - LIST with limit/continue (continue tokens are standard base64 with '+', '/' and '=', so a
    client that does not escape them breaks) and a list resourceVersion;
  - WATCH (?watch=1) from a resourceVersion: chunked JSON lines, BOOKMARK events every second
    when asked (allowWatchBookmarks=true), an ERROR event with code 410 when the resourceVersion
    is older than the last compaction; the stream ends after timeoutSeconds;
  - GET, POST (409 AlreadyExists), PUT (409 on a resourceVersion conflict) and DELETE (with
    preconditions) of single objects, each one an event for the watches.

Tests steer it through POST /_control/VERB with a JSON body (never logged in DIR/requests):
  apply {object}              create or replace an object (ADDED / MODIFIED)
  delete {apiVersion,kind,namespace,name}
  delete-namespace {name}     as the namespace controller: Terminating, contents deleted, gone
  serve {group,version,resource,kind,namespaced}   start serving a kind (a CRD installed)
  unserve {group,version,resource}
  compact {}                  every resourceVersion so far becomes too old (410 on watch)
  disconnect {}               every open watch stream ends
  tokens {"valid": [...]}     only these bearer tokens are accepted (401 otherwise); null: any
  down {"on": bool}           every API request answers 503
  hostile {"resource", "mode"}  the next WATCH of that resource answers badly, once:
      garbage (a line that is not JSON), wrong-kind (a Secret in the stream), status500,
      gone-status (HTTP 410), slow (one event one byte at a time, 20 ms apart), huge (an
      event line of 20 MiB that never ends: the client must give up on it), close (the
      connection closed before any byte)
  fail-posts {"n": N}         the next N POSTs of objects answer 500
  forbid {"resource", "on"}   every LIST, WATCH and GET of that resource answers 403, as when
      the client's role lacks it (discovery still lists it: the kind is served)
"""
import base64, copy, json, os, ssl, sys, threading, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

cert, key, d = sys.argv[1:4]
lock = threading.Condition()
st = {
    "rv": 100, "compact": 0, "conn_gen": 0, "tokens": None, "down": False,
    "hostile": {}, "fail_posts": 0, "forbid": set(),
    # (group, version) -> {resource: (kind, namespaced)}
    "served": {("", "v1"): {"namespaces": ("Namespace", False)},
               ("networking.k8s.io", "v1"): {"networkpolicies": ("NetworkPolicy", True)}},
    "objects": {},  # (group, resource) -> {(ns, name): obj}
    "events": [],   # (rv, group, resource, type, obj)
    "sorted": {},   # (group, resource, namespace) -> (rv, the objects sorted as LISTs give them)
}


def resource_of(api_version, kind):
    g, _, v = api_version.rpartition("/")
    for (sg, sv), res in st["served"].items():
        if sg == g:
            for r, (k, nsd) in res.items():
                if k == kind:
                    return g, r, nsd
    return None


def bump(obj):
    st["rv"] += 1
    obj.setdefault("metadata", {})["resourceVersion"] = str(st["rv"])
    obj["metadata"].setdefault("uid", str(uuid.uuid4()))
    return st["rv"]


def emit(g, r, typ, obj):
    """Under lock: records an event and wakes the watches."""
    st["events"].append((int(obj["metadata"]["resourceVersion"]), g, r, typ, copy.deepcopy(obj)))
    lock.notify_all()


def put(g, r, obj):
    store = st["objects"].setdefault((g, r), {})
    k = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
    typ = "MODIFIED" if k in store else "ADDED"
    bump(obj)
    store[k] = obj
    emit(g, r, typ, obj)
    return obj


def remove(g, r, ns, name):
    store = st["objects"].setdefault((g, r), {})
    obj = store.pop((ns, name), None)
    if obj is not None:
        bump(obj)
        emit(g, r, "DELETED", obj)
    return obj


def seed():
    f = os.path.join(d, "seed.json")
    if os.path.exists(f):
        seeded = json.load(open(f))
        for b in seeded.get("serve", []):
            st["served"].setdefault((b["group"], b["version"]), {})[b["resource"]] = \
                (b["kind"], b["namespaced"])
        for o in seeded.get("objects", []):
            where = resource_of(o["apiVersion"], o["kind"])
            if where:
                put(where[0], where[1], o)


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this each answer on a kept-alive
    # connection waits for the client's delayed ACK (40 ms a request, most of a long LIST).
    disable_nagle_algorithm = True

    def log_message(self, *a):
        pass

    def send(self, code, obj):
        self.send_body(code, json.dumps(obj).encode())

    def send_body(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def status(self, code, reason, msg=""):
        self.send(code, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                         "code": code, "reason": reason, "message": msg})

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n)) if n else None

    def handle_any(self, method):
        url = urlsplit(self.path)
        q = parse_qs(url.query)
        p = url.path.strip("/").split("/")
        if p[0] == "_control":
            return self.control(p[1], self.body())
        auth = self.headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        with lock:
            with open(os.path.join(d, "requests"), "a") as f:
                f.write("%s %s %s\n" % (method, self.path, token))
            if st["tokens"] is not None and token not in st["tokens"]:
                return self.status(401, "Unauthorized", "token not valid")
            if st["down"]:
                return self.status(503, "ServiceUnavailable", "down")
        body = self.body() if method in ("POST", "PUT", "DELETE") else None
        # Discovery.
        if p[0] == "api" and len(p) == 2 or p[0] == "apis" and len(p) == 3:
            gv = ("", p[1]) if p[0] == "api" else (p[1], p[2])
            with lock:
                res = st["served"].get(gv)
                if res is None:
                    return self.status(404, "NotFound")
                return self.send(200, {"kind": "APIResourceList", "groupVersion":
                                       "/".join(x for x in gv if x),
                                       "resources": [{"name": r, "kind": k, "namespaced": n}
                                                     for r, (k, n) in res.items()]})
        if p[0] == "api":
            g, v, rest = "", p[1], p[2:]
        elif p[0] == "apis" and len(p) >= 4:
            g, v, rest = p[1], p[2], p[3:]
        else:
            return self.status(404, "NotFound")
        ns = ""
        if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] != "":
            ns, rest = rest[1], rest[2:]
        with lock:
            res = st["served"].get((g, v), {})
            if rest[0] not in res:
                return self.status(404, "NotFound")
            kind, namespaced = res[rest[0]]
            r = rest[0]
            if r in st["forbid"]:
                return self.status(403, "Forbidden", "%s is forbidden" % r)
        name = rest[1] if len(rest) > 1 else None
        if len(rest) > 2 and rest[2] == "finalize":  # namespace finalize: gone
            with lock:
                remove(g, r, "", name)
            return self.send(200, {"kind": kind, "metadata": {"name": name}})
        if method == "GET" and name is None and q.get("watch", ["0"])[0] in ("1", "true"):
            return self.watch(g, v, r, kind, ns, q)
        if method == "GET" and name is None:
            return self.list(g, v, r, kind, ns, q)
        return self.single(method, g, v, r, kind, namespaced, ns, name, body)

    def list(self, g, v, r, kind, ns, q):
        limit = int(q.get("limit", ["0"])[0] or 0)
        start = 0
        with lock:
            # Sorted once per resourceVersion and namespace: a LIST of 10,000 objects comes in
            # pages (the explain benchmark's cluster).
            key = (g, r, ns)
            cached = st["sorted"].get(key)
            if not cached or cached[0] != st["rv"]:
                cached = (st["rv"], sorted(
                    (o for (ons, _), o in st["objects"].get((g, r), {}).items()
                     if not ns or ons == ns),
                    key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"])))
                st["sorted"][key] = cached
            items = cached[1]
            rv = st["rv"]
            if "continue" in q:
                try:
                    tok = json.loads(base64.b64decode(q["continue"][0], validate=True))
                    start, rv = tok["start"], tok["rv"]
                except Exception:
                    return self.status(400, "BadRequest", "invalid continue token")
            page = items[start:start + limit] if limit else items[start:]
            meta = {"resourceVersion": str(rv)}
            if limit and start + limit < len(items):
                # '+', '/' and '=' on purpose: "~~~>>>" encodes to "fn5+Pj4+".
                meta["continue"] = base64.b64encode(json.dumps(
                    {"start": start + limit, "rv": rv, "pad": "~~~>>>?"}).encode()).decode()
            # as kube-apiserver: no kind or apiVersion in list items; encoded under the lock,
            # since the objects may change once it is released
            out = [{k: x for k, x in o.items() if k not in ("kind", "apiVersion")} for o in page]
            body = json.dumps({"kind": kind + "List", "apiVersion": (g + "/" if g else "") + v,
                               "metadata": meta, "items": out}).encode()
        self.send_body(200, body)

    def watch(self, g, v, r, kind, ns, q):
        since = int(q.get("resourceVersion", ["0"])[0] or 0)
        timeout = int(q.get("timeoutSeconds", ["60"])[0])
        bookmarks = q.get("allowWatchBookmarks", ["false"])[0] == "true"
        with lock:
            mode = st["hostile"].pop(r, None)
            gen = st["conn_gen"]
        if mode == "status500":
            return self.status(500, "InternalError", "hostile")
        if mode == "gone-status":
            return self.status(410, "Expired", "too old resource version")
        if mode == "close":
            self.close_connection = True
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        api = (g + "/" if g else "") + v
        try:
            if mode == "garbage":
                self.chunk(b"this is not JSON\n")
            elif mode == "wrong-kind":
                self.chunk(json.dumps({"type": "ADDED", "object": {
                    "kind": "Secret", "apiVersion": "v1", "metadata": {
                        "name": "s", "namespace": "x", "resourceVersion": "1"}}}).encode() + b"\n")
            elif mode == "huge":
                blob = b"{" + b" " * (1024 * 1024)
                for _ in range(20):
                    self.chunk(blob)
            with lock:
                if since < st["compact"]:
                    self.chunk(json.dumps({"type": "ERROR", "object": {
                        "kind": "Status", "apiVersion": "v1", "status": "Failure",
                        "reason": "Expired", "code": 410,
                        "message": "too old resource version: %d (%d)" % (since, st["compact"])}
                    }).encode() + b"\n")
                    self.chunk(b"")
                    return
            end = time.monotonic() + timeout
            last = time.monotonic()
            while time.monotonic() < end:
                with lock:
                    if st["conn_gen"] != gen:
                        break
                    evs = [e for e in st["events"] if e[0] > since and e[1] == g and e[2] == r
                           and (not ns or e[4]["metadata"].get("namespace", "") == ns)]
                    if not evs:
                        lock.wait(0.2)
                        cur = st["rv"]
                if evs:
                    for rv, _, _, typ, obj in evs:
                        o = dict(obj, kind=kind, apiVersion=api)
                        line = json.dumps({"type": typ, "object": o}).encode() + b"\n"
                        if mode == "slow":
                            for i in range(len(line)):
                                self.chunk(line[i:i + 1])
                                time.sleep(0.02)
                            mode = None
                        else:
                            self.chunk(line)
                        since = rv
                    last = time.monotonic()
                elif bookmarks and time.monotonic() - last >= 1.0:
                    since = max(since, cur)
                    with lock:
                        with open(os.path.join(d, "bookmarks"), "a") as f:
                            f.write("%s %d\n" % (r, since))
                    self.chunk(json.dumps({"type": "BOOKMARK", "object": {
                        "kind": kind, "apiVersion": api,
                        "metadata": {"resourceVersion": str(since)}}}).encode() + b"\n")
                    last = time.monotonic()
            self.chunk(b"")
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True

    def single(self, method, g, v, r, kind, namespaced, ns, name, body):
        api = (g + "/" if g else "") + v
        with lock:
            store = st["objects"].setdefault((g, r), {})
            if method == "GET":
                o = store.get((ns, name))
                return self.send(200, dict(o, kind=kind, apiVersion=api)) if o else \
                    self.status(404, "NotFound", "%s %s not found" % (r, name))
            if method == "POST":
                if st["fail_posts"] > 0:
                    st["fail_posts"] -= 1
                    return self.status(500, "InternalError", "fail-posts")
                if namespaced and (ns, "") not in st["objects"].get(("", "namespaces"), {}) and \
                        ("", ns) not in st["objects"].get(("", "namespaces"), {}):
                    return self.status(404, "NotFound", "namespaces %s not found" % ns)
                nso = st["objects"].get(("", "namespaces"), {}).get(("", ns))
                if nso and nso.get("metadata", {}).get("deletionTimestamp"):
                    return self.status(403, "Forbidden", "namespace %s is being terminated" % ns)
                k = (ns, body["metadata"]["name"])
                if k in store:
                    return self.status(409, "AlreadyExists", "already exists")
                body["metadata"]["namespace"] = ns
                body["metadata"].pop("resourceVersion", None)
                return self.send(201, dict(put(g, r, body), kind=kind, apiVersion=api))
            if method == "PUT":
                cur = store.get((ns, name))
                if cur is None:
                    return self.status(404, "NotFound")
                if body["metadata"].get("resourceVersion") != cur["metadata"]["resourceVersion"]:
                    return self.status(409, "Conflict", "the object has been modified")
                body["metadata"]["uid"] = cur["metadata"]["uid"]
                return self.send(200, dict(put(g, r, body), kind=kind, apiVersion=api))
            if method == "DELETE":
                cur = store.get((ns, name))
                if cur is None:
                    return self.status(404, "NotFound")
                pre = (body or {}).get("preconditions", {})
                if pre.get("resourceVersion") and pre["resourceVersion"] != cur["metadata"]["resourceVersion"]:
                    return self.status(409, "Conflict", "precondition failed")
                if r == "namespaces":
                    cur["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
                    cur.setdefault("status", {})["phase"] = "Terminating"
                    put(g, r, cur)
                    return self.send(200, dict(cur, kind=kind, apiVersion=api))
                remove(g, r, ns, name)
                return self.send(200, {"kind": "Status", "status": "Success"})
        self.status(405, "MethodNotAllowed")

    def control(self, verb, b):
        with lock:
            if verb == "apply":
                where = resource_of(b["apiVersion"], b["kind"])
                if not where:
                    return self.status(400, "BadRequest", "not served")
                put(where[0], where[1], b)
            elif verb == "delete":
                where = resource_of(b["apiVersion"], b["kind"])
                remove(where[0], where[1], b.get("namespace", ""), b["name"])
            elif verb == "delete-namespace":
                nso = st["objects"].get(("", "namespaces"), {}).get(("", b["name"]))
                if nso:
                    nso["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
                    nso.setdefault("status", {})["phase"] = "Terminating"
                    put("", "namespaces", nso)
                    for (g, r), store in list(st["objects"].items()):
                        for (ons, name) in list(store):
                            if ons == b["name"]:
                                remove(g, r, ons, name)
                    remove("", "namespaces", "", b["name"])
            elif verb == "serve":
                st["served"].setdefault((b["group"], b["version"]), {})[b["resource"]] = \
                    (b["kind"], b["namespaced"])
            elif verb == "unserve":
                st["served"].get((b["group"], b["version"]), {}).pop(b["resource"], None)
                if not st["served"].get((b["group"], b["version"])):
                    st["served"].pop((b["group"], b["version"]), None)
                st["objects"].pop((b["group"], b["resource"]), None)
            elif verb == "compact":
                st["compact"] = st["rv"] + 1
                st["rv"] += 1
            elif verb == "disconnect":
                st["conn_gen"] += 1
                lock.notify_all()
            elif verb == "tokens":
                st["tokens"] = b["valid"]
            elif verb == "down":
                st["down"] = b["on"]
            elif verb == "hostile":
                st["hostile"][b["resource"]] = b["mode"]
            elif verb == "forbid":
                (st["forbid"].add if b["on"] else st["forbid"].discard)(b["resource"])
            elif verb == "fail-posts":
                st["fail_posts"] = b["n"]
            else:
                return self.status(404, "NotFound", verb)
        self.send(200, {"ok": True})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")


ThreadingHTTPServer.daemon_threads = True
with lock:
    seed()
srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(os.path.join(d, "port.tmp"), "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
threading.Timer(900, srv.shutdown).start()
srv.serve_forever()

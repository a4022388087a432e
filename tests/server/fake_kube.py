#!/usr/bin/env python3
"""A tiny fake Kubernetes API for the namespaced-mode tests: HTTPS on a free loopback port.

Usage: fake_kube.py CERT KEY DIR. Writes the port to DIR/port and one line per request,
"METHOD PATH", to DIR/requests. Namespaces exist when DIR/ns-NAME exists; a non-empty DIR/ns-NAME
holds their labels (a JSON object). While DIR/down exists, GETs of one namespace answer 503.
The first POST answers 500 (the client must retry). NetworkPolicies are kept in memory;
DIR/seed.json (optional) seeds them as {"ns/name": object}. Stops by itself after 120 s.
"""
import json, os, ssl, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

cert, key, d = sys.argv[1:4]
store = {}
if os.path.exists(os.path.join(d, "seed.json")):
    store = json.load(open(os.path.join(d, "seed.json")))
state = {"posts": 0, "rv": 1}
lock = threading.Lock()


class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def send(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self, method):
        with lock:
            with open(os.path.join(d, "requests"), "a") as f:
                f.write("%s %s %s\n" % (method, self.path, self.headers.get("Authorization", "")))
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n)) if n else None
        p = self.path.split("?")[0].strip("/").split("/")
        if p[:3] == ["api", "v1", "namespaces"]:
            if len(p) == 3:
                items = [{"metadata": {"name": f[3:]}} for f in sorted(os.listdir(d))
                         if f.startswith("ns-") and f.endswith("-labeled")]
                for it in items:
                    it["metadata"]["name"] = it["metadata"]["name"][:-len("-labeled")]
                return self.send(200, {"kind": "NamespaceList", "items": items})
            if os.path.exists(os.path.join(d, "down")):
                return self.send(503, {"kind": "Status", "code": 503})
            f = os.path.join(d, "ns-" + p[3])
            ok = os.path.exists(f) or os.path.exists(f + "-labeled")
            meta = {"name": p[3], "labels": {"kubernetes.io/metadata.name": p[3]}}
            if os.path.exists(f) and os.path.getsize(f):
                meta["labels"].update(json.load(open(f)))
            return self.send(200 if ok else 404, {"kind": "Namespace", "metadata": meta}
                             if ok else {"kind": "Status", "code": 404})
        if p[:3] == ["apis", "networking.k8s.io", "v1"] and len(p) >= 6:
            ns = p[4]
            with lock:
                if method == "GET" and len(p) == 7:
                    o = store.get(ns + "/" + p[6])
                    return self.send(200, o) if o else self.send(404, {"kind": "Status", "code": 404})
                if method == "POST" and len(p) == 6:
                    state["posts"] += 1
                    if state["posts"] == 1:
                        return self.send(500, {"kind": "Status", "code": 500})
                    state["rv"] += 1
                    body["metadata"]["resourceVersion"] = str(state["rv"])
                    store[ns + "/" + body["metadata"]["name"]] = body
                    return self.send(201, body)
                if method == "PUT" and len(p) == 7:
                    if body["metadata"].get("resourceVersion") != store[ns + "/" + p[6]]["metadata"]["resourceVersion"]:
                        return self.send(409, {"kind": "Status", "code": 409})
                    state["rv"] += 1
                    body["metadata"]["resourceVersion"] = str(state["rv"])
                    store[ns + "/" + p[6]] = body
                    return self.send(200, body)
        self.send(400, {"kind": "Status", "code": 400})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(os.path.join(d, "port.tmp"), "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
threading.Timer(120, srv.shutdown).start()
srv.serve_forever()

#!/usr/bin/env python3
"""Load for tests/server/test_serve_drain.sh: keep-alive HTTPS clients that POST one AdmissionReview
after another, as kube-apiserver does, until the server stops accepting connections.

Each worker holds one connection. An answer with "Connection: close" makes it open a new one.
What happens to each request is counted:
  ok       a 200 answer carrying the request's uid
  bad      any other complete answer
  dropped  the request was sent on an open connection and no complete answer came back
  refused  a new connection could not be opened (TCP or TLS): the server no longer accepts, so
           the worker stops; nothing was sent, so nothing was lost (a client retries elsewhere)
  closes   answers that carried "Connection: close"
The counts are written to STATUS_FILE (JSON) after every request and at the end.

usage: drain_load.py PORT CA_FILE BODY_FILE WORKERS STATUS_FILE
"""
import http.client
import json
import os
import socket
import ssl
import sys
import threading

MAX_REQUESTS = 200000  # per worker: an upper bound, so that a server that never stops cannot hang us


def main():
    port, ca, body_file, workers, status_file = sys.argv[1:6]
    port, workers = int(port), int(workers)
    with open(body_file, "rb") as f:
        body = f.read()
    uid = json.loads(body)["request"]["uid"]
    ctx = ssl.create_default_context(cafile=ca)
    counts = {"ok": 0, "bad": 0, "dropped": 0, "refused": 0, "closes": 0, "done": 0}
    details = []
    lock = threading.Lock()

    def write_status():
        tmp = status_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(dict(counts, details=details[:10]), f)
        os.replace(tmp, status_file)

    def count(key, detail=None):
        with lock:
            counts[key] += 1
            if detail:
                details.append(detail)
            write_status()

    def worker():
        conn = None
        for _ in range(MAX_REQUESTS):
            if conn is None:
                conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
                try:
                    conn.connect()  # TCP and the TLS handshake: nothing of a request sent yet
                except (OSError, ssl.SSLError):
                    count("refused")
                    break
            try:
                conn.request("POST", "/validate?timeout=10s", body=body,
                             headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                data = resp.read()
            except (OSError, ssl.SSLError, http.client.HTTPException) as e:
                count("dropped", "%s: %s" % (type(e).__name__, e))
                conn.close()
                break
            if resp.status == 200 and ('"uid":"%s"' % uid).encode() in data:
                count("ok")
            else:
                count("bad", "%d %s" % (resp.status, data[:200]))
            if (resp.getheader("Connection") or "").lower() == "close":
                count("closes")
                conn.close()
                conn = None
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with lock:
        counts["done"] = 1
        write_status()


if __name__ == "__main__":
    main()

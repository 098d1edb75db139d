#!/usr/bin/python3
"""Fills a running hub through its API for the hub benchmarks: REPOS repositories admin/model-NNNN,
each with one commit that names one small uploaded blob under FILES paths (a commit may name the
same bytes many times, so the catalog holds REPOS x FILES file rows), and, with --card FILE, that
model card as README.md.

Usage: fill_hub.py PORT TOKEN REPOS FILES [--card FILE]
"""
import argparse
import hashlib
import http.client
import json
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("token")
    ap.add_argument("repos", type=int)
    ap.add_argument("files", type=int)
    ap.add_argument("--card", help="a model card (Markdown with YAML front matter) committed as README.md")
    a = ap.parse_args()
    card = open(a.card, "rb").read() if a.card else None
    conn = http.client.HTTPConnection("127.0.0.1", a.port)

    def call(method, path, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        conn.request(method, path, body=data, headers={"Authorization": "Bearer " + a.token, "Content-Type": ctype})
        r = conn.getresponse()
        out = r.read()
        if r.status != 200:
            sys.exit(f"{method} {path}: {r.status} {out[:200]!r}")
        return json.loads(out)

    def upload(name, blob):
        sha = hashlib.sha256(blob).hexdigest()
        call("POST", f"/api/lv/models/admin/{name}/upload?sha256={sha}&size={len(blob)}", blob, "application/octet-stream")
        return sha

    for i in range(a.repos):
        name = f"model-{i:04d}"
        call("POST", "/api/repos/create", {"name": "admin/" + name})
        blob = f"weights of {name}\n".encode()
        sha = upload(name, blob)
        add = [{"path": f"shard-{k:03d}.safetensors", "sha256": sha, "size": len(blob)} for k in range(a.files)]
        if card is not None:
            add.append({"path": "README.md", "sha256": upload(name, card), "size": len(card)})
        call("POST", f"/api/lv/models/admin/{name}/commit/main", {"message": "weights", "add": add})


if __name__ == "__main__":
    main()

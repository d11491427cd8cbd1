#!/usr/bin/env python3
"""The console's lists at scale: seed one repository with many artifacts through the registry API, then time the
REST requests the console makes for its pages.

    bench/lists.py [--artifacts 100000] [--bin target/release/berth]

Starts its own Berth (fresh temp data dir, free port on 127.0.0.1), pushes one config and one layer, then
`--artifacts` distinct manifests that share them (each with its own annotation; every tenth is tagged), pulls a
few, and times each console request (median and worst of `--reps`, signed in with a session cookie as the console
is). Prints a table for docs/benchmarks.md. Only the standard library is used.
"""

import argparse
import base64
import concurrent.futures
import hashlib
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helper import OCI_MANIFEST, build_image, die  # noqa: E402

ADMIN_PASSWORD = "Bench-Admin-1"
PROJECT = "scale"
REPO = f"{PROJECT}/many"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One keep-alive connection per thread to the server under test."""

    def __init__(self, port):
        self.port = port
        self.local = threading.local()
        self.headers = {}

    def conn(self):
        if getattr(self.local, "conn", None) is None:
            self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        return self.local.conn

    def request(self, method, path, body=None, headers=None, expect=(200,)):
        all_headers = dict(self.headers)
        all_headers.update(headers or {})
        for attempt in range(2):
            conn = self.conn()
            try:
                conn.request(method, path, body=body, headers=all_headers)
                resp = conn.getresponse()
                data = resp.read()
                break
            except (http.client.HTTPException, ConnectionError):
                conn.close()
                self.local.conn = None
                if attempt:
                    raise
        if resp.status not in expect:
            die(f"{method} {path}: HTTP {resp.status}: {data[:300]!r}")
        return resp, data


def start_berth(binary, data_dir, port):
    env = dict(os.environ)
    env.update(
        BERTH_ADMIN_PASSWORD=ADMIN_PASSWORD,
        BERTH_DATA_DIR=os.path.join(data_dir, "data"),
        BERTH_LISTEN=f"127.0.0.1:{port}",
        BERTH_LOG_LEVEL="warn",
    )
    log = open(os.path.join(data_dir, "berth.log"), "wb")
    child = subprocess.Popen([binary, "serve"], cwd=data_dir, env=env, stdout=log, stderr=log)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/api/v2.0/ping")
            if c.getresponse().status == 200:
                return child
        except OSError:
            pass
        time.sleep(0.1)
    child.kill()
    die("berth did not start")


def seed(client, count, workers):
    basic = "Basic " + base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    client.request(
        "POST",
        "/api/v2.0/projects",
        body=json.dumps({"project_name": PROJECT, "metadata": {"public": "false"}}),
        headers={"Authorization": basic, "Content-Type": "application/json"},
        expect=(201,),
    )
    query = urllib.parse.urlencode({"service": "berth-registry", "scope": f"repository:{REPO}:pull,push"})
    _, data = client.request("GET", f"/service/token?{query}", headers={"Authorization": basic})
    bearer = {"Authorization": "Bearer " + json.loads(data)["token"]}

    manifest, config, layers = build_image(11, [4096])
    for blob in [config, *layers]:
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        resp, _ = client.request("POST", f"/v2/{REPO}/blobs/uploads/", body=b"", headers=bearer, expect=(202,))
        loc = urllib.parse.urlsplit(resp.getheader("Location"))
        sep = "&" if loc.query else "?"
        path = loc.path + (("?" + loc.query) if loc.query else "") + sep + "digest=" + urllib.parse.quote(digest)
        client.request("PUT", path, body=blob, headers={**bearer, "Content-Type": "application/octet-stream"},
                       expect=(201,))
    template = json.loads(manifest)

    def push(i):
        body = dict(template)
        body["annotations"] = {"org.example.n": str(i)}
        data = json.dumps(body, separators=(",", ":")).encode()
        ref = f"v{i}" if i % 10 == 0 else "sha256:" + hashlib.sha256(data).hexdigest()
        client.request("PUT", f"/v2/{REPO}/manifests/{ref}", body=data,
                       headers={**bearer, "Content-Type": OCI_MANIFEST}, expect=(201,))

    started = time.time()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        for done, _ in enumerate(pool.map(push, range(count)), 1):
            if done % 10000 == 0:
                print(f"# pushed {done} manifests ({done / (time.time() - started):.0f}/s)", file=sys.stderr)
    for i in range(0, 50, 10):
        client.request("GET", f"/v2/{REPO}/manifests/v{i}", headers={**bearer, "Accept": OCI_MANIFEST})
    return time.time() - started


def sign_in(client):
    body = urllib.parse.urlencode({"principal": "admin", "password": ADMIN_PASSWORD})
    resp, _ = client.request("POST", "/c/login", body=body,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    cookie = resp.getheader("Set-Cookie").split(";", 1)[0]
    client.headers = {"Cookie": cookie, "Accept": "application/json", "X-Requested-With": "XMLHttpRequest"}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--artifacts", type=int, default=100_000)
    p.add_argument("--bin", default="target/release/berth")
    p.add_argument("--reps", type=int, default=11)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--keep", action="store_true", help="keep the data directory (its path is printed)")
    p.add_argument("--reuse", help="a data directory kept by an earlier --keep run: time its lists again, no seeding")
    args = p.parse_args()

    data_dir = args.reuse or tempfile.mkdtemp(prefix="berth-lists-")
    port = free_port()
    child = start_berth(os.path.abspath(args.bin), data_dir, port)
    try:
        client = Client(port)
        if not args.reuse:
            seconds = seed(client, args.artifacts, args.workers)
            print(f"# seeded {args.artifacts} artifacts in {seconds:.0f} s", file=sys.stderr)
        sign_in(client)
        repo = urllib.parse.quote(urllib.parse.quote("many", safe=""), safe="")
        arts = f"/api/v2.0/projects/{PROJECT}/repositories/{repo}/artifacts"
        last = (args.artifacts + 14) // 15
        pages = [
            ("projects list", "/api/v2.0/projects?page=1&page_size=15"),
            ("project summary", f"/api/v2.0/projects/{PROJECT}/summary"),
            ("repositories list", f"/api/v2.0/projects/{PROJECT}/repositories?page=1&page_size=15"),
            ("artifacts, page 1 (newest)", f"{arts}?with_tag=true&page=1&page_size=15&sort=-push_time"),
            ("artifacts, last page", f"{arts}?with_tag=true&page={last}&page_size=15&sort=-push_time"),
            ("artifacts, by pulls", f"{arts}?with_tag=true&page=1&page_size=15&sort=-pull_count"),
            ("artifacts, tag search", f"{arts}?with_tag=true&page=1&page_size=15&q=tags%3D~v9999"),
            ("audit log, page 1", "/api/v2.0/audit-logs?page=1&page_size=15"),
            ("project logs, page 1", f"/api/v2.0/projects/{PROJECT}/logs?page=1&page_size=15"),
            ("statistics", "/api/v2.0/statistics"),
        ]
        print(f"{'request (' + str(args.artifacts) + ' artifacts in one repository)':<58} {'median ms':>10} {'max ms':>8}")
        for label, path in pages:
            times = []
            for _ in range(args.reps):
                t = time.perf_counter()
                resp, data = client.request("GET", path)
                times.append((time.perf_counter() - t) * 1000)
            total = resp.getheader("X-Total-Count") or ""
            note = f"  (X-Total-Count {total})" if total else ""
            print(f"{label:<58} {statistics.median(times):>10.1f} {max(times):>8.1f}{note}")
    finally:
        child.terminate()
        child.wait(timeout=10)
        if args.keep or args.reuse:
            print(f"# data kept in {data_dir}", file=sys.stderr)
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()

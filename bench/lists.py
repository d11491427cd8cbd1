#!/usr/bin/env python3
"""The console's lists at scale: seed one repository with many artifacts, then time the REST requests the console
makes for its pages.

    bench/lists.py [--artifacts 100000] [--api-artifacts 5000] [--bin target/release/berth]

Starts its own Berth (fresh temp data dir, free port on 127.0.0.1), pushes one config and one layer, then
distinct manifests that share them (each with its own annotation; every tenth is tagged), pulls a few, and times
each console request (median and worst of `--reps`, signed in with a session cookie as the console is). Prints a
table for docs/benchmarks.md. Only the standard library is used.

Seeding: the first `--api-artifacts` manifests are pushed through the registry API (about 365/s on 2 cores, so
1,000,000 that way takes 45 minutes). The rest are inserted with the server stopped, in one SQLite transaction,
as the same rows a push writes: the artifact (listed, with its total size), its blob links, its tag, its quota
charge and its audit entry; the database's own triggers keep the counters, the tag index and the storage total, as
they do for a push. Then the bench checks that it was honest: `berth quota reconcile` finds no drift, the lists
count every artifact, and an inserted artifact reads through the REST API exactly as a pushed one does (but for
its digest, id, time, annotation and tag).
"""

import argparse
import base64
import concurrent.futures
import datetime
import hashlib
import http.client
import json
import os
import shutil
import socket
import sqlite3
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
    for i in range(0, min(count, 50), 10):
        client.request("GET", f"/v2/{REPO}/manifests/v{i}", headers={**bearer, "Accept": OCI_MANIFEST})
    return time.time() - started


def stored_time(t):
    """A time as Berth stores it: fixed-width RFC 3339 UTC with microseconds."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def insert_rest(db_path, first, count):
    """Inserts artifacts `first` .. `first + count - 1` in one transaction, as the rows a push of each writes
    (`db::artifacts::put_manifest`, `db::quota::charge`, the audit entry). They were pushed in the hour before the
    first API push, one every few microseconds. Triggers keep what they keep for a push."""
    con = sqlite3.connect(db_path, isolation_level=None)
    con.execute("PRAGMA foreign_keys = ON")
    con.execute("PRAGMA cache_size = -1000000")
    cur = con.cursor()
    repository_id, project_id = cur.execute(
        "SELECT id, project_id FROM repositories WHERE name = ?", (REPO,)).fetchone()
    pushed_id, content, media_type, artifact_type, first_push = cur.execute(
        "SELECT id, content, media_type, artifact_type, push_time FROM artifacts WHERE repository_id = ? "
        "ORDER BY id LIMIT 1", (repository_id,)).fetchone()
    blobs = cur.execute(
        "SELECT ab.digest, b.size FROM artifact_blobs ab JOIN blobs b ON b.digest = ab.digest "
        "WHERE ab.artifact_id = ? ORDER BY ab.digest", (pushed_id,)).fetchall()
    blob_bytes = sum(size for _, size in blobs)
    template = json.loads(content)
    start = datetime.datetime.strptime(first_push, "%Y-%m-%dT%H:%M:%S.%fZ") - datetime.timedelta(hours=1)
    step = datetime.timedelta(hours=1) / max(count, 1)
    next_id = cur.execute("SELECT MAX(id) FROM artifacts").fetchone()[0] + 1

    def rows():
        for n in range(count):
            i = first + n
            body = dict(template)
            body["annotations"] = {"org.example.n": str(i)}
            data = json.dumps(body, separators=(",", ":")).encode()
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            yield next_id + n, i, data, digest, stored_time(start + step * n)

    charged = 0
    started = time.time()
    cur.execute("BEGIN")
    batch = []
    for row in rows():
        batch.append(row)
        if len(batch) == 10000:
            charged += insert_batch(cur, batch, repository_id, project_id, media_type, artifact_type, blobs,
                                    blob_bytes)
            batch = []
    charged += insert_batch(cur, batch, repository_id, project_id, media_type, artifact_type, blobs, blob_bytes)
    cur.execute("UPDATE projects SET storage_used = storage_used + ? WHERE id = ?", (charged, project_id))
    cur.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return time.time() - started


def insert_batch(cur, batch, repository_id, project_id, media_type, artifact_type, blobs, blob_bytes):
    cur.executemany(
        "INSERT INTO artifacts (id, repository_id, digest, media_type, artifact_type, subject_digest, annotations,"
        " size, content, push_time, listed, total_size) VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, 1, ?)",
        [(id_, repository_id, digest, media_type, artifact_type,
          json.dumps({"org.example.n": str(i)}, separators=(",", ":")), len(data), data, at, len(data) + blob_bytes)
         for id_, i, data, digest, at in batch])
    cur.executemany("INSERT INTO artifact_blobs (artifact_id, digest) VALUES (?, ?)",
                    [(id_, blob) for id_, *_ in batch for blob, _ in blobs])
    cur.executemany("INSERT INTO tags (repository_id, name, artifact_id, push_time) VALUES (?, ?, ?, ?)",
                    [(repository_id, f"v{i}", id_, at) for id_, i, _, _, at in batch if i % 10 == 0])
    cur.executemany("INSERT INTO project_blobs (project_id, digest, size, created_at) VALUES (?, ?, ?, ?)",
                    [(project_id, digest, len(data), at) for _, _, data, digest, at in batch])
    cur.executemany(
        "INSERT INTO audit_log (project_id, operation, resource_type, resource, username, client_ip, op_time)"
        " VALUES (?, 'create', 'artifact', ?, 'admin', '127.0.0.1', ?)",
        [(project_id, f"{REPO}:v{i}" if i % 10 == 0 else f"{REPO}@{digest}", at)
         for _, i, _, digest, at in batch])
    return sum(len(data) for _, _, data, _, _ in batch)


def check_shape(client, arts, total):
    """The inserted rows read through the REST API as pushed ones do: the same fields and values but for the
    digest, id, times, annotation and tag, and the size a push gives (manifest, config and layer)."""
    manifest, config, layers = build_image(11, [4096])
    template, blob_bytes = json.loads(manifest), len(config) + sum(len(layer) for layer in layers)

    def artifact(i):
        _, data = client.request("GET", f"{arts}/v{i}?with_tag=true")
        text = data.decode()
        body = json.loads(text.replace(json.loads(text)["digest"], "<digest>"))
        own = json.dumps(dict(template, annotations={"org.example.n": str(i)}), separators=(",", ":")).encode()
        if body.pop("size") != len(own) + blob_bytes:
            die(f"artifact v{i} does not have the size a push gives ({len(own) + blob_bytes})")
        for key in ("id", "push_time", "annotations", "tags", "pull_time", "pull_count"):
            body.pop(key, None)
        return body

    pushed, inserted = artifact(10), artifact(total - 10 - (total % 10))
    if pushed != inserted:
        die(f"an inserted artifact differs from a pushed one:\n{pushed}\n{inserted}")
    resp, _ = client.request("GET", f"{arts}?page=1&page_size=1")
    if resp.getheader("X-Total-Count") != str(total):
        die(f"the list counts {resp.getheader('X-Total-Count')} artifacts, not {total}")


def sign_in(client):
    body = urllib.parse.urlencode({"principal": "admin", "password": ADMIN_PASSWORD})
    resp, _ = client.request("POST", "/c/login", body=body,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    cookie = resp.getheader("Set-Cookie").split(";", 1)[0]
    client.headers = {"Cookie": cookie, "Accept": "application/json", "X-Requested-With": "XMLHttpRequest"}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--artifacts", type=int, default=100_000)
    p.add_argument("--api-artifacts", type=int, default=5_000,
                   help="how many are pushed through the registry API; the rest are inserted (see above)")
    p.add_argument("--bin", default="target/release/berth")
    p.add_argument("--reps", type=int, default=11)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--keep", action="store_true", help="keep the data directory (its path is printed)")
    p.add_argument("--reuse", help="a data directory kept by an earlier --keep run: time its lists again, no seeding")
    args = p.parse_args()

    data_dir = args.reuse or tempfile.mkdtemp(prefix="berth-lists-")
    binary = os.path.abspath(args.bin)
    port = free_port()
    child = start_berth(binary, data_dir, port)
    try:
        client = Client(port)
        if not args.reuse:
            pushed = min(args.artifacts, args.api_artifacts)
            seconds = seed(client, pushed, args.workers)
            print(f"# pushed {pushed} artifacts through the registry API in {seconds:.0f} s", file=sys.stderr)
            if args.artifacts > pushed:
                child.terminate()
                child.wait(timeout=60)
                db_path = os.path.join(data_dir, "data", "berth.db")
                seconds = insert_rest(db_path, pushed, args.artifacts - pushed)
                print(f"# inserted {args.artifacts - pushed} artifacts in one transaction in {seconds:.0f} s",
                      file=sys.stderr)
                env = dict(os.environ, BERTH_DATA_DIR=os.path.join(data_dir, "data"))
                check = subprocess.run([binary, "quota", "reconcile"], cwd=data_dir, env=env,
                                       capture_output=True, text=True)
                if check.returncode != 0:
                    die(f"berth quota reconcile found drift: {check.stdout}{check.stderr}")
                port = free_port()
                child = start_berth(binary, data_dir, port)
                client = Client(port)
        sign_in(client)
        repo = urllib.parse.quote(urllib.parse.quote("many", safe=""), safe="")
        arts = f"/api/v2.0/projects/{PROJECT}/repositories/{repo}/artifacts"
        if not args.reuse:
            check_shape(client, arts, args.artifacts)
        _, data = client.request("GET", f"/api/v2.0/projects/{PROJECT}/repositories/{repo}")
        total = json.loads(data)["artifact_count"]
        last, middle = (total + 14) // 15, (total + 29) // 30
        logs = int(client.request("GET", "/api/v2.0/audit-logs?page=1&page_size=1")[0].getheader("X-Total-Count"))
        page = "with_tag=true&page_size=15"
        pages = [
            ("projects list", "/api/v2.0/projects?page=1&page_size=15"),
            ("project summary", f"/api/v2.0/projects/{PROJECT}/summary"),
            ("repositories list", f"/api/v2.0/projects/{PROJECT}/repositories?page=1&page_size=15"),
            ("repositories list, by artifacts",
             f"/api/v2.0/projects/{PROJECT}/repositories?page=1&page_size=15&sort=-artifact_count"),
            ("artifacts, page 1 (newest)", f"{arts}?{page}&page=1&sort=-push_time"),
            ("artifacts, middle page", f"{arts}?{page}&page={middle}&sort=-push_time"),
            ("artifacts, last page", f"{arts}?{page}&page={last}&sort=-push_time"),
            ("artifacts, oldest first", f"{arts}?{page}&page=1&sort=push_time"),
            ("artifacts, by pulls", f"{arts}?{page}&page=1&sort=-pull_count"),
            ("artifacts, least pulled", f"{arts}?{page}&page=1&sort=pull_count"),
            ("artifacts, by pull time", f"{arts}?{page}&page=1&sort=-pull_time"),
            ("artifacts, least recently pulled", f"{arts}?{page}&page=1&sort=pull_time"),
            ("artifacts, largest", f"{arts}?{page}&page=1&sort=-size"),
            ("artifacts, smallest", f"{arts}?{page}&page=1&sort=size"),
            ("artifacts, smallest, middle page", f"{arts}?{page}&page={middle}&sort=size"),
            ("artifacts, tag search", f"{arts}?{page}&page=1&q=tags%3D~v9999"),
            ("artifacts, tag search (2 characters)", f"{arts}?{page}&page=1&q=tags%3D~v9"),
            ("audit log, page 1", "/api/v2.0/audit-logs?page=1&page_size=15"),
            ("audit log, last page", f"/api/v2.0/audit-logs?page={(logs + 14) // 15}&page_size=15"),
            ("project logs, page 1", f"/api/v2.0/projects/{PROJECT}/logs?page=1&page_size=15"),
            ("statistics", "/api/v2.0/statistics"),
            ("search", "/api/v2.0/search?q=many"),
        ]
        load = os.getloadavg()[0]
        print(f"{'request (' + str(total) + ' artifacts in one repository)':<58} {'median ms':>10} {'max ms':>8}")
        for label, path in pages:
            times = []
            for _ in range(args.reps):
                t = time.perf_counter()
                resp, data = client.request("GET", path)
                times.append((time.perf_counter() - t) * 1000)
            total_count = resp.getheader("X-Total-Count") or ""
            note = f"  (X-Total-Count {total_count})" if total_count else ""
            print(f"{label:<58} {statistics.median(times):>10.1f} {max(times):>8.1f}{note}")
        print(f"# load average (1 min) before and after: {load:.1f}, {os.getloadavg()[0]:.1f}", file=sys.stderr)
    finally:
        child.terminate()
        child.wait(timeout=10)
        if args.keep or args.reuse:
            print(f"# data kept in {data_dir}", file=sys.stderr)
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()

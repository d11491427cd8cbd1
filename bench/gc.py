#!/usr/bin/env python3
"""Online garbage collection at scale: seed a store with many artifacts and blobs, half of them unreferenced,
then run a collection while a push loop runs against the same Berth.

    bench/gc.py [--artifacts 100000] [--unreferenced 100000] [--workers 5] [--pushers 2] [--bin target/release/berth]

Starts its own Berth (fresh temp data dir, free port on 127.0.0.1) and pushes one image through the registry API
(so the project and repository exist as a push makes them). Then, with the server stopped, inserts `--artifacts`
artifacts, each with a layer of its own, and `--unreferenced` blobs nothing links or references (as deleted
artifacts leave them), all three hours old (past the default two-hour grace), with a real file in the store for
every blob. Restarts Berth, starts `--pushers` threads that push small distinct images in a loop, runs a collection
(`POST /system/gc/schedule`, `Manual`), and reports its wall time, the blobs it deleted per second, and the push
loop's pushes and errors (which must be 0). Then checks the store: every referenced blob and every pushed one is
still there, every unreferenced one is gone, and `berth quota reconcile` finds no drift. Only the standard library
is used.
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helper import OCI_MANIFEST, die  # noqa: E402
from lists import ADMIN_PASSWORD, Client, free_port, start_berth  # noqa: E402

PROJECT = "gcbench"
REPO = f"{PROJECT}/app"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def basic():
    return "Basic " + base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()


def bearer(client, repo):
    query = urllib.parse.urlencode({"service": "berth-registry", "scope": f"repository:{repo}:pull,push"})
    _, data = client.request("GET", f"/service/token?{query}", headers={"Authorization": basic()})
    return {"Authorization": "Bearer " + json.loads(data)["token"]}


def push_image(client, headers, repo, tag, seed, expect_ok=True):
    """Pushes a config and a layer made from `seed` and a manifest for them; returns True when all went through."""
    config = json.dumps({"os": "linux", "seed": seed}).encode()
    layer = (f"layer {seed} " * 64).encode()
    descriptors = []
    for media_type, blob in ((OCI_CONFIG, config), (OCI_LAYER, layer)):
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        resp, _ = client.request("POST", f"/v2/{repo}/blobs/uploads/?digest={digest}", body=blob,
                                 headers={**headers, "Content-Type": "application/octet-stream"},
                                 expect=(201,) if expect_ok else (201, 202, 404, 409, 429, 500, 503))
        if resp.status != 201:
            return False
        descriptors.append({"mediaType": media_type, "digest": digest, "size": len(blob)})
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": descriptors[0],
                           "layers": descriptors[1:]}).encode()
    resp, _ = client.request("PUT", f"/v2/{repo}/manifests/{tag}", body=manifest,
                             headers={**headers, "Content-Type": OCI_MANIFEST},
                             expect=(201,) if expect_ok else (201, 400, 404, 409, 429, 500, 503))
    return resp.status == 201


def blob_path(data_dir, digest):
    hex_ = digest.split(":", 1)[1]
    return os.path.join(data_dir, "data", "storage", "blobs", "sha256", hex_[:2], hex_)


def write_blob(data_dir, content):
    digest = "sha256:" + hashlib.sha256(content).hexdigest()
    path = blob_path(data_dir, digest)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(content)
    return digest


def seed(data_dir, artifacts, unreferenced):
    """Inserts the artifacts (each a manifest over the pushed image's config and a layer of its own, linked to the
    repository and charged to the project) and the unreferenced blobs, with their files."""
    con = sqlite3.connect(os.path.join(data_dir, "data", "berth.db"), isolation_level=None)
    con.execute("PRAGMA foreign_keys = ON")
    cur = con.cursor()
    repository_id, project_id = cur.execute(
        "SELECT id, project_id FROM repositories WHERE name = ?", (REPO,)).fetchone()
    config_digest, config_size = cur.execute(
        "SELECT ab.digest, b.size FROM artifact_blobs ab JOIN blobs b ON b.digest = ab.digest "
        "JOIN artifacts a ON a.id = ab.artifact_id WHERE a.repository_id = ? ORDER BY b.size LIMIT 1",
        (repository_id,)).fetchone()
    old = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=3)).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")
    next_id = cur.execute("SELECT MAX(id) FROM artifacts").fetchone()[0] + 1
    cur.execute("BEGIN")
    charged = 0
    for start in range(0, artifacts, 10000):
        rows = []
        for i in range(start, min(artifacts, start + 10000)):
            layer = f"referenced layer {i}".encode()
            layer_digest = write_blob(data_dir, layer)
            manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                                   "config": {"mediaType": OCI_CONFIG, "digest": config_digest,
                                              "size": config_size},
                                   "layers": [{"mediaType": OCI_LAYER, "digest": layer_digest,
                                               "size": len(layer)}]}).encode()
            digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
            rows.append((next_id + i, digest, manifest, layer_digest, len(layer)))
        cur.executemany(
            "INSERT INTO artifacts (id, repository_id, digest, media_type, size, content, push_time, listed,"
            " total_size) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)",
            [(id_, repository_id, d, OCI_MANIFEST, len(m), m, old, len(m) + config_size + ls)
             for id_, d, m, _, ls in rows])
        cur.executemany("INSERT INTO blobs (digest, size, created_at, linked_at, state) VALUES (?, ?, ?, ?, 'live')",
                        [(ld, ls, old, old) for _, _, _, ld, ls in rows])
        cur.executemany("INSERT INTO repository_blobs (repository_id, digest, created_at) VALUES (?, ?, ?)",
                        [(repository_id, ld, old) for _, _, _, ld, _ in rows])
        cur.executemany("INSERT INTO artifact_blobs (artifact_id, digest) VALUES (?, ?)",
                        [(id_, b) for id_, _, _, ld, _ in rows for b in (config_digest, ld)])
        cur.executemany("INSERT INTO project_blobs (project_id, digest, size, created_at) VALUES (?, ?, ?, ?)",
                        [(project_id, d, s, old) for _, d, m, ld, ls in rows for d, s in ((d, len(m)), (ld, ls))])
        charged += sum(len(m) + ls for _, _, m, _, ls in rows)
    for start in range(0, unreferenced, 10000):
        rows = []
        for i in range(start, min(unreferenced, start + 10000)):
            content = f"unreferenced blob {i}".encode()
            rows.append((write_blob(data_dir, content), len(content), old, old))
        cur.executemany("INSERT INTO blobs (digest, size, created_at, linked_at, state) VALUES (?, ?, ?, ?, 'live')",
                        rows)
    cur.execute("UPDATE projects SET storage_used = storage_used + ? WHERE id = ?", (charged, project_id))
    cur.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def count_files(data_dir):
    root = os.path.join(data_dir, "data", "storage", "blobs")
    return sum(len(files) for _, _, files in os.walk(root))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--artifacts", type=int, default=100_000)
    parser.add_argument("--unreferenced", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=5)
    parser.add_argument("--pushers", type=int, default=2)
    parser.add_argument("--bin", default="target/release/berth")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()
    binary = os.path.abspath(args.bin)
    work = tempfile.mkdtemp(prefix="berth-gc-bench-")
    try:
        port = free_port()
        child = start_berth(binary, work, port)
        client = Client(port)
        client.request("POST", "/api/v2.0/projects",
                       body=json.dumps({"project_name": PROJECT, "metadata": {"public": "false"}}),
                       headers={"Authorization": basic(), "Content-Type": "application/json"}, expect=(201,))
        push_image(client, bearer(client, REPO), REPO, "base", "base")
        child.terminate()
        child.wait()
        started = time.time()
        seed(work, args.artifacts, args.unreferenced)
        print(f"# seeded {args.artifacts} artifacts and {args.artifacts + args.unreferenced} blobs "
              f"({args.unreferenced} unreferenced) in {time.time() - started:.1f} s", file=sys.stderr)
        files_before = count_files(work)

        child = start_berth(binary, work, port)
        client = Client(port)
        stop = threading.Event()
        outcomes = {"pushes": 0, "errors": 0}
        lock = threading.Lock()

        def pusher(n):
            repo = f"{PROJECT}/push{n}"
            headers = bearer(client, repo)
            i = 0
            while not stop.is_set():
                ok = push_image(client, headers, repo, f"t{i}", f"pusher {n} image {i}", expect_ok=False)
                with lock:
                    outcomes["pushes" if ok else "errors"] += 1
                i += 1

        threads = [threading.Thread(target=pusher, args=(n,)) for n in range(args.pushers)]
        for t in threads:
            t.start()
        time.sleep(1)
        gc_started = time.time()
        resp, _ = client.request(
            "POST", "/api/v2.0/system/gc/schedule",
            body=json.dumps({"schedule": {"type": "Manual"}, "parameters": {"workers": args.workers}}),
            headers={"Authorization": basic(), "Content-Type": "application/json"}, expect=(201,))
        gc_id = resp.getheader("Location").rsplit("/", 1)[1]
        while True:
            _, data = client.request("GET", f"/api/v2.0/system/gc/{gc_id}", headers={"Authorization": basic()})
            status = json.loads(data)["job_status"]
            if status in ("Success", "Error", "Stopped"):
                break
            time.sleep(0.2)
        gc_wall = time.time() - gc_started
        stop.set()
        for t in threads:
            t.join()
        _, log = client.request("GET", f"/api/v2.0/system/gc/{gc_id}/log", headers={"Authorization": basic()})
        log = log.decode()
        child.terminate()
        child.wait()
        if status != "Success":
            die(f"the collection ended {status}:\n{log}")
        phases = [line.split("] ", 1)[1] for line in log.splitlines() if "] phase " in line and " in " in line]
        deleted = args.unreferenced
        files_after = count_files(work)
        pushed_files = 2 * outcomes["pushes"]
        expected = files_before - args.unreferenced + pushed_files
        reconcile = subprocess.run([binary, "quota", "reconcile"], capture_output=True, text=True,
                                   env={**os.environ, "BERTH_DATA_DIR": os.path.join(work, "data"),
                                        "BERTH_LOG_LEVEL": "warn"})
        print("| figure | value |")
        print("|---|---|")
        print(f"| artifacts / blobs seeded (unreferenced) | {args.artifacts:,} / "
              f"{args.artifacts + args.unreferenced:,} ({args.unreferenced:,}) |")
        print(f"| GC wall time (workers={args.workers}) | {gc_wall:.1f} s |")
        print(f"| blobs deleted per second | {deleted / gc_wall:,.0f} |")
        print(f"| push loop during GC ({args.pushers} clients): pushes / errors | "
              f"{outcomes['pushes']} / {outcomes['errors']} |")
        print(f"| files after (expected {expected:,}) | {files_after:,} |")
        print(f"| quota reconcile | {'clean' if reconcile.returncode == 0 else 'DRIFT'} |")
        for phase in phases:
            print(f"# {phase}", file=sys.stderr)
        if outcomes["errors"] or files_after != expected or reconcile.returncode != 0:
            die("the push loop saw errors, or the store or the ledger is wrong")
    finally:
        if args.keep:
            print(f"# data kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A retention dry run over many tags in one repository: how long it takes and how much memory the server uses.

    bench/retention.py [--tags 10000] [--bin target/release/berth]

Seeds as bench/lists.py does (its functions): a few artifacts pushed through the registry API, the rest inserted
with the server stopped as the rows a push writes, then one tag per artifact (so `--tags` artifacts, each tagged).
Restarts Berth, creates a policy keeping the latest half pushed (`latestPushedK`), runs it as a dry run, and
reports the run's own time (the job's start to its end, from the execution) and the server's resident memory
before the run and its peak (VmHWM) after it. Every tag gets a recorded reason; the bench checks their count.
Only the standard library is used.
"""

import argparse
import base64
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lists  # noqa: E402
from helper import die  # noqa: E402

API_PUSHED = 50


def rss_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def tag_everything(db_path):
    con = sqlite3.connect(db_path, isolation_level=None)
    con.execute("BEGIN")
    con.execute(
        "INSERT INTO tags (repository_id, name, artifact_id, push_time) "
        "SELECT a.repository_id, 't' || a.id, a.id, a.push_time FROM artifacts a "
        "WHERE NOT EXISTS (SELECT 1 FROM tags t WHERE t.artifact_id = a.id)")
    con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    n = con.execute("SELECT COUNT(*) FROM tags").fetchone()[0]
    con.close()
    return n


def parse_time(t):
    return datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tags", type=int, default=10_000)
    p.add_argument("--bin", default="target/release/berth")
    p.add_argument("--reps", type=int, default=3)
    args = p.parse_args()

    data_dir = tempfile.mkdtemp(prefix="berth-retention-")
    binary = os.path.abspath(args.bin)
    port = lists.free_port()
    child = lists.start_berth(binary, data_dir, port)
    try:
        client = lists.Client(port)
        lists.seed(client, min(API_PUSHED, args.tags), 4)
        child.terminate()
        child.wait(timeout=60)
        db_path = os.path.join(data_dir, "data", "berth.db")
        if args.tags > API_PUSHED:
            lists.insert_rest(db_path, API_PUSHED, args.tags - API_PUSHED)
        tags = tag_everything(db_path)
        port = lists.free_port()
        child = lists.start_berth(binary, data_dir, port)
        client = lists.Client(port)
        basic = "Basic " + base64.b64encode(f"admin:{lists.ADMIN_PASSWORD}".encode()).decode()
        headers = {"Authorization": basic, "Content-Type": "application/json"}
        _, data = client.request("GET", f"/api/v2.0/projects/{lists.PROJECT}", headers=headers)
        project_id = json.loads(data)["project_id"]
        keep = max(min(tags // 2, 32766), 1)  # Harbor caps K below 32767
        policy = {
            "algorithm": "or",
            "rules": [{"action": "retain", "template": "latestPushedK", "params": {"latestPushedK": keep},
                       "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**",
                                          "extras": "{\"untagged\":true}"}],
                       "scope_selectors": {"repository": [{"kind": "doublestar", "decoration": "repoMatches",
                                                           "pattern": "**"}]}}],
            "trigger": {"kind": "Schedule", "settings": {"cron": ""}},
            "scope": {"level": "project", "ref": project_id},
        }
        resp, _ = client.request("POST", "/api/v2.0/retentions", body=json.dumps(policy), headers=headers,
                                 expect=(201,))
        policy_id = resp.getheader("Location").rsplit("/", 1)[1]
        before = rss_kib(child.pid, "VmRSS")
        runs = []
        for _ in range(args.reps):
            resp, _ = client.request("POST", f"/api/v2.0/retentions/{policy_id}/executions",
                                     body=json.dumps({"dry_run": True}), headers=headers, expect=(201,))
            eid = int(resp.getheader("Location").rsplit("/", 1)[1])
            deadline = time.time() + 600
            while True:
                _, data = client.request("GET", f"/api/v2.0/retentions/{policy_id}/executions?page_size=100",
                                         headers=headers)
                run = next(e for e in json.loads(data) if e["id"] == eid)
                if run["status"] in ("Success", "Error", "Stopped"):
                    break
                if time.time() > deadline:
                    die(f"execution {eid} did not end: {run}")
                time.sleep(0.05)
            if run["status"] != "Success":
                die(f"execution {eid}: {run}")
            seconds = (parse_time(run["end_time"]) - parse_time(run["start_time"])).total_seconds()
            _, data = client.request("GET", f"/api/v2.0/retentions/{policy_id}/executions/{eid}/tasks",
                                     headers=headers)
            task = json.loads(data)[0]
            if task["total"] != tags or task["retained"] != keep:
                die(f"task decided {task['total']} (kept {task['retained']}), expected {tags} (kept {keep})")
            runs.append(seconds)
        peak = rss_kib(child.pid, "VmHWM")
        print(f"| dry run over {tags} tags in one repository (latestPushedK {keep}) | "
              f"{min(runs):.2f} s best, {max(runs):.2f} s worst of {len(runs)} | "
              f"RSS {before / 1024:.0f} MiB before, peak {peak / 1024:.0f} MiB |")
    finally:
        child.terminate()
        child.wait(timeout=60)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()

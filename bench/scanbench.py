"""What the scanning benchmarks (scan-all.py, scan-image.py) share: a fresh Berth on a free port with the test
advisory data imported, and small REST helpers. Only the standard library is used."""

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time

from helper import Registry

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "server", "tests", "data", "vulndata")


def log(message):
    print(f"# {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def api(reg, method, path, body=None, expect=(200,)):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    payload = json.dumps(body).encode() if body is not None else None
    _, data = reg.request(method, "/api/v2.0" + path, body=payload, headers=headers, expect=expect)
    return json.loads(data) if data else None


def vulndb_import(binary, data_dir, *inputs):
    env = dict(os.environ, BERTH_DATA_DIR=data_dir)
    subprocess.run([binary, "vulndb", "import", *inputs], check=True, env=env, stdout=subprocess.DEVNULL)


def start_berth(name, binary, work, password):
    """A fresh data directory under `work` with the test advisories (Debian tracker, Alpine secdb, OSV records)
    imported, and `binary serve` on it; returns (the server's process, a Registry client as admin, its port)."""
    if not os.access(binary, os.X_OK):
        sys.exit(f"{name}: {binary} is not an executable (cargo build --release -p berth, or set BERTH_BIN)")
    data_dir = os.path.join(work, "data")
    shutil.rmtree(data_dir, ignore_errors=True)
    os.makedirs(data_dir)
    log(f"importing the test advisories into {data_dir}")
    vulndb_import(binary, data_dir, os.path.join(DATA, "debian", "tracker-bookworm.json"),
                  os.path.join(DATA, "alpine", "secdb-v3.18-main.json"), os.path.join(DATA, "osv"))
    port = free_port()
    env = dict(os.environ, BERTH_LISTEN=f"127.0.0.1:{port}", BERTH_DATA_DIR=data_dir,
               BERTH_ADMIN_PASSWORD=password, BERTH_LOG_LEVEL="warn")
    server_log = open(os.path.join(work, "berth.log"), "ab")
    server = subprocess.Popen([binary, "serve"], env=env, stdout=server_log, stderr=server_log,
                              stdin=subprocess.DEVNULL)
    auth = "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()
    reg = Registry(f"http://127.0.0.1:{port}", auth)
    deadline = time.monotonic() + 30
    while True:
        try:
            api(reg, "GET", "/systeminfo")
            return server, reg, port
        except (OSError, SystemExit):
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                sys.exit(f"{name}: Berth did not start; see " + os.path.join(work, "berth.log"))
            time.sleep(0.1)

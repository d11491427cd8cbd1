#!/usr/bin/env python3
"""Times a scan of a 200 MB, 5-layer Debian-based image and what `prevent_vul` adds to a pull (issue 15: a scan
with a fresh inventory under 2 s with RSS growing by under 64 MB; a pull in a prevent_vul project under 1 ms
extra at the p50).

On a fresh data directory with the release build (BERTH_BIN, default target/release/berth):
  1. imports the test advisory data (server/tests/data/vulndata: Debian tracker, Alpine secdb, OSV records);
  2. pushes one image of SCAN_IMAGE_LAYERS layers (default 5) totalling SCAN_IMAGE_MB (default 200) MB,
     compressed: the first layer holds the real Debian 12.0 `os-release` and dpkg status, the last one 500
     Python `dist-info` and 500 npm `package.json` files, and every layer 1 MiB files of random bytes from 16
     values, which gzip (level 6, as `docker push` writes) packs about 2:1, as real layers pack;
  3. asks for a scan and times it until its report is written (no inventory is stored before it: every
     layer is read), sampling Berth's RSS; the peak growth is read from /proc/PID/status (VmHWM, reset through
     /proc/PID/clear_refs just before the scan);
  4. pulls the manifest SCAN_PULLS times (default 2,000, with a bearer token over one kept connection) with
     `prevent_vul` off and on (severity Low, every finding of the report in the project's CVE allowlist, so
     the verdict is computed in full and the pull still passes), alternating rounds, and compares the p50s.
Prints markdown table rows for docs/benchmarks.md.

Knobs (environment): SCAN_IMAGE_MB, SCAN_IMAGE_LAYERS, SCAN_PULLS, BERTH_BIN, SCAN_IMAGE_WORK (kept directory;
default a temporary one). Only the standard library is used; every request goes to 127.0.0.1.
"""

import http.client
import io
import json
import os
import random
import shutil
import statistics
import sys
import tarfile
import tempfile
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scanbench import DATA, api, digest, log, start_berth  # noqa: E402
from helper import OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MB = int(os.environ.get("SCAN_IMAGE_MB", "200"))
LAYERS = max(1, int(os.environ.get("SCAN_IMAGE_LAYERS", "5")))
PULLS = max(100, int(os.environ.get("SCAN_PULLS", "2000")))
BIN = os.environ.get("BERTH_BIN", os.path.join(ROOT, "target", "release", "berth"))
PASSWORD = "Bench-Scan-Image-1"
REPORT_MIME = "application/vnd.security.vulnerability.report; version=1.1"
MiB = 1024 * 1024


def add(tar, name, body):
    info = tarfile.TarInfo(name)
    info.size = len(body)
    info.mtime = 0
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(body))


# Filler bytes drawn from 16 values: about 4 bits of entropy per byte, so gzip packs them about 2:1, near
# what real image layers (binaries, libraries, text) give.
NIBBLES = bytes((0x30 + (b & 0x0F)) for b in range(256))


def filler(rng):
    return rng.randbytes(MiB).translate(NIBBLES)


def layer(index, size):
    """One gzip layer (level 6, as `docker push` writes) of about `size` bytes compressed."""
    rng = random.Random(index)
    sample = len(zlib.compress(filler(random.Random(-1)), 6))
    files = max(1, size // sample)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        if index == 0:
            for name in ["etc/os-release", "var/lib/dpkg/status"]:
                with open(os.path.join(DATA, "packages", "debian12-derived-12.0", name), "rb") as f:
                    add(tar, name, f.read())
        if index == LAYERS - 1:
            for i in range(500):
                add(tar, f"usr/lib/python3/dist-packages/bench_pkg_{i}-1.{i}.0.dist-info/METADATA",
                    f"Metadata-Version: 2.1\nName: bench-pkg-{i}\nVersion: 1.{i}.0\n".encode())
                add(tar, f"app/node_modules/bench-mod-{i}/package.json",
                    json.dumps({"name": f"bench-mod-{i}", "version": f"2.{i}.0"}).encode())
        for i in range(files):
            add(tar, f"opt/filler/{index}/{i}.bin", filler(rng))
    raw = out.getvalue()
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    return comp.compress(raw) + comp.flush(), digest(raw), len(raw)


def rss_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def pull_p50s(port, token, path, rounds):
    """Median and p99 of `rounds` manifest GETs over one kept connection, in ms."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": "Bearer " + token, "Accept": OCI_MANIFEST}
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        resp.read()
        times.append((time.perf_counter() - t0) * 1000)
        if resp.status != 200:
            sys.exit(f"scan-image.py: pull answered {resp.status}")
    conn.close()
    return times


def main():
    work = os.environ.get("SCAN_IMAGE_WORK") or tempfile.mkdtemp(prefix="berth-scan-image.")
    server, reg, port = start_berth("scan-image.py", BIN, work, PASSWORD)
    try:
        api(reg, "POST", "/projects", {"project_name": "bench", "metadata": {"public": "false"}}, expect=(201,))
        log(f"building and pushing a {MB} MB image of {LAYERS} layers")
        layers, diff_ids, unpacked = [], [], 0
        for i in range(LAYERS):
            gz, diff_id, raw_size = layer(i, MB * MiB // LAYERS)
            unpacked += raw_size
            reg.push_blob("bench/debian", digest(gz), gz, len(gz))
            layers.append({"mediaType": OCI_LAYER_GZIP, "digest": digest(gz), "size": len(gz)})
            diff_ids.append(diff_id)
        config = json.dumps({"architecture": "amd64", "os": "linux",
                             "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
        reg.push_blob("bench/debian", digest(config), config, len(config))
        manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                               "config": {"mediaType": OCI_CONFIG, "digest": digest(config), "size": len(config)},
                               "layers": layers}).encode()
        reg.push_manifest("bench/debian", "v1", manifest)
        total = sum(l["size"] for l in layers) / 1e6

        base = "/projects/bench/repositories/debian/artifacts/v1"
        time.sleep(1)  # let the push settle (pull counts, audit) before sampling memory
        rss_before = rss_kib(server.pid, "VmRSS")
        with open(f"/proc/{server.pid}/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS
        t0 = time.monotonic()
        api(reg, "POST", base + "/scan", {"scan_type": "vulnerability"}, expect=(202,))
        while True:
            artifact = api(reg, "GET", base + "?with_scan_overview=true")
            status = artifact.get("scan_overview", {}).get(REPORT_MIME, {}).get("scan_status")
            if status == "Success":
                break
            if status in ("Error", "Stopped") or time.monotonic() - t0 > 300:
                sys.exit(f"scan-image.py: the scan ended {status}: {artifact}")
            time.sleep(0.02)
        seconds = time.monotonic() - t0
        peak = rss_kib(server.pid, "VmHWM")
        overview = artifact["scan_overview"][REPORT_MIME]
        report = api(reg, "GET", base + "/additions/vulnerabilities")[REPORT_MIME]
        findings = report["vulnerabilities"]
        packages = {(v["package"], v["version"]) for v in findings}
        growth = (peak - rss_before) / 1024
        print("| image | layers | scan (report written) | RSS before | RSS peak growth | findings |")
        print("|---|---|---|---|---|---|")
        print(f"| {total:.0f} MB ({unpacked / 1e6:.0f} MB unpacked), Debian 12.0 dpkg + 500 PyPI + 500 npm | "
              f"{LAYERS} | {seconds:.2f} s "
              f"({'under' if seconds < 2 else 'OVER'} 2 s) | {rss_before / 1024:.0f} MiB | {growth:.0f} MiB "
              f"({'under' if growth < 64 else 'OVER'} 64 MiB) | {len(findings)} in {len(packages)} packages, "
              f"{json.dumps(overview.get('summary', {}).get('summary', {}))} |")

        ids = sorted({v["id"] for v in findings})
        _, data = reg.request("GET", "/service/token?service=berth-registry&scope=repository:bench/debian:pull")
        token = json.loads(data)["token"]
        path = "/v2/bench/debian/manifests/v1"
        samples = {"off": [], "on": []}
        for round_ in range(4):
            for mode in ("off", "on"):
                metadata = {"prevent_vul": "true" if mode == "on" else "false", "severity": "low",
                            "reuse_sys_cve_allowlist": "false"}
                api(reg, "PUT", "/projects/bench", {"metadata": metadata,
                                                    "cve_allowlist": {"items": [{"cve_id": i} for i in ids]}})
                pull_p50s(port, token, path, 50)  # warm the caches after the settings change
                samples[mode] += pull_p50s(port, token, path, PULLS // 4)
        p50 = {m: statistics.median(s) for m, s in samples.items()}
        p99 = {m: statistics.quantiles(s, n=100)[98] for m, s in samples.items()}
        extra = p50["on"] - p50["off"]
        print()
        print("| manifest GET (bearer, kept connection) | pulls | p50 | p99 |")
        print("|---|---|---|---|")
        for mode in ("off", "on"):
            print(f"| prevent_vul {mode} | {len(samples[mode])} | {p50[mode]:.3f} ms | {p99[mode]:.3f} ms |")
        print(f"| extra at the p50 | | {extra:+.3f} ms ({'under' if extra < 1 else 'OVER'} 1 ms) | |")
    finally:
        server.terminate()
        server.wait(timeout=30)
        if not os.environ.get("SCAN_IMAGE_WORK"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

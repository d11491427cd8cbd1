#!/usr/bin/env python3
"""Helpers for bench/run.sh: start a server and time it, generate deterministic test data, push to a registry.

Only the standard library is used. Every network call goes to the URL given on the command line
(run.sh only ever passes http://127.0.0.1:PORT).
"""

import argparse
import base64
import hashlib
import http.client
import io
import json
import os
import random
import subprocess
import sys
import tarfile
import time
import urllib.parse
import zlib

MiB = 1024 * 1024
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def die(message):
    print(f"helper.py: {message}", file=sys.stderr)
    sys.exit(1)


# --------------------------------------------------------------------------------------------------
# launch: exec a server, wait for its first HTTP response, print "PID SECONDS"


def cmd_launch(args):
    url = urllib.parse.urlsplit(args.url)
    ok = {int(s) for s in args.ok.split(",")}
    log = open(args.log, "ab")
    t0 = time.monotonic()
    proc = subprocess.Popen(args.cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = t0 + args.timeout
    while True:
        if proc.poll() is not None:
            die(f"{args.cmd[0]} exited with status {proc.returncode} before answering; see {args.log}")
        try:
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=1)
            conn.request("GET", url.path + (("?" + url.query) if url.query else ""))
            status = conn.getresponse().status
            conn.close()
            if status in ok:
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            die(f"{args.cmd[0]} did not answer {args.url} with {args.ok} within {args.timeout}s")
        time.sleep(0.002)
    elapsed = time.monotonic() - t0
    print(proc.pid, f"{elapsed:.4f}")
    # The server keeps running after we exit; run.sh owns it from here (by PID).


# --------------------------------------------------------------------------------------------------
# data generation (deterministic: the same seed gives the same bytes on every run)


def random_bytes(seed, size):
    return random.Random(seed).randbytes(size)


def cmd_gen_blob(args):
    data = random_bytes(args.seed, args.size_mib * MiB)
    with open(args.out, "wb") as f:
        f.write(data)
    print("sha256:" + hashlib.sha256(data).hexdigest())


def make_layer(seed, size):
    """A tar holding one file of `size` random bytes, wrapped in gzip with stored (level 0) blocks.

    Random content does not compress, so level 0 keeps generation fast without changing the transfer size;
    clients see an ordinary gzip layer and push it unchanged. Returns (compressed bytes, diff_id)."""
    payload = random_bytes(seed, size)
    info = tarfile.TarInfo(name=f"data/layer-{seed}.bin")
    info.size = len(payload)
    info.mtime = 0
    info.mode = 0o644
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(info, io.BytesIO(payload))
    raw = buf.getvalue()
    diff_id = "sha256:" + hashlib.sha256(raw).hexdigest()
    comp = zlib.compressobj(0, zlib.DEFLATED, 31)
    gz = comp.compress(raw) + comp.flush()
    return gz, diff_id


def descriptor(media_type, data):
    return {"mediaType": media_type, "digest": "sha256:" + hashlib.sha256(data).hexdigest(), "size": len(data)}


def build_image(seed, layer_sizes):
    """Returns (manifest bytes, config bytes, [layer bytes])."""
    layers, diff_ids = [], []
    for i, size in enumerate(layer_sizes):
        gz, diff_id = make_layer(seed * 100 + i, size)
        layers.append(gz)
        diff_ids.append(diff_id)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "created": "2026-01-01T00:00:00Z",
            "config": {"Cmd": ["/bin/true"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [{"created": "2026-01-01T00:00:00Z", "created_by": "berth bench"} for _ in layers],
        },
        separators=(",", ":"),
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor(OCI_CONFIG, config),
            "layers": [descriptor(OCI_LAYER_GZIP, l) for l in layers],
        },
        separators=(",", ":"),
    ).encode()
    return manifest, config, layers


def cmd_gen_layout(args):
    """An OCI image layout with `layers` layers of `layer_mib` MiB each, tagged `tag`."""
    manifest, config, layers = build_image(args.seed, [args.layer_mib * MiB] * args.layers)
    blobs = os.path.join(args.out, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)
    for data in [config, manifest, *layers]:
        with open(os.path.join(blobs, hashlib.sha256(data).hexdigest()), "wb") as f:
            f.write(data)
    with open(os.path.join(args.out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    index = {
        "schemaVersion": 2,
        "manifests": [dict(descriptor(OCI_MANIFEST, manifest), annotations={"org.opencontainers.image.ref.name": args.tag})],
    }
    with open(os.path.join(args.out, "index.json"), "w") as f:
        json.dump(index, f)
    total = sum(len(l) for l in layers)
    print(f"{total / MiB:.1f}")


# --------------------------------------------------------------------------------------------------
# registry client


class Registry:
    def __init__(self, base, auth):
        self.url = urllib.parse.urlsplit(base)
        self.auth = auth  # full Authorization header value, or ""

    def request(self, method, path, body=None, headers=None, expect=(200,)):
        headers = dict(headers or {})
        if self.auth:
            headers["Authorization"] = self.auth
        conn = http.client.HTTPConnection(self.url.hostname, self.url.port, timeout=120, blocksize=1 << 20)
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        if resp.status not in expect:
            die(f"{method} {path}: HTTP {resp.status}: {data[:300]!r}")
        return resp, data

    def push_blob(self, repo, digest, body, size):
        resp, _ = self.request("POST", f"/v2/{repo}/blobs/uploads/", body=b"", expect=(202,))
        location = resp.getheader("Location")
        if not location:
            die("upload POST returned no Location")
        loc = urllib.parse.urlsplit(location)
        sep = "&" if loc.query else "?"
        path = loc.path + (("?" + loc.query) if loc.query else "") + sep + "digest=" + urllib.parse.quote(digest)
        self.request(
            "PUT",
            path,
            body=body,
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
            expect=(201,),
        )

    def push_manifest(self, repo, tag, manifest):
        self.request("PUT", f"/v2/{repo}/manifests/{tag}", body=manifest, headers={"Content-Type": OCI_MANIFEST}, expect=(201,))


def auth_header(args):
    if args.bearer:
        return "Bearer " + args.bearer
    if args.basic:
        return "Basic " + base64.b64encode(args.basic.encode()).decode()
    return ""


def cmd_push_blob(args):
    reg = Registry(args.registry, auth_header(args))
    size = os.path.getsize(args.file)
    with open(args.file, "rb") as f:
        reg.push_blob(args.repo, args.digest, f, size)


def cmd_push_small_image(args):
    """Pushes a small image (config + one 4 KiB layer + manifest) and prints the manifest digest."""
    reg = Registry(args.registry, auth_header(args))
    manifest, config, layers = build_image(args.seed, [4096])
    for data in [config, *layers]:
        reg.push_blob(args.repo, "sha256:" + hashlib.sha256(data).hexdigest(), data, len(data))
    reg.push_manifest(args.repo, args.tag, manifest)
    print("sha256:" + hashlib.sha256(manifest).hexdigest())


def cmd_token(args):
    url = urllib.parse.urlsplit(args.registry)
    query = urllib.parse.urlencode({"service": args.service, "scope": args.scope})
    reg = Registry(args.registry, "Basic " + base64.b64encode(args.basic.encode()).decode())
    _, data = reg.request("GET", f"/service/token?{query}")
    body = json.loads(data)
    print(body["token"], body.get("expires_in", 0))


# --------------------------------------------------------------------------------------------------
# report: the results table and the targets from DESIGN.md


def cmd_report(args):
    r = {}
    with open(args.results) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            r[key] = value
    num = lambda k: float(r[k])

    def secs(prefix):
        return num(prefix + "_duration_us") / 1e6

    blob = {s: num(f"blob_{s}_bytes") / MiB / secs(f"blob_{s}") for s in ("berth", "dist")}
    blob1 = {s: num(f"blob1_{s}_bytes") / MiB / secs(f"blob1_{s}") for s in ("berth", "dist")}
    rps = {s: num(f"man_{s}_requests") / secs(f"man_{s}") for s in ("berth", "dist")}
    p50 = {s: num(f"man_{s}_p50_us") / 1000 for s in ("berth", "dist")}
    p99 = {s: num(f"man_{s}_p99_us") / 1000 for s in ("berth", "dist")}
    push = {s: num(f"push_{s}") for s in ("berth", "dist")}
    pull = {s: num(f"pull_{s}") for s in ("berth", "dist")}
    pull_gib = {s: num(f"pull_{s}_cpu_per_gib") for s in ("berth", "dist")}
    idle = {s: num(f"idle_rss_{s}") / 1024 for s in ("berth", "dist")}
    peak = {s: num(f"peak_rss_{s}") / 1024 for s in ("berth", "dist")}
    start = {s: num(f"startup_{s}") for s in ("berth", "dist")}

    rows = [
        ("(a) blob GET, 100 MiB, 1 conn", "MiB/s", blob1, "{:.0f}"),
        ("    blob GET, 100 MiB, 8 conns", "MiB/s", blob, "{:.0f}"),
        ("(b) manifest GET by tag, 50 conns", "req/s", rps, "{:.0f}"),
        ("    p50 latency", "ms", p50, "{:.2f}"),
        ("    p99 latency", "ms", p99, "{:.2f}"),
        (f"(c) skopeo push 200 MiB (median of {args.reps})", "s", push, "{:.2f}"),
        (f"    skopeo pull 200 MiB (median of {args.reps})", "s", pull, "{:.2f}"),
        ("    server CPU per pulled GiB (median)", "cpu-s", pull_gib, "{:.3f}"),
        ("(d) idle RSS after start", "MiB", idle, "{:.1f}"),
        ("    peak RSS (VmHWM) after all", "MiB", peak, "{:.1f}"),
        ("    start-up to first HTTP 200", "s", start, "{:.3f}"),
    ]
    w = 44
    if args.nodes > 1:
        print(f"Berth: {args.nodes} nodes behind nginx (CPU and RSS figures: all nodes; RSS: the largest node)")
    print(f"{'measurement':<{w}} {'unit':<6} {'Berth':>10} {'distribution':>13} {'Berth/dist':>11}")
    print("-" * (w + 44))
    for label, unit, v, fmt in rows:
        ratio = v["berth"] / v["dist"] if v["dist"] else float("inf")
        print(f"{label:<{w}} {unit:<6} {fmt.format(v['berth']):>10} {fmt.format(v['dist']):>13} {ratio:>10.2f}x")
    print()
    print("server CPU while serving (cores busy; the machine has", os.cpu_count(), "and the client shares them):")
    for label, key in [("blob GET, 1", "blob1_{}_cpu"), ("blob GET, 8", "blob_{}_cpu"), ("manifest GET", "man_{}_cpu"), ("skopeo push", "push_{}_cpu"), ("skopeo pull", "pull_{}_cpu")]:
        print(f"  {label:<14} Berth {num(key.format('berth')):.2f}   distribution {num(key.format('dist')):.2f}")
    others = {k: num(f"{k}_other") for k in ("blob1_dist", "blob1_berth", "blob_dist", "blob_berth", "man_dist", "man_berth", "skopeo")}
    print("  CPU used by other processes (cores; ~0 means a clean measurement): "
          + ", ".join(f"{k} {v:.2f}" for k, v in others.items()))
    if max(others.values()) > 0.15:
        print("  WARNING: something else was using the CPU during the run; the figures above are skewed")
    print(f"  skopeo runs (s): push Berth [{r['push_berth_all']}] dist [{r['push_dist_all']}]; "
          f"pull Berth [{r['pull_berth_all']}] dist [{r['pull_dist_all']}]")
    print()
    if num("push_berth_statements") > 0:
        print("database statements Berth sent (pg_stat_statements; BEGIN and COMMIT count):")
        for label, key in [("blob GET, 1", "blob1_berth_statements"), ("blob GET, 8", "blob_berth_statements"), ("manifest GET", "man_berth_statements")]:
            print(f"  {label:<14} {num(key):.2f} per request")
        print(f"  skopeo push    {num('push_berth_statements'):.0f} per 5-layer image (median)")
        print(f"  skopeo pull    {num('pull_berth_statements'):.0f} per 5-layer image (median)")
        print()
    big_rss = num("big_rss_berth") / 1024
    print(f"(e) Berth alone, one 2 GiB blob streamed with curl: push {num('big_push_s'):.2f} s, "
          f"pull {num('big_pull_s'):.2f} s, peak RSS during both {big_rss:.1f} MiB")
    print()

    MB = 1e6 / MiB  # the targets are in MB (10^6 bytes); RSS is shown in MiB
    targets = [
        ("blob GET, 1 client, >= 1.5x distribution", blob1["berth"] / blob1["dist"] >= 1.5, f"{blob1['berth'] / blob1['dist']:.2f}x"),
        ("blob GET, 8 clients, >= 1.5x distribution", blob["berth"] / blob["dist"] >= 1.5, f"{blob['berth'] / blob['dist']:.2f}x"),
        ("manifest GET req/s >= 10x distribution", rps["berth"] / rps["dist"] >= 10, f"{rps['berth'] / rps['dist']:.2f}x"),
        ("manifest GET p99 < 20 ms", p99["berth"] < 20, f"{p99['berth']:.2f} ms"),
        ("skopeo push time <= 0.8x distribution", push["berth"] / push["dist"] <= 0.8, f"{push['berth'] / push['dist']:.2f}x"),
        ("skopeo pull time <= 1.0x distribution", pull["berth"] / pull["dist"] <= 1.0, f"{pull['berth'] / pull['dist']:.2f}x"),
        ("server CPU per pulled GiB <= 0.5x dist", pull_gib["berth"] / pull_gib["dist"] <= 0.5, f"{pull_gib['berth'] / pull_gib['dist']:.2f}x"),
        ("idle RSS < 50 MB", idle["berth"] < 50 * MB, f"{idle['berth'] * MiB / 1e6:.1f} MB"),
        ("RSS under the benchmark load < 200 MB", peak["berth"] < 200 * MB, f"{peak['berth'] * MiB / 1e6:.1f} MB"),
        ("start-up < 1 s (empty database)", start["berth"] < 1, f"{start['berth']:.3f} s"),
        ("RSS while pushing and pulling 2 GiB < 100 MB", big_rss < 100 * MB, f"{big_rss * MiB / 1e6:.1f} MB"),
    ]
    print("targets (DESIGN.md):")
    for label, met, observed in targets:
        print(f"  {'MET   ' if met else 'MISSED'}  {label:<44} observed {observed}")
    print(f"{sum(1 for t in targets if t[1])}/{len(targets)} targets met")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("launch")
    s.add_argument("--url", required=True)
    s.add_argument("--ok", default="200")
    s.add_argument("--log", required=True)
    s.add_argument("--timeout", type=float, default=30)
    s.add_argument("cmd", nargs=argparse.REMAINDER)
    s.set_defaults(func=cmd_launch)

    s = sub.add_parser("gen-blob")
    s.add_argument("--seed", type=int, required=True)
    s.add_argument("--size-mib", type=int, required=True)
    s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_gen_blob)

    s = sub.add_parser("gen-layout")
    s.add_argument("--seed", type=int, required=True)
    s.add_argument("--layers", type=int, required=True)
    s.add_argument("--layer-mib", type=int, required=True)
    s.add_argument("--tag", required=True)
    s.add_argument("--out", required=True)
    s.set_defaults(func=cmd_gen_layout)

    for name, func in [("push-blob", cmd_push_blob), ("push-small-image", cmd_push_small_image), ("token", cmd_token)]:
        s = sub.add_parser(name)
        s.add_argument("--registry", required=True)
        s.add_argument("--repo")
        s.add_argument("--bearer", default="")
        s.add_argument("--basic", default="")
        s.set_defaults(func=func)
        if name == "push-blob":
            s.add_argument("--file", required=True)
            s.add_argument("--digest", required=True)
        if name == "push-small-image":
            s.add_argument("--seed", type=int, default=7)
            s.add_argument("--tag", required=True)
        if name == "token":
            s.add_argument("--service", default="berth-registry")
            s.add_argument("--scope", required=True)

    s = sub.add_parser("report")
    s.add_argument("--results", required=True)
    s.add_argument("--duration", type=int, required=True)
    s.add_argument("--reps", type=int, required=True)
    s.add_argument("--nodes", type=int, default=1)
    s.set_defaults(func=cmd_report)

    args = p.parse_args()
    if getattr(args, "cmd", None) and args.cmd[:1] == ["--"]:
        args.cmd = args.cmd[1:]
    args.func(args)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Times `berth vulndb import` of a synthetic OSV dump the size of Debian's (issue 15: under 2 minutes).

Builds an OSV `all.zip` of VULNDB_RECORDS records (default 80,000) shaped like osv.dev's Debian records
(`DEBIAN-CVE-*`: one source package, an `upstream` CVE, one `affected` entry per release Debian:10..13 with
`introduced 0` / `fixed`, `ecosystem_specific.urgency`, a few hundred bytes of details). Why 80,000: osv.dev's
Debian dump held about 60k DEBIAN-CVE records plus DSA/DLA/DTSA ones in 2025, and grows; 80k (about 310k affected
rows) is its size with headroom, and VULNDB_RECORDS=100000 gives the upper end.

Then, on a fresh data directory and with the release build (BERTH_BIN, default target/release/berth):
  1. the first import (every record new),
  2. the same dump again (every record unchanged: the content-hash path),
  3. the dump with 5% of the records changed and 1% gone (an ordinary daily refresh),
and `berth vulndb status`. Prints one markdown table row per step, for docs/benchmarks.md.

Knobs (environment): VULNDB_RECORDS, BERTH_BIN, VULNDB_WORK (kept directory; default a temporary one).
"""

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RECORDS = int(os.environ.get("VULNDB_RECORDS", "80000"))
BIN = os.environ.get("BERTH_BIN", os.path.join(ROOT, "target", "release", "berth"))
RELEASES = ["10", "11", "12", "13"]
URGENCIES = ["unimportant", "low", "medium", "high", "not yet assigned"]
WORDS = ("buffer overflow heap use after free in the parser allows remote attackers to cause a denial of "
         "service or possibly execute arbitrary code via a crafted file").split()


def record(i, generation):
    rng = random.Random(i)  # per record, so a skipped record does not change the others
    package = f"pkg{i % 9000}"
    year = 2000 + i % 26
    cve = f"CVE-{year}-{100000 + i}"
    affected = []
    for release in RELEASES[rng.randrange(0, 3):]:
        events = [{"introduced": "0"}]
        if rng.random() < 0.8:
            events.append({"fixed": f"{1 + i % 7}.{i % 13}.{generation}-{1 + i % 3}+deb{release}u1"})
        affected.append({
            "package": {"ecosystem": f"Debian:{release}", "name": package,
                        "purl": f"pkg:deb/debian/{package}?arch=source"},
            "ranges": [{"type": "ECOSYSTEM", "events": events}],
            "ecosystem_specific": {"urgency": rng.choice(URGENCIES)},
        })
    return {
        "schema_version": "1.6.0",
        "id": f"DEBIAN-{cve}",
        "modified": f"2026-0{1 + generation}-01T00:00:00Z",
        "published": f"{year}-01-01T00:00:00Z",
        "upstream": [cve],
        "details": " ".join(rng.choice(WORDS) for _ in range(60)),
        "affected": affected,
        "references": [{"type": "ADVISORY", "url": f"https://security-tracker.debian.org/tracker/{cve}"}],
    }


def build_zip(path, changed_every=0, gone_every=0):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(RECORDS):
            if gone_every and i % gone_every == 0:
                continue
            generation = 1 if changed_every and i % changed_every == 0 else 0
            r = record(i, generation)
            z.writestr(f"{r['id']}.json", json.dumps(r, indent=2))
    return os.path.getsize(path)


def berth(data_dir, *args):
    env = dict(os.environ, BERTH_DATA_DIR=data_dir, BERTH_LOG_LEVEL="warn")
    started = time.monotonic()
    out = subprocess.run([BIN, *args], env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if out.returncode != 0:
        sys.exit(f"berth {' '.join(args)} failed ({out.returncode}):\n{out.stdout}{out.stderr}")
    return elapsed, out.stdout


def main():
    if not os.access(BIN, os.X_OK):
        sys.exit(f"no berth binary at {BIN}: build it (cargo build --release -p berth) or set BERTH_BIN")
    work = os.environ.get("VULNDB_WORK") or tempfile.mkdtemp(prefix="berth-vulndb-bench.")
    os.makedirs(work, exist_ok=True)
    data_dir = os.path.join(work, "data")
    shutil.rmtree(data_dir, ignore_errors=True)
    full = os.path.join(work, "Debian-all.zip")
    refresh = os.path.join(work, "Debian-all-refresh.zip")
    print(f"# building {RECORDS} records", file=sys.stderr)
    size = build_zip(full)
    build_zip(refresh, changed_every=20, gone_every=100)
    print(f"| step | records | zip MB | time (s) | result |\n|---|---|---|---|---|")
    for step, path in [("first import", full), ("same dump again", full),
                       ("5% changed, 1% gone", refresh)]:
        elapsed, out = berth(data_dir, "vulndb", "import", path)
        summary = out.strip().splitlines()[-1]
        print(f"| {step} | {RECORDS} | {size / 1e6:.1f} | {elapsed:.1f} | {summary} |")
    _, status = berth(data_dir, "vulndb", "status")
    print(status.strip().splitlines()[0], file=sys.stderr)
    db = [f for f in os.listdir(os.path.join(data_dir, "vulndb")) if f.endswith(".sqlite")]
    sizes = ", ".join(f"{f} {os.path.getsize(os.path.join(data_dir, 'vulndb', f)) / 1e6:.1f} MB" for f in sorted(db))
    print(f"# files: {sizes}; work directory {work}", file=sys.stderr)
    if not os.environ.get("VULNDB_WORK"):
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

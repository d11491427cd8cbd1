#!/usr/bin/env bash
# Parsers under random input (issue 13): runs the property tests of server/tests/it/parsers/ with a million cases
# each, in a release build, one parser family at a time, and prints per family the properties run, the time and
# the result. A failure prints proptest's minimal failing input; keep it as a regression case next to the
# property (see docs/benchmarks.md, "Parsers under random input"). Berth's crate is built with overflow checks,
# so the next plain release build (bench/run.sh) rebuilds it.
#
# Knobs (environment):
#   PROPTEST_CASES   cases per property (default 1000000)
#   FUZZ_FAMILIES    families to run, space-separated (default: all, cheapest first)
#   FUZZ_THREADS     test threads per family (default 1, so a family's time is its own)
#   FUZZ_LOGS        directory for each family's full output (default: a temp dir, kept only on failure)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
CASES=${PROPTEST_CASES:-1000000}
FAMILIES=${FUZZ_FAMILIES:-"scopes credentials challenge ranges names routes query manifests patterns"}
THREADS=${FUZZ_THREADS:-1}
LOGS=${FUZZ_LOGS:-$(mktemp -d /tmp/berth-fuzz.XXXXXX)}
mkdir -p "$LOGS"

log() { printf '# %s\n' "$*" >&2; }

log "building the integration tests (release); not counted in the times below"
# Overflow checks stay on in Berth's own code (as in the debug build CI runs), so an arithmetic overflow in a parser
# fails here instead of wrapping silently; dependencies keep the release profile.
BIN=$(cd "$ROOT" && cargo test --release --config 'profile.release.package.berth.overflow-checks=true' \
    -p berth --test integration --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "integration":
        print(m["executable"])')
[[ -x $BIN ]] || { echo "fuzz: FAILED: no test binary built" >&2; exit 1; }

failed=0
printf '| parser family | tests | cases per property | time | result |\n|---|---|---|---|---|\n'
for family in $FAMILIES; do
    out="$LOGS/$family.log"
    start=$(date +%s.%N)
    set +e
    PROPTEST_CASES=$CASES "$BIN" "parsers::$family::" --test-threads "$THREADS" >"$out" 2>&1
    rc=$?
    set -e
    secs=$(python3 -c "import sys; print(round($(date +%s.%N) - $start))")
    passed=$(grep -c '^test .* ok$' "$out" || true)
    failures=$(grep -c '^test .* FAILED$' "$out" || true)
    if [[ $rc -eq 0 ]]; then
        result="ok"
    else
        result="FAILED ($failures)"
        failed=1
    fi
    printf '| %s | %d | %s | %s s | %s |\n' "$family" "$((passed + failures))" "$CASES" "$secs" "$result"
    if [[ $rc -ne 0 ]]; then
        grep -E 'minimal failing input|panicked at|^test .* FAILED' "$out" | head -20 >&2 || true
    fi
done
if [[ $failed -eq 0 && -z ${FUZZ_LOGS:-} ]]; then
    rm -rf "$LOGS"
else
    log "full output in $LOGS"
fi
exit $failed

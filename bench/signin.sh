#!/usr/bin/env bash
# LDAP sign-in cost (issue 6): what a registry client waits for when Berth checks its credentials with LDAP, for a
# user in 60 groups. Measures `/service/token` (the request every `docker pull` starts with) as
#   - local:  the local admin (argon2 check, remembered for a minute: the usual Basic-credential case),
#   - cold:   the LDAP user with nothing remembered (ldap_group_cache_seconds=0: search bind, user bind, the
#             user's 60 groups read and recorded),
#   - warm:   the LDAP user within ldap_group_cache_seconds (no LDAP traffic),
# and a `skopeo copy` pull of a small image as the LDAP user vs as the admin. Against a private slapd
# (playwright/fixtures/slapd.mjs) on 127.0.0.1; servers and temp dirs are removed on exit.
#
# Knobs (environment):
#   BENCH_REPS   token requests per case, median reported (default 50); pulls: 9
#   BERTH_BIN    Berth binary to test as is (default target/release/berth, built if missing or stale)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
REPS=${BENCH_REPS:-50}
PULLS=9
BERTH_BIN_GIVEN=${BERTH_BIN:-}
BERTH_BIN=${BERTH_BIN:-$ROOT/target/release/berth}
PASSWORD=Bench12345
PY=$(python3 -c 'import sys; print(sys.executable)')
HELPER="$PY $HERE/helper.py"

log() { printf '# %s\n' "$*" >&2; }
fail() { printf 'bench: FAILED: %s\n' "$*" >&2; exit 1; }

for tool in skopeo curl node /usr/sbin/slapd; do
    command -v "$tool" >/dev/null || fail "$tool is missing (scripts/test.sh installs what the tests need)"
done
[[ -d $ROOT/playwright/node_modules ]] || (cd "$ROOT/playwright" && npm ci --no-audit --no-fund >/dev/null)
if [[ ! -x $BERTH_BIN ]] || { [[ -z $BERTH_BIN_GIVEN ]] &&
    [[ -n $(cd "$ROOT" && find server/src server/Cargo.toml api Cargo.toml Cargo.lock migrations -newer "$BERTH_BIN" -type f 2>/dev/null | head -1) ]]; }; then
    log "building Berth (release); this is not counted in the benchmark time"
    (cd "$ROOT" && cargo build --release -p berth)
fi

T=$(mktemp -d /tmp/berth-signin-bench.XXXXXX)
PIDS=()
stop() { kill -TERM "$1" 2>/dev/null || true; for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; kill -KILL "$1" 2>/dev/null || true; }
cleanup() { local pid; for pid in "${PIDS[@]}"; do stop "$pid"; done; rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "== Berth LDAP sign-in benchmark"
echo "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine:  $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
echo "berth:    $BERTH_BIN (tree at $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo "load:     load average $(cut -d' ' -f1-3 /proc/loadavg) before starting"
echo

# The directory: slapd with `many` in 60 groups.
node "$ROOT/playwright/fixtures/slapd.mjs" >"$T/slapd.out" 2>"$T/slapd.err" &
PIDS+=($!)
for _ in $(seq 100); do grep -q '^ready ' "$T/slapd.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready ' "$T/slapd.out" || fail "slapd did not start: $(cat "$T/slapd.err")"
sed -n '/^{/,/^}/p' "$T/slapd.out" >"$T/ldap.json"

# Berth in ldap_auth; a private project whose guest role goes to group g42.
PORT=$(free_port)
B=http://127.0.0.1:$PORT
read -r pid _ < <(BERTH_ADMIN_PASSWORD=$PASSWORD BERTH_DATA_DIR=$T/data BERTH_LISTEN=127.0.0.1:$PORT BERTH_LOG_LEVEL=warn \
    $HELPER launch --url "$B/api/v2.0/ping" --ok 200 --log "$T/berth.log" -- "$BERTH_BIN" serve)
PIDS+=("$pid")
api() { curl -sf -u "admin:$PASSWORD" -H 'Content-Type: application/json' "$@"; }
api -X PUT "$B/api/v2.0/configurations" -d @"$T/ldap.json" >/dev/null || fail "configuring ldap_auth"
api -X POST "$B/api/v2.0/projects" -d '{"project_name":"team"}' >/dev/null
api -X POST "$B/api/v2.0/projects/team/members" \
    -d '{"role_id":3,"member_group":{"ldap_group_dn":"cn=g42,ou=groups,dc=example,dc=org"}}' >/dev/null
$HELPER push-small-image --registry "$B" --basic "admin:$PASSWORD" --repo team/app --tag 1 --seed 7 >/dev/null

token() { # user:password file
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -u "$1" \
        "$B/service/token?service=berth-registry&scope=repository:team/app:pull" >>"$2.raw"
}
times() { # user:password file
    local i; for i in $(seq "$REPS"); do token "$1" "$2"; done
    if grep -qv '^200 ' "$2.raw"; then fail "a token request for ${1%%:*} failed: $(grep -v '^200 ' "$2.raw" | head -1)"; fi
    awk '{ printf "%.2f\n", $2 * 1000 }' "$2.raw" >"$2"
}
times "admin:$PASSWORD" "$T/local"
api -X PUT "$B/api/v2.0/configurations" -d '{"ldap_group_cache_seconds":0}' >/dev/null
times "many:many-pw" "$T/cold"
api -X PUT "$B/api/v2.0/configurations" -d '{"ldap_group_cache_seconds":60}' >/dev/null
token "many:many-pw" "$T/prime"
times "many:many-pw" "$T/warm"
groups=$(api "$B/api/v2.0/usergroups?page_size=100" | $PY -c 'import json,sys; print(sum(1 for g in json.load(sys.stdin) if g["group_type"] == 1))')
[[ $groups -eq 60 ]] || fail "expected the 60 LDAP groups of many to be recorded, found $groups"

pull() { # creds file
    local i; for i in $(seq "$PULLS"); do
        rm -rf "$T/pulled"
        /usr/bin/time -f '%e' -a -o "$2" skopeo copy -q --src-tls-verify=false --src-creds "$1" \
            "docker://127.0.0.1:$PORT/team/app:1" "oci:$T/pulled:1" 2>>"$T/skopeo.err" || fail "pull as ${1%%:*}: $(tail -1 "$T/skopeo.err")"
    done
}
pull "admin:$PASSWORD" "$T/pull-admin"
pull "many:many-pw" "$T/pull-many"

echo "/service/token, milliseconds, median of $REPS (user 'many' is in 60 LDAP groups)"
echo
echo "| credentials | ms (median) | min | max |"
echo "|---|---|---|---|"
row() { echo "| $1 | $(median "$2") | $(sort -n "$2" | head -1) | $(sort -n "$2" | tail -1) |"; }
row "local admin (argon2, remembered 60 s)" "$T/local"
row "LDAP, cold (bind + 60 groups read and recorded)" "$T/cold"
row "LDAP, warm (within ldap_group_cache_seconds)" "$T/warm"
echo
echo "skopeo copy pull of a small image, seconds, median of $PULLS"
echo
echo "| as | s (median) |"
echo "|---|---|"
echo "| local admin | $(median "$T/pull-admin") |"
echo "| many (LDAP, 60 groups) | $(median "$T/pull-many") |"

#!/usr/bin/env bash
# The proxy cache against its targets (DESIGN.md): a cold pull through Berth within 1.1x of pulling straight from
# the upstream, and a warm pull as fast as a pull from a hosted project. See bench/README.md.
# Traffic goes to 127.0.0.1 only; temp dirs and servers are removed on exit.
#
# Knobs (environment):
#   BENCH_REPS   repetitions, median reported (default 5)
#   BERTH_BIN    Berth binary to test as is (default target/release/berth, built if missing or stale)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
REPS=${BENCH_REPS:-5}
BERTH_BIN_GIVEN=${BERTH_BIN:-}
BERTH_BIN=${BERTH_BIN:-$ROOT/target/release/berth}
PASSWORD=Bench12345
PY=$(python3 -c 'import sys; print(sys.executable)')
HELPER="$PY $HERE/helper.py"

log() { printf '# %s\n' "$*" >&2; }
fail() { printf 'bench: FAILED: %s\n' "$*" >&2; exit 1; }

for tool in skopeo docker-registry curl; do
    command -v "$tool" >/dev/null || { log "installing $tool"; apt-get install -y "$tool" >/dev/null; }
done
[[ -z $BERTH_BIN_GIVEN || -x $BERTH_BIN ]] || fail "BERTH_BIN=$BERTH_BIN is not an executable"
if [[ ! -x $BERTH_BIN ]] || { [[ -z $BERTH_BIN_GIVEN ]] &&
    [[ -n $(cd "$ROOT" && find server/src server/Cargo.toml api Cargo.toml Cargo.lock migrations -newer "$BERTH_BIN" -type f 2>/dev/null | head -1) ]]; }; then
    log "building Berth (release); this is not counted in the benchmark time"
    (cd "$ROOT" && cargo build --release -p berth)
fi

T=$(mktemp -d /tmp/berth-proxy-bench.XXXXXX)
chmod 755 "$T"
PIDS=()
stop() { # pid
    kill -TERM "$1" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
}
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do stop "$pid"; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "== Berth proxy cache benchmark"
echo "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine:  $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
echo "berth:    $BERTH_BIN (tree at $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo "upstream: $(docker-registry --version 2>&1 | head -1)"
echo "load:     load average $(cut -d' ' -f1-3 /proc/loadavg) before starting"
echo

# The upstream: distribution as Debian packages it, access log off.
DPORT=$(free_port)
D=127.0.0.1:$DPORT
mkdir -p "$T/dist"
cat >"$T/dist/config.yml" <<EOF
version: 0.1
log: {level: warn, accesslog: {disabled: true}}
storage:
  cache: {blobdescriptor: inmemory}
  filesystem: {rootdirectory: $T/dist/data}
http: {addr: $D}
EOF
read -r DPID _ < <(env -i PATH="$PATH" $HELPER launch --log "$T/dist.log" --ok 200 --url "http://$D/v2/" \
    -- docker-registry serve "$T/dist/config.yml") || fail "distribution did not start: $(cat "$T/dist.log")"
PIDS+=("$DPID")

log "generating a 5-layer, 200 MiB OCI layout and seeding the upstream"
$HELPER gen-layout --seed 3 --layers 5 --layer-mib 40 --tag bench --out "$T/layout" >/dev/null
chmod -R a+rX "$T/layout"
mkdir -m 777 "$T/skopeo"
if [[ $(id -u) == 0 ]] && runuser -u nobody -- true 2>/dev/null; then AS_USER=(runuser -u nobody --); else AS_USER=(); fi
skopeo_timed() { # label, then skopeo copy args; prints seconds. A fresh HOME each time: no blob-info cache.
    local label=$1 home t0 t1
    shift
    home=$(mktemp -d "$T/skopeo/home.XXXXXX")
    chmod 777 "$home"
    t0=$EPOCHREALTIME
    env -i PATH="$PATH" HOME="$home" "${AS_USER[@]}" env HOME="$home" \
        timeout 300 skopeo copy --quiet --insecure-policy "$@" >"$T/skopeo.out" 2>&1 ||
        fail "skopeo $label: $(cat "$T/skopeo.out")"
    t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
skopeo_timed seed --dest-tls-verify=false "oci:$T/layout:bench" "docker://$D/library/bench:bench" >/dev/null

pull_to() { # label, source reference (docker://…), extra args; checks every layer arrived, prints seconds
    local label=$1 src=$2 out=$T/skopeo/out secs f
    shift 2
    rm -rf "$out"
    secs=$(skopeo_timed "$label" --src-tls-verify=false "$@" "$src" "oci:$out:bench")
    for f in "$T"/layout/blobs/sha256/*; do
        [[ -f $out/blobs/sha256/$(basename "$f") ]] || fail "$label is missing blob $(basename "$f")"
    done
    rm -rf "$out"
    echo "$secs"
}

api() { # method path [json]
    curl -sS -f -u "admin:$PASSWORD" -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} "$B/api/v2.0$2"
}

for rep in $(seq "$REPS"); do
    # A fresh Berth each time, so the cold pull really is cold.
    BPORT=$(free_port)
    B=http://127.0.0.1:$BPORT
    rm -rf "$T/berth"
    mkdir -p "$T/berth"
    read -r BPID _ < <(env BERTH_LISTEN=127.0.0.1:$BPORT BERTH_DATA_DIR="$T/berth" BERTH_ADMIN_PASSWORD=$PASSWORD \
        BERTH_LOG_LEVEL=warn $HELPER launch --log "$T/berth.log" --ok 200 \
        --url "$B/service/token?service=berth-registry" -- "$BERTH_BIN" serve) || fail "Berth did not start: $(cat "$T/berth.log")"
    PIDS+=("$BPID")
    api POST /registries "{\"name\":\"up\",\"type\":\"docker-registry\",\"url\":\"http://$D\"}"
    id=$(api GET /registries | $PY -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
    api POST /projects "{\"project_name\":\"hub\",\"registry_id\":$id,\"metadata\":{\"public\":\"true\"}}"
    api POST /projects '{"project_name":"hosted","metadata":{"public":"true"}}'
    skopeo_timed "push to hosted" --dest-tls-verify=false --dest-creds "admin:$PASSWORD" \
        "oci:$T/layout:bench" "docker://127.0.0.1:$BPORT/hosted/library/bench:bench" >/dev/null

    # Alternate who goes first between the direct and the cold pull.
    if ((rep % 2)); then
        direct=$(pull_to "direct pull" "docker://$D/library/bench:bench")
        cold=$(pull_to "cold pull" "docker://127.0.0.1:$BPORT/hub/library/bench:bench")
    else
        cold=$(pull_to "cold pull" "docker://127.0.0.1:$BPORT/hub/library/bench:bench")
        direct=$(pull_to "direct pull" "docker://$D/library/bench:bench")
    fi
    if ((rep % 2)); then
        warm=$(pull_to "warm pull" "docker://127.0.0.1:$BPORT/hub/library/bench:bench")
        hosted=$(pull_to "hosted pull" "docker://127.0.0.1:$BPORT/hosted/library/bench:bench")
    else
        hosted=$(pull_to "hosted pull" "docker://127.0.0.1:$BPORT/hosted/library/bench:bench")
        warm=$(pull_to "warm pull" "docker://127.0.0.1:$BPORT/hub/library/bench:bench")
    fi
    stop "$BPID"
    log "rep $rep: direct ${direct}s, cold ${cold}s, warm ${warm}s, hosted ${hosted}s"
    for k in direct cold warm hosted; do echo "${!k}" >>"$T/$k"; done
done

median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
direct=$(median "$T/direct") cold=$(median "$T/cold") warm=$(median "$T/warm") hosted=$(median "$T/hosted")
cold_ratio=$(awk -v a="$cold" -v b="$direct" 'BEGIN { printf "%.2f", a / b }')
warm_ratio=$(awk -v a="$warm" -v b="$hosted" 'BEGIN { printf "%.2f", a / b }')
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r <= t) ? "MET" : "MISSED" }'; }
echo "skopeo copy of a 5 x 40 MiB image to an oci: dir, median of $REPS"
echo
echo "| pull | seconds (median) | all runs |"
echo "|------|------------------|----------|"
for k in direct cold warm hosted; do
    echo "| $k | ${!k} | $(paste -sd' ' "$T/$k") |"
done
echo
echo "cold through Berth / direct from upstream: ${cold_ratio}x (target <= 1.10: $(verdict "$cold_ratio" 1.10))"
echo "warm through Berth / hosted on Berth:      ${warm_ratio}x (target ~1.00, <= 1.10: $(verdict "$warm_ratio" 1.10))"

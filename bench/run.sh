#!/usr/bin/env bash
# Berth vs the CNCF distribution registry, side by side on this machine, in one run.
# See bench/README.md. Traffic goes to 127.0.0.1 only; temp dirs and servers are removed on exit.
#
# Knobs (environment):
#   BENCH_DURATION  seconds per wrk run (default 15)
#   BENCH_REPS      skopeo push+pull repetitions per registry, median reported (default 5)
#   BERTH_BIN       Berth binary to test as is (default target/release/berth, built if missing or stale)
#   BENCH_NODES     Berth nodes behind an nginx round-robin load balancer (default 1: no balancer). More than
#                   one needs shared backends (BERTH_DATABASE_URL, BERTH_STORAGE__*) and BERTH_SECRET_KEY:
#                   bench/scale-out.sh sets them
#   BENCH_PG_URL    a PostgreSQL with pg_stat_statements loaded, which Berth uses: the statements Berth sends
#                   per request are counted (bench/scale-out.sh sets it)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
DURATION=${BENCH_DURATION:-15}
REPS=${BENCH_REPS:-5}
NODES=${BENCH_NODES:-1}
PG_URL=${BENCH_PG_URL:-}
BERTH_BIN_GIVEN=${BERTH_BIN:-}
BERTH_BIN=${BERTH_BIN:-$ROOT/target/release/berth}
PASSWORD=Bench12345
PY=$(python3 -c 'import sys; print(sys.executable)')
HELPER="$PY $HERE/helper.py"
OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
CLK_TCK=$(getconf CLK_TCK)

log() { printf '# %s\n' "$*" >&2; }
fail() { printf 'bench: FAILED: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------- tools
missing=()
tools=(wrk:wrk skopeo:skopeo docker-registry:docker-registry curl:curl /usr/bin/time:time)
((NODES == 1)) || tools+=(nginx:nginx-light)
[[ -z $PG_URL ]] || tools+=(psql:postgresql-client)
for tool in "${tools[@]}"; do
    command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get install -y "${missing[@]}" >/dev/null
fi
# Build when the default binary is missing or older than the sources.
[[ -z $BERTH_BIN_GIVEN || -x $BERTH_BIN ]] || fail "BERTH_BIN=$BERTH_BIN is not an executable"
if [[ ! -x $BERTH_BIN ]] || { [[ -z $BERTH_BIN_GIVEN ]] &&
    [[ -n $(cd "$ROOT" && find server/src server/Cargo.toml api Cargo.toml Cargo.lock migrations -newer "$BERTH_BIN" -type f 2>/dev/null | head -1) ]]; }; then
    log "building Berth (release); this is not counted in the benchmark time"
    (cd "$ROOT" && cargo build --release -p berth)
fi

# ------------------------------------------------------------------------------------- temp + cleanup
T=$(mktemp -d /tmp/berth-bench.XXXXXX)
chmod 755 "$T"   # skopeo runs as nobody (see below) and must read the layout
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

RESULTS=$T/results
: >"$RESULTS"
put() { echo "$1=$2" >>"$RESULTS"; }

free_port() {
    $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
cpu_ticks() { # utime + stime of the PIDs given, in clock ticks
    local pid total=0
    for pid in "$@"; do
        total=$((total + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat")))
    done
    echo "$total"
}
statements() { # statements PostgreSQL has run (pg_stat_statements; BEGIN and COMMIT count), 0 without BENCH_PG_URL
    if [[ -n $PG_URL ]]; then psql "$PG_URL" -Atqc 'SELECT COALESCE(sum(calls), 0) FROM pg_stat_statements'; else echo 0; fi
}
machine_busy_ticks() { awk 'NR == 1 { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; } # user nice system irq softirq steal
status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# ------------------------------------------------------------------------------------------- header
echo "== Berth vs distribution benchmark"
echo "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine:  $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/MemTotal/ { printf "%.1f GiB RAM", $2/1048576 }' /proc/meminfo)"
echo "kernel:   $(uname -sr)"
echo "berth:    $BERTH_BIN (built $(date -u -r "$BERTH_BIN" '+%Y-%m-%d %H:%M UTC'); tree at $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$ROOT" && git diff --quiet HEAD -- server/src api Cargo.toml Cargo.lock 2>/dev/null || echo ' with uncommitted source changes'))"
echo "baseline: $(docker-registry --version 2>&1 | head -1)"
echo "tools:    $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2), $(skopeo --version)"
# Everything shares 2 cores here, so anything else running skews the figures: measure it and say so.
busy_pct() { # share of all CPU time not idle over 1 s
    local a b
    a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
    local total=0 i
    for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
    echo $(( 100 - 100 * ((b[4] - a[4]) + (b[5] - a[5])) / (total ? total : 1) ))
}
BUSY=$(busy_pct)
echo "load:     ${BUSY}% of the CPU busy before starting (load average $(cut -d' ' -f1-3 /proc/loadavg))"
((BUSY <= 10)) || echo "WARNING:  other processes are using the CPU; the figures below are skewed by them"
echo

# ------------------------------------------------------------------------------------------- servers
BPORT=$(free_port)
DPORT=$(free_port)
B=http://127.0.0.1:$BPORT
D=http://127.0.0.1:$DPORT
mkdir -p "$T/berth" "$T/dist"

log "starting Berth on $B"
read -r BPID BSTART < <(env BERTH_LISTEN=127.0.0.1:$BPORT BERTH_DATA_DIR="$T/berth" BERTH_ADMIN_PASSWORD=$PASSWORD \
    BERTH_LOG_LEVEL=warn $HELPER launch --log "$T/berth.log" --ok 200 \
    --url "$B/service/token?service=berth-registry" -- "$BERTH_BIN" serve) || fail "Berth did not start (log: $(cat "$T/berth.log"))"
PIDS+=("$BPID")
put startup_berth "$BSTART"
BPIDS=$BPID # every Berth node, for CPU and memory figures
if ((NODES > 1)); then
    [[ -n ${BERTH_SECRET_KEY:-} ]] || fail "BENCH_NODES=$NODES needs BERTH_SECRET_KEY (the nodes share it)"
    upstreams="    server 127.0.0.1:$BPORT;"
    for n in $(seq 2 "$NODES"); do
        port=$(free_port)
        mkdir -p "$T/berth$n"
        log "starting Berth node $n on 127.0.0.1:$port"
        read -r pid _ < <(env BERTH_LISTEN=127.0.0.1:$port BERTH_DATA_DIR="$T/berth$n" BERTH_LOG_LEVEL=warn \
            $HELPER launch --log "$T/berth$n.log" --ok 200 --url "http://127.0.0.1:$port/service/token?service=berth-registry" \
            -- "$BERTH_BIN" serve) || fail "Berth node $n did not start (log: $(cat "$T/berth$n.log"))"
        PIDS+=("$pid")
        BPIDS+=" $pid"
        upstreams+=$'\n'"    server 127.0.0.1:$port;"
    done
    # The balancer of docker/nginx.conf: round robin per request, bodies streamed both ways.
    LBPORT=$(free_port)
    cat >"$T/nginx.conf" <<EOF
worker_processes 1;
pid $T/nginx.pid;
error_log $T/nginx.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $T/nginx-body;
  proxy_temp_path $T/nginx-proxy;
  upstream berth {
$upstreams
    keepalive 64;
  }
  server {
    listen 127.0.0.1:$LBPORT;
    client_max_body_size 0;
    proxy_request_buffering off;
    proxy_buffering off;
    proxy_read_timeout 900s;
    proxy_send_timeout 900s;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host \$http_host;
    location / { proxy_pass http://berth; }
  }
}
EOF
    log "starting nginx on 127.0.0.1:$LBPORT in front of $NODES nodes"
    read -r LBPID _ < <($HELPER launch --log "$T/nginx.out" --ok 200 \
        --url "http://127.0.0.1:$LBPORT/service/token?service=berth-registry" \
        -- nginx -e "$T/nginx.log" -c "$T/nginx.conf" -g 'daemon off;') || fail "nginx did not start ($(cat "$T/nginx.log"))"
    PIDS+=("$LBPID")
    BPORT=$LBPORT
    B=http://127.0.0.1:$BPORT
fi
sleep 1
put idle_rss_berth "$(status_kib "$BPID" VmRSS)"

# The distribution registry as Debian packages it (in-memory blob descriptor cache), without auth (its
# fastest setting) and with the access log off so it does not pay for logging that Berth (at warn) skips. When
# Berth stores its blobs in S3 (bench/scale-out.sh), distribution does too, in the same bucket under
# distribution-…/, so the two columns compare registries on the same store; distribution streams blobs itself,
# as Berth does without storage.s3.redirect (its default would redirect clients to the store).
if [[ ${BERTH_STORAGE__KIND:-filesystem} == s3 ]]; then
    DIST_STORE="storage (distribution): S3 at $BERTH_STORAGE__S3__ENDPOINT, like Berth"
    dist_storage="  s3:
    accesskey: $BERTH_STORAGE__S3__ACCESS_KEY
    secretkey: $BERTH_STORAGE__S3__SECRET_KEY
    region: ${BERTH_STORAGE__S3__REGION:-us-east-1}
    regionendpoint: $BERTH_STORAGE__S3__ENDPOINT
    bucket: $BERTH_STORAGE__S3__BUCKET
    rootdirectory: /distribution-$(basename "$T")
    secure: $([[ $BERTH_STORAGE__S3__ENDPOINT == https:* ]] && echo true || echo false)
    forcepathstyle: true
  redirect: {disable: true}"
else
    DIST_STORE="storage (distribution): the filesystem"
    dist_storage="  filesystem: {rootdirectory: $T/dist/data}"
fi
echo "$DIST_STORE"
cat >"$T/dist/config.yml" <<EOF
version: 0.1
log: {level: warn, accesslog: {disabled: true}}
storage:
  cache: {blobdescriptor: inmemory}
$dist_storage
  delete: {enabled: true}
http: {addr: 127.0.0.1:$DPORT}
EOF
log "starting distribution on $D"
read -r DPID DSTART < <(env -i PATH="$PATH" $HELPER launch --log "$T/dist.log" --ok 200 --url "$D/v2/" \
    -- docker-registry serve "$T/dist/config.yml") || fail "distribution did not start (log: $(cat "$T/dist.log"))"
PIDS+=("$DPID")
put startup_dist "$DSTART"
sleep 1
put idle_rss_dist "$(status_kib "$DPID" VmRSS)"

token() { # scope -> bearer token from Berth's token service
    local out
    out=$($HELPER token --registry "$B" --basic "admin:$PASSWORD" --scope "$1") || fail "no token for $1"
    echo "${out%% *}"
}

# wrk_run NAME URL wrk-args... : runs wrk with report.lua, records NAME_* results, fails on errors
wrk_run() {
    local name=$1 url=$2 pid=$3
    shift 3
    local c0 c1 m0 m1 line
    c0=$(cpu_ticks $pid)
    s0=$(statements)
    m0=$(machine_busy_ticks)
    timeout $((DURATION + 60)) /usr/bin/time -f '%U %S' -o "$T/time-$name" \
        wrk -d"${DURATION}s" -s "$HERE/report.lua" "$@" "$url" >"$T/wrk-$name.txt" 2>&1 ||
        fail "wrk $name: $(cat "$T/wrk-$name.txt")"
    c1=$(cpu_ticks $pid)
    m1=$(machine_busy_ticks)
    s1=$(statements)
    line=$(grep '^BENCH ' "$T/wrk-$name.txt") || fail "wrk $name printed no summary: $(cat "$T/wrk-$name.txt")"
    local requests bytes duration_us connect read write status timeout p50_us p90_us p99_us max_us
    eval "${line#BENCH }"
    ((requests > 0)) || fail "wrk $name: no completed requests"
    ((status == 0)) || fail "wrk $name: $status responses were not 2xx/3xx"
    ((connect == 0 && timeout == 0)) || fail "wrk $name: $connect connect errors, $timeout timeouts"
    put "${name}_requests" "$requests"
    put "${name}_bytes" "$bytes"
    put "${name}_duration_us" "$duration_us"
    put "${name}_p50_us" "$p50_us"
    put "${name}_p99_us" "$p99_us"
    put "${name}_read_errors" "$read"
    put "${name}_statements" "$(awk -v s=$((s1 - s0 - 1)) -v r="$requests" 'BEGIN { printf "%.2f", s / r }')"
    put "${name}_cpu" "$(awk -v t=$((c1 - c0)) -v hz="$CLK_TCK" -v d="$duration_us" 'BEGIN { printf "%.2f", t / hz / (d / 1e6) }')"
    # CPU used by anything other than this server and wrk (the other server idles meanwhile): should be ~0.
    put "${name}_other" "$(awk -v m=$((m1 - m0)) -v c=$((c1 - c0)) -v hz="$CLK_TCK" -v d="$duration_us" \
        -v w="$(cat "$T/time-$name")" 'BEGIN { split(w, u, " "); o = (m - c) / hz - u[1] - u[2]; if (o < 0) o = 0; printf "%.2f", o / (d / 1e6) }')"
    log "$name: $requests requests, $bytes bytes in $((duration_us / 1000)) ms, p50 ${p50_us}us, p99 ${p99_us}us"
}

# ------------------------------------------------------------------------------- (a) blob GET throughput
log "(a) generating a 100 MiB random blob"
BLOB_DIGEST=$($HELPER gen-blob --seed 1 --size-mib 100 --out "$T/blob.bin")
TOK=$(token "repository:library/bench:pull,push")
$HELPER push-blob --registry "$B" --repo library/bench --bearer "$TOK" --file "$T/blob.bin" --digest "$BLOB_DIGEST"
$HELPER push-blob --registry "$D" --repo library/bench --file "$T/blob.bin" --digest "$BLOB_DIGEST"
rm -f "$T/blob.bin"
for side in berth dist; do
    if [[ $side == berth ]]; then base=$B auth=(-H "Authorization: Bearer $TOK"); else base=$D auth=(); fi
    got=$(curl -sS -f "${auth[@]}" "$base/v2/library/bench/blobs/$BLOB_DIGEST" | sha256sum | cut -d' ' -f1)
    [[ sha256:$got == "$BLOB_DIGEST" ]] || fail "$side served the wrong bytes for the blob"
done
BLOB_URL=/v2/library/bench/blobs/$BLOB_DIGEST
log "(a) blob GET, 1 connection, ${DURATION}s each"
wrk_run blob1_dist "$D$BLOB_URL" "$DPID" -t1 -c1 --timeout 30s
wrk_run blob1_berth "$B$BLOB_URL" "$BPIDS" -t1 -c1 --timeout 30s -H "Authorization: Bearer $TOK"
log "(a) blob GET, 8 connections, ${DURATION}s each"
wrk_run blob_dist "$D$BLOB_URL" "$DPID" -t2 -c8 --timeout 30s
wrk_run blob_berth "$B$BLOB_URL" "$BPIDS" -t2 -c8 --timeout 30s -H "Authorization: Bearer $TOK"

# ------------------------------------------------------------------------------ (b) manifest GET by tag
log "(b) pushing a small image"
TOK=$(token "repository:library/small:pull,push")
MDIGEST=$($HELPER push-small-image --registry "$B" --repo library/small --tag v1 --bearer "$TOK")
MDIGEST_D=$($HELPER push-small-image --registry "$D" --repo library/small --tag v1)
[[ $MDIGEST == "$MDIGEST_D" ]] || fail "the two small images differ"
TOK=$(token "repository:library/small:pull")
MURL=/v2/library/small/manifests/v1
for side in berth dist; do
    if [[ $side == berth ]]; then base=$B auth=(-H "Authorization: Bearer $TOK"); else base=$D auth=(); fi
    curl -sS -D "$T/mh-$side" -o "$T/mb-$side" -H "Accept: $OCI_MANIFEST" "${auth[@]}" "$base$MURL"
    head -1 "$T/mh-$side" | grep -q ' 200' || fail "$side manifest GET: $(head -1 "$T/mh-$side")"
    [[ sha256:$(sha256sum <"$T/mb-$side" | cut -d' ' -f1) == "$MDIGEST" ]] || fail "$side served a different manifest"
done
MSIZE=$(stat -c %s "$T/mb-berth")
log "(b) manifest GET by tag, 50 connections, ${DURATION}s each"
wrk_run man_dist "$D$MURL" "$DPID" -t2 -c50 --latency -H "Accept: $OCI_MANIFEST"
wrk_run man_berth "$B$MURL" "$BPIDS" -t2 -c50 --latency -H "Accept: $OCI_MANIFEST" -H "Authorization: Bearer $TOK"
for side in dist berth; do
    # Every response must have carried the manifest: a 3xx or an empty 200 would show up here.
    r=$(awk -F= -v k="man_${side}_requests" '$1 == k { print $2 }' "$RESULTS")
    b=$(awk -F= -v k="man_${side}_bytes" '$1 == k { print $2 }' "$RESULTS")
    ((b / r >= MSIZE)) || fail "$side: $((b / r)) bytes per manifest response, less than the manifest ($MSIZE)"
done

# -------------------------------------------------------------------------- (c) skopeo push and pull
log "(c) generating a 5-layer, 200 MiB OCI layout"
$HELPER gen-layout --seed 2 --layers 5 --layer-mib 40 --tag bench --out "$T/layout" >/dev/null
chmod -R a+rX "$T/layout"
# skopeo keeps a blob-info cache that would turn the second push of the same layers into cross-repository
# mounts. As root that cache is in /var/lib/containers; as another user it is under $HOME, so each copy runs
# as nobody with a fresh HOME and every push really uploads.
if [[ $(id -u) == 0 ]] && runuser -u nobody -- true 2>/dev/null; then
    AS_USER=(runuser -u nobody --)
else
    AS_USER=()
    log "cannot switch to user nobody: skopeo's blob cache may turn repeated pushes into mounts"
fi
RUN_ID=$(basename "$T" | tr -cd 'a-z0-9' | tr 'A-Z' 'a-z')
mkdir -m 777 "$T/skopeo"
skopeo_timed() { # label, then skopeo copy args; prints seconds
    local label=$1 home t0 t1
    shift
    home=$(mktemp -d "$T/skopeo/home.XXXXXX")
    chmod 777 "$home"
    t0=$EPOCHREALTIME
    env -i PATH="$PATH" HOME="$home" /usr/bin/time -a -o "$T/skopeo-cpu" -f '%U %S' "${AS_USER[@]}" env HOME="$home" \
        timeout 120 skopeo copy --quiet --insecure-policy "$@" >"$T/skopeo.out" 2>&1 ||
        fail "skopeo $label: $(cat "$T/skopeo.out")"
    t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
order=(dist berth)
: >"$T/skopeo-cpu"
SK_M0=$(machine_busy_ticks) SK_B0=$(cpu_ticks $BPIDS) SK_D0=$(cpu_ticks "$DPID") SK_T0=$EPOCHREALTIME
for rep in $(seq "$REPS"); do
    for side in "${order[@]}"; do
        repo=library/big-$RUN_ID-$rep
        if [[ $side == berth ]]; then
            host=127.0.0.1:$BPORT dcreds=(--dest-creds "admin:$PASSWORD") screds=(--src-creds "admin:$PASSWORD") pid=$BPIDS
        else
            host=127.0.0.1:$DPORT dcreds=() screds=() pid=$DPID
        fi
        c0=$(cpu_ticks $pid) s0=$(statements)
        push=$(skopeo_timed "push to $side" --dest-tls-verify=false "${dcreds[@]}" "oci:$T/layout:bench" "docker://$host/$repo:bench")
        c1=$(cpu_ticks $pid) s1=$(statements)
        out=$T/skopeo/pull-$side-$rep
        pull=$(skopeo_timed "pull from $side" --src-tls-verify=false "${screds[@]}" "docker://$host/$repo:bench" "oci:$out:bench")
        c2=$(cpu_ticks $pid) s2=$(statements)
        for f in "$T"/layout/blobs/sha256/*; do
            [[ -f $out/blobs/sha256/$(basename "$f") ]] || fail "pull from $side is missing blob $(basename "$f")"
        done
        rm -rf "$out"
        if [[ $side == berth ]]; then
            echo $((s1 - s0 - 1)) >>"$T/pushsql-$side"
            echo $((s2 - s1 - 1)) >>"$T/pullsql-$side"
        fi
        echo "$push" >>"$T/push-$side"
        echo "$pull" >>"$T/pull-$side"
        awk -v t=$((c1 - c0)) -v hz="$CLK_TCK" -v d="$push" 'BEGIN { printf "%.2f\n", t / hz / d }' >>"$T/pushcpu-$side"
        awk -v t=$((c2 - c1)) -v hz="$CLK_TCK" -v d="$pull" 'BEGIN { printf "%.2f\n", t / hz / d }' >>"$T/pullcpu-$side"
        # Server CPU-seconds per pulled GiB (the layout is 200 MiB).
        awk -v t=$((c2 - c1)) -v hz="$CLK_TCK" 'BEGIN { printf "%.3f\n", t / hz / (200 / 1024) }' >>"$T/pullgib-$side"
        log "rep $rep $side: push ${push}s, pull ${pull}s"
    done
    order=("${order[1]}" "${order[0]}") # alternate who goes first
done
SK_M1=$(machine_busy_ticks) SK_B1=$(cpu_ticks $BPIDS) SK_D1=$(cpu_ticks "$DPID") SK_T1=$EPOCHREALTIME
# CPU used by anything but the two servers and skopeo during (c) (includes this script's own cleanup: ~0.05).
put skopeo_other "$(awk -v m=$((SK_M1 - SK_M0)) -v s=$((SK_B1 - SK_B0 + SK_D1 - SK_D0)) -v hz="$CLK_TCK" \
    -v t0="$SK_T0" -v t1="$SK_T1" '{ c += $1 + $2 } END { o = (m - s) / hz - c; if (o < 0) o = 0; printf "%.2f", o / (t1 - t0) }' "$T/skopeo-cpu")"
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for side in berth dist; do
    put "push_$side" "$(median "$T/push-$side")"
    put "pull_$side" "$(median "$T/pull-$side")"
    put "push_${side}_all" "$(paste -sd' ' "$T/push-$side")"
    put "pull_${side}_all" "$(paste -sd' ' "$T/pull-$side")"
    put "push_${side}_cpu" "$(median "$T/pushcpu-$side")"
    put "pull_${side}_cpu" "$(median "$T/pullcpu-$side")"
    put "pull_${side}_cpu_per_gib" "$(median "$T/pullgib-$side")"
done
put push_berth_statements "$(median "$T/pushsql-berth")"
put pull_berth_statements "$(median "$T/pullsql-berth")"
max_kib() { # the largest of a status field over the PIDs given
    local key=$1 pid max=0 v
    shift
    for pid in "$@"; do v=$(status_kib "$pid" "$key"); ((v > max)) && max=$v; done
    echo "$max"
}

# ----------------------------------------------------------------------------------------- (d) memory
put peak_rss_berth "$(max_kib VmHWM $BPIDS)"
put peak_rss_dist "$(status_kib "$DPID" VmHWM)"
for pid in "${PIDS[@]}"; do kill -0 "$pid" || fail "a server died during the run"; done

# ------------------------------------------------------------------------- (e) a 2 GiB layer, streamed
# The issue's bound: pushing or pulling a 2 GB layer keeps Berth's RSS under 100 MB. Reset Berth's peak
# RSS (writing 5 to clear_refs), stream a 2 GiB blob in with curl and back out, then read the new peak.
log "(e) pushing and pulling a 2 GiB blob through Berth"
head -c $((2048 * 1024 * 1024)) /dev/zero >"$T/big.bin"
BIG_DIGEST=sha256:$(sha256sum "$T/big.bin" | cut -d' ' -f1)
BIG_TOK=$(token "repository:library/big:pull,push")
for pid in $BPIDS; do echo 5 >"/proc/$pid/clear_refs"; done
big_start=$(date +%s.%N)
curl -sS -f -X POST -T "$T/big.bin" -H "Authorization: Bearer $BIG_TOK" -H "Content-Type: application/octet-stream" \
    "$B/v2/library/big/blobs/uploads?digest=$BIG_DIGEST" -o /dev/null || fail "the 2 GiB push failed"
big_mid=$(date +%s.%N)
got=$(curl -sS -f -H "Authorization: Bearer $BIG_TOK" "$B/v2/library/big/blobs/$BIG_DIGEST" | sha256sum | cut -d' ' -f1)
big_end=$(date +%s.%N)
[[ sha256:$got == "$BIG_DIGEST" ]] || fail "Berth served the wrong bytes for the 2 GiB blob"
rm -f "$T/big.bin"
put big_rss_berth "$(max_kib VmHWM $BPIDS)"
put big_push_s "$(awk -v a="$big_start" -v b="$big_mid" 'BEGIN { printf "%.2f", b - a }')"
put big_pull_s "$(awk -v a="$big_mid" -v b="$big_end" 'BEGIN { printf "%.2f", b - a }')"

BUSY_END=$(busy_pct)
echo
echo "load:     ${BUSY_END}% of the CPU busy after the run with both servers idle (it was ${BUSY}% before)"
((BUSY_END <= 10)) || echo "WARNING:  other processes were using the CPU during the run; the figures are skewed by them"
echo
$HELPER report --results "$RESULTS" --duration "$DURATION" --reps "$REPS" --nodes "$NODES"

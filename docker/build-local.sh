#!/usr/bin/env bash
# Packs a static Berth binary built outside into the runtime image (docker/Dockerfile.local: COPY only, so no
# build step has to run a container).
#   docker/build-local.sh BINARY TAG [OCI_DIR]
# BINARY: a static x86_64-unknown-linux-musl build, e.g.
#   cargo build --release --locked -p berth --target x86_64-unknown-linux-musl   (after scripts/build-console.sh)
# With docker, `docker build`; otherwise buildah in chroot isolation with its own storage under
# $BUILDAH_DIR (default ~/.cache/berth-buildah), and with OCI_DIR the image is also written there as an OCI
# layout (`oci:OCI_DIR:TAG`), which skopeo can push to any registry, Berth included.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ $# -lt 2 ]; then
  echo "usage: $0 BINARY TAG [OCI_DIR]" >&2
  exit 2
fi
binary=$1 tag=$2 oci=${3:-}
if ! file -b "$binary" | grep -Eq 'statically linked|static-pie linked'; then
  echo "build-local: $binary is not a static binary (build it for x86_64-unknown-linux-musl)" >&2
  exit 1
fi
context=$(mktemp -d -t berth-image.XXXXXX)
trap 'rm -rf "$context"' EXIT
cp "$binary" "$context/berth"
chmod 0755 "$context/berth"
cp -a "$here/rootfs" "$context/rootfs"
if [ -z "${BERTH_USE_BUILDAH:-}" ] && command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  docker build -f "$here/Dockerfile.local" -t "$tag" "$context"
  exit 0
fi
store="${BUILDAH_DIR:-$HOME/.cache/berth-buildah}"
buildah=(buildah --root "$store/root" --runroot "$store/run" --storage-driver vfs)
# --format docker keeps the HEALTHCHECK, which the OCI image format has no field for.
"${buildah[@]}" bud --isolation chroot --format docker -t "$tag" -f "$here/Dockerfile.local" "$context"
if [ -n "$oci" ]; then
  "${buildah[@]}" push "$tag" "oci:$oci:${tag##*:}"
fi

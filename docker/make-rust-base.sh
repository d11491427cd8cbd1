#!/usr/bin/env bash
# Makes a local stand-in for the Dockerfile's build image (rust:1.95-trixie from Docker Hub) where Docker Hub
# cannot be reached but Debian's mirror and static.rust-lang.org can: Debian trixie by debootstrap, with gcc,
# curl, git and Rust 1.95.0 installed by rustup in the official image's places (/usr/local/cargo, /usr/local/rustup).
# The host's extra CA certificates (/usr/local/share/ca-certificates, e.g. a TLS-inspecting proxy's) are
# trusted in the image too, so the build's downloads (crates, npm, rustup targets) pass the same proxy.
#
#   docker/make-rust-base.sh [IMAGE]        # default localhost/rust:1.95-trixie; needs root, debootstrap, podman
#   buildah bud --isolation chroot --ignorefile docker/Dockerfile.dockerignore \
#     --build-arg RUST_IMAGE=localhost/rust:1.95-trixie -f docker/Dockerfile -t berth:dev .
set -euo pipefail

IMAGE=${1:-localhost/rust:1.95-trixie}
RUST_VERSION=1.95.0
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

for tool in debootstrap podman; do
  command -v "$tool" >/dev/null || { echo "make-rust-base: $tool is needed (apt-get install $tool)" >&2; exit 1; }
done
ROOT=$(mktemp -d /tmp/rust-base.XXXXXX)
trap 'umount "$ROOT/proc" 2>/dev/null || true; rm -rf --one-file-system "$ROOT"' EXIT

debootstrap --variant=minbase --include=ca-certificates,curl,gcc,libc6-dev,make,git trixie "$ROOT" "$MIRROR"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/" 2>/dev/null || true
mount -t proc proc "$ROOT/proc"
chroot "$ROOT" /bin/sh -euc "
  update-ca-certificates >/dev/null
  export RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo
  curl -sSf -o /tmp/rustup-init https://static.rust-lang.org/rustup/dist/x86_64-unknown-linux-gnu/rustup-init
  chmod +x /tmp/rustup-init
  /tmp/rustup-init -y --no-modify-path --profile minimal --default-toolchain $RUST_VERSION
  rm /tmp/rustup-init
  chmod -R a+w \$RUSTUP_HOME \$CARGO_HOME
  apt-get clean
"
umount "$ROOT/proc"
tar -C "$ROOT" -c . | podman import \
  --change 'ENV RUSTUP_HOME=/usr/local/rustup' \
  --change 'ENV CARGO_HOME=/usr/local/cargo' \
  --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  - "$IMAGE"
echo "make-rust-base: $IMAGE is ready" >&2

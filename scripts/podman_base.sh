#!/usr/bin/env bash
# Sets up what the image test (integration_tests/test_docker_image.py) needs on a machine with no Docker engine and
# no reachable image registry: podman (Debian's packages) and a local stand-in for Airbyte's python-connector-base,
# `localhost/python-base`, built with debootstrap from Debian's own mirror and imported into podman.
# Idempotent and cached: nothing is installed or rebuilt when it is already there; the rootfs tarball is kept in
# $SOURCE_JIRA_CACHE (default ~/.cache/source-jira) so a lost podman store is refilled in seconds.
# The stand-in mimics Airbyte's base where the Dockerfile relies on it: Debian bookworm's Python 3.11 as `python`,
# pip usable as root (installs go to /usr/local), a user `airbyte` with uid 1000, and /airbyte owned by it.
set -euo pipefail
IMAGE=${SOURCE_JIRA_BASE_IMAGE:-localhost/python-base}
CACHE=${SOURCE_JIRA_CACHE:-$HOME/.cache/source-jira}
SUITE=${SOURCE_JIRA_BASE_SUITE:-bookworm}
TARBALL="$CACHE/python-base-$SUITE.tar"

if [ "$(id -u)" -ne 0 ]; then
  echo "podman_base.sh: must run as root (rootful podman, debootstrap)" >&2
  exit 1
fi

need=()
for tool in podman runc debootstrap; do
  command -v "$tool" >/dev/null 2>&1 || need+=("$tool")
done
if [ "${#need[@]}" -gt 0 ]; then
  echo "== installing ${need[*]} (podman runc debootstrap)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends podman runc debootstrap ca-certificates >/dev/null
fi

if podman --runtime runc image exists "$IMAGE"; then
  echo "== base image $IMAGE already present"
  exit 0
fi

if [ ! -s "$TARBALL" ]; then
  echo "== building the base rootfs with debootstrap ($SUITE, minbase + python3)"
  mkdir -p "$CACHE"
  work=$(mktemp -d "$CACHE/rootfs.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,python-is-python3,ca-certificates \
    "$SUITE" "$work/rootfs" >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  # Like Airbyte's base: pip may install as root (no PEP 668 marker), user airbyte (uid 1000), /airbyte, UTC.
  rm -f "$work"/rootfs/usr/lib/python3*/EXTERNALLY-MANAGED
  chroot "$work/rootfs" useradd --uid 1000 --user-group --no-create-home --shell /usr/sbin/nologin airbyte
  mkdir -p "$work/rootfs/airbyte" && chroot "$work/rootfs" chown airbyte:airbyte /airbyte
  ln -snf /usr/share/zoneinfo/Etc/UTC "$work/rootfs/etc/localtime"
  rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
  tar -C "$work/rootfs" -cf "$TARBALL.tmp" .
  mv "$TARBALL.tmp" "$TARBALL"
fi

echo "== importing $TARBALL as $IMAGE"
podman --runtime runc import --quiet "$TARBALL" "$IMAGE" >/dev/null
podman --runtime runc image exists "$IMAGE"
echo "== base image $IMAGE ready"

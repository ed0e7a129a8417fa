#!/usr/bin/env bash
# npm run test:container [-- trixie|bookworm]: the container smoke run. Builds (or takes from the CI
# cache) the root filesystem of that Debian release (default trixie, Debian 13; .ci/run runs both),
# boots it and runs scripts/container/smoke.sh inside, on a clean copy of the repository's HEAD.
# Needs root and the packages of scripts/setup.sh --tests.
set -euo pipefail
cd "$(dirname "$0")"
tarball=$(./rootfs.sh "$@")
case "$(basename "$tarball")" in
  rootfs-trixie-*) label="Debian 13 trixie" ;;
  rootfs-bookworm-*) label="Debian 12 bookworm" ;;
  *) label=$(basename "$tarball" .tar.zst) ;;
esac
# Exim's build goes through ccache, kept per release between runs (the same source and settings
# give the same objects; scripts/setup.sh installs ccache in the container when asked).
release=$(basename "$tarball" | cut -d- -f2)
export LABCTL_CONTAINER_CCACHE=${LABCTL_CONTAINER_CCACHE:-${LABCTL_CI_CACHE:-/var/cache/labctl-ci}/ccache-$release}
# Every line, the container's own output included, names the release it booted.
./run.sh "$tarball" -- bash scripts/container/smoke.sh 2>&1 | sed -u "s/^/[$label] /"

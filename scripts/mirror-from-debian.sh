#!/usr/bin/env bash
# Lays out an offline copy of the official Exim download tree from Debian's archive:
#   DIR/exim4/exim-<v>.tar.xz, DIR/exim4/exim-<v>.tar.xz.asc, DIR/Exim-Maintainers-Keyring.asc
# A thin wrapper over `labctl mirror DIR` (src/source/mirror-copy.ts), kept for machines that are
# prepared offline by script. Prints DIR/exim4. Then: labctl install --mirror DIR/exim4
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
exec node "$(dirname "$0")/../bin/labctl" mirror "$1"

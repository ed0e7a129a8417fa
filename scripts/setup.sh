#!/usr/bin/env bash
# Prepares a fresh Debian/Ubuntu machine for labctl and its tests: the apt packages listed in
# scripts/apt-packages.txt (build tools and libraries for Exim, BIND, swaks, OpenSSL, Chromium for
# the report test), then labctl's npm dependencies and its build. Run as root from the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2046
apt-get install -y -q --no-install-recommends $(grep -v '^\s*#' scripts/apt-packages.txt | sort -u)
npm ci --no-audit --no-fund
npm run build

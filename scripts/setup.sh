#!/usr/bin/env bash
# Prepares a fresh Debian/Ubuntu machine for labctl. Run as root from the repository:
#   scripts/setup.sh           Node.js 20, the apt packages labctl uses (scripts/apt-packages.txt),
#                              npm ci and the build: the README's first command;
#   scripts/setup.sh --tests   the same plus what the test suite and CI use
#                              (scripts/apt-packages-tests.txt: Chromium for the report test,
#                              debootstrap, zstd and systemd-nspawn for the container smoke run).
# Node.js 20: where node is missing or older (Debian 12's own nodejs is 18), it installs Debian's
# nodejs and npm, then the npm registry's package node@20, which ships the Node 20 binary as
# /usr/local/bin/node; root's PATH (and sudo's) has /usr/local/bin before /usr/bin.
set -euo pipefail
cd "$(dirname "$0")/.."
lists=(scripts/apt-packages.txt)
case "${1:-}" in
  '') ;;
  --tests) lists+=(scripts/apt-packages-tests.txt) ;;
  *) echo "usage: $0 [--tests]" >&2; exit 2 ;;
esac
[ "$(id -u)" -eq 0 ] || { echo "setup.sh: run as root (apt-get, npm install -g)" >&2; exit 2; }
export DEBIAN_FRONTEND=noninteractive

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
packages=$(grep -hv '^\s*\(#\|$\)' "${lists[@]}" | sort -u)
# LABCTL_CCACHE=1 (the container smoke, CI): labctl install builds Exim through ccache (src/system/ccache.ts).
[ "${LABCTL_CCACHE:-}" != 1 ] || packages+=" ccache"
if [ "$(node_major)" -lt 20 ]; then
  command -v node >/dev/null || packages+=" nodejs"
  command -v npm >/dev/null || packages+=" npm"
fi

# On a machine that already has everything, each part below is skipped, so the README's first
# command costs about a second before labctl install starts.
# shellcheck disable=SC2086
if dpkg-query -W -f '${db:Status-Abbrev}\n' $packages 2>/dev/null | grep -qv '^ii' || ! dpkg-query -W $packages >/dev/null 2>&1; then
  # The lab runs its own named, unbound and nginx inside its namespaces: the machine's own services
  # that these packages bring along must not run, now or after a reboot. Where a package was not
  # installed before, apt-get installs it with a policy-rc.d that refuses every start (unless the
  # machine has its own), and its service is then disabled (and stopped, under systemd). A service
  # whose package was already installed is left as the user had it.
  services=""
  for pair in named:bind9 unbound:unbound nginx:nginx-common; do
    dpkg-query -W -f '${db:Status-Abbrev}' "${pair#*:}" 2>/dev/null | grep -q '^ii' || services+=" ${pair%%:*}"
  done
  policy=""
  if [ -n "$services" ] && [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    trap 'rm -f "$policy"' EXIT
    printf '#!/bin/sh\n# scripts/setup.sh: start no service while it installs labctl'"'"'s packages\nexit 101\n' >"$policy"
    chmod 755 "$policy"
  fi
  apt-get update -q
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $packages
  [ -z "$policy" ] || { rm -f "$policy"; trap - EXIT; }
  if [ -n "$services" ]; then
    # Offline (no systemd running) systemctl disable removes the unit's links all the same.
    # shellcheck disable=SC2086
    if [ -d /run/systemd/system ]; then systemctl disable --now -q $services; else systemctl disable -q $services; fi
    echo "setup.sh: disabled$services (labctl lab runs its own inside its namespaces)"
  fi
else
  echo "setup.sh: apt packages already installed"
fi

if [ "$(node_major)" -lt 20 ]; then
  echo "setup.sh: node $(node --version) is older than 20: npm install -g node@20"
  npm install -g --no-audit --no-fund node@20
  hash -r
  if [ "$(node_major)" -lt 20 ]; then
    echo "setup.sh: node is still $(node --version) at $(command -v node): put /usr/local/bin before /usr/bin in PATH" >&2
    exit 1
  fi
fi
echo "setup.sh: node $(node --version), npm $(npm --version)"
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.labctl-lock.sha256 2>/dev/null)" = "$lock_sum" ]; then
  echo "setup.sh: node_modules matches package-lock.json"
else
  npm ci --no-audit --no-fund
  echo "$lock_sum" >node_modules/.labctl-lock.sha256
fi
# dist/source/release-check.js is what every build writes last (scripts/bundle.mjs, after tsc).
if [ -f dist/source/release-check.js ] && [ -z "$(find src tsconfig.json package.json package-lock.json scripts/bundle.mjs -newer dist/source/release-check.js -print -quit)" ]; then
  echo "setup.sh: dist/ is up to date"
else
  npm run build
fi

#!/usr/bin/env bash
# Builds the container smoke run's root filesystem: a minimal Debian with systemd, of the release
# given (rootfs.sh [trixie|bookworm], default LABCTL_DEBIAN or trixie: Debian 13, the current
# stable; bookworm is Debian 12), from the machine's own Debian archive
# (scripts/container/apt-sources.sh; for another release than the machine's, the same archive URI
# with that release's suite names), packed as a zstd tarball in the CI cache. Prints the tarball's
# path. Each release has its own cache key: the hash of this script, apt-sources.sh and the derived
# archive entries, so a change to any of them builds a new one; a cache hit costs nothing. Needs
# root, debootstrap and zstd.
#   LABCTL_CI_CACHE   cache directory (default /var/cache/labctl-ci)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${LABCTL_CI_CACHE:-/var/cache/labctl-ci}
suite=${1:-${LABCTL_DEBIAN:-trixie}}
case "$suite" in
  trixie|bookworm) ;;
  *) echo "rootfs.sh: unknown Debian release '$suite': trixie (13) or bookworm (12)" >&2; exit 2 ;;
esac

[ "$(id -u)" -eq 0 ] || { echo "rootfs.sh: run as root (debootstrap)" >&2; exit 2; }
for tool in debootstrap zstd; do
  command -v "$tool" >/dev/null || { echo "rootfs.sh: $tool is missing (apt-get install $tool; scripts/setup.sh --tests installs it)" >&2; exit 2; }
done

# The archive entries for this release, "URI SUITE" for the release, -updates and -security: the
# machine's own, or, for another release, the machine's entries with the suite renamed (the same
# archive serves every release).
all=$("$here/apt-sources.sh")
entries=$(echo "$all" | awk -v s="$suite" '$2 == s || $2 == s "-updates" || $2 == s "-security"')
if [ -z "$entries" ]; then
  own=$(echo "$all" | awk '$2 !~ /-/ { print $2; exit }')
  entries=$(echo "$all" | awk -v o="$own" -v s="$suite" '$2 == o || $2 == o "-updates" || $2 == o "-security" { sub("^" o, s, $2); print $1, $2 }')
fi
mirror=$(echo "$entries" | awk -v s="$suite" '$2 == s { print $1; exit }')
[ -n "$mirror" ] || { echo "rootfs.sh: no '$suite' entry in this machine's apt sources" >&2; exit 1; }

key=$( { cat "$here/rootfs.sh" "$here/apt-sources.sh"; echo "$entries"; } | sha256sum | cut -c1-16)
tarball="$cache/rootfs-$suite-$key.tar.zst"
mkdir -p "$cache"
exec 9>"$cache/rootfs.lock"
flock 9   # two runs at once build it once
if [ -s "$tarball" ]; then echo "$tarball"; exit 0; fi

work=$(mktemp -d "$cache/rootfs-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root="$work/root"
echo "rootfs.sh: debootstrap $suite (minbase + systemd) from $mirror" >&2
start=$SECONDS
debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,ca-certificates \
  "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }

# The sources a fresh installation has: the release, its updates and security, main only.
echo "$entries" | awk '{ print "deb", $1, $2, "main" }' >"$root/etc/apt/sources.list"
# Every boot gets a new machine id (systemd fills an empty file); no host name of the build machine.
: >"$root/etc/machine-id"
echo labctl-smoke >"$root/etc/hostname"
# What Debian's installer writes and debootstrap does not: without "localhost" here, Exim's
# relay_from_hosts = localhost defers every MAIL ("DNS lookup of localhost deferred").
cat >"$root/etc/hosts" <<EOF
127.0.0.1	localhost
127.0.1.1	labctl-smoke
::1	localhost ip6-localhost ip6-loopback
ff02::1	ip6-allnodes
ff02::2	ip6-allrouters
EOF
# Nothing from the build: package lists and downloaded packages are fetched again by apt-get update.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb

tar -C "$root" --numeric-owner --xattrs -cf - . | zstd -q -T0 -3 -o "$work/rootfs.tar.zst"
mv "$work/rootfs.tar.zst" "$tarball"
# Older keys are of no use any more.
find "$cache" -maxdepth 1 -name "rootfs-$suite-*.tar.zst" ! -name "$(basename "$tarball")" -delete
echo "rootfs.sh: built $(basename "$tarball") ($(du -h "$tarball" | cut -f1)) in $((SECONDS - start)) s" >&2
echo "$tarball"

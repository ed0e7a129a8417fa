#!/usr/bin/env bash
# Lays out an offline copy of the official Exim download tree from Debian's exim4 source
# package, which carries the upstream tarball, its upstream .asc and the maintainers' keyring
# unchanged:
#   DIR/exim4/exim-<v>.tar.xz, DIR/exim4/exim-<v>.tar.xz.asc, DIR/Exim-Maintainers-Keyring.asc
# Then: labctl install --mirror DIR/exim4
# When no deb-src entry is enabled, one is derived from the machine's own apt sources
# (deb822 .sources files or one-line .list files) into a private sources list used only here.
set -euo pipefail

usage() { echo "usage: $0 DIR" >&2; exit 2; }
[ $# -eq 1 ] || usage
out=$1
mkdir -p "$out/exim4"
out=$(cd "$out" && pwd)

work=$(mktemp -d)
chmod 755 "$work"   # apt downloads as _apt when it can
trap 'rm -rf "$work"' EXIT

apt_opts=()
if ! apt-get indextargets --format '$(CREATED_BY)' 2>/dev/null | grep -qx Sources; then
  # Derive deb-src lines from the enabled binary sources.
  srclist="$work/sources.list"
  : >"$srclist"
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # deb822 stanzas: turn "Types: deb" into "Types: deb-src", keep the rest.
    awk 'BEGIN{RS="";ORS="\n\n"} /(^|\n)Types:[^\n]*deb([ \n]|$)/ && !/Enabled: *no/ {
           gsub(/Types:[^\n]*/, "Types: deb-src"); print }' "$f" >>"$work/derived.sources"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" >>"$srclist"
  done
  mkdir -p "$work/sources.list.d" "$work/lists/partial"
  [ -s "$work/derived.sources" ] && mv "$work/derived.sources" "$work/sources.list.d/derived.sources"
  apt_opts=(-o "Dir::Etc::SourceList=$srclist" -o "Dir::Etc::SourceParts=$work/sources.list.d"
            -o "Dir::State::Lists=$work/lists")
  echo "mirror-from-debian: no deb-src entry enabled; derived one from the binary sources" >&2
  apt-get "${apt_opts[@]}" update -qq >&2
fi

cd "$work"
apt-get "${apt_opts[@]}" source --download-only -qq exim4 >&2

orig=$(ls exim4_*.orig.tar.xz | head -n 1)
[ -n "$orig" ] || { echo "mirror-from-debian: no exim4 orig tarball downloaded" >&2; exit 1; }
version=${orig#exim4_}; version=${version%.orig.tar.xz}
[ -f "$orig.asc" ] || { echo "mirror-from-debian: $orig.asc missing from the source package" >&2; exit 1; }
debtar=$(ls exim4_*.debian.tar.* | head -n 1)
tar -xf "$debtar" debian/upstream/signing-key.asc

cp "$orig" "$out/exim4/exim-$version.tar.xz"
cp "$orig.asc" "$out/exim4/exim-$version.tar.xz.asc"
cp debian/upstream/signing-key.asc "$out/Exim-Maintainers-Keyring.asc"
echo "mirror-from-debian: $out/exim4/exim-$version.tar.xz (+ .asc) and $out/Exim-Maintainers-Keyring.asc" >&2
echo "$out/exim4"

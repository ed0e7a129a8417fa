#!/usr/bin/env bash
# Benchmark for labctl install (issue: install). As root, after `npm run build`. Prints:
#   1. labctl install cold (download cached, nothing built) vs a raw `make -j<cores> && make install`
#      on a fresh copy of the same tree and Local/Makefile, as a ratio (goal <= 1.3);
#   2. the warm rerun (goal <= 2 s);
#   3. signature verification by labctl (OpenPGP.js) vs `gpg --verify` on the same files (goal <= 2);
#   4. the README's first command (`scripts/setup.sh && ./bin/labctl install --yes`, no source flags,
#      so it falls back to Debian's archive where exim.org cannot be reached) on a machine where
#      everything but the Exim download is installed: labctl's cache (tarballs, signatures and the
#      private apt lists), build tree and state are removed first; against the raw build of 1.
#      (goal <= 1.3).
# Usage: bench/install.sh MIRROR_DIR_OR_URL     (e.g. the exim4/ directory of `labctl mirror DIR`)
set -euo pipefail
cd "$(dirname "$0")/.."
mirror=${1:?usage: bench/install.sh MIRROR (the directory or URL holding exim-<v>.tar.xz)}
cores=$(nproc)
now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }

# Make sure the cache holds the download, so "cold" measures extract + build + install + start.
./bin/labctl install --mirror "$mirror" --yes --json >/dev/null

state=${LABCTL_STATE_DIR:-/var/lib/labctl}
build=${LABCTL_BUILD_DIR:-$state/build}
cache=${LABCTL_CACHE_DIR:-/var/cache/labctl}
tarball=$(ls "$cache"/exim-*.tar.* | grep -v '\.asc$' | head -n 1)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Builds take 20-40 s here and vary with whatever else the machine does, so cold and raw runs
# alternate, ROUNDS times each (default 3), and the medians are compared.
rounds=${ROUNDS:-3}
colds=(); raws=()
for _ in $(seq "$rounds"); do
  rm -f "$state/install.json"
  rm -rf "$build"/exim-*
  t=$(now); ./bin/labctl install --mirror "$mirror" --yes --json >/dev/null; colds+=("$(elapsed "$t")")

  # The raw build: a fresh copy of the same tree with labctl's Local/Makefile. As labctl does,
  # unlink the installed binary first: a running daemon makes it "Text file busy".
  src=$(ls -d "$build"/exim-*/ | head -n 1)
  rm -rf "$tmp/raw"; mkdir "$tmp/raw"
  tar -xf "$tarball" -C "$tmp/raw"
  raw_src=$(ls -d "$tmp"/raw/exim-*/)
  cp "$src/Local/Makefile" "$raw_src/Local/Makefile"
  t=$(now)
  (cd "$raw_src" && make -j"$cores" >/dev/null 2>&1 && rm -f /usr/exim/bin/exim-[0-9]*-[0-9]* && make install >/dev/null 2>&1) \
    || { echo "raw build failed in $raw_src" >&2; exit 1; }
  raws+=("$(elapsed "$t")")
done
cold=$(printf '%s\n' "${colds[@]}" | median)
raw=$(printf '%s\n' "${raws[@]}" | median)
# The raw install replaced labctl's binary: one more labctl run puts labctl's state back.
./bin/labctl install --mirror "$mirror" --yes --json >/dev/null
t=$(now); ./bin/labctl install --mirror "$mirror" --yes --json >/dev/null; warm=$(elapsed "$t")

# Signature: labctl's verifier (the same function install uses, one call in a fresh process, as
# in an install) vs gpg with the keyring imported; the median of 5 runs of each.
# The keys labctl trusts: the pinned ones it ships.
keyring=src/source/exim-maintainers.asc
sigms=$(for _ in 1 2 3 4 5; do node --input-type=module -e "
  import { verifySignature } from './dist/source/signature.js';
  import { trustedFingerprints } from './dist/source/pinned.js';
  import { readFileSync } from 'node:fs';
  const [data, sig, keys] = ['$tarball', '$tarball.asc', '$keyring'].map((f) => readFileSync(f));
  const t = performance.now();
  await verifySignature({ data, signatureArmored: sig.toString(), keyringArmored: keys.toString(), trusted: trustedFingerprints() });
  console.log((performance.now() - t).toFixed(1));"; done | median)
export GNUPGHOME="$tmp/gnupg"; mkdir -m 700 "$GNUPGHOME"
gpg -q --import "$keyring" 2>/dev/null
gpgms=$(for _ in 1 2 3 4 5; do t=$(now); gpg -q --verify "$tarball.asc" "$tarball" 2>/dev/null; echo "$(elapsed "$t") * 1000" | bc; done | median)

# 4. The README's first command, with the Exim download and the fallback.
rm -rf "$cache" "$build"/exim-* "$state/install.json"
firsts=()
for _ in $(seq "$rounds"); do
  rm -rf "$cache" "$build"/exim-* "$state/install.json"
  t=$(now); { scripts/setup.sh && ./bin/labctl install --yes; } >"$tmp/first.log" 2>&1 || { cat "$tmp/first.log" >&2; exit 1; }
  firsts+=("$(elapsed "$t")")
done
first=$(printf '%s\n' "${firsts[@]}" | median)
grep -E "exim.org cannot be reached|download source and signature" "$tmp/first.log" | sed 's/^/  /'

printf 'cold labctl install (cached download): %6.1f s  (median of %s: %s)\n' "$cold" "$rounds" "${colds[*]}"
printf 'raw make -j%s && make install:         %6.1f s  (median of %s: %s)\n' "$cores" "$raw" "$rounds" "${raws[*]}"
printf 'ratio cold/raw:                         %6.2f   (goal <= 1.3)\n' "$(echo "$cold / $raw" | bc -l)"
printf 'warm rerun:                             %6.2f s (goal <= 2)\n' "$warm"
printf "README's first command (download, fallback): %6.1f s  (median of %s: %s)\n" "$first" "$rounds" "${firsts[*]}"
printf 'ratio first command/raw:                %6.2f   (goal <= 1.3)\n' "$(echo "$first / $raw" | bc -l)"
printf 'signature (median of 5): labctl %s ms, gpg --verify %.1f ms, ratio %.2f (goal <= 2)\n' "$sigms" "$gpgms" "$(echo "$sigms / $gpgms" | bc -l)"

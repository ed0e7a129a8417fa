#!/usr/bin/env bash
# Benchmark for labctl install (issue: install). As root, after `npm run build`. Prints:
#   1. labctl install cold (download cached, nothing built) vs a raw `make -j<cores> && make install`
#      on a fresh copy of the same tree and Local/Makefile, as a ratio (goal <= 1.3);
#   2. the warm rerun from the mirror (goal <= 2 s);
#   3. signature verification by labctl (its first call in a fresh process, as in an install: the
#      pinned keys' table and node:crypto, OpenPGP.js where the table cannot decide) vs `gpgv` on
#      the same tarball, signature and pinned keys, each gpgv run right after a labctl run, as a
#      ratio (goal <= 1.5), with where labctl's time goes and what OpenPGP.js alone takes
#      (bench/signature.mjs). Like for like: gpgv's time is its whole run (its start, reading its
#      keyring, the check), so labctl's counts loading the check's modules, reading the keys and
#      the check; the check alone is printed beside it, not as the ratio;
#   4. the README's first command (`scripts/setup.sh && ./bin/labctl install --yes`, no source flags,
#      so it falls back to Debian's archive where exim.org cannot be reached) on a machine where
#      everything but the Exim download is installed: labctl's cache (tarballs, signatures and the
#      private apt lists), build tree and state are removed first; against the raw build of 1.
#      (goal <= 1.3);
#   5. startup: `labctl --version` and `labctl --help` vs `node -e 0`, as ratios (goal <= 2);
#   6. the warm `labctl install --yes` after 4 (nothing to do, the Debian listing kept from 4) vs
#      `labctl --version`: the difference (goal <= 0.5 s) and the ratio.
# Every ratio's two sides are measured in this run, in turns (bench/pair.mjs, bench/signature.mjs --gpgv). Short commands: medians of RUNS (default 11)
# after a warm-up (bench/median.mjs).
# Usage: bench/install.sh MIRROR_DIR_OR_URL     (e.g. the exim4/ directory of `labctl mirror DIR`)
#        BENCH_ONLY=ratios bench/install.sh     only 3, 5 and 6 (the startup, warm install and
#   signature ratios), on a machine where `labctl install --yes` has nothing to do: it builds
#   nothing and refuses to start otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
only=${BENCH_ONLY:-}
if [ "$only" = ratios ]; then mirror=${1:-}; else mirror=${1:?usage: bench/install.sh MIRROR (the directory or URL holding exim-<v>.tar.xz)}; fi
cores=$(nproc)
now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }

if [ "$only" = ratios ]; then
  # Nothing may be built: Exim must be installed, as install.json records it.
  state=${LABCTL_STATE_DIR:-/var/lib/labctl}
  recorded=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$state/install.json" 2>/dev/null || true)
  running=$(./bin/labctl service status 2>/dev/null | grep -c running || true)
  if [ -z "$recorded" ] || ! /usr/exim/bin/exim -bV 2>/dev/null | grep -q "^Exim version $recorded " || [ "$running" = 0 ]; then
    echo "BENCH_ONLY=ratios needs the Exim install.json records installed and running (labctl install --yes first)" >&2
    exit 1
  fi
  ./bin/labctl install --yes >/dev/null
else
  # Make sure the cache holds the download, so "cold" measures extract + build + install + start.
  ./bin/labctl install --mirror "$mirror" --yes --json >/dev/null
fi

state=${LABCTL_STATE_DIR:-/var/lib/labctl}
build=${LABCTL_BUILD_DIR:-$state/build}
cache=${LABCTL_CACHE_DIR:-/var/cache/labctl}
tarball=$(ls "$cache"/exim-*.tar.* | grep -v '\.asc$' | sort -V | tail -n 1)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Builds take 20-40 s here and vary with whatever else the machine does, so cold and raw runs
# alternate, ROUNDS times each (default 3), and the medians are compared.
rounds=${ROUNDS:-3}
if [ "$only" != ratios ]; then
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
fi

# Signature: labctl's check (the same functions install uses, src/source/release-keys.ts, their
# first call in a fresh process) vs gpgv with the same pinned keys as a keyring, each labctl run
# followed by a gpgv run so both see the same load; medians of 11. The mirror's keyring, as
# install reads it.
keyring=$cache/Exim-Maintainers-Keyring.asc
[ -f "$keyring" ] || keyring=src/source/exim-maintainers.asc
gpg --dearmor <"$keyring" >"$tmp/pinned.gpg"
sigruns=$(for _ in $(seq 11); do node bench/signature.mjs --gpgv "$tmp/pinned.gpg" "$tarball" "$keyring"; done)
pgpruns=$(for _ in $(seq 11); do node bench/signature.mjs --gpgv "$tmp/pinned.gpg" --openpgp "$tarball" "$keyring"; done)
field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" | median; }
sigpath=$(sed -n 's/.*"path":"\([^"]*\)".*/\1/p' <<<"$sigruns" | sort -u | paste -sd,)
sigms=$(field check <<<"$sigruns"); sigfirst=$(field first <<<"$sigruns"); sigload=$(field load <<<"$sigruns"); sigkeys=$(field keys <<<"$sigruns")
sig2ms=$(field second <<<"$sigruns"); hashms=$(field hash <<<"$sigruns"); sigcpu=$(field firstCpu <<<"$sigruns"); sig2cpu=$(field secondCpu <<<"$sigruns")
gpgvms=$(field gpgv <<<"$sigruns")
pgpms=$(field check <<<"$pgpruns"); pgpfirst=$(field first <<<"$pgpruns"); pgpload=$(field load <<<"$pgpruns"); pgpgpgv=$(field gpgv <<<"$pgpruns")

# 4. The README's first command, with the Exim download and the fallback.
if [ "$only" != ratios ]; then
rm -rf "$cache" "$build"/exim-* "$state/install.json"
firsts=()
for _ in $(seq "$rounds"); do
  rm -rf "$cache" "$build"/exim-* "$state/install.json"
  t=$(now); { scripts/setup.sh && ./bin/labctl install --yes; } >"$tmp/first.log" 2>&1 || { cat "$tmp/first.log" >&2; exit 1; }
  firsts+=("$(elapsed "$t")")
done
first=$(printf '%s\n' "${firsts[@]}" | median)
grep -E "exim.org cannot be reached|download source and signature" "$tmp/first.log" | sed 's/^/  /'
fi

# 6. The warm rerun of the README's command: the Debian listing is kept from 4, nothing to do.
./bin/labctl install --yes >"$tmp/warm.log" 2>&1 || { cat "$tmp/warm.log" >&2; exit 1; }
grep -E "download source and signature" "$tmp/warm.log" | sed 's/^/  /'
runs=${RUNS:-11}
# 5 and 6 in turns (node -e 0, --version, --help, the warm install), so each sees the same load.
read -r nodems versionms helpms warmdebms < <(node bench/pair.mjs "$runs" 'node -e 0' './bin/labctl --version' './bin/labctl --help' './bin/labctl install --yes' | paste -sd' ')

if [ "$only" != ratios ]; then
printf 'cold labctl install (cached download): %6.1f s  (median of %s: %s)\n' "$cold" "$rounds" "${colds[*]}"
printf 'raw make -j%s && make install:         %6.1f s  (median of %s: %s)\n' "$cores" "$raw" "$rounds" "${raws[*]}"
printf 'ratio cold/raw:                         %6.2f   (goal <= 1.3)\n' "$(echo "$cold / $raw" | bc -l)"
printf 'warm rerun:                             %6.2f s (goal <= 2)\n' "$warm"
printf "README's first command (download, fallback): %6.1f s  (median of %s: %s)\n" "$first" "$rounds" "${firsts[*]}"
printf 'ratio first command/raw:                %6.2f   (goal <= 1.3)\n' "$(echo "$first / $raw" | bc -l)"
fi
ratio() { echo "$1 / $2" | bc -l; }
# Like for like: gpgv's figure is its whole run (its start and keyring included), so labctl's is
# its first check with loading the check's modules and reading the keys (bench/signature.mjs "first").
printf 'signature of %s (median of 11): labctl %s ms (%s; loading its modules %s ms, the keys %s ms and the check), gpgv %s ms (its whole run): ratio %.2f (goal <= 1.5)\n' "$(basename "$tarball")" "$sigfirst" "$sigpath" "$sigload" "$sigkeys" "$gpgvms" "$(ratio "$sigfirst" "$gpgvms")"
printf '  the check alone, its modules loaded and the keys read (as later in an install): %s ms, %.2f x gpgv (not like for like: gpgv'"'"'s time includes its start); CPU of the first check %s ms\n' "$sigms" "$(ratio "$sigms" "$gpgvms")" "$sigcpu"
printf '  where it goes: the keys %s ms; a second check in the same process %s ms (CPU %s ms); SHA-256 of the tarball %s ms\n' "$sigkeys" "$sig2ms" "$sig2cpu" "$hashms"
printf '  OpenPGP.js alone (as before the pinned table): %s ms in all (loading it, the keys and the check) vs gpgv %s ms, ratio %.2f; the check alone %s ms\n' "$pgpfirst" "$pgpgpgv" "$(ratio "$pgpfirst" "$pgpgpgv")" "$pgpms"
printf 'startup (median of %s): node -e 0 %s ms, labctl --version %s ms (ratio %.2f), labctl --help %s ms (ratio %.2f) (goal <= 2)\n' \
  "$runs" "$nodems" "$versionms" "$(ratio "$versionms" "$nodems")" "$helpms" "$(ratio "$helpms" "$nodems")"
printf 'warm labctl install --yes (median of %s): %s ms vs labctl --version %s ms: +%.0f ms (goal <= +500 ms), ratio %.2f\n' \
  "$runs" "$warmdebms" "$versionms" "$(echo "$warmdebms - $versionms" | bc -l)" "$(ratio "$warmdebms" "$versionms")"

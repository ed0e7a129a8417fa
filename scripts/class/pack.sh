#!/usr/bin/env bash
# The labctl release the class playbook copies to every student machine: `npm pack` of a commit
# of the repository (HEAD unless REF is given; git archive: nothing uncommitted) with dist/ built,
# without the tests, and with its lock: package-lock.json becomes npm-shrinkwrap.json, which npm pack
# keeps and `npm install -g` of the tarball obeys, so every class machine gets the exact versions
# and integrity hashes CI tested (package-lock.json itself is never packed).
# Prints one JSON line: {"tarball": PATH, "changed": true|false}. The tarball is replaced only when
# its bytes differ (npm pack gives every entry the same date), so a rerun of ansible/site.yml
# copies nothing and reports changed=0.
#   scripts/class/pack.sh [OUT_DIR [REF]]     default: build/class in the repository, HEAD
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$repo/build/class}
ref=${2:-HEAD}
git -C "$repo" rev-parse --verify --quiet "$ref^{commit}" >/dev/null || { echo "pack.sh: $ref is not a commit of $repo" >&2; exit 2; }
mkdir -p "$out"
[ -d "$repo/node_modules/typescript" ] && [ -d "$repo/node_modules/esbuild" ] || { echo "pack.sh: run npm ci (or scripts/setup.sh) first: the release is built with tsc and esbuild (npm run build)" >&2; exit 2; }
stage=$(mktemp -d "$out/stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
git -C "$repo" archive --format=tar "$ref" | tar -C "$stage" -xf -
ln -s "$repo/node_modules" "$stage/node_modules"
# The same build as `npm run build` (tsc, then the signature check bundled by scripts/bundle.mjs),
# here on the controller: student machines install the built dist/ and run neither.
(cd "$stage" && node_modules/.bin/tsc -p tsconfig.json && node scripts/bundle.mjs) >&2
rm "$stage/node_modules"
# What a machine that runs labctl needs: dist, templates, scripts, package files, README, and the
# data files labctl reads from src/ (the maintainers' keyring, the advisories).
[ -s "$stage/package-lock.json" ] || { echo "pack.sh: $ref has no package-lock.json: the release would install unpinned dependencies" >&2; exit 1; }
mv "$stage/package-lock.json" "$stage/npm-shrinkwrap.json"
cat >"$stage/.npmignore" <<'IGNORE'
/test/
/bench/
/.ci/
/src/**/*.ts
/fixtures/
/ansible/
*.map
*.tsbuildinfo
IGNORE
name=$(cd "$stage" && npm pack --silent --pack-destination "$stage" 2>/dev/null | tail -n 1)
[ -s "$stage/$name" ] || { echo "pack.sh: npm pack made nothing" >&2; exit 1; }
tar -tzf "$stage/$name" | grep -x 'package/npm-shrinkwrap.json' >/dev/null || { echo "pack.sh: npm pack left npm-shrinkwrap.json out" >&2; exit 1; }
target="$out/labctl.tgz"
changed=false
if ! cmp -s "$stage/$name" "$target"; then
  mv "$stage/$name" "$target"
  changed=true
fi
printf '{"tarball": "%s", "changed": %s}\n' "$target" "$changed"

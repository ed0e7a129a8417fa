# shellcheck shell=bash
# Sourced by scripts/container/smoke.sh (see README.md here): the signature's second opinion on a
# fresh Debian. The README's install ran gpgv (Debian's, present on every install) with the same
# pinned keys beside OpenPGP.js; its transcript is the 1c evidence (the write-up's gpg --verify),
# and the report shows it.
sig=/var/lib/labctl/evidence/install/1c-signature/latest.json
[ -f "$sig" ] || fail "no 1c-signature evidence after the install ($sig)"
node - "$sig" <<'NODE' || fail "the 1c evidence has no agreeing gpgv transcript"
const rec = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
const g = (rec.evidence || []).find((e) => e.kind === 'command' && /^gpgv/.test(e.label || ''));
const fpr = /([0-9A-F]{40})/.exec(rec.summary || '')?.[1];
const ok = g && g.exitCode === 0 && /gpgv: Good signature from/.test(g.text) && fpr && g.text.includes(`VALIDSIG ${fpr}`) && /gpgv agrees/.test(rec.summary);
console.log(`  1c: ${rec.summary}`);
if (g) console.log(g.text.split('\n').filter((l) => /Good signature|VALIDSIG/.test(l)).map((l) => `  ${l}`).join('\n'));
process.exit(ok ? 0 : 1);
NODE
labctl report --out "$work/report-gpgv.md" --no-html >/dev/null 2>&1 || fail "labctl report exited non-zero"
grep -q 'gpgv: Good signature from' "$work/report-gpgv.md" || fail "the report does not show gpgv's transcript under 1c"
ok "gpgv, the second opinion: Good signature with the pinned key, recorded as 1c's evidence and shown in the report"

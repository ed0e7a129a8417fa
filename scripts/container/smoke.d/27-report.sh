# The report after the README's install, configure and verify on this fresh Debian: nothing of
# Task 1, nor of Task 2's single-host items, is listed as missing (only the lab's topology and the
# backup drill, which need `labctl lab up`), the summary asks to run none of install, configure and
# verify again, and 1a shows what the pre-flight looked at (MTA packages, /usr/sbin/sendmail,
# port 25), though it found nothing to do.
labctl report --out "$work/report.md" --no-html >"$work/report.log" 2>&1 || { cat "$work/report.log"; fail "labctl report exited non-zero"; }
node - "$work/report.md" <<'EOF' || fail "the report lists install, configure or verify evidence as missing, or 1a lacks the pre-flight's findings"
const md = require('fs').readFileSync(process.argv[2], 'utf8');
const lines = md.split('\n');
const needsLab = new Set(['lab/topology', 'drill/backup-mx', 'drill/backup-mx-retry']);
let task = '';
let section = '';
const missing = [];
const oneA = [];
for (const l of lines) {
  if (/^## /.test(l)) task = l.slice(3);
  if (/^### /.test(l)) section = l.slice(4);
  const m = /^\*\*([a-zA-Z]+)\*\* · `([^`]+)`/.exec(l);
  if (m && m[1] === 'missing' && /^Task [12]:/.test(task) && !needsLab.has(m[2])) missing.push(`${task} / ${section}: ${m[2]}`);
  if (/^1a\. /.test(section)) oneA.push(l);
}
let bad = 0;
for (const x of missing) { console.log(`  missing: ${x}`); bad++; }
for (const cmd of ['labctl install', 'labctl configure', 'labctl verify']) {
  const asked = lines.filter((l) => l.includes(`run \`${cmd}`) || l.includes(`Run \`${cmd}`));
  for (const l of asked) { console.log(`  asks again: ${l}`); bad++; }
}
const a = oneA.join('\n');
const preflight = /^\*\*pass\*\* · `install\/1a-preflight`/m.test(a);
const findings = ['packages (exim4*', '/usr/sbin/sendmail: ', 'port 25: '].filter((f) => !a.includes(f));
if (!preflight) { console.log('  1a: no passing install/1a-preflight item'); bad++; }
if (findings.length) { console.log(`  1a: the pre-flight's findings lack ${findings.join(', ')}`); bad++; }
if (!bad) console.log(a.split('\n').filter((l) => /^(packages \(|\/usr\/sbin\/sendmail: |port 25: )/.test(l)).map((l) => `  1a: ${l}`).join('\n'));
process.exit(bad ? 1 : 0);
EOF
ok "labctl report: Task 1 and Task 2's single-host items all recorded, nothing asks to rerun install, configure or verify; 1a shows the pre-flight's findings"

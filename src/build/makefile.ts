import ejs from 'ejs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** One Local/Makefile setting the lab needs, with why (shown by --show-makefile). */
export interface MakeSetting {
  name: string;
  /** '=' or '+=' (LDFLAGS += -lspf2). */
  op: '=' | '+=';
  value: string;
  why: string;
}

export interface MakefileOptions {
  eximUser: string;
  binDirectory: string;
  configureFile: string;
  spf: boolean;
}

export const templatesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../templates');

/** The lab's settings (write-up 1d), in the order they are shown. */
export function labSettings(o: MakefileOptions): MakeSetting[] {
  const s: MakeSetting[] = [
    { name: 'BIN_DIRECTORY', op: '=', value: o.binDirectory, why: 'where make install puts exim and its utilities' },
    { name: 'CONFIGURE_FILE', op: '=', value: o.configureFile, why: 'the run time configuration file' },
    { name: 'EXIM_USER', op: '=', value: o.eximUser, why: 'the unprivileged user Exim runs as (looked up at build time)' },
    { name: 'USE_OPENSSL', op: '=', value: 'yes', why: 'TLS (STARTTLS and SMTPS, task 3) with OpenSSL' },
    { name: 'TLS_LIBS', op: '=', value: '-lssl -lcrypto', why: 'link OpenSSL' },
  ];
  if (o.spf) {
    s.push({ name: 'SUPPORT_SPF', op: '=', value: 'yes', why: 'the spf ACL condition (task 7), with libspf2' });
    s.push({ name: 'LDFLAGS', op: '+=', value: '-lspf2', why: 'link libspf2' });
  }
  return s;
}

const lineOf = (s: MakeSetting) => `${s.name}${s.op === '+=' ? ' += ' : '='}${s.value}`;

/**
 * Applies settings to EDITME's lines, in place where EDITME has the setting (active first, then
 * a commented-out example) so the surrounding documentation stays next to it; settings EDITME
 * does not mention are appended. Returns the new lines.
 */
export function applySettings(editme: string, settings: MakeSetting[]): string[] {
  const lines = editme.replace(/\n$/, '').split('\n');
  const appended: string[] = [];
  for (const s of settings) {
    const active = new RegExp(`^${s.name}\\s*${s.op === '+=' ? '\\+=' : '='}`);
    const commented = new RegExp(`^#\\s*${s.name}\\s*${s.op === '+=' ? '\\+=' : '='}\\s*${s.op === '+=' ? s.value.replace(/[-/\\^$*+?.()|[\]{}]/g, '\\$&') : ''}`);
    let i = lines.findIndex((l) => active.test(l));
    if (i < 0) i = lines.findIndex((l) => commented.test(l));
    if (i >= 0) lines[i] = lineOf(s);
    else appended.push(lineOf(s));
  }
  return appended.length ? [...lines, '', '# Added by labctl install', ...appended] : lines;
}

export async function renderMakefile(editme: string, version: string, o: MakefileOptions): Promise<string> {
  const settings = labSettings(o);
  return ejs.renderFile(path.join(templatesDir, 'Makefile.ejs'), {
    version,
    settings,
    lines: applySettings(editme, settings),
  });
}

/** A unified diff between two texts, enough for EDITME vs Local/Makefile (replaced and appended lines). */
export function unifiedDiff(before: string, after: string, fromName: string, toName: string, context = 2): string {
  const a = before.replace(/\n$/, '').split('\n');
  const b = after.replace(/\n$/, '').split('\n');
  // Longest common subsequence on lines; files are ~1200 lines, so the table is small enough.
  const n = a.length;
  const m = b.length;
  const lcs: Uint16Array[] = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  type Op = { t: ' ' | '-' | '+'; line: string; ai: number; bi: number };
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) ops.push({ t: ' ', line: a[i], ai: i++, bi: j++ });
    else if (i < n && (j >= m || lcs[i + 1][j] >= lcs[i][j + 1])) ops.push({ t: '-', line: a[i], ai: i++, bi: j });
    else ops.push({ t: '+', line: b[j], ai: i, bi: j++ });
  }
  const out = [`--- ${fromName}`, `+++ ${toName}`];
  let k = 0;
  while (k < ops.length) {
    if (ops[k].t === ' ') { k++; continue; }
    const start = Math.max(0, k - context);
    let end = k;
    while (end < ops.length) {
      if (ops[end].t !== ' ') { end++; continue; }
      let run = 0;
      while (end + run < ops.length && ops[end + run].t === ' ') run++;
      if (end + run >= ops.length || run > context * 2) { end = Math.min(ops.length, end + context); break; }
      end += run;
    }
    const hunk = ops.slice(start, end);
    const aCount = hunk.filter((o) => o.t !== '+').length;
    const bCount = hunk.filter((o) => o.t !== '-').length;
    out.push(`@@ -${hunk[0].ai + 1},${aCount} +${hunk[0].bi + 1},${bCount} @@`);
    for (const o of hunk) out.push(`${o.t}${o.line}`);
    k = end;
  }
  return out.join('\n') + '\n';
}

/** The effective settings as a short table (write-up 1d: "show the options you configured"). */
export function settingsTable(settings: MakeSetting[]): string {
  const w = Math.max(...settings.map((s) => s.name.length));
  const v = Math.max(...settings.map((s) => s.value.length + (s.op === '+=' ? 3 : 1)));
  return settings
    .map((s) => `${s.name.padEnd(w)} ${(s.op === '+=' ? '+= ' : '=') + s.value}`.padEnd(w + v + 2) + `  ${s.why}`)
    .join('\n');
}

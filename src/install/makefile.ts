import ejs from 'ejs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabError } from '../errors.js';
import { safePath, safeUserName } from '../safe-names.js';

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
  /** SUPPORT_DMARC with libopendmarc (it needs SPF and DKIM, so it brings SPF along). */
  dmarc?: boolean;
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
    // Authenticated submission (587, 465): AUTH PLAIN and LOGIN, checked with ${crypteq} against
    // labctl's password file. The only authenticator built: no SPA, CRAM-MD5 or EXTERNAL.
    { name: 'AUTH_PLAINTEXT', op: '=', value: 'yes', why: 'the plaintext authenticator: AUTH PLAIN and LOGIN for submission (587, 465), only inside TLS' },
  ];
  if (o.spf || o.dmarc) {
    s.push({ name: 'SUPPORT_SPF', op: '=', value: 'yes', why: 'the spf ACL condition (task 7), with libspf2' });
    s.push({ name: 'LDFLAGS', op: '+=', value: '-lspf2', why: 'link libspf2' });
  }
  if (o.dmarc) {
    s.push({ name: 'SUPPORT_DMARC', op: '=', value: 'yes', why: 'the dmarc_status ACL condition, with libopendmarc (needs SPF and DKIM)' });
    s.push({ name: 'LDFLAGS', op: '+=', value: '-lopendmarc', why: 'link libopendmarc' });
    // EDITME: "DMARC_API ... if you need to change the default"; Debian 12's libopendmarc is 1.4.2,
    // whose API plain 4.96 does not assume ("too few arguments to opendmarc_policy_store_dkim").
    s.push({ name: 'DMARC_API', op: '=', value: '100400', why: "libopendmarc's API version (Debian 12: 1.4.2)" });
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
    // A `+=` setting adds one value: only a line adding that same value is the same setting.
    const escaped = s.value.replace(/[-/\\^$*+?.()|[\]{}]/g, '\\$&');
    const active = new RegExp(`^${s.name}\\s*${s.op === '+=' ? `\\+=\\s*${escaped}\\s*$` : '='}`);
    const commented = new RegExp(`^#\\s*${s.name}\\s*${s.op === '+=' ? `\\+=\\s*${escaped}` : '='}`);
    let i = lines.findIndex((l) => active.test(l));
    if (i < 0) i = lines.findIndex((l) => commented.test(l));
    if (i >= 0) lines[i] = lineOf(s);
    else appended.push(lineOf(s));
  }
  return appended.length ? [...lines, '', '# Added by labctl install', ...appended] : lines;
}

export async function renderMakefile(editme: string, version: string, o: MakefileOptions): Promise<string> {
  safePath('BIN_DIRECTORY', o.binDirectory);
  safePath('CONFIGURE_FILE', o.configureFile);
  safeUserName('EXIM_USER', o.eximUser);
  if (!/^[\w.-]+$/.test(version)) throw new LabError(`version ${JSON.stringify(version)} is not a release number`);
  // A release whose EDITME knows no DMARC_API (4.96) assumes the libopendmarc API before 1.4, and
  // its DMARC code does not compile against Debian 12's 1.4.2 (Debian patches its own package).
  if (o.dmarc && !/^#?\s*DMARC_API\b/m.test(editme)) {
    throw new LabError(`Exim ${version} cannot be built with DMARC here: its src/EDITME has no DMARC_API setting, so its DMARC code expects the libopendmarc API before 1.4`, 'add --without dmarc (SPF stays built in), or install a newer release');
  }
  const settings = labSettings(o);
  return ejs.renderFile(path.join(templatesDir, 'Makefile.ejs'), {
    version,
    settings,
    lines: applySettings(editme, settings),
  });
}

/** The effective settings as a short table (write-up 1d: "show the options you configured"). */
export function settingsTable(settings: MakeSetting[]): string {
  const w = Math.max(...settings.map((s) => s.name.length));
  const v = Math.max(...settings.map((s) => s.value.length + (s.op === '+=' ? 3 : 1)));
  return settings
    .map((s) => `${s.name.padEnd(w)} ${(s.op === '+=' ? '+= ' : '=') + s.value}`.padEnd(w + v + 2) + `  ${s.why}`)
    .join('\n');
}

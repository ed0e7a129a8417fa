import { installedIn, packageQuery } from '../../system/apt.js';
import { MTA_PACKAGES } from '../../system/mta.js';
import { MTA_PACKAGE, SENDMAIL_LINKS } from '../../system/mta-package.js';
import { tcpConnect } from '../../system/net.js';
import { LABCTL_BUILD, advisories, advisoriesFor, buildMatches, fixingRelease, formatAdvisories, inAffectedRange, type BuildProfile, type TlsLibrary } from '../../source/advisories.js';
import { compareVersions } from '../../source/versions.js';
import { installStateFile, loadInstallState } from '../../state/install.js';
import { commandEvidence } from '../facts.js';
import type { CheckDef } from '../types.js';

/** Task 1: nothing else delivers mail, the source was signed, the build has what the lab needs. */

const readInstallRecord = (stateDir: string) => loadInstallState(stateDir).catch((err: Error) => ({ unreadable: err.message }) as const);

/**
 * Everything goes through the target's view: on a lab host, dpkg-query, readlink and ss run in
 * that host's namespaces, so the check judges the host under test, not the machine it runs on.
 */
export const noOtherMta: CheckDef = {
  id: '1a-no-other-mta',
  title: 'no other MTA is installed or listening on port 25',
  async run({ target, evidence }) {
    const { view } = target;
    const query = await view.run('dpkg-query', packageQuery(MTA_PACKAGES));
    const packages = installedIn(query.stdout);
    evidence.push({ kind: 'text', label: 'MTA packages installed', text: `${MTA_PACKAGES.join(', ')}: ${packages.join(', ') || 'none'}` });
    const resolved = await view.run('readlink', ['-f', target.eximBinary]);
    const ours = (resolved.exitCode === 0 && resolved.stdout.trim()) || target.eximBinary;
    const ss = await view.run('ss', ['-H', '-ltnp', `sport = :${target.smtpPort}`]);
    evidence.push(commandEvidence(`listeners on port ${target.smtpPort}`, ss));
    const foreign: string[] = [];
    for (const line of ss.stdout.split('\n').filter(Boolean)) {
      for (const m of line.matchAll(/\("([^"]+)",pid=(\d+)/g)) {
        const link = await view.run('readlink', [`/proc/${m[2]}/exe`]);
        const exe = link.exitCode === 0 ? link.stdout.trim() || undefined : undefined;
        if (exe !== ours && m[1] !== 'exim') foreign.push(`${m[1]} (pid ${m[2]}${exe ? `, ${exe}` : ''})`);
      }
    }
    if (packages.length || foreign.length) {
      return { status: 'fail', summary: [packages.length && `installed: ${packages.join(', ')}`, foreign.length && `listening on ${target.smtpPort}: ${foreign.join(', ')}`].filter(Boolean).join('; ') };
    }
    return { status: 'pass', summary: `no MTA package installed; port ${target.smtpPort}: ${ss.stdout.trim() ? 'only Exim listens' : 'nothing else listens'}` };
  },
};

/** The TLS library an `exim -bV` "Support for" line names. */
const tlsOf = (supportFor: string[]): TlsLibrary => (supportFor.includes('GnuTLS') ? 'gnutls' : supportFor.includes('OpenSSL') ? 'openssl' : 'none');

export const currentRelease: CheckDef = {
  id: '1b-current-release',
  title: 'the installed release has no known security advisories',
  async run({ evidence, facts }) {
    const v = await facts.version();
    if (v.raw.exitCode !== 0 || !v.version) {
      return { status: 'fail', summary: `exim -bV failed (exit ${v.raw.exitCode}), so the installed release is unknown: ${(v.raw.stderr || v.raw.stdout).split('\n')[0]}` };
    }
    const version = v.version;
    // The TLS library is read from the binary; libc is labctl's platform's (Debian: glibc).
    const build: BuildProfile = { ...LABCTL_BUILD, tls: tlsOf(v.supportFor) };
    const table = advisories();
    const newestFix = fixingRelease(table);
    const applying = advisoriesFor(version, build, table);
    const notThisBuild = table.filter((a) => inAffectedRange(a, version) && !buildMatches(a, build));
    evidence.push({
      kind: 'text',
      label: 'installed release (exim -bV)',
      text: [
        v.raw.stdout.split('\n')[0],
        `build: TLS ${build.tls}, libc ${build.libc} (Support for: ${v.supportFor.join(' ') || 'nothing listed'})`,
        `labctl's advisory table: ${table.length} advisories, newest fix ${newestFix ?? 'none'}; matched by version number, so backported fixes in a distribution's package do not show`,
      ].join('\n'),
    });
    if (notThisBuild.length) {
      evidence.push({ kind: 'text', label: 'advisories for this release that need another build (not counted)', text: formatAdvisories(notThisBuild).join('\n') });
    }
    if (!applying.length) {
      const beyond = newestFix && compareVersions(version, newestFix) > 0 ? `; ${version} is newer than every fix in the table (${newestFix})` : '';
      return { status: 'pass', summary: `Exim ${version}: none of the ${table.length} known advisories applies${beyond}` };
    }
    evidence.push({ kind: 'text', label: `advisories that apply to Exim ${version}`, text: formatAdvisories(applying).join('\n') });
    return {
      status: 'warn',
      summary: `Exim ${version} has ${applying.length} known ${applying.length === 1 ? 'advisory' : 'advisories'} (${applying.map((a) => a.id).join(', ')}); Exim ${fixingRelease(applying)} fixes ${applying.length === 1 ? 'it' : 'them all'}`,
    };
  },
};

export const signature: CheckDef = {
  id: '1c-signature',
  title: "the installed source's PGP signature was verified",
  async run({ target, evidence }) {
    const file = installStateFile(target.stateDir);
    const rec = await readInstallRecord(target.stateDir);
    if (!rec) return { status: 'warn', summary: `no install record at ${file}: Exim was not installed by labctl install, so its source signature is unknown` };
    if ('unreadable' in rec) return { status: 'fail', summary: `${file} is unreadable: ${rec.unreadable}` };
    const sig = rec.signature;
    evidence.push({ kind: 'data', label: `signature record (${file})`, data: sig ?? null });
    if (!sig || typeof sig !== 'object' || !sig.primaryFingerprint) {
      return { status: 'fail', summary: `${file} records no verified signature for Exim ${rec.version ?? '?'}` };
    }
    return {
      status: 'pass',
      summary: `Exim ${rec.version ?? '?'}: good signature by ${sig.signer ?? 'unknown signer'}, key ${sig.primaryFingerprint}, made ${sig.created ?? '?'}`,
    };
  },
};

/** Features a Local/Makefile setting asks for, and the word `exim -bV` lists under "Support for" when it is built in. */
const ASKED_FEATURES: { setting: string; feature: string }[] = [
  { setting: 'SUPPORT_SPF', feature: 'SPF' },
  { setting: 'SUPPORT_DMARC', feature: 'DMARC' },
];

/** Authenticators a Local/Makefile setting asks for, and the name `exim -bV` lists under "Authenticators". */
const ASKED_AUTHENTICATORS: { setting: string; authenticator: string }[] = [{ setting: 'AUTH_PLAINTEXT', authenticator: 'plaintext' }];

/**
 * What the build must support: TLS and DKIM always (the lab's tasks 3 and 7), plus each feature
 * and authenticator the recorded Local/Makefile settings asked for (labctl install builds SPF,
 * DMARC and the plaintext authenticator for submission unless told --without). Returns what is
 * missing and what was asked.
 */
export function judgeBuild(
  settings: { name: string; value: string }[],
  supportFor: string[],
  authenticators: string[] = [],
): { tls?: string; asked: string[]; missing: string[] } {
  const tls = supportFor.find((s) => s === 'OpenSSL' || s === 'GnuTLS');
  const isAsked = (setting: string) => settings.some((s) => s.name === setting && s.value === 'yes');
  const asked = ASKED_FEATURES.filter((f) => isAsked(f.setting)).map((f) => f.feature);
  const askedAuth = ASKED_AUTHENTICATORS.filter((a) => isAsked(a.setting)).map((a) => a.authenticator);
  const missing = [
    ...(tls ? [] : ['TLS (OpenSSL or GnuTLS)']),
    ...['DKIM', ...asked].filter((f) => !supportFor.includes(f)),
    ...askedAuth.filter((a) => !authenticators.includes(a)).map((a) => `the ${a} authenticator`),
  ];
  return { tls, asked: [...asked, ...askedAuth.map((a) => `the ${a} authenticator`)], missing };
}

export const buildOptions: CheckDef = {
  id: '1d-build-options',
  title: 'the build has TLS, DKIM and what labctl install asked for (exim -bV "Support for")',
  async run({ target, evidence, facts }) {
    const v = await facts.version();
    const rec = await readInstallRecord(target.stateDir);
    const settings = rec && !('unreadable' in rec) ? (rec.settings ?? []) : [];
    if (settings.length) {
      evidence.push({ kind: 'text', label: 'Local/Makefile settings (install.json)', text: settings.map((s) => `${s.name}${s.op === '+=' ? ' += ' : '='}${s.value}`).join('\n') });
    }
    evidence.push({ kind: 'text', label: 'exim -bV: Support for', text: v.supportFor.join(' ') || '(none found)' });
    evidence.push({ kind: 'text', label: 'exim -bV: Authenticators', text: v.authenticators.join(' ') || '(none)' });
    if (v.raw.exitCode !== 0 || !v.version) return { status: 'fail', summary: `exim -bV failed (exit ${v.raw.exitCode}): ${(v.raw.stderr || v.raw.stdout).split('\n')[0]}` };
    const { tls, asked, missing } = judgeBuild(settings, v.supportFor, v.authenticators);
    if (missing.length) return { status: 'fail', summary: `missing: ${missing.join(', ')}${asked.length ? ` (install.json asked for ${asked.join(', ')})` : ''}` };
    const without = ASKED_FEATURES.map((f) => f.feature).filter((f) => !asked.includes(f) && !v.supportFor.includes(f));
    return { status: 'pass', summary: `${tls}, DKIM${asked.length ? `, ${asked.join(', ')} as asked` : ''}${without.length ? `; built without ${without.join(', ')} (install --without)` : ''}` };
  },
};

/** mailx, cron's MAILTO and every program that sends through /usr/sbin/sendmail reach this Exim; apt knows an MTA is there. */
export const sendmailLink: CheckDef = {
  id: 'sendmail-link',
  title: "/usr/sbin/sendmail is labctl's Exim, and apt knows an MTA is installed",
  async run({ target, evidence }) {
    const { view } = target;
    const ours = await view.run('readlink', ['-f', target.eximBinary]);
    const links = [];
    for (const l of SENDMAIL_LINKS) {
      const r = await view.run('readlink', ['-f', l]);
      const exists = await view.run('test', ['-e', l]);
      links.push({ link: l, resolved: exists.exitCode === 0 && r.exitCode === 0 ? r.stdout.trim() : undefined });
    }
    evidence.push({ kind: 'text', label: 'sendmail links (readlink -f)', text: [`${target.eximBinary} -> ${ours.stdout.trim() || '?'}`, ...links.map((l) => `${l.link} -> ${l.resolved ?? '(absent)'}`)].join('\n') });
    const pkg = await view.run('dpkg-query', ['-W', '-f', '${db:Status-Abbrev}\\t${Version}\\t${Provides}', MTA_PACKAGE]);
    evidence.push(commandEvidence(`dpkg-query -W ${MTA_PACKAGE}`, pkg));
    const sbin = links[0]!;
    const exim = ours.exitCode === 0 ? ours.stdout.trim() : target.eximBinary;
    if (!sbin.resolved) return { status: 'fail', summary: `no ${sbin.link}: mail, mailx and cron cannot send; labctl install links it to ${target.eximBinary}` };
    if (sbin.resolved !== exim) return { status: 'fail', summary: `${sbin.link} is ${sbin.resolved}, not labctl's Exim (${exim})` };
    const [status, version, provides] = pkg.stdout.split('\t');
    if (pkg.exitCode !== 0 || !status?.startsWith('ii') || !provides?.includes('mail-transport-agent')) {
      return { status: 'fail', summary: `${sbin.link} is labctl's Exim, but package ${MTA_PACKAGE} (Provides: mail-transport-agent) is not installed: apt would install another MTA for mailx or cron; rerun labctl install` };
    }
    const lib = links[1]!;
    const libNote = lib.resolved === exim ? `, ${lib.link} too` : lib.resolved ? `; ${lib.link} is ${lib.resolved}` : `; no ${lib.link}`;
    return { status: 'pass', summary: `${sbin.link} -> ${exim}${libNote}; ${MTA_PACKAGE} ${version} provides mail-transport-agent` };
  },
};

export const installVersion: CheckDef = {
  id: 'install-version',
  title: 'exim -bV runs and reads the expected configuration',
  async run({ target, evidence, facts }) {
    const v = await facts.version();
    evidence.push(commandEvidence('exim -bV', v.raw));
    if (v.raw.exitCode !== 0 || !v.version) {
      return { status: 'fail', summary: `${target.eximBinary} -bV exited ${v.raw.exitCode}: ${(v.raw.stderr || v.raw.stdout).split('\n')[0] || 'no output'}` };
    }
    const rec = await readInstallRecord(target.stateDir);
    const expected = rec && !('unreadable' in rec) ? rec : undefined;
    if (expected?.version && expected.version !== v.version) {
      return { status: 'fail', summary: `running Exim ${v.version}, but labctl installed ${expected.version}` };
    }
    if (expected?.configureFile && v.configurationFile && expected.configureFile !== v.configurationFile) {
      return { status: 'warn', summary: `Exim ${v.version} reads ${v.configurationFile}, labctl installed ${expected.configureFile}` };
    }
    return { status: 'pass', summary: `Exim ${v.version}, configuration ${v.configurationFile ?? '?'}` };
  },
};

/** Connects and reads the greeting: the daemon is up and answering, not just bound. */
function greeting(host: string, port: number, timeoutMs: number, localAddress?: string): Promise<{ ok: boolean; text: string }> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port, localAddress });
    let data = '';
    const done = (ok: boolean, text: string) => {
      socket.destroy();
      resolve({ ok, text });
    };
    socket.setTimeout(timeoutMs, () => done(false, `no greeting within ${timeoutMs} ms`));
    socket.on('error', (err) => done(false, err.message));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (data.includes('\n')) {
        socket.end('QUIT\r\n');
        done(/^220[ -]/.test(data), data.split(/\r?\n/)[0]);
      }
    });
  });
}

export const daemonListening: CheckDef = {
  id: 'daemon-listening',
  title: 'the daemon answers on every configured port',
  async run({ target, evidence, facts }) {
    const { listen, tlsOnConnect } = await facts.ports();
    const { options } = await facts.mainOptions();
    evidence.push({ kind: 'text', label: 'exim -bP', text: `daemon_smtp_ports = ${options.get('daemon_smtp_ports') ?? ''}\ntls_on_connect_ports = ${options.get('tls_on_connect_ports') ?? ''}` });
    const ports = [...new Set([target.smtpPort, ...listen.filter((p) => p !== 25)])];
    const lines: string[] = [];
    const bad: string[] = [];
    await Promise.all(
      ports.map(async (port) => {
        const isTls = tlsOnConnect.includes(port) || port === target.smtpsPort;
        const r = isTls ? await tcpOpen(target.address, port, 3000, target.localAddress) : await greeting(target.address, port, 3000, target.localAddress);
        lines.push(`${target.address}:${port}${isTls ? ' (TLS on connect)' : ''}: ${r.text}`);
        if (!r.ok) bad.push(`${port} (${r.text})`);
      }),
    );
    lines.sort();
    evidence.push({ kind: 'text', label: 'connections', text: lines.join('\n') });
    if (bad.length) return { status: 'fail', summary: `no answer on ${bad.join(', ')}` };
    return { status: 'pass', summary: `answering on ${ports.sort((a, b) => a - b).join(', ')}` };
  },
};

function tcpOpen(host: string, port: number, timeoutMs: number, localAddress?: string): Promise<{ ok: boolean; text: string }> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port, localAddress });
    const done = (ok: boolean, text: string) => {
      socket.destroy();
      resolve({ ok, text });
    };
    socket.setTimeout(timeoutMs, () => done(false, `no connection within ${timeoutMs} ms`));
    socket.on('error', (err) => done(false, err.message));
    socket.on('connect', () => done(true, 'TCP connection accepted'));
  });
}

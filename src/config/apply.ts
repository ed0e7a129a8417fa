import path from 'node:path';
import { EXIT, LabError } from '../errors.js';
import { EXIM_DEFAULTS, paths } from '../paths.js';
import { saveEvidence, type EvidenceItem } from '../evidence/store.js';
import { readIfExists, readJson, writeJson } from '../system/files.js';
import { ensureMailSpool, ensureUser } from '../system/mail-users.js';
import { lookupUser } from '../system/users.js';
import { checkCertificatePair, ensureDkimKey, ensureHostCertificate } from '../system/openssl.js';
import { loadServiceSettings, saveServiceSettings, serviceControl, serviceStatus, type ServiceSettings } from '../system/service.js';
import { unifiedDiff } from '../ui/diff.js';
import { waitForGreeting } from '../system/smtp-probe.js';
import type { StepRunner } from '../ui/steps.js';
import { ensurePostmasterAlias, withPostmaster } from './aliases.js';
import { safeInstallConfigure, type SafeInstallResult } from './install.js';
import { hostFiles } from './layout.js';
import type { HostModel } from './model.js';
import { DEFAULT_ALIASES_FILE, configureKeyParts, renderConfigure, type ConfigureFiles } from './render.js';
import { checkConfigPath } from './validate.js';

/**
 * `labctl configure` as a sequence of steps, each reporting done (changed) or already done.
 * The command file parses flags; this module decides what to do; src/system does it.
 */
export interface ConfigureOptions {
  model: HostModel;
  /** Existing certificate and key to use instead of the lab CA's. */
  tlsCert?: string;
  tlsKey?: string;
  configureFile: string;
  eximBinary: string;
  aliasesFile?: string;
  mailSpool?: string;
}

export interface ConfigureResult {
  changed: boolean;
  configureFile: string;
  rendered: string;
  install?: SafeInstallResult;
  queueInterval: string;
}

/** The binary and configure file `labctl install` recorded, else the lab's defaults. */
export async function installedExim(): Promise<{ binary: string; configureFile: string }> {
  const state = await readJson<{ binary?: string; configureFile?: string }>(path.join(paths.stateDir, 'install.json')).catch(() => undefined);
  return {
    binary: state?.binary ?? `${EXIM_DEFAULTS.binDirectory}/exim`,
    configureFile: state?.configureFile ?? EXIM_DEFAULTS.configureFile,
  };
}

/** Checks --tls-cert/--tls-key before anything else happens. */
export async function checkGivenCertificate(o: Pick<ConfigureOptions, 'tlsCert' | 'tlsKey' | 'model'>): Promise<void> {
  if (o.tlsCert === undefined && o.tlsKey === undefined) return;
  if (o.tlsCert === undefined || o.tlsKey === undefined) {
    throw new LabError(`${o.tlsCert === undefined ? '--tls-cert' : '--tls-key'} is missing: --tls-cert and --tls-key go together`, 'give both, or neither to have labctl make them', EXIT.usage);
  }
  if (o.model.tls === 'off') throw new LabError('--tls-cert/--tls-key given with --tls off', 'drop them, or choose a TLS mode', EXIT.usage);
  checkConfigPath('--tls-cert', o.tlsCert);
  checkConfigPath('--tls-key', o.tlsKey);
  await checkCertificatePair(o.tlsCert, o.tlsKey);
}

/** The file paths the configuration will name (whether or not they exist yet). */
export function plannedFiles(o: ConfigureOptions): ConfigureFiles {
  const f = hostFiles(o.model, o.configureFile);
  const files: ConfigureFiles = { dkimPrivateKey: f.dkimPrivateKey, aliasesFile: o.aliasesFile ?? DEFAULT_ALIASES_FILE };
  if (o.model.tls !== 'off') {
    files.tlsCertificate = o.tlsCert ?? f.tlsCertificate;
    files.tlsPrivateKey = o.tlsKey ?? f.tlsPrivateKey;
  }
  return files;
}

/** Test addresses for the routing check: postmaster and the first local user. */
export const testAddresses = (m: HostModel) => [`postmaster@${m.domain}`, `${m.users[0]}@${m.domain}`];

export interface ConfigurePreview {
  rendered: string;
  installed?: string;
  diff: string;
  plan: string[];
}

/** What configure would do, computed without root and without changing anything. */
export async function previewConfigure(o: ConfigureOptions): Promise<ConfigurePreview> {
  const files = plannedFiles(o);
  const rendered = await renderConfigure(o.model, files);
  const installed = await readIfExists(o.configureFile).catch(() => undefined);
  const diff = unifiedDiff(installed ?? '', rendered, { before: `${o.configureFile} (installed)`, after: `${o.configureFile} (rendered)` });
  const aliasesFile = o.aliasesFile ?? DEFAULT_ALIASES_FILE;
  const aliases = await readIfExists(aliasesFile).catch(() => undefined);
  const plan: string[] = [];
  for (const u of o.model.users) plan.push((await lookupUser(u)) ? `user ${u}: exists` : `user ${u}: create with a home directory (useradd)`);
  plan.push(`${o.mailSpool ?? '/var/mail'}: root:mail, mode 2775`);
  plan.push(withPostmaster(aliases, o.model.postmaster) === aliases ? `${aliasesFile}: postmaster: ${o.model.postmaster} already there` : `${aliasesFile}: set postmaster: ${o.model.postmaster} (previous file kept as a .bak)`);
  if (o.model.tls !== 'off') {
    plan.push(o.tlsCert ? `TLS: use ${o.tlsCert} and ${o.tlsKey}` : `TLS: certificate for ${o.model.mailHost} signed by the lab CA in ${hostFiles(o.model, o.configureFile).caDir} -> ${files.tlsCertificate}`);
  }
  plan.push(`DKIM: 2048-bit RSA key ${files.dkimPrivateKey} (root:exim 0640)`);
  plan.push(
    diff === ''
      ? `${o.configureFile}: already as rendered`
      : `${o.configureFile}: check with ${o.eximBinary} -C <new> -bV and -bt ${testAddresses(o.model).join(', ')}, keep configure.<time>.bak, install, reload the daemon`,
  );
  plan.push(`daemon: queue runner -q${o.model.queueInterval}`);
  return { rendered, installed, diff, plan };
}

/**
 * Confirms the daemon serves after a reload or restart: it greets on port 25. A HUP with a
 * configuration the daemon cannot run (a port it cannot bind, say) kills it; its pid may
 * linger for a moment, its greeting does not.
 */
export async function confirmDaemonServing(host = '127.0.0.1', port = 25, timeoutMs = 5000): Promise<void> {
  if (!(await waitForGreeting(host, port, timeoutMs))) {
    throw new LabError(`the Exim daemon does not answer on port ${port} after the reload`, 'see the panic log');
  }
}

export async function configureHost(o: ConfigureOptions, steps: StepRunner): Promise<ConfigureResult> {
  const m = o.model;
  const files = plannedFiles(o);
  const layout = hostFiles(m, o.configureFile);

  await steps.step('users', 'local users', async () => {
    const changes: string[] = [];
    for (const u of m.users) {
      const c = await ensureUser(u);
      if (c !== 'ok') changes.push(`${u} ${c}`);
    }
    return changes.length ? { status: 'done', detail: changes.join(', ') } : { status: 'ok', detail: m.users.join(', ') };
  });

  await steps.step('mail-spool', 'mail spool', async () =>
    (await ensureMailSpool(o.mailSpool)) ? { status: 'done', detail: `${o.mailSpool ?? '/var/mail'} root:mail 2775` } : { status: 'ok', detail: `${o.mailSpool ?? '/var/mail'} root:mail 2775` },
  );

  await steps.step('aliases', 'postmaster alias', async () => {
    const r = await ensurePostmasterAlias(files.aliasesFile!, m.postmaster);
    const what = `postmaster: ${m.postmaster} in ${files.aliasesFile}`;
    return r.changed ? { status: 'done', detail: `${what}${r.backup ? `; previous kept as ${r.backup}` : ''}` } : { status: 'ok', detail: what };
  });

  await steps.step('tls', 'TLS certificate', async () => {
    if (m.tls === 'off') return { status: 'skipped', detail: '--tls off' };
    if (o.tlsCert) return { status: 'ok', detail: `using ${o.tlsCert}` };
    const c = await ensureHostCertificate({ caDir: layout.caDir, hostName: m.mailHost, outDir: layout.tlsDir, group: EXIM_DEFAULTS.group });
    return { status: c.changed ? 'done' : 'ok', detail: c.certificate };
  });

  let dkimPublicKeyPem = '';
  await steps.step('dkim', 'DKIM key', async () => {
    const k = await ensureDkimKey(files.dkimPrivateKey!, EXIM_DEFAULTS.group);
    dkimPublicKeyPem = k.publicKeyPem;
    return { status: k.changed ? 'done' : 'ok', detail: k.privateKey };
  });

  const rendered = await renderConfigure(m, files);
  const settings = await loadServiceSettings();
  const wanted: ServiceSettings = { ...settings, binary: o.eximBinary, queueInterval: m.queueInterval };
  const intervalChanged = settings.queueInterval !== m.queueInterval || settings.binary !== o.eximBinary;

  let install: SafeInstallResult | undefined;
  let daemonHandled = false;
  await steps.step('configure', 'Exim configuration', async () => {
    install = await safeInstallConfigure({
      text: rendered,
      target: o.configureFile,
      eximBinary: o.eximBinary,
      testAddresses: testAddresses(m),
      reload: async () => {
        daemonHandled = true;
        const running = (await serviceStatus(settings)).running;
        // A new -q interval needs a new daemon; otherwise a HUP re-reads the configuration.
        await serviceControl(intervalChanged && running ? 'restart' : running ? 'reload' : 'start', wanted);
        await confirmDaemonServing();
      },
      restart: async () => {
        await serviceControl('restart', settings);
      },
    });
    const checked = `${o.configureFile} checked with -bV and -bt ${testAddresses(m).join(', ')}`;
    return install.changed ? { status: 'done', detail: `${checked}; previous kept as ${install.backup ?? '(none)'}` } : { status: 'ok', detail: checked };
  });
  if (intervalChanged) await saveServiceSettings(wanted);

  await steps.step('daemon', 'Exim daemon', async () => {
    if (daemonHandled) {
      const st = await serviceStatus(wanted);
      if (!st.running) throw new LabError('the Exim daemon is not running after the reload', 'run labctl service start and see the panic log');
      return { status: 'done', detail: intervalChanged ? `restarted with -q${m.queueInterval}, pid ${st.pid}` : `reloaded, pid ${st.pid}` };
    }
    const st = await serviceStatus(wanted);
    if (intervalChanged && st.running) {
      const after = await serviceControl('restart', wanted);
      return { status: 'done', detail: `restarted with -q${m.queueInterval}, pid ${after.pid}` };
    }
    if (!st.running) {
      const after = await serviceControl('start', wanted);
      return { status: 'done', detail: `started, pid ${after.pid}` };
    }
    return { status: 'ok', detail: `running, pid ${st.pid}` };
  });

  const changed = steps.results.some((r) => r.status === 'done');
  // What verify and report read as "this host's model" (no secrets: paths only).
  await writeJson(path.join(paths.stateDir, 'configure.json'), { model: m, configureFile: o.configureFile, at: new Date().toISOString() });
  await recordEvidence(m, rendered, install, changed, dkimPublicKeyPem);
  return { changed, configureFile: o.configureFile, rendered, install, queueInterval: m.queueInterval };
}

async function recordEvidence(m: HostModel, rendered: string, install: SafeInstallResult | undefined, changed: boolean, dkimPublicKeyPem: string): Promise<void> {
  const evidence: EvidenceItem[] = [
    { kind: 'text', label: 'key parts of the rendered configuration', text: configureKeyParts(rendered) },
    { kind: 'data', label: 'lab model', data: m },
  ];
  for (const c of install?.checks ?? []) evidence.push({ kind: 'command', label: 'syntax check', command: c.command, exitCode: c.exitCode, text: c.output });
  for (const r of install?.routes ?? []) evidence.push({ kind: 'command', label: `route ${r.address}`, command: r.command, exitCode: r.exitCode, text: r.output });
  if (dkimPublicKeyPem) evidence.push({ kind: 'text', label: 'DKIM public key', text: dkimPublicKeyPem });
  await saveEvidence({
    area: 'configure',
    id: 'configure',
    title: `Exim configured for ${m.domain} (${m.mailHost})`,
    status: changed ? 'changed' : 'ok',
    summary: `users ${m.users.join(', ')}; postmaster -> ${m.postmaster}; TLS ${m.tls}; backup MX for ${m.backupFor.map((p) => p.domain).join(', ') || 'none'}`,
    at: new Date().toISOString(),
    evidence,
  });
}

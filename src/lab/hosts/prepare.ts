import path from 'node:path';
import type { HostModel } from '../../config/model.js';
import { validateModel } from '../../config/validate.js';
import { renderConfigure, type RenderOptions } from '../../config/render.js';
import { LabError, errorMessage } from '../../errors.js';
import { safeInstallConfigure } from '../../config/swap.js';
import { HOST_PREPARATION_STEPS, testAddresses } from '../../config/apply.js';
import type { HostPrepContext } from '../../config/steps/context.js';
import type { EximRunner } from '../../system/exim-check.js';
import { ensureDir, exists, removePath, setMode, writeAtomic } from '../../system/files.js';
import { requireGroupId, requireUser } from '../../system/accounts.js';
import { EXIM_DEFAULTS } from '../../paths.js';
import { writeNamespaceEtc } from '../../system/netns.js';
import { parentZone } from '../services/dnssec.js';
import { hostKeys, type HostKeyFiles } from '../services/keys.js';
import { resolvConf } from '../services/unbound.js';
import { backupTargets, labPaths, mailHostName, names, type LabMailHostSpec, type LabSpec } from '../topology.js';
import { QUIET, runSteps } from '../../steps/runner.js';
import type { StepRecord } from '../../steps/types.js';
import { labAccounts, labUsers, type LabUser } from './accounts.js';
import { EXIM_BIN, eximInView } from './view.js';

/**
 * One mail host of the lab: its model (the same HostModel `labctl configure` validates), its
 * configure file rendered by the same template, and the files its view needs: users, aliases,
 * resolver, mailboxes and home directories. Nothing here touches the root namespace's Exim files.
 */
export interface PreparedHost {
  spec: LabMailHostSpec;
  model: HostModel;
  keys: HostKeyFiles;
  users: LabUser[];
  /** The records of configure's host-preparation steps, run in the host's view. */
  prepared?: StepRecord[];
}

/** The model of a lab host: partners, addresses and lab timing filled in from the topology. */
export function labModel(spec: LabSpec, host: LabMailHostSpec, tls: HostModel['tls'] = 'starttls+smtps', extra: Pick<HostModel, 'dmarcEnforce'> = {}): HostModel {
  const backs = spec.hosts.filter((other) => other.name !== host.name && backupTargets(spec, other).some((t) => t.name === host.name));
  return validateModel({
    domain: host.domain,
    mailHost: mailHostName(host),
    address: host.address,
    users: host.users,
    backupFor: backupTargets(spec, host).map((p) => ({ domain: p.domain, mailHost: mailHostName(p), address: p.address })),
    backupMx: backs.map(mailHostName),
    // What labctl configure resolves on a real machine, known here from the topology.
    backupMxAddresses: backs.map((b) => b.address),
    tls,
    queueInterval: spec.queueInterval,
    retryRule: spec.retryRule,
    // DMARC recorded, not enforced: the lab's client sends the write-up's test messages "from"
    // lab users (mohamed@st18 from 10.203.14.100), which DMARC rightly calls forgeries. The spoof
    // drill switches enforcement on for its own message.
    dmarcEnforce: false,
    ...extra,
  });
}

export async function renderLabConfigure(model: HostModel, host: LabMailHostSpec, keys: HostKeyFiles, opts: RenderOptions = {}): Promise<string> {
  const p = labPaths.host(host.name);
  const suffixes = await exists(p.publicSuffixes);
  return renderConfigure(model, {
    tlsCertificate: keys.certificate,
    tlsPrivateKey: keys.privateKey,
    dkimPrivateKey: keys.dkimPrivateKey,
    tlsVerifyCertificates: keys.caCertificate,
    aliasesFile: p.aliases,
    spoolDirectory: p.spool,
    logFilePath: path.join(p.log, '%slog'),
    eximBinary: EXIM_BIN,
    ...(suffixes ? { dmarcTldFile: p.publicSuffixes } : {}),
  }, { mailboxLock: 'fcntl', ...opts });
}

/** The /etc files of the host's view besides its accounts (configure's users step writes passwd and group). */
export function viewEtcFiles(spec: LabSpec, host: LabMailHostSpec): Record<string, string> {
  return {
    'resolv.conf': resolvConf(spec),
    hosts: `127.0.0.1\tlocalhost\n${host.address}\t${mailHostName(host)} ${host.name}\n`,
  };
}

/**
 * DMARC's public suffix list for the lab: its DNS serves one parent zone (sne24.ru) under a root
 * of its own, so the one public suffix is the parent's own parent (ru), and each student domain's
 * organisational domain is the parent zone, as with the full list. libopendmarc reads the list
 * once per message; Debian's full list (some 10,000 lines) cost st14 about a quarter of its
 * throughput in the backup drill. Undefined when the lab's domains share no parent zone.
 */
export function labPublicSuffixes(spec: Pick<LabSpec, 'hosts'>): string | undefined {
  const parent = parentZone(spec);
  if (!parent) return undefined;
  const suffix = parent.split('.').slice(1).join('.');
  return `// labctl lab: the public suffix list of the lab's DNS (parent zone ${parent})\n${suffix}\n`;
}

/**
 * The host's /etc/aliases before configure's aliases step, as Debian ships it: the role
 * addresses go to postmaster (write-up 3c); the step then adds postmaster itself.
 */
const ROLE_ALIASES = ['# labctl lab: aliases of this lab host (write-up 3c)', 'mailer-daemon: postmaster', 'root: postmaster', 'abuse: postmaster', 'hostmaster: postmaster', ''].join('\n');

/** What configure's host-preparation steps work on for a lab host: its accounts, its mail spool, its aliases file. */
export function hostPrepContext(spec: LabSpec, host: LabMailHostSpec, model: HostModel): HostPrepContext {
  const p = labPaths.host(host.name);
  return { o: { model, mailSpool: p.mail }, files: { aliasesFile: p.aliases }, accounts: labAccounts(spec, host) };
}


/**
 * Creates the host's directories and view, prepares it with configure's own steps (users, mail
 * spool, postmaster alias) and renders its configure file.
 */
export async function prepareHost(spec: LabSpec, host: LabMailHostSpec): Promise<PreparedHost> {
  const p = labPaths.host(host.name);
  const eximUid = (await requireUser(EXIM_DEFAULTS.user)).uid;
  const eximGid = await requireGroupId(EXIM_DEFAULTS.group);
  const model = labModel(spec, host);

  await ensureDir(p.root, 0o755);
  for (const dir of [p.spool, p.log]) {
    await ensureDir(dir, 0o750);
    await setMode(dir, 0o750, { uid: eximUid, gid: eximGid });
  }
  await ensureDir(p.home, 0o755);
  await writeNamespaceEtc(names.hostNs(host.name), viewEtcFiles(spec, host));
  if (!(await exists(p.aliases))) await writeAtomic(p.aliases, ROLE_ALIASES);
  const prepared = await runSteps(HOST_PREPARATION_STEPS, hostPrepContext(spec, host, model), 'apply', QUIET);
  const suffixes = labPublicSuffixes(spec);
  if (suffixes) await writeAtomic(p.publicSuffixes, suffixes);
  else await removePath(p.publicSuffixes);

  const keys = await hostKeys(spec, host, model);
  // The same safe install as labctl configure, in place (the daemon sees the file through a bind
  // mount): written beside, that copy checked by Exim in the host's view, then installed; a
  // configure Exim refuses leaves the installed one as it was. The caller tells the daemon.
  // A new host's view needs the file to mount before its first configure is checked: empty.
  const fresh = !(await exists(p.configure));
  if (fresh) await writeAtomic(p.configure, '');
  try {
    await safeInstallConfigure({
      text: await renderLabConfigure(model, host, keys),
      target: p.configure,
      eximBinary: EXIM_BIN,
      exim: eximRunnerFor(host),
      testAddresses: testAddresses(model),
      inPlace: true,
      noReload: true,
      ...(fresh ? { keepBackups: 0 } : {}),
      reload: async () => {},
    });
  } catch (err) {
    throw new LabError(`${host.name}: ${errorMessage(err)}`, err instanceof LabError ? err.hint : undefined);
  }
  return { spec: host, model, keys, users: labUsers(spec, host), prepared };
}

/** Runs exim inside the host's view (its users, aliases and spool), for configure's checks. */
export const eximRunnerFor = (host: LabMailHostSpec): EximRunner => (args) =>
  eximInView(host, mailHostName(host), args, { allowFailure: true, timeoutMs: 15000 });

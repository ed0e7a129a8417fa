import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { HostModel } from '../../config/model.js';
import { validateModel } from '../../config/validate.js';
import { renderConfigure, type RenderOptions } from '../../config/render.js';
import { withPostmaster } from '../../config/aliases.js';
import { LabError, errorMessage } from '../../errors.js';
import { checkConfigureFile } from '../../config/swap.js';
import { testAddresses } from '../../config/apply.js';
import type { EximRunner } from '../../system/exim-check.js';
import { ensureDir, exists, removePath, setMode, writeAtomic, writeInPlace } from '../../system/files.js';
import { ensureMailSpool } from '../../system/accounts.js';
import { requireGroupId, requireUser } from '../../system/accounts.js';
import { EXIM_DEFAULTS } from '../../paths.js';
import { writeNamespaceEtc } from '../../system/netns.js';
import { parentZone } from '../services/dnssec.js';
import { hostKeys, type HostKeyFiles } from '../services/keys.js';
import { resolvConf } from '../services/unbound.js';
import { backupTargets, labPaths, mailHostName, names, type LabMailHostSpec, type LabSpec } from '../topology.js';
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
}

export interface LabUser {
  name: string;
  uid: number;
  gid: number;
}

/** First uid/gid of lab users; each host gets a block of ten, far from system and login ids. */
const LAB_UID_BASE = 41400;

export function labUsers(spec: LabSpec, host: LabMailHostSpec): LabUser[] {
  const index = spec.hosts.findIndex((h) => h.name === host.name);
  return host.users.map((name, j) => ({ name, uid: LAB_UID_BASE + index * 10 + j, gid: LAB_UID_BASE + index * 10 + j }));
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

/** The /etc files the host's namespace overlays: the machine's own, plus the host's lab users. */
async function etcFiles(spec: LabSpec, host: LabMailHostSpec, users: LabUser[]): Promise<Record<string, string>> {
  const passwd = await fs.readFile('/etc/passwd', 'utf8');
  const group = await fs.readFile('/etc/group', 'utf8');
  const taken = (text: string, name: string) => text.split('\n').some((l) => l.split(':')[0] === name);
  const strip = (s: string) => s.replace(/\n*$/, '\n');
  const userLines = users
    .filter((u) => !taken(passwd, u.name))
    .map((u) => `${u.name}:x:${u.uid}:${u.gid}:labctl lab user:/home/${u.name}:/bin/sh\n`)
    .join('');
  const groupLines = users
    .filter((u) => !taken(group, u.name))
    .map((u) => `${u.name}:x:${u.gid}:\n`)
    .join('');
  return {
    'resolv.conf': resolvConf(spec),
    hosts: `127.0.0.1\tlocalhost\n${host.address}\t${mailHostName(host)} ${host.name}\n`,
    passwd: strip(passwd) + userLines,
    group: strip(group) + groupLines,
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

/** The host's /etc/aliases: the usual role addresses, and postmaster set as labctl configure sets it. */
function aliasesText(model: HostModel): string {
  const roles = ['# labctl lab: aliases of this lab host (write-up 3c)', 'mailer-daemon: postmaster', 'root: postmaster', 'abuse: postmaster', 'hostmaster: postmaster', ''].join('\n');
  return withPostmaster(roles, model.postmaster);
}

/** Creates the host's directories and files and renders its configure file. */
export async function prepareHost(spec: LabSpec, host: LabMailHostSpec): Promise<PreparedHost> {
  const p = labPaths.host(host.name);
  const eximUid = (await requireUser(EXIM_DEFAULTS.user)).uid;
  const eximGid = await requireGroupId(EXIM_DEFAULTS.group);
  const users = labUsers(spec, host);
  const model = labModel(spec, host);

  await ensureDir(p.root, 0o755);
  for (const dir of [p.spool, p.log]) {
    await ensureDir(dir, 0o750);
    await setMode(dir, 0o750, { uid: eximUid, gid: eximGid });
  }
  // /var/mail as Debian has it (root:mail 2775): delivery as the user with group mail makes lock files.
  await ensureMailSpool(p.mail);
  await ensureDir(p.home, 0o755);
  for (const u of users) {
    // A local user needs a home directory in the host's view, or routing defers.
    const home = path.join(p.home, u.name);
    await ensureDir(home, 0o750);
    await setMode(home, 0o750, { uid: u.uid, gid: u.gid });
  }
  await writeNamespaceEtc(names.hostNs(host.name), await etcFiles(spec, host, users));
  await writeAtomic(p.aliases, aliasesText(model));
  const suffixes = labPublicSuffixes(spec);
  if (suffixes) await writeAtomic(p.publicSuffixes, suffixes);
  else await removePath(p.publicSuffixes);

  const keys = await hostKeys(spec, host, model);
  const text = await renderLabConfigure(model, host, keys);
  await writeInPlace(p.configure, text);
  await checkHostConfigure(host, model);
  return { spec: host, model, keys, users };
}

/** Runs exim inside the host's view (its users, aliases and spool), for configure's checks. */
export const eximRunnerFor = (host: LabMailHostSpec): EximRunner => (args) =>
  eximInView(host, mailHostName(host), args, { allowFailure: true, timeoutMs: 15000 });

/**
 * Exim's own verdict on the host's configure, in the host's view, by the same checks
 * `labctl configure` makes: syntax, then postmaster and a local user routed to local_delivery.
 */
export async function checkHostConfigure(host: LabMailHostSpec, model: HostModel): Promise<void> {
  try {
    await checkConfigureFile(labPaths.host(host.name).configure, {
      eximBinary: EXIM_BIN,
      exim: eximRunnerFor(host),
      testAddresses: testAddresses(model),
    });
  } catch (err) {
    throw new LabError(`${host.name}: ${errorMessage(err)}`);
  }
}

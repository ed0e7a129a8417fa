import { promises as fs } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { LabError, usageError } from '../errors.js';
import { paths } from '../paths.js';
import { MODEL_DEFAULTS } from '../config/model.js';
import { labStateFile, type LabMailHostSpec, type LabSpec } from '../state/lab.js';

/**
 * The lab's topology: which mail hosts exist, their domains, users and addresses, plus the DNS
 * server and the third-party client. Everything the lab creates is named from `prefix` so that
 * `lab down` finds all of it, even without the state file.
 */
export const LAB_PREFIX = 'labctl-';

/** The lab's shape is part of its state file's schema, owned by src/state/lab.ts. */
export type { LabMailHostSpec, LabSpec };


export const DEFAULT_LAB: LabSpec = {
  subnet: '10.203.14.0/24',
  dnsAddress: '10.203.14.53',
  resolverAddress: '10.203.14.54',
  clientAddress: '10.203.14.100',
  hosts: [
    { name: 'st14', domain: 'st14.sne24.ru', address: '10.203.14.14', users: ['ahmed'] },
    { name: 'st18', domain: 'st18.sne24.ru', address: '10.203.14.18', users: ['mohamed'] },
  ],
  // The lab runs on configure's lab timing (queue runs every minute, retry every 5 s at first).
  queueInterval: MODEL_DEFAULTS.queueInterval,
  retryRule: MODEL_DEFAULTS.retryRule,
};

/** Namespace and interface names: the only place they are made. */
export const names = {
  switchNs: `${LAB_PREFIX}sw`,
  dnsNs: `${LAB_PREFIX}dns`,
  clientNs: `${LAB_PREFIX}client`,
  hostNs: (host: string) => `${LAB_PREFIX}${host}`,
  bridge: 'labbr0',
  /** The switch-side end of a member's veth pair (at most 15 characters). */
  switchPort: (member: string) => `v-${member}`.slice(0, 15),
  hostIf: 'eth0',
};

/** Lab members other than mail hosts. */
export const DNS_NAME = 'dns';
export const CLIENT_NAME = 'client';

export interface LabMember {
  name: string;
  ns: string;
  address: string;
  kind: 'switch' | 'dns' | 'client' | 'mail';
}

export function members(spec: LabSpec): LabMember[] {
  return [
    { name: DNS_NAME, ns: names.dnsNs, address: spec.dnsAddress, kind: 'dns' },
    ...spec.hosts.map((h) => ({ name: h.name, ns: names.hostNs(h.name), address: h.address, kind: 'mail' as const })),
    { name: CLIENT_NAME, ns: names.clientNs, address: spec.clientAddress, kind: 'client' },
  ];
}

export const prefixLength = (spec: LabSpec) => Number(spec.subnet.split('/')[1] ?? '24');

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HOST_NAME = /^[a-z][a-z0-9]{0,9}$/;

function inSubnet(address: string, subnet: string): boolean {
  const [net, len] = subnet.split('/');
  const toInt = (a: string) => a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const block = Math.pow(2, 32 - Number(len));
  return Math.floor(toInt(address) / block) === Math.floor(toInt(net!) / block);
}

/** Private ranges only: lab addresses must never look like anything outside the machine. */
function isPrivate(address: string): boolean {
  return inSubnet(address, '10.0.0.0/8') || inSubnet(address, '172.16.0.0/12') || inSubnet(address, '192.168.0.0/16');
}

/** Checks a topology; every problem is one clear line naming the field. */
export function checkSpec(spec: LabSpec): LabSpec {
  const [net, len] = spec.subnet.split('/');
  if (!net || !IPV4.test(net) || len !== '24') {
    throw usageError(`lab subnet "${spec.subnet}" is not an IPv4 /24 network like 10.203.14.0/24`, 'the lab serves one /24 reverse zone');
  }
  if (!isPrivate(net)) throw usageError(`lab subnet "${spec.subnet}" is not a private range`, 'use 10.x, 172.16-31.x or 192.168.x');
  const seen = new Set<string>();
  const address = (field: string, a: string) => {
    if (!IPV4.test(a)) throw usageError(`${field}: "${a}" is not an IPv4 address`);
    if (!inSubnet(a, spec.subnet)) throw usageError(`${field}: ${a} is outside the lab subnet ${spec.subnet}`);
    if (seen.has(a)) throw usageError(`${field}: ${a} is used twice in the lab`);
    seen.add(a);
  };
  address('dnsAddress', spec.dnsAddress);
  address('resolverAddress', spec.resolverAddress);
  address('clientAddress', spec.clientAddress);
  if (spec.hosts.length < 1) throw usageError('the lab needs at least one mail host');
  const hostNames = new Set<string>();
  for (const h of spec.hosts) {
    if (!HOST_NAME.test(h.name) || h.name === DNS_NAME || h.name === CLIENT_NAME || h.name === 'sw') {
      throw usageError(`hosts: name "${h.name}" must be 1-10 lower-case letters/digits, start with a letter, not dns/client/sw`);
    }
    if (hostNames.has(h.name)) throw usageError(`hosts: "${h.name}" appears twice`);
    hostNames.add(h.name);
    address(`hosts.${h.name}.address`, h.address);
    if (!Array.isArray(h.users) || h.users.length === 0) throw usageError(`hosts.${h.name}.users: at least one user is needed`);
  }
  for (const h of spec.hosts) {
    for (const b of h.backupFor ?? []) {
      if (!hostNames.has(b) || b === h.name) throw usageError(`hosts.${h.name}.backupFor: "${b}" is not another lab host`);
    }
  }
  if (!/^\d+[smhd]$/.test(spec.queueInterval)) throw usageError(`queueInterval "${spec.queueInterval}" is not like 1m`);
  return spec;
}

/** Reads lab.yaml (or JSON); fields left out keep the defaults. */
export async function loadLabSpec(file?: string): Promise<LabSpec> {
  if (!file) return checkSpec(structuredClone(DEFAULT_LAB));
  const text = await fs.readFile(file, 'utf8').catch(() => {
    throw usageError(`cannot read lab config ${file}`);
  });
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (err) {
    throw usageError(`${file}: not valid YAML/JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (raw === null || typeof raw !== 'object') throw usageError(`${file}: expected a mapping at the top`);
  const spec = { ...structuredClone(DEFAULT_LAB), ...(raw as Partial<LabSpec>) };
  return checkSpec(spec);
}

/** Partners a host backs up: by default every other lab host. */
export function backupTargets(spec: LabSpec, host: LabMailHostSpec): LabMailHostSpec[] {
  const wanted = host.backupFor ?? spec.hosts.filter((h) => h.name !== host.name).map((h) => h.name);
  return spec.hosts.filter((h) => wanted.includes(h.name));
}

/**
 * The two mail hosts a drill works between: the first host (the primary, st14) and its partner,
 * the host that is its backup MX (st18), or else the next host. A drill that needs the backup
 * (backup-mx) says so, and a lab without one is refused by name.
 */
export function drillPair(spec: LabSpec, drill: string, o: { backupRequired?: boolean } = {}): { primary: LabMailHostSpec; partner: LabMailHostSpec } {
  const primary = spec.hosts[0];
  const partner = primary && partnerOf(spec, primary);
  if (!primary || !partner) throw new LabError(`the ${drill} drill needs two mail hosts`, 'see lab.yaml');
  if (o.backupRequired && !partner.backs) throw new LabError(`no lab host is backup MX for ${primary.domain}`, 'the drill needs a backup host (backupFor in lab.yaml)');
  return { primary, partner: partner.host };
}

/** The host that is `host`'s backup MX, or else the next other host (`backs` says which); none alone. */
export function partnerOf(spec: LabSpec, host: LabMailHostSpec): { host: LabMailHostSpec; backs: boolean } | undefined {
  const others = spec.hosts.filter((h) => h.name !== host.name);
  const backup = others.find((h) => backupTargets(spec, h).some((t) => t.name === host.name));
  if (backup) return { host: backup, backs: true };
  return others[0] && { host: others[0], backs: false };
}

export const mailHostName = (h: LabMailHostSpec) => h.mailHost ?? `mail.${h.domain}`;

export function findHost(spec: LabSpec, name: string): LabMailHostSpec | undefined {
  return spec.hosts.find((h) => h.name === name || h.domain === name);
}

/** Where each part of the lab lives on disk (all under paths.labDir, removed by `lab down`). */
export const labPaths = {
  get root() { return paths.labDir; },
  get state() { return labStateFile(); },
  get ca() { return path.join(paths.labDir, 'ca'); },
  get dns() { return path.join(paths.labDir, 'dns'); },
  host: (name: string) => {
    const root = path.join(paths.labDir, 'hosts', name);
    return {
      root,
      configure: path.join(root, 'configure'),
      spool: path.join(root, 'spool'),
      log: path.join(root, 'spool', 'log'),
      mainlog: path.join(root, 'spool', 'log', 'mainlog'),
      mail: path.join(root, 'mail'),
      home: path.join(root, 'home'),
      aliases: path.join(root, 'aliases'),
      publicSuffixes: path.join(root, 'public_suffix_list.dat'),
      tls: path.join(root, 'tls'),
      dkim: path.join(root, 'dkim'),
      pidFile: path.join(root, 'exim-daemon.pid'),
    };
  },
};

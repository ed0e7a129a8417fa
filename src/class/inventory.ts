/**
 * The class inventory: which student machine serves which domain, who backs up whom, and where
 * the class DNS server is, as a standard Ansible YAML inventory (ansible/site.yml reads it).
 * Pure: numbers, names and addresses in, an inventory object out; the command writes it.
 */
import { isIP } from 'node:net';
import { stringify } from 'yaml';
import { checkAddress, checkDnsName } from '../config/validate.js';
import { usageError } from '../errors.js';

export const PAIRINGS = ['pairs', 'ring'] as const;
export type Pairing = (typeof PAIRINGS)[number];

/** Where one machine is reached (ansible_host) and, when known, its address for DNS and Exim. */
export interface HostPlace {
  host: string;
  address?: string;
}

export interface ClassInput {
  /** Student numbers, in order: --students 3 gives 1, 2, 3; --students 14,18 gives 14, 18. */
  students: number[];
  /** The domain template, with {n} for the student number: st{n}.sne24.ru. */
  domainTemplate: string;
  pairing: Pairing;
  /** --hosts FILE, parsed: keys "dns", a student number or an inventory host name (st14). */
  places?: Record<string, HostPlace>;
  /** Without --hosts: dns gets .2 of this /24-or-larger network, student k (from 0) gets .(11 + k). */
  subnet: string;
}

export interface StudentHost {
  name: string;
  vars: {
    ansible_host: string;
    labctl_student: number;
    labctl_domain: string;
    labctl_mail_host: string;
    labctl_address?: string;
    /** The domain this machine backs up (MX 20 for it), its inventory host, mail host and address. */
    labctl_partner: string;
    labctl_partner_host: string;
    labctl_partner_mail_host: string;
    labctl_partner_address?: string;
    /** This domain's MX records: 10 its own mail host, 20 the student machine that backs it up. */
    labctl_mx: { priority: number; host: string }[];
    labctl_dns_address: string;
  };
}

export interface ClassInventory {
  students: StudentHost[];
  dns: { name: 'dns'; vars: { ansible_host: string; labctl_address: string } };
  pairing: Pairing;
}

export const DNS_HOST = 'dns';
export const STUDENTS_GROUP = 'labctl_students';
export const DNS_GROUP = 'labctl_dns';
/** The machine the class's Exim is built on, the instructor's: left empty for the instructor to fill. */
export const BUILD_GROUP = 'labctl_build';
const MAX_STUDENTS = 240;

/** "3" is students 1..3; "14,18" is exactly those. */
export function parseStudents(raw: string | undefined): number[] {
  if (raw === undefined || raw.trim() === '') throw usageError('--students is required: a count (--students 20) or the student numbers (--students 14,18)');
  const text = raw.trim();
  const whole = (s: string) => /^[0-9]+$/.test(s) && Number(s) >= 1 && Number(s) <= 9999;
  let numbers: number[];
  if (!text.includes(',')) {
    if (!whole(text)) throw usageError(`--students ${JSON.stringify(raw)}: expected a count of at least 2, or student numbers separated by commas`);
    numbers = Array.from({ length: Number(text) }, (_, i) => i + 1);
  } else {
    const parts = text.split(',').map((s) => s.trim());
    const bad = parts.find((s) => !whole(s));
    if (bad !== undefined) throw usageError(`--students: ${JSON.stringify(bad)} is not a student number (1-9999)`);
    numbers = parts.map(Number);
    const seen = new Set<number>();
    for (const n of numbers) {
      if (seen.has(n)) throw usageError(`--students: student ${n} is listed twice`);
      seen.add(n);
    }
  }
  if (numbers.length < 2) throw usageError(`--students ${raw}: a class needs at least 2 students (each one backs another up)`);
  if (numbers.length > MAX_STUDENTS) throw usageError(`--students ${raw}: at most ${MAX_STUDENTS} students`);
  return numbers;
}

export function parsePairing(raw: string | undefined): Pairing {
  const value = raw ?? 'pairs';
  if (!(PAIRINGS as readonly string[]).includes(value)) throw usageError(`--pairs ${JSON.stringify(value)}: expected ${PAIRINGS.join(' or ')}`);
  return value as Pairing;
}

/** The domain for student n; the template must hold {n} exactly once. */
export function studentDomain(template: string, n: number): string {
  return checkDnsName('--domain', template.replace('{n}', String(n)), 2);
}

export function checkTemplate(template: string | undefined): string {
  if (!template) throw usageError("--domain is required: a template with {n} for the student number, e.g. 'st{n}.sne24.ru'");
  const count = template.split('{n}').length - 1;
  if (count !== 1) throw usageError(`--domain ${JSON.stringify(template)}: needs {n} exactly once (e.g. 'st{n}.sne24.ru'), found it ${count} times`);
  studentDomain(template, 1);
  return template;
}

/**
 * Who backs up whom, as [backer, backed] index pairs. pairs: 1<->2, 3<->4, ...; an odd class
 * ends in a ring of three, so nobody is left without a backup. ring: each backs up the next one.
 */
export function backups(count: number, pairing: Pairing): [number, number][] {
  const ring = (from: number, to: number): [number, number][] =>
    Array.from({ length: to - from }, (_, k) => [from + k, from + ((k + 1) % (to - from))]);
  if (pairing === 'ring' || count <= 3) return ring(0, count);
  const out: [number, number][] = [];
  const pairedUpTo = count % 2 === 0 ? count : count - 3;
  for (let i = 0; i < pairedUpTo; i += 2) out.push([i, i + 1], [i + 1, i]);
  if (pairedUpTo < count) out.push(...ring(pairedUpTo, count));
  return out;
}

/** Parses --hosts FILE's mapping: `key: address-or-name` or `key: {host: NAME, address: IP}`. */
export function parsePlaces(data: unknown, file: string): Record<string, HostPlace> {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw usageError(`--hosts ${file}: expected a mapping of student (number or host name) and "dns" to an address or host name`, "e.g.\n  dns: 192.0.2.53\n  14: 192.0.2.14\n  st18: {host: vm18.example.org, address: 192.0.2.18}");
  }
  const out: Record<string, HostPlace> = {};
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    const where = `--hosts ${file}: ${key}`;
    if (typeof value === 'string' || typeof value === 'number') {
      const text = String(value).trim();
      out[key] = isIP(text) ? { host: text, address: text } : { host: checkHostName(where, text) };
    } else if (value && typeof value === 'object' && !Array.isArray(value)) {
      const { host, address, ...rest } = value as Record<string, unknown>;
      const extra = Object.keys(rest);
      if (extra.length) throw usageError(`${where}: unknown field ${extra[0]} (only host and address)`);
      if (host === undefined && address === undefined) throw usageError(`${where}: give host, address or both`);
      const addr = address === undefined ? undefined : checkAddress(where, String(address));
      out[key] = { host: host === undefined ? addr! : checkHostName(where, String(host)), ...(addr ? { address: addr } : {}) };
    } else {
      throw usageError(`${where}: expected an address, a host name or {host, address}`);
    }
  }
  return out;
}

function checkHostName(where: string, value: string): string {
  return checkDnsName(where, value);
}

/** Addresses without --hosts: dns is .2, students .11 upwards, in a private IPv4 network. */
function subnetAddress(subnet: string, offset: number): string {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(subnet);
  if (!m) throw usageError(`--subnet ${JSON.stringify(subnet)}: expected an IPv4 network such as 10.77.0.0/24`);
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits < 8 || bits > 24) throw usageError(`--subnet ${subnet}: expected an IPv4 network from /8 to /24`);
  const base = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - bits);
  const start = base - (base % size);
  if (offset >= size - 1) throw usageError(`--subnet ${subnet} is too small for this class`);
  const v = start + offset;
  return [24, 16, 8, 0].map((s) => Math.floor(v / 2 ** s) % 256).join('.');
}

/** The inventory host name: the student domain's first label (st14), or the whole domain when that repeats. */
function hostNames(domains: string[]): string[] {
  const first = domains.map((d) => d.split('.')[0]!);
  const unique = new Set(first).size === first.length && !first.includes(DNS_HOST);
  return unique ? first : domains;
}

export function buildInventory(input: ClassInput): ClassInventory {
  const domains = input.students.map((n) => studentDomain(input.domainTemplate, n));
  const names = hostNames(domains);
  const places = input.places;
  const place = (key: string, n: number | undefined, offset: number): HostPlace => {
    if (!places) {
      const address = subnetAddress(input.subnet, offset);
      return { host: address, address };
    }
    const found = places[key] ?? (n === undefined ? undefined : places[String(n)]);
    if (!found) throw usageError(`--hosts: no entry for ${key}${n === undefined ? '' : ` (student ${n})`}`, 'every student and dns need one');
    return found;
  };
  if (places) {
    const known = new Set([DNS_HOST, ...names, ...input.students.map(String)]);
    const stray = Object.keys(places).find((k) => !known.has(k));
    if (stray !== undefined) throw usageError(`--hosts: ${JSON.stringify(stray)} is neither dns nor a student of this class (${names.join(', ')})`);
  }
  const dnsPlace = place(DNS_HOST, undefined, 2);
  if (!dnsPlace.address) throw usageError('--hosts: dns needs an address (the students use it as their DNS server)', 'write dns: {host: NAME, address: IP}');
  const hosts = input.students.map((n, i) => ({ n, name: names[i]!, domain: domains[i]!, mail: `mail.${domains[i]}`, place: place(names[i]!, n, 11 + i) }));

  const seen = new Map<string, string>();
  for (const h of [{ name: DNS_HOST, place: dnsPlace }, ...hosts]) {
    const other = seen.get(h.place.host);
    if (other) throw usageError(`--hosts: ${other} and ${h.name} are both ${h.place.host}; each needs a machine of its own`);
    seen.set(h.place.host, h.name);
  }

  const pairs = backups(hosts.length, input.pairing);
  const backs = new Map(pairs.map(([backer, backed]) => [backer, backed]));
  const backedBy = new Map(pairs.map(([backer, backed]) => [backed, backer]));
  const students: StudentHost[] = hosts.map((h, i) => {
    const partner = hosts[backs.get(i)!]!;
    const backer = hosts[backedBy.get(i)!]!;
    return {
      name: h.name,
      vars: {
        ansible_host: h.place.host,
        labctl_student: h.n,
        labctl_domain: h.domain,
        labctl_mail_host: h.mail,
        ...(h.place.address ? { labctl_address: h.place.address } : {}),
        labctl_partner: partner.domain,
        labctl_partner_host: partner.name,
        labctl_partner_mail_host: partner.mail,
        ...(partner.place.address ? { labctl_partner_address: partner.place.address } : {}),
        labctl_mx: [
          { priority: 10, host: h.mail },
          { priority: 20, host: backer.mail },
        ],
        labctl_dns_address: dnsPlace.address!,
      },
    };
  });
  return { students, dns: { name: DNS_HOST, vars: { ansible_host: dnsPlace.host, labctl_address: dnsPlace.address } }, pairing: input.pairing };
}

/** The inventory as Ansible's YAML format: all -> children -> labctl_students / labctl_build (empty) / labctl_dns -> hosts. */
export function renderInventory(inv: ClassInventory, header: string): string {
  const doc = {
    all: {
      children: {
        [STUDENTS_GROUP]: { hosts: Object.fromEntries(inv.students.map((s) => [s.name, s.vars])) },
        [BUILD_GROUP]: {},
        [DNS_GROUP]: { hosts: { [inv.dns.name]: inv.dns.vars } },
      },
    },
  };
  const comment = header.split('\n').map((l) => `# ${l}`.trimEnd()).join('\n');
  return `${comment}\n${stringify(doc, { lineWidth: 0 })}`;
}

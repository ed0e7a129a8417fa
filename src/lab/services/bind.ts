import { promises as fs } from 'node:fs';
import path from 'node:path';
import ejs from 'ejs';
import { LabError } from '../../errors.js';
import { ensureDir, removePath, writeAtomic } from '../../system/files.js';
import { inNamespace } from '../../system/netns.js';
import { runningPid, signal, waitUntil } from '../../system/procs.js';
import { run } from '../../system/run.js';
import { installChecked } from './install.js';
import { labTemplatesDir } from './templates.js';
import { labPaths, names, type LabSpec } from '../topology.js';

/**
 * The lab's DNS server: BIND9 in its own namespace with its own named.conf and working
 * directory, authoritative for every lab domain (records from config/dns.ts, the same ones
 * `labctl dns` prints) and for the lab's reverse zone.
 */
export interface LabZone {
  name: string;
  /** Records below SOA/NS, in zone-file syntax. */
  body: string;
  /** Whether the zone holds the name server's own A record. */
  nsInZone: boolean;
  ns: string;
  /** Signed by BIND (inline signing, dnssec-policy default): the forward zones; not the reverse zone. */
  signed: boolean;
  /** The SOA serial; default: seconds since 2020. A rewrite must raise it, or BIND keeps the old zone. */
  serial?: number;
}

export const dnsFiles = () => ({
  dir: labPaths.dns,
  conf: path.join(labPaths.dns, 'named.conf'),
  pid: path.join(labPaths.dns, 'named.pid'),
  log: path.join(labPaths.dns, 'named.log'),
  /** BIND's DNSSEC keys (made by BIND itself for each signed zone). */
  keys: path.join(labPaths.dns, 'keys'),
  zone: (name: string) => path.join(labPaths.dns, `${name}.zone`),
});

export function reverseZoneName(subnet: string): string {
  const [a, b, c] = subnet.split('/')[0]!.split('.');
  return `${c}.${b}.${a}.in-addr.arpa`;
}

export function reverseZoneBody(entries: { address: string; name: string }[]): string {
  return entries.map((e) => `${e.address.split('.')[3]} IN PTR ${e.name}.`).join('\n') + '\n';
}

/** Serial: seconds since 2020, fits in 32 bits and grows each `lab up`. */
export const serial = () => Math.floor((Date.now() - Date.UTC(2020, 0, 1)) / 1000);

/** The text of one zone's file (the unsigned zone; BIND keeps the signed copy beside it). */
export function renderZone(spec: LabSpec, z: LabZone): Promise<string> {
  return ejs.renderFile(path.join(labTemplatesDir, 'zone.ejs'), {
    origin: z.name,
    ns: z.ns,
    nsAddress: spec.dnsAddress,
    nsInZone: z.nsInZone,
    serial: z.serial ?? serial(),
    body: z.body,
  });
}

const SERIAL_LINE = /^(\s*)(\d+)( ; serial)$/m;

/** The serial of a zone file renderZone wrote, or undefined. */
export const zoneSerial = (text: string): number | undefined => {
  const m = SERIAL_LINE.exec(text);
  return m ? Number(m[2]) : undefined;
};

/** A zone file's text with its serial left out: two renderings of the same zone at different times are equal. */
export const withoutSerial = (text: string) => text.replace(SERIAL_LINE, '$1<serial>$3');

/** Writes one zone's file (the unsigned text; BIND keeps the signed copy beside it) and checks it. */
export async function writeZone(spec: LabSpec, z: LabZone): Promise<void> {
  const f = dnsFiles();
  const text = await renderZone(spec, z);
  const candidate = `${f.zone(z.name)}.new`;
  await writeAtomic(candidate, text);
  const r = await inNamespace(names.dnsNs, 'named-checkzone', ['-q', z.name, candidate], { allowFailure: true });
  if (r.exitCode !== 0) {
    const why = (await inNamespace(names.dnsNs, 'named-checkzone', [z.name, candidate], { allowFailure: true })).stdout;
    await removePath(candidate);
    throw new LabError(`dns: named-checkzone refused zone ${z.name}: ${why.trim()}`);
  }
  await writeAtomic(f.zone(z.name), text);
  await removePath(candidate);
}

/** SIGHUP: named rereads its configuration and every zone file (and re-signs what changed). */
export async function reloadDnsServer(): Promise<void> {
  const pid = await dnsServerPid();
  if (!pid) throw new LabError(`dns: named is not running in ${names.dnsNs}`, 'see labctl lab status');
  signal(pid, 'SIGHUP');
}

/** named.conf for these zones. */
export function renderNamedConf(spec: LabSpec, zones: LabZone[]): Promise<string> {
  const f = dnsFiles();
  return ejs.renderFile(path.join(labTemplatesDir, 'named.conf.ejs'), {
    dir: f.dir,
    keys: f.keys,
    listen: spec.dnsAddress,
    zones: zones.map((z) => ({ name: z.name, file: f.zone(z.name), signed: z.signed })),
  });
}

export async function writeDnsServer(spec: LabSpec, zones: LabZone[]): Promise<void> {
  const f = dnsFiles();
  await ensureDir(f.dir, 0o755);
  await ensureDir(f.keys, 0o700);
  for (const z of zones) await writeZone(spec, z);
  await writeAtomic(f.conf, await renderNamedConf(spec, zones));
  // Check what we wrote with BIND's own tools, inside the lab (never the machine's resolver).
  const conf_ = await inNamespace(names.dnsNs, 'named-checkconf', [f.conf], { allowFailure: true });
  if (conf_.exitCode !== 0) throw new LabError(`dns: named-checkconf refused ${f.conf}: ${(conf_.stdout + conf_.stderr).trim()}`);
}

/** The SOA serial the lab DNS server serves for `zone` now (asked from inside the lab), or undefined. */
async function servedSerial(spec: LabSpec, zone: string): Promise<number | undefined> {
  const soa = (await query(spec, 'SOA', zone).catch(() => []))[0]?.split(/\s+/)[2];
  return soa === undefined ? undefined : Number(soa);
}

/**
 * The running named's zones and named.conf replaced (./install.ts: each staged beside its file,
 * named-checkzone on each staged zone and named-checkconf on the staged named.conf, renamed into
 * place), then SIGHUP, confirmed: the serial served for each zone is at least the one written.
 * When that fails the old files go back and named is told again. How to put them back (lab up's take-back).
 */
export async function reloadDnsZones(spec: LabSpec, zones: LabZone[]): Promise<() => Promise<string>> {
  const f = dnsFiles();
  const files = [];
  for (const z of zones) files.push({ path: f.zone(z.name), text: await renderZone(spec, z) });
  files.push({ path: f.conf, text: await renderNamedConf(spec, zones) });
  const done = await installChecked({
    what: 'the zones and named.conf',
    files,
    async check(staged) {
      for (const z of zones) {
        const r = await inNamespace(names.dnsNs, 'named-checkzone', [z.name, staged[f.zone(z.name)]!], { allowFailure: true });
        if (r.exitCode !== 0) throw new LabError(`dns: named-checkzone refused zone ${z.name}: ${(r.stdout + r.stderr).trim().split('\n').slice(-2).join(' ')}`);
      }
      const c = await inNamespace(names.dnsNs, 'named-checkconf', [staged[f.conf]!], { allowFailure: true });
      if (c.exitCode !== 0) throw new LabError(`dns: named-checkconf refused ${f.conf}: ${(c.stdout + c.stderr).trim()}`);
    },
    async reload(restored) {
      await reloadDnsServer();
      const loaded = async () => {
        for (const z of zones) if (((await servedSerial(spec, z.name)) ?? 0) < (z.serial ?? 0)) return false;
        return true;
      };
      if (restored) return void (await waitUntil(() => answers(spec), 10_000, 100));
      if (!(await waitUntil(loaded, 10_000, 100))) throw new LabError(`dns: named does not serve the new serials after the reload`, `see ${f.log}`);
    },
  });
  return done.restore;
}

export const dnsServerPid = () => runningPid(dnsFiles().pid);

export async function startDnsServer(spec: LabSpec): Promise<number> {
  const f = dnsFiles();
  const already = await dnsServerPid();
  if (already) return already;
  await removePath(f.pid);
  // named forks into the background itself once its sockets are bound.
  const r = await inNamespace(names.dnsNs, 'named', ['-c', f.conf, '-4'], { allowFailure: true, timeoutMs: 15000 });
  const started = await waitUntil(async () => (await dnsServerPid()) !== undefined && (await answers(spec)), 10000, 100);
  if (!started) {
    const log = await fs.readFile(f.log, 'utf8').catch(() => '');
    const why = (r.stderr || r.stdout || log.split('\n').slice(-5).join(' | ')).trim();
    throw new LabError(`dns: named did not start in ${names.dnsNs}: ${why || 'no answer on port 53'}`, `see ${f.log}`);
  }
  return (await dnsServerPid())!;
}

/** True when the lab's DNS server answers a query for the first lab domain (asked from inside the lab). */
export async function answers(spec: LabSpec, fromNs: string = names.clientNs, timeoutS = 1): Promise<boolean> {
  const domain = spec.hosts[0]!.domain;
  const r = await run(
    'ip',
    ['netns', 'exec', fromNs, 'dig', `@${spec.dnsAddress}`, '+norecurse', `+time=${timeoutS}`, '+tries=1', '+short', 'SOA', domain],
    { allowFailure: true, timeoutMs: (timeoutS + 2) * 1000 },
  );
  return r.exitCode === 0 && r.stdout.trim().length > 0;
}

/** Asks the lab DNS server from inside a lab namespace; the answer lines (dig +short). */
export async function query(spec: LabSpec, type: string, name: string, fromNs: string = names.clientNs): Promise<string[]> {
  const r = await run(
    'ip',
    ['netns', 'exec', fromNs, 'dig', `@${spec.dnsAddress}`, '+norecurse', '+time=1', '+tries=2', '+short', type, name],
    { allowFailure: true, timeoutMs: 6000 },
  );
  if (r.exitCode !== 0) throw new LabError(`dns: no answer from the lab DNS server ${spec.dnsAddress} for ${type} ${name}: ${(r.stdout + r.stderr).trim()}`);
  return r.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
}

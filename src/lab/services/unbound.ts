import { promises as fs } from 'node:fs';
import path from 'node:path';
import ejs from 'ejs';
import { LabError } from '../../errors.js';
import { fileSize, readFrom, removePath, writeAtomic } from '../../system/files.js';
import { inNamespace } from '../../system/netns.js';
import { runningPid, signal, waitUntil } from '../../system/procs.js';
import { run } from '../../system/run.js';
import { dnsFiles, reverseZoneName } from './bind.js';
import { installChecked } from './install.js';
import { labTemplatesDir } from './templates.js';
import { names, type LabSpec } from '../topology.js';

/**
 * The lab's validating resolver (beyond the write-up): unbound in the DNS server's namespace, on its own lab
 * address. It knows only the lab's zones (stub zones to the lab's BIND), trusts the lab's parent
 * zone by a trust anchor, and sets the AD bit on what it validated; the mail hosts' resolv.conf
 * names it with `options trust-ad edns0`, without which Exim ignores AD and never uses DANE.
 */
export const resolverFiles = () => ({
  conf: path.join(dnsFiles().dir, 'unbound.conf'),
  anchors: path.join(dnsFiles().dir, 'trust-anchors.ds'),
  pid: path.join(dnsFiles().dir, 'unbound.pid'),
  log: path.join(dnsFiles().dir, 'unbound.log'),
});

/** The resolv.conf of a namespace that asks the validating resolver. */
export const resolvConf = (spec: LabSpec) =>
  `# labctl lab: the lab's validating resolver (unbound; the lab's BIND behind it), nothing else.\n` +
  `# trust-ad: pass the resolver's AD bit on to Exim (DANE needs it); edns0: room for DNSSEC answers.\n` +
  `nameserver ${spec.resolverAddress}\noptions timeout:1 attempts:2 trust-ad edns0\n`;

/** unbound's built-in private reverse zone holding the lab's subnet (10.in-addr.arpa for 10.x). */
function builtinReverseZone(subnet: string): string {
  const [a, b] = subnet.split('.');
  if (a === '10') return '10.in-addr.arpa';
  return `${b}.${a}.in-addr.arpa`;
}

export const resolverPid = () => runningPid(resolverFiles().pid);

export interface ResolverInputs {
  anchors: string[];
  signedTops: string[];
  stubs: string[];
}

/** What the resolver's two files hold: its trust anchors and its unbound.conf. */
export async function renderResolver(spec: LabSpec, o: ResolverInputs): Promise<{ anchors: string; conf: string }> {
  const f = resolverFiles();
  const conf = await ejs.renderFile(path.join(labTemplatesDir, 'unbound.conf.ejs'), {
    dir: dnsFiles().dir,
    listen: spec.resolverAddress,
    subnet: spec.subnet,
    anchors: f.anchors,
    dnsAddress: spec.dnsAddress,
    stubs: o.stubs,
    insecure: [reverseZoneName(spec.subnet)],
    nodefault: builtinReverseZone(spec.subnet),
  });
  return { anchors: `; labctl lab: the DS of the lab's top signed zones (${o.signedTops.join(', ')})\n${o.anchors.join('\n')}\n`, conf };
}

/** Writes the trust anchors and unbound.conf and checks them with unbound-checkconf. */
async function writeResolver(spec: LabSpec, o: ResolverInputs): Promise<void> {
  const f = resolverFiles();
  const want = await renderResolver(spec, o);
  await writeAtomic(f.anchors, want.anchors);
  await writeAtomic(f.conf, want.conf);
  await checkConf(f.conf);
}

async function checkConf(conf: string): Promise<void> {
  const check = await run('unbound-checkconf', [conf], { allowFailure: true });
  if (check.exitCode !== 0) throw new LabError(`dns: unbound-checkconf refused ${conf}: ${(check.stderr || check.stdout).trim()}`, 'apt-get install unbound');
}

/** Waits for unbound to run and give a validated answer for the first top zone; its pid. */
async function validatedPid(spec: LabSpec, o: ResolverInputs, stderr = ''): Promise<number> {
  const top = o.signedTops[0]!;
  const ok = await waitUntil(async () => (await resolverPid()) !== undefined && (await validates(spec, top)), 10_000, 100);
  if (!ok) {
    const log = await fs.readFile(resolverFiles().log, 'utf8').catch(() => '');
    throw new LabError(`dns: the validating resolver gives no validated (AD) answer for ${top}: ${(stderr || log.split('\n').slice(-4).join(' | ')).trim() || 'no answer'}`, `see ${resolverFiles().log}`);
  }
  return (await resolverPid())!;
}

/** Writes the trust anchors and unbound.conf, checks it with unbound-checkconf, starts unbound, waits for a validated answer. */
export async function startResolver(spec: LabSpec, o: ResolverInputs): Promise<number> {
  const already = await resolverPid();
  if (already) return already;
  await writeResolver(spec, o);
  await removePath(resolverFiles().pid);
  const r = await inNamespace(names.dnsNs, 'unbound', ['-c', resolverFiles().conf], { allowFailure: true, timeoutMs: 15_000 });
  return validatedPid(spec, o, r.stderr);
}

/**
 * The running unbound's files replaced (./install.ts: staged, unbound-checkconf on the staged
 * unbound.conf, renamed into place), then SIGHUP, confirmed: its log shows a new start of service
 * after what it held before, and it gives a validated answer; the old files back if not. Its pid,
 * and how to put the old files back (lab up's take-back).
 */
export async function reloadResolver(spec: LabSpec, o: ResolverInputs): Promise<{ pid: number; restore: () => Promise<string> }> {
  const pid = await resolverPid();
  if (!pid) throw new LabError(`dns: the validating resolver is not running in ${names.dnsNs}`, 'run labctl lab down, then labctl lab up');
  const f = resolverFiles();
  const want = await renderResolver(spec, o);
  const done = await installChecked({
    what: "the resolver's trust anchors and unbound.conf",
    files: [{ path: f.anchors, text: want.anchors }, { path: f.conf, text: want.conf }],
    check: (staged) => checkConf(staged[f.conf]!),
    reload: async () => {
      const offset = await fileSize(f.log);
      signal(pid, 'SIGHUP');
      const restarted = async () => /start of service/.test((await readFrom(f.log, offset)).toString());
      if (!(await waitUntil(restarted, 10_000, 50))) throw new LabError(`dns: unbound (pid ${pid}) logged no new start of service after SIGHUP`, `see ${f.log}`);
      await validatedPid(spec, o);
    },
  });
  return { pid, restore: done.restore };
}

/** Whether the resolver answers SOA of the zone with the AD bit (asked from the client's namespace). */
export async function validates(spec: LabSpec, zone: string): Promise<boolean> {
  const r = await run('ip', ['netns', 'exec', names.clientNs, 'dig', `@${spec.resolverAddress}`, '+dnssec', '+time=1', '+tries=1', 'SOA', zone], { allowFailure: true, timeoutMs: 4000 });
  return r.exitCode === 0 && /;; flags:[^;]*\bad\b/.test(r.stdout) && /status: NOERROR/.test(r.stdout);
}

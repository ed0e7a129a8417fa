import { promises as fs } from 'node:fs';
import { dnsRecords, renderZoneFragment } from '../config/dns.js';
import { errorMessage, EXIT, LabError } from '../errors.js';
import { payloadItem, type Topology } from '../evidence/payloads.js';
import { saveEvidence } from '../evidence/store.js';
import { addBridge, addNamespace, connectToBridge, inNamespace, namespaceExists, writeNamespaceEtc } from '../system/netns.js';
import { which } from '../system/run.js';
import { runSteps } from '../steps/runner.js';
import type { Step, StepObserver } from '../steps/types.js';
import { daemonPid, listeningPorts, startDaemon } from './daemon.js';
import { dnsFiles, dnsServerPid, query, reloadDnsServer, reverseZoneBody, reverseZoneName, serial, startDnsServer, writeDnsServer, writeZone, type LabZone } from './dns.js';
import { delegation, dsRecords, parentZone } from './dnssec.js';
import { startWebServer, webServerPid } from './mta-sts-server.js';
import { resolvConf, resolverPid, startResolver } from './resolver.js';
import { waitUntil } from '../system/procs.js';
import { findLeftovers, describeLeftovers, labDown } from './down.js';
import { prepareHost, type PreparedHost } from './host.js';
import { dkimPublicKeyPem } from './keys.js';
import { loadState, saveState, type LabState } from './state.js';
import { labPaths, mailHostName, members, names, prefixLength, type LabSpec } from './topology.js';
import { EXIM_BIN } from './view.js';

/**
 * `labctl lab up`: namespaces and bridge, the DNS server, each mail host configured by the
 * configure model and template, the daemons. On any failure the host at fault is named and
 * everything the lab made so far is removed again.
 */
export type UpResult = { already: true; state: LabState } | { already: false; state: LabState; hosts: PreparedHost[] };

async function preflight(): Promise<void> {
  if (process.getuid?.() !== 0) throw new LabError('labctl lab needs root (namespaces, mounts, port 25)', 'run it with sudo', EXIT.preflight);
  const missing: string[] = [];
  for (const [prog, pkg] of [['ip', 'iproute2'], ['unshare', 'util-linux'], ['named', 'bind9'], ['dig', 'bind9-dnsutils'], ['named-checkzone', 'bind9-utils'], ['dnssec-dsfromkey', 'bind9-utils'], ['unbound', 'unbound'], ['nginx', 'nginx-light']] as const) {
    if (!(await which(prog))) missing.push(`${prog} (${pkg})`);
  }
  if (!(await fs.stat(EXIM_BIN).then(() => true, () => false))) missing.push(`${EXIM_BIN} (labctl install)`);
  if (missing.length) throw new LabError(`missing for the lab: ${missing.join(', ')}`, 'apt-get install bind9 bind9-dnsutils unbound nginx-light (scripts/setup.sh does), and run labctl install', EXIT.preflight);
}

/** Whether the lab described by the state file is fully running. */
export async function labHealthy(state: LabState): Promise<string[]> {
  const problems: string[] = [];
  for (const m of members(state.spec)) if (!(await namespaceExists(m.ns))) problems.push(`namespace ${m.ns} missing`);
  if (!(await dnsServerPid())) problems.push('named is not running');
  if (!(await resolverPid())) problems.push('the validating resolver (unbound) is not running');
  for (const h of state.spec.hosts) if (!(await webServerPid(h))) problems.push(`${h.name}: the MTA-STS web server (nginx) is not running`);
  for (const h of state.spec.hosts) if (!(await daemonPid(h))) problems.push(`${h.name}: Exim daemon not running`);
  return problems;
}

function sameTopology(a: LabSpec, b: LabSpec): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

async function buildNetwork(spec: LabSpec): Promise<void> {
  await addNamespace(names.switchNs);
  await addBridge(names.switchNs, names.bridge);
  for (const m of members(spec)) {
    await addNamespace(m.ns);
    await connectToBridge({
      switchNs: names.switchNs,
      bridge: names.bridge,
      switchSide: names.switchPort(m.name),
      hostNs: m.ns,
      hostSide: names.hostIf,
      cidr: `${m.address}/${prefixLength(spec)}`,
    });
  }
  // The validating resolver has an address of its own beside BIND's, in the DNS namespace.
  await inNamespace(names.dnsNs, 'ip', ['addr', 'add', `${spec.resolverAddress}/${prefixLength(spec)}`, 'dev', names.hostIf]);
  // The client only needs a resolver; mail hosts get theirs with the rest of their view.
  await writeNamespaceEtc(names.clientNs, { 'resolv.conf': resolvConf(spec) });
}

/** A mail domain's zone: exactly the records `labctl dns` prints for it, TLSA included (from the certificate the host serves). */
export async function domainZone(h: PreparedHost): Promise<LabZone> {
  const records = dnsRecords(h.model, { dkimPublicKeyPem: await dkimPublicKeyPem(h.keys), tlsCertificatePem: await fs.readFile(h.keys.certificate, 'utf8') });
  return { name: h.model.domain, ns: `ns.${h.model.domain}`, nsInZone: true, signed: true, body: renderZoneFragment(records) };
}

/** The parent zone: a delegation per lab domain, with its DS once BIND has signed it. */
export function parentLabZone(spec: LabSpec, parent: string, ds: Record<string, string[]> = {}, serial_?: number): LabZone {
  const body = spec.hosts.map((h) => delegation(h.domain, parent, spec.dnsAddress, ds[h.domain] ?? [])).join('\n\n') + '\n';
  return { name: parent, ns: `ns.${parent}`, nsInZone: true, signed: true, body, ...(serial_ ? { serial: serial_ } : {}) };
}

async function zones(spec: LabSpec, hosts: PreparedHost[]): Promise<LabZone[]> {
  const out: LabZone[] = [];
  const parent = parentZone(spec);
  if (parent) out.push(parentLabZone(spec, parent));
  for (const h of hosts) out.push(await domainZone(h));
  out.push({
    name: reverseZoneName(spec.subnet),
    ns: `ns.${spec.hosts[0]!.domain}`,
    nsInZone: false,
    signed: false,
    body: reverseZoneBody([
      ...spec.hosts.map((h) => ({ address: h.address, name: mailHostName(h) })),
      { address: spec.dnsAddress, name: `ns.${spec.hosts[0]!.domain}` },
    ]),
  });
  return out;
}

/**
 * Once BIND has signed the zones: each domain's DS into the parent zone (reloaded, and served
 * before we go on), and the DS of the top signed zones as the resolver's trust anchors.
 */
async function secureDelegations(spec: LabSpec, z: LabZone[]): Promise<{ anchors: string[]; tops: string[] }> {
  const keys = dnsFiles().keys;
  const parent = parentZone(spec);
  if (!parent) {
    const tops = spec.hosts.map((h) => h.domain);
    return { anchors: (await Promise.all(tops.map((d) => dsRecords(keys, d)))).flat(), tops };
  }
  const ds: Record<string, string[]> = {};
  for (const h of spec.hosts) ds[h.domain] = await dsRecords(keys, h.domain);
  const before = z.find((x) => x.name === parent)!;
  await writeZone(spec, parentLabZone(spec, parent, ds, Math.max(serial(), (before.serial ?? serial()) + 1)));
  await reloadDnsServer();
  const first = spec.hosts[0]!.domain;
  if (!(await waitUntil(async () => (await query(spec, 'DS', first, names.dnsNs).catch(() => [])).length > 0, 10_000, 100))) {
    throw new LabError(`dns: the parent zone ${parent} does not serve the DS of ${first} after the reload`, `see ${dnsFiles().log}`);
  }
  return { anchors: await dsRecords(keys, parent), tops: [parent] };
}

interface UpContext {
  spec: LabSpec;
  hosts: PreparedHost[];
  /** The resolver's trust anchors (DS lines) and the zones they are for, found by the DNS step. */
  trust?: { anchors: string[]; tops: string[] };
}

/** `lab up` as steps: the network, each host's view and configuration, the DNS server, each daemon. */
export function labUpSteps(spec: LabSpec): Step<UpContext>[] {
  const network: Step<UpContext> = {
    id: 'network',
    title: 'namespaces, bridge, addresses',
    async check() {
      const present = await Promise.all(members(spec).map((m) => namespaceExists(m.ns)));
      return { done: present.every(Boolean), detail: `${members(spec).length} hosts on ${spec.subnet}` };
    },
    async apply() {
      await buildNetwork(spec);
      return { detail: `${members(spec).length} hosts on ${spec.subnet}` };
    },
  };
  const hostSteps = spec.hosts.map(
    (h): Step<UpContext> => ({
      id: `host-${h.name}`,
      title: `${h.name}: configure (model + template)`,
      async check() {
        return { done: false, detail: `${mailHostName(h)} ${h.address}: its own configure, spool, mailboxes and keys, checked like labctl configure` };
      },
      async apply(ctx) {
        try {
          ctx.hosts.push(await prepareHost(spec, h));
        } catch (err) {
          const msg = errorMessage(err);
          if (msg.startsWith(`${h.name}:`)) throw err;
          throw new LabError(`${h.name}: ${msg}`, err instanceof LabError ? err.hint : undefined, err instanceof LabError ? err.exitCode : EXIT.failure);
        }
        return { detail: `${mailHostName(h)} ${h.address}` };
      },
    }),
  );
  const dns: Step<UpContext> = {
    id: 'dns',
    title: 'dns: BIND authoritative server',
    async check() {
      const pid = await dnsServerPid();
      return pid ? { done: true, detail: `named pid ${pid}` } : { done: false, detail: `named on ${spec.dnsAddress}: a zone per host with MX 10/20, SPF, DKIM, and the reverse zone` };
    },
    async apply(ctx) {
      const z = await zones(spec, ctx.hosts);
      await writeDnsServer(spec, z);
      const pid = await startDnsServer(spec);
      ctx.trust = await secureDelegations(spec, z);
      return { detail: `named pid ${pid} on ${spec.dnsAddress}, ${z.length} zones, ${z.filter((x) => x.signed).length} signed (DS of each domain in ${ctx.trust.tops.join(', ')})` };
    },
  };
  const resolver: Step<UpContext> = {
    id: 'resolver',
    title: 'dns: validating resolver (unbound, DNSSEC)',
    async check() {
      const pid = await resolverPid();
      return pid ? { done: true, detail: `unbound pid ${pid}` } : { done: false, detail: `unbound on ${spec.resolverAddress}: the lab's zones from BIND, validated from the trust anchor, AD bit set` };
    },
    async apply(ctx) {
      if (!ctx.trust) throw new LabError('dns: no trust anchor: the DNS step did not run');
      const parent = parentZone(spec);
      const stubs = [...(parent ? [parent] : spec.hosts.map((h) => h.domain)), reverseZoneName(spec.subnet)];
      const pid = await startResolver(spec, { anchors: ctx.trust.anchors, signedTops: ctx.trust.tops, stubs });
      return { detail: `unbound pid ${pid} on ${spec.resolverAddress}, trust anchor ${ctx.trust.anchors.map((a) => a.split(/\s+/).slice(0, 4).join(' ')).join('; ')}` };
    },
  };
  const web = spec.hosts.map(
    (h): Step<UpContext> => ({
      id: `mta-sts-${h.name}`,
      title: `${h.name}: MTA-STS web server (nginx, HTTPS)`,
      async check() {
        const pid = await webServerPid(h);
        return pid ? { done: true, detail: `nginx pid ${pid}` } : { done: false, detail: `https://mta-sts.${h.domain}/.well-known/mta-sts.txt on ${h.address}:443` };
      },
      async apply(ctx) {
        const p = ctx.hosts.find((x) => x.spec.name === h.name)!;
        const pid = await startWebServer(h, p.model, p.keys);
        return { detail: `nginx pid ${pid}: https://mta-sts.${h.domain}/.well-known/mta-sts.txt` };
      },
    }),
  );
  const daemons = spec.hosts.map(
    (h): Step<UpContext> => ({
      id: `daemon-${h.name}`,
      title: `${h.name}: Exim daemon`,
      async check() {
        const pid = await daemonPid(h);
        return pid ? { done: true, detail: `pid ${pid}` } : { done: false, detail: `${EXIM_BIN} -bd -q${spec.queueInterval} in ${h.name}'s view` };
      },
      async apply() {
        const pid = await startDaemon(h, spec.queueInterval);
        return { detail: `pid ${pid}, ports ${(await listeningPorts(h)).join(',')}` };
      },
    }),
  );
  return [network, ...hostSteps, dns, resolver, ...web, ...daemons];
}

/** What `lab up --dry-run` shows: each step's check, nothing made. */
export async function planLabUp(spec: LabSpec, observer: StepObserver): Promise<void> {
  await runSteps(labUpSteps(spec), { spec, hosts: [] }, 'check', observer);
}

export async function labUp(spec: LabSpec, observer: StepObserver): Promise<UpResult> {
  await preflight();
  const state = await loadState();
  if (state) {
    const problems = await labHealthy(state);
    if (problems.length === 0 && sameTopology(state.spec, spec)) return { already: true, state };
    if (problems.length === 0) throw new LabError('a lab with a different topology is already up', 'run labctl lab down first');
    throw new LabError(`the lab is partly up (${problems.join('; ')})`, 'run labctl lab down, then labctl lab up');
  }
  const left = describeLeftovers(await findLeftovers());
  if (left.length) throw new LabError(`remains of an earlier lab are still there: ${left.slice(0, 3).join('; ')}${left.length > 3 ? ' ...' : ''}`, 'run labctl lab down first');

  try {
    const ctx: UpContext = { spec, hosts: [] };
    await runSteps(labUpSteps(spec), ctx, 'apply', observer);
    const hosts = ctx.hosts;
    const newState: LabState = {
      spec,
      upAt: new Date().toISOString(),
      hosts: Object.fromEntries(
        hosts.map((h) => [
          h.spec.name,
          { mailHost: h.model.mailHost, domain: h.model.domain, users: h.model.users, postmaster: h.model.postmaster, dkimSelector: h.model.dkimSelector },
        ]),
      ),
      caCertificate: hosts[0]!.keys.caCertificate,
    };
    await saveState(newState);
    const topology: Topology = { spec, hosts: newState.hosts, namespaces: members(spec).map((m) => m.ns) };
    await saveEvidence({
      area: 'lab',
      id: 'topology',
      title: 'lab topology',
      status: 'changed',
      summary: `${spec.hosts.map((h) => `${h.name} ${h.address}`).join(', ')}; dns ${spec.dnsAddress}; client ${spec.clientAddress}`,
      at: newState.upAt,
      evidence: [payloadItem('topology', topology)],
    });
    return { already: false, state: newState, hosts };
  } catch (err) {
    // Leave nothing half-made behind; the error names the host or part that failed.
    await labDown().catch((e) => console.error(`labctl: cleanup after a failed lab up also failed: ${errorMessage(e)}`));
    throw err instanceof LabError ? err : new LabError(`lab up failed: ${errorMessage(err)}`);
  }
}

export { labPaths };

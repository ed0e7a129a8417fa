import { promises as fs } from 'node:fs';
import { dnsRecords, renderZoneFragment } from '../config/dns.js';
import { errorMessage, EXIT, LabError } from '../errors.js';
import { payloadItem, type Topology } from '../evidence/payloads.js';
import { saveEvidence } from '../evidence/store.js';
import { addBridge, addNamespace, connectToBridge, namespaceExists, writeNamespaceEtc } from '../system/netns.js';
import { which } from '../system/run.js';
import { runSteps } from '../steps/runner.js';
import type { Step, StepObserver } from '../steps/types.js';
import { daemonPid, listeningPorts, startDaemon } from './daemon.js';
import { dnsServerPid, reverseZoneBody, reverseZoneName, startDnsServer, writeDnsServer, type LabZone } from './dns.js';
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
  for (const [prog, pkg] of [['ip', 'iproute2'], ['unshare', 'util-linux'], ['named', 'bind9'], ['dig', 'bind9-dnsutils'], ['named-checkzone', 'bind9-utils']] as const) {
    if (!(await which(prog))) missing.push(`${prog} (${pkg})`);
  }
  if (!(await fs.stat(EXIM_BIN).then(() => true, () => false))) missing.push(`${EXIM_BIN} (labctl install)`);
  if (missing.length) throw new LabError(`missing for the lab: ${missing.join(', ')}`, 'apt-get install bind9 bind9-dnsutils, and run labctl install', EXIT.preflight);
}

/** Whether the lab described by the state file is fully running. */
export async function labHealthy(state: LabState): Promise<string[]> {
  const problems: string[] = [];
  for (const m of members(state.spec)) if (!(await namespaceExists(m.ns))) problems.push(`namespace ${m.ns} missing`);
  if (!(await dnsServerPid())) problems.push('named is not running');
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
  // The client only needs a resolver; mail hosts get theirs with the rest of their view.
  await writeNamespaceEtc(names.clientNs, {
    'resolv.conf': `# labctl lab: the lab's own DNS server, nothing else\nnameserver ${spec.dnsAddress}\noptions timeout:1 attempts:2\n`,
  });
}

async function zones(spec: LabSpec, hosts: PreparedHost[]): Promise<LabZone[]> {
  const out: LabZone[] = [];
  for (const h of hosts) {
    const records = dnsRecords(h.model, { dkimPublicKeyPem: await dkimPublicKeyPem(h.keys) });
    out.push({ name: h.model.domain, ns: `ns.${h.model.domain}`, nsInZone: true, body: renderZoneFragment(records) });
  }
  out.push({
    name: reverseZoneName(spec.subnet),
    ns: `ns.${spec.hosts[0]!.domain}`,
    nsInZone: false,
    body: reverseZoneBody([
      ...spec.hosts.map((h) => ({ address: h.address, name: mailHostName(h) })),
      { address: spec.dnsAddress, name: `ns.${spec.hosts[0]!.domain}` },
    ]),
  });
  return out;
}

interface UpContext {
  spec: LabSpec;
  hosts: PreparedHost[];
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
      return { detail: `named pid ${pid} on ${spec.dnsAddress}, ${z.length} zones` };
    },
  };
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
  return [network, ...hostSteps, dns, ...daemons];
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

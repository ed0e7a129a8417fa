import { promises as fs } from 'node:fs';
import { errorMessage, EXIT, LabError } from '../../errors.js';
import { payloadItem, type Topology } from '../../evidence/payloads.js';
import { saveOutcome } from '../../evidence/record.js';
import { namespaceExists } from '../../system/netns.js';
import { which } from '../../system/run.js';
import { runSteps } from '../../steps/runner.js';
import type { StepObserver } from '../../steps/types.js';
import { describeLeftovers, findLeftovers } from '../down/leftovers.js';
import { labDown } from '../down/run.js';
import { daemonPid } from '../hosts/daemon.js';
import type { PreparedHost } from '../hosts/prepare.js';
import { EXIM_BIN } from '../hosts/view.js';
import { dnsServerPid } from '../services/bind.js';
import { webServerPid } from '../services/nginx.js';
import { resolverPid } from '../services/unbound.js';
import { loadState, saveState, type LabState } from '../state.js';
import { members, type LabSpec } from '../topology.js';
import type { UpContext } from './context.js';
import { labUpSteps } from './steps.js';

/**
 * `labctl lab up`: the steps of ./steps.ts (namespaces and bridge, each mail host configured by
 * the configure model and template, the DNS server and resolver, the web servers, the daemons).
 * On any failure the host at fault is named and everything the lab made so far is removed again.
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
    await saveOutcome('lab', {
      id: 'topology',
      title: 'lab topology',
      status: 'changed',
      summary: `${spec.hosts.map((h) => `${h.name} ${h.address}`).join(', ')}; dns ${spec.dnsAddress}; client ${spec.clientAddress}`,
      evidence: [payloadItem('topology', topology)],
    }, newState.upAt);
    return { already: false, state: newState, hosts };
  } catch (err) {
    // Leave nothing half-made behind; the error names the host or part that failed.
    await labDown().catch((e) => console.error(`labctl: cleanup after a failed lab up also failed: ${errorMessage(e)}`));
    throw err instanceof LabError ? err : new LabError(`lab up failed: ${errorMessage(err)}`);
  }
}

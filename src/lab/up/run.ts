import { promises as fs } from 'node:fs';
import { errorMessage, EXIT, LabError } from '../../errors.js';
import { payloadItem, type Topology } from '../../evidence/payloads.js';
import { saveOutcome } from '../../evidence/record.js';
import { which } from '../../system/run.js';
import { runSteps } from '../../steps/runner.js';
import type { StepObserver } from '../../steps/types.js';
import { labDown } from '../down/run.js';
import type { PreparedHost } from '../hosts/prepare.js';
import { EXIM_BIN } from '../hosts/view.js';
import { saveState, type LabState } from '../state.js';
import { members, type LabSpec } from '../topology.js';
import type { UpContext } from './context.js';
import { upGate } from './plan.js';
import { reapplySteps } from './repair.js';
import { labUpSteps } from './steps.js';

/**
 * `labctl lab up`: the steps of ./steps.ts (namespaces and bridge, each mail host configured by
 * the configure model and template, the DNS server and resolver, the web servers, the daemons).
 * On any failure the host at fault is named and everything the lab made so far is removed again.
 * On a running lab of this topology it re-applies only the steps whose checks differ (./repair.ts).
 */
export type UpResult = { already: true; state: LabState } | { already: false; state: LabState; hosts: PreparedHost[]; reapplied?: string[] };

async function preflight(): Promise<void> {
  if (process.getuid?.() !== 0) throw new LabError('labctl lab needs root (namespaces, mounts, port 25)', 'run it with sudo', EXIT.preflight);
  const missing: string[] = [];
  for (const [prog, pkg] of [['ip', 'iproute2'], ['unshare', 'util-linux'], ['named', 'bind9'], ['dig', 'bind9-dnsutils'], ['named-checkzone', 'bind9-utils'], ['dnssec-dsfromkey', 'bind9-utils'], ['unbound', 'unbound'], ['nginx', 'nginx-light']] as const) {
    if (!(await which(prog))) missing.push(`${prog} (${pkg})`);
  }
  if (!(await fs.stat(EXIM_BIN).then(() => true, () => false))) missing.push(`${EXIM_BIN} (labctl install)`);
  if (missing.length) throw new LabError(`missing for the lab: ${missing.join(', ')}`, 'apt-get install bind9 bind9-dnsutils unbound nginx-light (scripts/setup.sh does), and run labctl install', EXIT.preflight);
}

export async function labUp(spec: LabSpec, observer: StepObserver): Promise<UpResult> {
  await preflight();
  const verdict = await upGate(spec);
  if (verdict.kind === 'already') return { already: true, state: verdict.state };
  if (verdict.kind === 'refuse') throw verdict.error;
  // A running lab whose steps differ: exactly those re-applied in place, the lab left up either way.
  if (verdict.kind === 'reapply') {
    const hosts = await reapplySteps(spec, verdict.steps.map((s) => s.id), observer);
    return { already: false, state: verdict.state, hosts, reapplied: verdict.steps.map((s) => s.title) };
  }

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

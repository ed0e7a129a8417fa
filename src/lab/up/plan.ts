import { LabError } from '../../errors.js';
import { namespaceExists } from '../../system/netns.js';
import { QUIET, runSteps } from '../../steps/runner.js';
import type { StepObserver, StepRecord } from '../../steps/types.js';
import { describeLeftovers, findLeftovers } from '../down/leftovers.js';
import { daemonPid } from '../hosts/daemon.js';
import { dnsServerPid } from '../services/bind.js';
import { webServerPid } from '../services/nginx.js';
import { resolverPid } from '../services/unbound.js';
import { loadState, type LabState } from '../state.js';
import { members, type LabSpec } from '../topology.js';
import { reappliable } from './repair.js';
import { labUpSteps } from './steps.js';

/**
 * What `lab up` does with the machine as it finds it, decided in one place for the run
 * (./run.ts) and its dry run: a lab up with this topology whose every step's check finds it as
 * lab up would leave it is left as it is; one whose checks find steps that differ (a zone, a web
 * server's or a host's configuration changed on disk) has exactly those re-applied in place
 * (./repair.ts), unless one is a step that cannot be (the network, a daemon) or a check cannot
 * tell, when it refuses naming them; a lab up with another topology, a lab partly up or
 * remains of an earlier one make it refuse; else it builds the lab.
 */
export type UpVerdict =
  | { kind: 'already'; state: LabState }
  | { kind: 'reapply'; state: LabState; steps: { id: string; title: string }[] }
  | { kind: 'refuse'; error: LabError }
  | { kind: 'build' };


/** Whether the lab described by the state file is fully running: what is missing, or []. */
async function labHealthy(state: LabState): Promise<string[]> {
  const problems: string[] = [];
  for (const m of members(state.spec)) if (!(await namespaceExists(m.ns))) problems.push(`namespace ${m.ns} missing`);
  if (!(await dnsServerPid())) problems.push('named is not running');
  if (!(await resolverPid())) problems.push('the validating resolver (unbound) is not running');
  for (const h of state.spec.hosts) if (!(await webServerPid(h))) problems.push(`${h.name}: the MTA-STS web server (nginx) is not running`);
  for (const h of state.spec.hosts) if (!(await daemonPid(h))) problems.push(`${h.name}: Exim daemon not running`);
  return problems;
}

type Checked = Pick<StepRecord, 'id' | 'title' | 'status'>;

/** The steps whose check finds them not as lab up would leave them, or cannot tell. */
const notDone = (checks: readonly Checked[]) => checks.filter((r) => r.status === 'changed' || r.status === 'unknown' || r.status === 'failed');

/**
 * The verdict from what was found: the state file, what of its lab is not running, remains
 * without a state file, and (for a running lab of this topology) each step's check. Pure.
 */
export function upVerdict(spec: LabSpec, state: LabState | undefined, problems: readonly string[], left: readonly string[], checks: readonly Checked[] = []): UpVerdict {
  if (state) {
    const same = JSON.stringify(state.spec) === JSON.stringify(spec);
    const pending = notDone(checks);
    if (problems.length === 0 && same && pending.length === 0) return { kind: 'already', state };
    if (problems.length === 0 && same) {
      if (pending.every((r) => r.status === 'changed' && reappliable(r.id))) return { kind: 'reapply', state, steps: pending.map(({ id, title }) => ({ id, title })) };
      const named = pending.map((r) => `${r.title}${r.status === 'unknown' ? ' (cannot tell)' : reappliable(r.id) ? '' : ' (not in place)'}`);
      return { kind: 'refuse', error: new LabError(`the running lab is not as lab up would make it: ${named.join('; ')}`, 'run labctl lab down, then labctl lab up') };
    }
    if (problems.length === 0) return { kind: 'refuse', error: new LabError('a lab with a different topology is already up', 'run labctl lab down first') };
    return { kind: 'refuse', error: new LabError(`the lab is partly up (${problems.join('; ')})`, 'run labctl lab down, then labctl lab up') };
  }
  if (left.length) return { kind: 'refuse', error: new LabError(`remains of an earlier lab are still there: ${left.slice(0, 3).join('; ')}${left.length > 3 ? ' ...' : ''}`, 'run labctl lab down first') };
  return { kind: 'build' };
}


/**
 * Reads the machine (the lab state file, the lab's daemons, what a lab left) for upVerdict; for
 * a running lab of this topology, each step's check too (`records`: those a dry run already made).
 */
export async function upGate(spec: LabSpec, records?: readonly StepRecord[]): Promise<UpVerdict> {
  const state = await loadState();
  const problems = state ? await labHealthy(state) : [];
  const left = state ? [] : describeLeftovers(await findLeftovers());
  const checked = state && !problems.length && JSON.stringify(state.spec) === JSON.stringify(spec);
  const checks = checked ? (records ?? (await runSteps(labUpSteps(spec), { spec, hosts: [] }, 'check', QUIET))) : [];
  return upVerdict(spec, state, problems, left, checks);
}

export interface UpPlan {
  records: StepRecord[];
  verdict: UpVerdict;
}

/** What `lab up --dry-run` shows: each step's check against the machine, nothing made, and what lab up would do as a whole. */
export async function planLabUp(spec: LabSpec, observer: StepObserver): Promise<UpPlan> {
  const records = await runSteps(labUpSteps(spec), { spec, hosts: [] }, 'check', observer);
  return { records, verdict: await upGate(spec, records) };
}

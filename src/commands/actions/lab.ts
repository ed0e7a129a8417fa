/** `labctl lab ...`: the two-host backup-MX lab with its own DNS server, on one machine. */
import chalk from 'chalk';
import { EXIT, usageError } from '../../errors.js';
import { loadState } from '../../lab/state.js';
import { loadLabSpec } from '../../lab/topology.js';
import type { UpPlan } from '../../lab/up/plan.js';
import { StepLines, formatMs } from '../../ui/steps.js';
import { locked } from '../locked.js';
import { positiveInt, requireState } from './lab-common.js';

/** `labctl lab up`: the lab built (or its plan, --dry-run) under the lock. */
export const labUpAction = locked((o: { dryRun?: boolean }) => (o.dryRun ? 'shared' : 'exclusive'), async (o: { config?: string; dryRun?: boolean }) => ({ o, spec: await loadLabSpec(o.config) }), async ({ o, spec }) => {
  // The lab's code is imported here, after the flags and the lock: a refused run loads none of it.
  if (o.dryRun) {
    const { planLabUp } = await import('../../lab/up/plan.js');
    return printUpPlan(await planLabUp(spec, new StepLines('check')));
  }
  const { labUp } = await import('../../lab/up/run.js');
  const started = performance.now();
  const r = await labUp(spec, new StepLines());
  if (r.already) console.log('lab: already up with this topology, nothing to do (labctl lab status shows it)');
  else if (r.reapplied) console.log(`lab: re-applied in the running lab in ${formatMs(performance.now() - started)}: ${r.reapplied.join('; ')}; the rest as it was`);
  else console.log(`lab: up in ${formatMs(performance.now() - started)}`);
});

/** The last line of `lab up --dry-run`: what lab up would do as a whole; exit 1 when it would refuse. */
function printUpPlan({ records, verdict }: UpPlan): void {
  const pending = records.filter((r) => r.status === 'changed' || r.status === 'unknown').length;
  if (verdict.kind === 'refuse') {
    console.log(`lab: lab up would refuse: ${verdict.error.message}${verdict.error.hint ? ` (${verdict.error.hint})` : ''}`);
    process.exitCode = EXIT.failure;
  } else if (verdict.kind === 'reapply') {
    console.log(`lab: lab up would re-apply ${verdict.steps.length} of ${records.length} steps in the running lab: ${verdict.steps.map((s) => s.title).join('; ')}; the rest as it is`);
  } else if (verdict.kind === 'already') {
    console.log('lab: up with this topology, every step already done: lab up would change nothing');
  } else {
    console.log(`lab: lab up would run ${pending} of ${records.length} steps`);
  }
}

/** `labctl lab down --dry-run`: what lab down would stop and remove, or that there is nothing to do. */
async function planDown(o: { keepSpool?: string }): Promise<void> {
  const { planLabDown } = await import('../../lab/down/run.js');
  const { leftovers } = await planLabDown(o, new StepLines('check'));
  if (!leftovers.length) console.log('lab: nothing to do: the lab is down and nothing of it is left');
  else console.log(`lab: lab down would remove ${leftovers.length} things:\n${leftovers.map((l) => `  ${l}`).join('\n')}`);
}

/** `labctl lab down`: everything the lab made removed, saying what each host's queue loses. */
export const labDownAction = locked((o: { dryRun?: boolean }) => (o.dryRun ? 'shared' : 'exclusive'), async (o: { keepSpool?: string; dryRun?: boolean }) => {
  if (o.dryRun) return planDown(o);
  const { labDown } = await import('../../lab/down/run.js');
  const started = performance.now();
  const r = await labDown({
    keepSpool: o.keepSpool,
    onSpool: (s) => {
      const what = s.queued === 0 ? 'no queued messages' : `${s.queued} queued message${s.queued === 1 ? '' : 's'} ${s.keptIn ? 'removed' : 'discarded'}`;
      console.log(`lab: ${s.host}: ${what}${s.keptIn ? `; spool kept in ${s.keptIn}` : ''}`);
    },
  });
  const what = r.namespaces.length || r.killed || r.removedDir ? `removed ${r.namespaces.length} namespaces, stopped ${r.killed} processes` : 'nothing was up';
  console.log(`lab: down in ${formatMs(performance.now() - started)} (${what}); nothing left behind`);
});

/** `labctl lab leftovers`: what a lab left behind; exit 1 if anything. */
export const labLeftoversAction = async () => {
  const { describeLeftovers, findLeftovers } = await import('../../lab/down/leftovers.js');
  const left = describeLeftovers(await findLeftovers());
  for (const l of left) console.log(l);
  if (left.length) process.exitCode = EXIT.failure;
  else console.log('lab: nothing left behind');
};

/** `labctl lab status`: hosts, daemons and queues; exit 1 unless the lab is up and healthy. */
export const labStatusAction = async (o: { json?: boolean }) => {
  const state = await loadState();
  if (!state) {
    if (o.json) console.log(JSON.stringify({ up: false }));
    else console.log('lab: not up');
    process.exitCode = EXIT.failure;
    return;
  }
  const { labStatus, printStatus } = await import('../../lab/status.js');
  const st = await labStatus(state);
  if (o.json) console.log(JSON.stringify(st, null, 2));
  else printStatus(st);
  if (!st.healthy) process.exitCode = EXIT.failure;
};

/** `labctl lab exec HOST [COMMAND...]`: a command in a lab host's view, its exit code passed on. */
export const labExecAction = async (host: string, command: string[]) => {
  const state = await requireState();
  const { execInLab } = await import('../../lab/hosts/exec.js');
  process.exitCode = await execInLab(state, host, command);
};

/** `labctl lab send`: mail sent from inside a lab host. */
export const labSendAction = locked('exclusive', (o: { from: string; to: string; count: string; sender?: string; json?: boolean }) => {
  if (!/^[^@\s]+@[^@\s]+$/.test(o.to)) throw usageError(`--to: "${o.to}" is not an address`);
  return { o, count: positiveInt('--count', o.count) };
}, async ({ o, count }) => {
  const state = await requireState();
  const { labSend } = await import('../../lab/hosts/send.js');
  const r = await labSend(state, o.from, { to: o.to, count, from: o.sender });
  const ok = r.records.filter((x) => x.ok).length;
  if (o.json) for (const rec of r.records) console.log(JSON.stringify(rec));
  else {
    for (const rec of r.records.filter((x) => !x.ok)) console.log(chalk.red(`${rec.messageId}: ${rec.error}`));
    console.log(`lab send: ${ok}/${r.records.length} accepted${r.records[0]?.mx ? ` (first by ${r.records[0].mx})` : ''}; Message-IDs ${r.runId}-N`);
  }
  if (ok !== r.records.length) process.exitCode = EXIT.failure;
});


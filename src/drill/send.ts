/**
 * Running the sender (./sender.ts) as a child process: inside a lab namespace (the namespace lab's
 * client) or, without one, on this machine (the drills between two real machines, straight to the
 * partner's port 25). Every drill names its messages with a run id, so its counts see only its own.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { LabError } from '../errors.js';
import { run } from '../system/run.js';
import type { SenderJob, SendRecord } from './sender.js';

const senderScript = fileURLToPath(new URL('./sender.js', import.meta.url));

export const newRunId = () => `lab${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

/**
 * Runs the sender (./sender.ts) as a child process, inside a lab namespace or, without one,
 * on this machine (the backup-MX drill between real machines, straight to the partner's port 25),
 * and returns its records, one per message.
 */
export async function runSender(job: SenderJob, o: { namespace?: string; timeoutMs?: number } = {}): Promise<SendRecord[]> {
  const command = [process.execPath, senderScript, JSON.stringify(job)];
  const [file, ...args] = o.namespace ? ['ip', 'netns', 'exec', o.namespace, ...command] : command;
  const r = await run(file!, args, { allowFailure: true, timeoutMs: o.timeoutMs ?? 60_000 + job.count * 1000 });
  const records = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as SendRecord);
  if (records.length === 0) throw new LabError(`the sender printed nothing (exit ${r.exitCode}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return records;
}

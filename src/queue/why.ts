import { describeRetryRules, intervalSeconds, parseHintTime } from './parse.js';
import type { QueueEntry } from './read.js';

/**
 * `labctl queue why ID`: one paragraph on why a message is still queued and when Exim tries it
 * again: the write-up's 4c ("nothing happens, the message is still stuck") in words. Pure: the
 * facts come from src/queue/read.ts, `now` from the caller.
 */
export interface WhyAnswer {
  id: string;
  paragraph: string;
  /** When the next attempt can come: the retry time, then the first queue run after it (ISO); undefined when frozen. */
  nextAttempt?: string;
  frozen: boolean;
}

function inWords(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s <= 0) return 'now';
  if (s < 90) return `in about ${s} s`;
  if (s < 5400) return `in about ${Math.round(s / 60)} min`;
  return `in about ${(s / 3600).toFixed(1)} h`;
}

export function explainWhy(e: QueueEntry, queueInterval: string, now: number): WhyAnswer {
  const rcpts = e.recipients.filter((r) => !r.delivered).map((r) => r.address);
  const parts: string[] = [];
  parts.push(
    `Message ${e.id} from <${e.sender}> to ${rcpts.join(', ') || '(no recipient left)'} has been in the queue for ${e.age}` +
      (e.recipients.some((r) => r.delivered) ? ' (some of its recipients already have it)' : '') + '.',
  );
  if (e.frozen) {
    parts.push(
      `It is frozen${e.lastFailure ? ` after "${e.lastFailure}"` : ''}: queue runners skip frozen messages, so Exim will not try it again by itself ` +
        `(unless auto_thaw or timeout_frozen_after says so). Fix the cause, then thaw it (exim -Mt ${e.id}) or force it with labctl queue flush (exim -qff).`,
    );
    return { id: e.id, paragraph: parts.join(' '), frozen: true };
  }
  parts.push(e.lastFailure ? `Its last delivery attempt failed: "${e.lastFailure}", so Exim kept it to try again.` : 'Exim has not recorded a failed attempt for it yet (its message log shows none): it waits for the next queue run.');
  const hint = e.retry.hints.find((h) => h.nextTry === e.retry.nextTry) ?? e.retry.hints[0];
  if (e.retry.rule) {
    parts.push(
      `The retry rule that applies is "${e.retry.rule.pattern} ${e.retry.rule.error} ${e.retry.rule.rules}" (exim -brt): try ${describeRetryRules(e.retry.rule.rules)}.`,
    );
  } else parts.push('No retry rule applies to it (exim -brt found none), so Exim gives up at the first temporary failure.');
  const interval = intervalSeconds(queueInterval);
  let nextAttempt: number | undefined;
  if (hint) {
    parts.push(
      `Exim's retry hints (exinext) say ${hint.kind === 'Transport' ? 'the host' : 'the'} ${hint.subject} first failed at ${hint.firstFailed}, was last tried at ${hint.lastTried}` +
        `${hint.nextTry ? ` and is not to be tried before ${hint.nextTry}` : ''}.`,
    );
    if (hint.pastCutoff) parts.push('Its final cutoff has passed: if the next attempt fails too, Exim gives up and bounces the message.');
    const at = parseHintTime(hint.nextTry);
    if (at !== undefined) nextAttempt = Math.max(at, now);
  } else parts.push('Exim keeps no retry hint for its destination, so the next queue run tries it.');
  const runs = interval ? `The daemon's queue runner starts every ${queueInterval}` : 'The daemon runs no periodic queue runner (no -q interval)';
  if (nextAttempt !== undefined && interval) {
    // The first queue run at or after the retry time: runs happen every `interval` from some unknown start.
    const latest = nextAttempt + interval * 1000;
    const earliest = nextAttempt - now > 0 ? inWords(nextAttempt - now) : 'now';
    parts.push(`${runs}, so the next attempt comes with the first queue run after that retry time: ${earliest === 'now' ? 'at the next queue run' : `not before ${earliest.replace(/^in /, '')} from now`}, and ${inWords(latest - now)} at the latest.`);
    nextAttempt = latest;
  } else if (interval) {
    nextAttempt = now + interval * 1000;
    parts.push(`${runs}, so the next attempt comes within ${queueInterval}.`);
  } else parts.push(`${runs}: only a forced run delivers it.`);
  parts.push(
    'Bringing the destination back does not make Exim try sooner (the write-up\'s 4c): until the retry time has passed, queue runs skip it. ' +
      `To deliver now: labctl queue flush (exim -qff), or labctl queue flush --domain ${(rcpts[0] ?? '').split('@')[1] ?? 'DOMAIN'} (exim -Rff).`,
  );
  return { id: e.id, paragraph: parts.join(' '), nextAttempt: nextAttempt !== undefined ? new Date(nextAttempt).toISOString() : undefined, frozen: false };
}

/** The queue readers against text Exim 4.98.2 printed on this machine (a message held by a refusing host). */
import { describe, expect, it } from 'vitest';
import { describeRetryRules, failureReason, isMessageId, lastAttempt, intervalSeconds, parseExinext, parseHintTime, parseQueueList, parseRetryRule } from '../../../src/queue/parse.js';
import { explainWhy } from '../../../src/queue/why.js';
import type { QueueEntry } from '../../../src/queue/read.js';

const BP = [
  ' 0m   305 1xZylh-000000001LK-23qr <root@held.test>',
  '          someone@held.test',
  '',
  '25m  1.2K 1xZylV-000000001EX-28wu <> *** frozen ***',
  '        D done@st14.sne24.ru',
  '          later@st18.sne24.ru',
  '',
].join('\n');

const EXINEXT = [
  'Transport: localhost 127.0.0.1:2599 error 111: Connection refused',
  '  first failed: 05-Dec-2026 23:02:13',
  '  last tried:   05-Dec-2026 23:02:13',
  '  next try at:  05-Dec-2026 23:03:13',
].join('\n');

const MSGLOG = [
  '2026-12-05 23:02:01 Received from root@held.test U=root P=local S=305',
  '2026-12-05 23:02:01 H=127.0.0.1 [127.0.0.1] Connection refused',
  '2026-12-05 23:02:01 someone@held.test R=held T=remote_smtp defer (111): Connection refused',
].join('\n');

describe('queue parsing', () => {
  it('reads exim -bp: ids, ages, senders, frozen, delivered recipients', () => {
    const q = parseQueueList(BP);
    expect(q.map((m) => [m.id, m.age, m.ageSeconds, m.sender, m.frozen])).toEqual([
      ['1xZylh-000000001LK-23qr', '0m', 0, 'root@held.test', false],
      ['1xZylV-000000001EX-28wu', '25m', 1500, '', true],
    ]);
    expect(q[1].recipients).toEqual([
      { address: 'done@st14.sne24.ru', delivered: true },
      { address: 'later@st18.sne24.ru', delivered: false },
    ]);
    expect(parseQueueList('')).toEqual([]);
  });

  it('knows message ids of both formats and refuses anything else', () => {
    expect(isMessageId('1xZylh-000000001LK-23qr')).toBe(true);
    expect(isMessageId('1tKAbc-000abc-DE')).toBe(true);
    for (const bad of ['', '1xZylh', '../../etc/passwd', '1xZylh-000000001LK-23qr;rm', '-Mrm']) expect(isMessageId(bad)).toBe(false);
  });

  it('reads exinext: the host, error, and the three times', () => {
    const { hints, notes } = parseExinext(EXINEXT);
    expect(notes).toEqual([]);
    expect(hints).toEqual([
      { kind: 'Transport', subject: 'localhost 127.0.0.1:2599', error: '111', text: 'Connection refused', firstFailed: '05-Dec-2026 23:02:13', lastTried: '05-Dec-2026 23:02:13', nextTry: '05-Dec-2026 23:03:13', pastCutoff: false },
    ]);
    expect(parseExinext('No retry data found for someone@held.test\n')).toEqual({ hints: [], notes: ['No retry data found for someone@held.test'] });
    expect(parseHintTime('05-Dec-2026 23:03:13')).toBe(new Date(2026, 11, 5, 23, 3, 13).getTime());
    expect(parseHintTime('tomorrow')).toBeUndefined();
  });

  it('reads exim -brt and says the rule in words', () => {
    const rule = parseRetryRule('Retry rule: *  *  F,2h,15m; G,16h,1h,1.5; F,4d,6h; ');
    expect(rule).toEqual({ pattern: '*', error: '*', rules: 'F,2h,15m; G,16h,1h,1.5; F,4d,6h;' });
    expect(describeRetryRules(rule!.rules)).toBe('every 15m until 2h after the first failure, then from 1h, each wait 1.5 times the last, until 16h, then every 6h until 4d after the first failure');
    expect(parseRetryRule('No retry rule found for x@y')).toBeUndefined();
  });

  it('takes the last attempt from a message log, without its reception', () => {
    const line = lastAttempt(MSGLOG)!;
    expect(failureReason(line)).toBe('defer (111): Connection refused');
    expect(lastAttempt('2026-12-05 23:02:01 Received from root@held.test U=root P=local S=305')).toBeUndefined();
  });
});

describe('queue why', () => {
  const entry = (over: Partial<QueueEntry> = {}): QueueEntry => ({
    ...parseQueueList(BP)[0],
    pending: 'someone@held.test',
    retry: { rule: parseRetryRule('Retry rule: *  *  F,2h,1m; F,4d,6h;'), hints: parseExinext(EXINEXT).hints, notes: [], nextTry: '05-Dec-2026 23:03:13' },
    lastFailure: 'defer (111): Connection refused',
    ...over,
  });
  const now = new Date(2026, 11, 5, 23, 2, 30).getTime();

  it('names the failure, the rule, the hint and when the next attempt comes', () => {
    const a = explainWhy(entry(), '1m', now);
    expect(a.frozen).toBe(false);
    expect(a.paragraph).toContain('"defer (111): Connection refused"');
    expect(a.paragraph).toContain('"* * F,2h,1m; F,4d,6h;"');
    expect(a.paragraph).toContain('not to be tried before 05-Dec-2026 23:03:13');
    expect(a.paragraph).toContain('every 1m');
    expect(a.paragraph).toContain('labctl queue flush --domain held.test');
    // Retry time 23:03:13, queue runs every minute: the attempt comes by 23:04:13 at the latest.
    expect(a.nextAttempt).toBe(new Date(2026, 11, 5, 23, 4, 13).toISOString());
  });

  it('says a frozen message is not retried by itself', () => {
    const a = explainWhy(entry({ frozen: true }), '1m', now);
    expect(a.frozen).toBe(true);
    expect(a.nextAttempt).toBeUndefined();
    expect(a.paragraph).toMatch(/frozen.*will not try it again by itself/);
  });

  it('without a retry hint the next queue run tries it', () => {
    const a = explainWhy(entry({ retry: { hints: [], notes: [] }, lastFailure: undefined }), '30m', now);
    expect(a.paragraph).toContain('no retry hint');
    expect(a.paragraph).toContain('No retry rule applies');
    expect(a.nextAttempt).toBe(new Date(now + 30 * 60_000).toISOString());
    expect(intervalSeconds('1h30m')).toBe(5400);
  });
});

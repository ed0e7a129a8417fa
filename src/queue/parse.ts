/**
 * Reading what Exim says about its queue: `exim -bp` (the list), `exinext` (the retry hints of a
 * host or address), `exim -brt` (the retry rule that applies) and a message log (`exim -Mvl`).
 * Pure text in, records out; src/queue/read.ts runs the commands.
 */

export interface QueuedRecipient {
  address: string;
  /** Already delivered ("D" in the listing): the message waits for its other recipients only. */
  delivered: boolean;
}

export interface QueuedMessage {
  id: string;
  /** Exim's rounded age ("25m", "3h", "2d"). */
  age: string;
  ageSeconds: number;
  size: string;
  /** Envelope sender, without brackets ("" for a bounce). */
  sender: string;
  frozen: boolean;
  recipients: QueuedRecipient[];
}

/** Exim's message ids: 4.97 and later (6-11-4), and the older 6-6-2. */
const MESSAGE_ID = /^[0-9A-Za-z]{6}-(?:[0-9A-Za-z]{11}-[0-9A-Za-z]{4}|[0-9A-Za-z]{6}-[0-9A-Za-z]{2})$/;

export const isMessageId = (s: string): boolean => MESSAGE_ID.test(s);

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** Exim's times: an age in `exim -bp` ("25m", "2d"), a queue interval ("1m", "1h30m"); 0 when it cannot be read. */
export function intervalSeconds(s: string): number {
  let total = 0;
  for (const m of s.matchAll(/(\d+)([smhdw])/g)) total += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
  return total;
}

/** `exim -bp`: a head line per message (age, size, id, <sender>, maybe *** frozen ***), then its recipients. */
export function parseQueueList(text: string): QueuedMessage[] {
  const out: QueuedMessage[] = [];
  let current: QueuedMessage | undefined;
  for (const line of text.split('\n')) {
    const head = /^\s*(\d+[smhdw])\s+(\S+)\s+(\S+)\s+<([^>]*)>(.*)$/.exec(line);
    if (head && isMessageId(head[3])) {
      current = {
        id: head[3],
        age: head[1],
        ageSeconds: intervalSeconds(head[1]),
        size: head[2],
        sender: head[4],
        frozen: /\*\*\* frozen \*\*\*/.test(head[5]),
        recipients: [],
      };
      out.push(current);
      continue;
    }
    const rcpt = /^\s+(?:(\+?D)\s+)?(\S+@\S+|\S+)\s*$/.exec(line);
    if (current && rcpt && line.trim()) current.recipients.push({ address: rcpt[2], delivered: !!rcpt[1] });
    else if (!line.trim()) current = undefined;
  }
  return out;
}

/** One retry hint as exinext prints it (from the hints database, `<spool>/db/retry`). */
export interface RetryHint {
  /** "Transport" (a host: connection or transfer failed), "Route" (routing deferred), or "" (an address). */
  kind: string;
  /** What the hint is about: "mail.st14.sne24.ru [10.203.14.14]", a domain or an address. */
  subject: string;
  /** Exim's error number (111 is "connection refused") and its text. */
  error: string;
  text: string;
  firstFailed: string;
  lastTried: string;
  nextTry: string;
  pastCutoff: boolean;
}

export interface ExinextAnswer {
  hints: RetryHint[];
  /** Lines that are not hints ("No retry data found for ...", "... cannot be resolved"). */
  notes: string[];
}

export function parseExinext(text: string): ExinextAnswer {
  const hints: RetryHint[] = [];
  const notes: string[] = [];
  let hint: RetryHint | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (!line.trim()) continue;
    const head = /^(?:(Transport|Route):\s+)?(.*?) error (\S+):\s*(.*)$/.exec(line);
    const field = /^\s+(first failed|last tried|next try at):\s+(.*)$/.exec(line);
    if (head && !/^\s/.test(line)) {
      hint = { kind: head[1] ?? '', subject: head[2].trim(), error: head[3], text: head[4], firstFailed: '', lastTried: '', nextTry: '', pastCutoff: false };
      hints.push(hint);
    } else if (field && hint) {
      const value = field[2].trim();
      if (field[1] === 'first failed') hint.firstFailed = value;
      else if (field[1] === 'last tried') hint.lastTried = value;
      else hint.nextTry = value;
    } else if (/^\s+past final cutoff time/.test(line) && hint) hint.pastCutoff = true;
    else notes.push(line.trim());
  }
  return { hints, notes };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** exim_dumpdb's "05-Dec-2026 23:01:02" (local time) as epoch ms; undefined when it is not one. */
export function parseHintTime(s: string): number | undefined {
  const m = /^(\d\d)-([A-Z][a-z]{2})-(\d{4}) (\d\d):(\d\d):(\d\d)$/.exec(s.trim());
  if (!m || !MONTHS.includes(m[2])) return undefined;
  return new Date(Number(m[3]), MONTHS.indexOf(m[2]), Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6])).getTime();
}

/** `exim -brt DOMAIN`: "Retry rule: PATTERN ERROR RULES"; undefined when no rule applies. */
export function parseRetryRule(text: string): { pattern: string; error: string; rules: string } | undefined {
  const m = /^Retry rule:\s+(\S+)\s+(\S+)\s+(.*?)\s*$/m.exec(text);
  return m ? { pattern: m[1], error: m[2], rules: m[3] } : undefined;
}

/** "F,2h,15m; G,16h,1h,1.5; F,4d,6h;" in words, for the paragraph of `queue why`. */
export function describeRetryRules(rules: string): string {
  const parts = rules.split(';').map((s) => s.trim()).filter(Boolean);
  const words = parts.map((p) => {
    const [kind, cutoff, interval, factor] = p.split(',').map((s) => s.trim());
    if (kind === 'F') return `every ${interval} until ${cutoff} after the first failure`;
    if (kind === 'G') return `from ${interval}, each wait ${factor ?? '?'} times the last, until ${cutoff}`;
    if (kind === 'H') return `at random intervals from ${interval}, growing by ${factor ?? '?'}, until ${cutoff}`;
    return p;
  });
  return words.join(', then ');
}

/** A message log's (`exim -Mvl`) last line that is not its reception: the latest attempt's outcome. */
export function lastAttempt(msglog: string): string | undefined {
  const lines = msglog.split('\n').map((l) => l.trim()).filter(Boolean);
  const attempts = lines.filter((l) => !/ Received from | <= /.test(l));
  return attempts[attempts.length - 1];
}

/** The failure reason in a message log line ("... defer (111): Connection refused" -> "defer (111): Connection refused"). */
export function failureReason(line: string): string {
  const m = /\b((?:defer|error|failed|retry time not reached).*)$/i.exec(line.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? /, ''));
  return (m ? m[1] : line.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? /, '')).trim();
}

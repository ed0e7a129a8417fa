/**
 * SMTP transcripts marked the way swaks marks them, so a person can paste them into a report:
 *   ->  client to server, plaintext      <-  server to client, plaintext
 *   ~>  client to server, inside TLS     <~  server to client, inside TLS
 *   === what happened on the connection (connected, TLS started)   *** an error
 */
export interface TranscriptEvent {
  kind: 'send' | 'recv' | 'info' | 'error';
  /** For send and recv: whether the line travelled inside TLS. */
  tls?: boolean;
  text: string;
}

const MARK = {
  send: { plain: '->', tls: '~>' },
  recv: { plain: '<-', tls: '<~' },
} as const;

export function formatTranscript(events: readonly TranscriptEvent[]): string {
  const out: string[] = [];
  for (const e of events) {
    let mark: string;
    if (e.kind === 'info') mark = '===';
    else if (e.kind === 'error') mark = '***';
    else mark = MARK[e.kind][e.tls ? 'tls' : 'plain'];
    // A multi-line reply (250-...) or a message body is one event; mark every line of it.
    const lines = e.text.replace(/\r/g, '').replace(/\n$/, '').split('\n');
    for (const line of lines) out.push(`${mark.padStart(3)} ${line}`.replace(/ +$/, ''));
  }
  return out.join('\n');
}

/** Collects events as a session runs; `tls` flips when the connection is upgraded. */
export class Transcript {
  readonly events: TranscriptEvent[] = [];
  send(text: string, tls: boolean): void {
    this.events.push({ kind: 'send', tls, text });
  }
  recv(text: string, tls: boolean): void {
    this.events.push({ kind: 'recv', tls, text });
  }
  info(text: string): void {
    this.events.push({ kind: 'info', text });
  }
  error(text: string): void {
    this.events.push({ kind: 'error', text });
  }
  toString(): string {
    return formatTranscript(this.events);
  }
}

/** A reply as Exim writes it (possibly multi-line); the code is the last line's. */
export interface SmtpReply {
  code: number;
  text: string;
}

/** Splits raw server output into replies: continuation lines (250-) join the final line (250 ). */
export function splitReplies(raw: string): SmtpReply[] {
  const replies: SmtpReply[] = [];
  let pending: string[] = [];
  for (const line of raw.replace(/\r/g, '').split('\n')) {
    const m = /^(\d{3})([ -])/.exec(line);
    if (!m) continue;
    pending.push(line);
    if (m[2] === ' ') {
      replies.push({ code: Number(m[1]), text: pending.join('\n') });
      pending = [];
    }
  }
  if (pending.length) replies.push({ code: Number(pending[pending.length - 1].slice(0, 3)), text: pending.join('\n') });
  return replies;
}

/**
 * A short SMTP conversation, command by command, for what a mail library does not speak: the
 * backup-MX drill's RCPT probe (does the partner accept mail for this domain?) and ETRN (RFC 1985,
 * "deliver what you hold for #domain now"). It greets, says EHLO, upgrades with STARTTLS where the
 * server offers it (unless told not to), says EHLO again, then sends each command and reads its
 * reply. The transcript marks lines as swaks does: -> and <- in the clear, ~> and <~ inside TLS.
 * Certificates are not judged here (verify's checks do that); the session only needs privacy.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface SmtpReply {
  code: number;
  text: string;
}

export interface SmtpDialogue {
  /** The swaks-style transcript, one line each. */
  transcript: string[];
  greeting?: SmtpReply;
  /** STARTTLS was offered and the session continued inside TLS. */
  tls: boolean;
  /** The reply to each command of `commands`, in order (fewer when the session broke). */
  replies: SmtpReply[];
  /** Why the session ended early, if it did. */
  error?: string;
}

export interface SmtpDialogueOptions {
  host: string;
  port: number;
  helo: string;
  commands: string[];
  startTls?: 'auto' | 'never';
  timeoutMs?: number;
}

class LineReader {
  private buffer = '';
  private waiting: ((r: SmtpReply | Error) => void) | undefined;
  private lines: string[] = [];
  constructor(private readonly onLine: (line: string) => void) {}

  feed(chunk: string): void {
    this.buffer += chunk;
    let i: number;
    while ((i = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, i).replace(/\r$/, '');
      this.buffer = this.buffer.slice(i + 1);
      this.onLine(line);
      this.lines.push(line);
      // The last line of a reply has a space (or nothing) after the code.
      if (/^\d{3}(?: |$)/.test(line)) {
        const code = Number(line.slice(0, 3));
        const text = this.lines.map((l) => l.slice(4)).join('\n');
        this.lines = [];
        const w = this.waiting;
        this.waiting = undefined;
        w?.({ code, text });
      }
    }
  }

  fail(err: Error): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.(err);
  }

  next(): Promise<SmtpReply> {
    return new Promise((resolve, reject) => {
      this.waiting = (r) => (r instanceof Error ? reject(r) : resolve(r));
    });
  }
}

export async function smtpDialogue(o: SmtpDialogueOptions): Promise<SmtpDialogue> {
  const timeoutMs = o.timeoutMs ?? 15_000;
  const out: SmtpDialogue = { transcript: [], tls: false, replies: [] };
  let inTls = false;
  const reader = new LineReader((line) => out.transcript.push(`${inTls ? '<~' : '<-'} ${line}`));
  let socket: net.Socket = net.connect({ host: o.host, port: o.port });
  const attach = (s: net.Socket) => {
    s.setEncoding('utf8');
    s.setTimeout(timeoutMs, () => {
      reader.fail(new Error(`no answer from ${o.host}:${o.port} within ${timeoutMs} ms`));
      s.destroy();
    });
    s.on('data', (c: string) => reader.feed(c));
    s.on('error', (e) => reader.fail(e));
    s.on('close', () => reader.fail(new Error('the server closed the connection')));
  };
  attach(socket);
  const say = async (line: string): Promise<SmtpReply> => {
    out.transcript.push(`${inTls ? '~>' : '->'} ${line}`);
    const reply = reader.next();
    socket.write(`${line}\r\n`);
    return reply;
  };
  try {
    out.greeting = await reader.next();
    if (out.greeting.code !== 220) throw new Error(`greeting: ${out.greeting.code} ${out.greeting.text}`);
    let ehlo = await say(`EHLO ${o.helo}`);
    if (ehlo.code !== 250) throw new Error(`EHLO: ${ehlo.code} ${ehlo.text}`);
    if (o.startTls !== 'never' && /^STARTTLS$/im.test(ehlo.text)) {
      const st = await say('STARTTLS');
      if (st.code !== 220) throw new Error(`STARTTLS: ${st.code} ${st.text}`);
      socket.removeAllListeners('data');
      socket.removeAllListeners('close');
      socket.removeAllListeners('error');
      socket.setTimeout(0);
      const secure = tls.connect({ socket, servername: net.isIP(o.host) ? undefined : o.host, rejectUnauthorized: false });
      await new Promise<void>((resolve, reject) => {
        secure.once('secureConnect', () => resolve());
        secure.once('error', reject);
      });
      socket = secure;
      inTls = true;
      out.tls = true;
      out.transcript.push(`=== TLS started: ${secure.getProtocol() ?? '?'} ${secure.getCipher()?.name ?? '?'}`);
      attach(socket);
      ehlo = await say(`EHLO ${o.helo}`);
      if (ehlo.code !== 250) throw new Error(`EHLO after STARTTLS: ${ehlo.code} ${ehlo.text}`);
    }
    for (const command of o.commands) out.replies.push(await say(command));
    await say('QUIT').catch(() => undefined);
  } catch (err) {
    out.error = err instanceof Error ? err.message : String(err);
  } finally {
    socket.destroy();
  }
  return out;
}

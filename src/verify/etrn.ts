import { smtpSession } from './smtp.js';

/**
 * ETRN (RFC 1985) as the primary of a domain speaks it to its backup MX: "deliver what you hold
 * for #domain now" (the write-up's 5c, without the partner's hands). One SMTP session with
 * verify's client: EHLO, STARTTLS when offered, `ETRN #domain`, QUIT, and the swaks-style
 * transcript. A labctl backup answers 250 to its primary and 458 to anyone else.
 */
export interface EtrnOptions {
  /** The backup MX to ask (address or name). */
  host: string;
  /** The domain whose held mail is wanted (sent as `ETRN #<domain>`). */
  domain: string;
  /** Default 25. */
  port?: number;
  /** Name for EHLO; default labctl-verify.invalid. */
  helo?: string;
  /** Source address to connect from (the primary's own address, which the backup's ACL allows). */
  localAddress?: string;
  /** 'auto' (default): ETRN inside TLS when the backup offers STARTTLS. */
  startTls?: 'auto' | 'never' | 'require';
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface EtrnResult {
  /** True only when the backup answered 250 to ETRN. */
  accepted: boolean;
  /** The reply to ETRN; undefined when the session ended before it. */
  reply?: { code: number; text: string };
  /** swaks-style transcript of the whole session (-> <- plaintext, ~> <~ inside TLS). */
  transcript: string;
  /** The connection or the session failed (refused, timed out, STARTTLS required but absent). */
  error?: string;
}

export async function askEtrn(o: EtrnOptions): Promise<EtrnResult> {
  const command = `ETRN #${o.domain}`;
  const s = await smtpSession({
    host: o.host,
    port: o.port ?? 25,
    helo: o.helo,
    localAddress: o.localAddress,
    startTls: o.startTls ?? 'auto',
    timeoutMs: o.timeoutMs ?? 15_000,
    signal: o.signal,
    commands: [command],
  });
  const reply = s.replies?.find((r) => r.command === command);
  return {
    accepted: reply?.code === 250,
    ...(reply ? { reply: { code: reply.code, text: reply.text } } : {}),
    transcript: s.transcript.toString(),
    ...(s.error ? { error: s.error.message } : {}),
  };
}

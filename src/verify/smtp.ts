import { format } from 'node:util';
import { checkServerIdentity, type ConnectionOptions, type PeerCertificate, type TLSSocket } from 'node:tls';
import type SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { Transcript } from './transcript.js';

/**
 * One real SMTP session with nodemailer's SMTPConnection: it speaks EHLO, STARTTLS (or TLS on
 * connect), MAIL, RCPT and DATA, and reports every line through its logger, which this module
 * turns into a swaks-style transcript. Nothing here writes SMTP itself.
 */
export interface SmtpSessionOptions {
  host: string;
  port: number;
  /** TLS from the first byte (SMTPS, 465). */
  implicitTls?: boolean;
  /** 'require': STARTTLS or fail; 'never': stay plaintext even if offered; 'auto': if offered. */
  startTls?: 'require' | 'never' | 'auto';
  /** Name for EHLO. */
  helo?: string;
  localAddress?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * What to verify the server's certificate against: CA certificates (PEM) and the host name it
   * must carry. The session goes on either way (so the transcript is complete); the verdict is in
   * `tls.authorized` and `tls.authorizationError`.
   */
  verify?: { ca: string[]; hostname: string };
  /** Extra TLS client settings (versions, ciphers): the tls-policy check's probes. */
  tlsOptions?: ConnectionOptions;
  /**
   * Commands nodemailer has no method for (ETRN), sent one by one after EHLO (and STARTTLS) and
   * before any message; each reply is in `replies`. A 4xx/5xx reply does not end the session.
   */
  commands?: string[];
}

export interface TlsInfo {
  protocol: string;
  cipher: string;
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  /** Chain and host name verified against `verify` (false when nothing was asked). */
  authorized: boolean;
  /** OpenSSL's or Node's reason when not authorized, e.g. ERR_TLS_CERT_ALTNAME_INVALID. */
  authorizationError?: string;
  /** The host name the certificate was checked for. */
  checkedName?: string;
  /**
   * Why the certificate does not name `checkedName`, compared whatever became of the chain:
   * Node compares the name only once the chain verified, so a self-signed certificate would
   * otherwise never have its name looked at.
   */
  nameMismatch?: string;
}

export interface SmtpSessionResult {
  transcript: Transcript;
  /** The greeting arrived and EHLO (and STARTTLS when asked) completed. */
  connected: boolean;
  tls?: TlsInfo;
  /** After a message went through: Exim's reply to the final dot and its message id. */
  accepted?: { response: string; eximId?: string; recipients: string[] };
  /** The reply to each of `commands`, in order (code and the whole text). */
  replies?: { command: string; code: number; text: string }[];
  error?: { message: string; command?: string; response?: string; responseCode?: number };
}

export interface OutgoingMessage {
  from: string;
  to: string[];
  /** The whole message, headers and body, CRLF or LF line ends. */
  raw: string;
}

const dn = (o: Record<string, unknown> | undefined): string =>
  o ? Object.entries(o).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`).join(', ') : '';

export function describeTls(socket: TLSSocket): TlsInfo {
  const cert = socket.getPeerCertificate();
  const cipher = socket.getCipher();
  return {
    protocol: socket.getProtocol() ?? 'unknown',
    cipher: cipher?.name ?? 'unknown',
    subject: dn(cert?.subject as unknown as Record<string, unknown>),
    issuer: dn(cert?.issuer as unknown as Record<string, unknown>),
    validFrom: cert?.valid_from ?? '',
    validTo: cert?.valid_to ?? '',
    authorized: socket.authorized,
    ...(socket.authorizationError ? { authorizationError: String(socket.authorizationError) } : {}),
  };
}

/** Whether the certificate names `hostname` (subjectAltName, else CN), as Node checks it for a verified chain. */
export function nameCheck(cert: PeerCertificate | undefined, hostname: string): { nameMismatch?: string } {
  if (!cert || !Object.keys(cert).length) return { nameMismatch: 'no certificate' };
  const err = checkServerIdentity(hostname, cert);
  return err ? { nameMismatch: err.message } : {};
}

/** nodemailer's SMTP client, loaded by the first session, not when a command that may need none is parsed. */
export const loadSmtpConnection = async () => (await import('nodemailer/lib/smtp-connection/index.js')).default;

/** The id Exim puts in its reply to the final dot: "250 OK id=1tX2aB-000Abc-9Z". */
export const eximIdFrom = (response: string | undefined) => /id=([\w-]+)/.exec(response ?? '')?.[1];

/**
 * Opens a session, optionally sends one message, says QUIT, and returns what happened. Never
 * throws: a refused connection or a rejected command is in `error`, with the transcript so far.
 */
export async function smtpSession(opts: SmtpSessionOptions, message?: OutgoingMessage): Promise<SmtpSessionResult> {
  const SMTPConnection = await loadSmtpConnection();
  const transcript = new Transcript();
  const result: SmtpSessionResult = { transcript, connected: false };
  const startTls = opts.startTls ?? 'auto';

  let conn: SMTPConnection;
  const socketOf = () => (conn as unknown as { _socket?: TLSSocket })._socket;
  const noteTls = () => {
    if (result.tls || !conn?.secure) return;
    const s = socketOf();
    if (!s || typeof s.getCipher !== 'function') return;
    result.tls = { ...describeTls(s), ...(opts.verify ? { checkedName: opts.verify.hostname, ...nameCheck(s.getPeerCertificate(), opts.verify.hostname) } : { authorized: false, authorizationError: 'not checked' }) };
    transcript.info(`TLS started with cipher ${result.tls.protocol}:${result.tls.cipher}`);
    transcript.info(`TLS peer subject: ${result.tls.subject}`);
    transcript.info(`TLS peer issuer: ${result.tls.issuer}; valid until ${result.tls.validTo}`);
  };
  const log = (level: string) => (entry: { tnx?: string }, msg: string, ...args: unknown[]) => {
    const text = args.length ? format(msg, ...args) : String(msg);
    if (entry?.tnx === 'message' && level !== 'debug') {
      transcript.info(text);
    } else if (entry?.tnx === 'client' || entry?.tnx === 'message') {
      noteTls();
      transcript.send(text, !!conn?.secure);
    } else if (entry?.tnx === 'server') {
      noteTls();
      transcript.recv(text, !!conn?.secure);
    } else if (entry?.tnx === 'network' && /established|closed/i.test(text)) {
      transcript.info(text);
    } else if (level === 'error') {
      transcript.error(text);
    }
  };
  const logger = Object.fromEntries(['trace', 'debug', 'info', 'warn', 'error', 'fatal'].map((l) => [l, log(l)]));

  conn = new SMTPConnection({
    host: opts.host,
    port: opts.port,
    secure: !!opts.implicitTls,
    ignoreTLS: startTls === 'never',
    requireTLS: startTls === 'require',
    name: opts.helo ?? 'labctl-verify.invalid',
    localAddress: opts.localAddress,
    connectionTimeout: opts.timeoutMs,
    greetingTimeout: opts.timeoutMs,
    socketTimeout: opts.timeoutMs,
    // Never refuse here: the session and its transcript go on, and the check judges `authorized`.
    tls: { rejectUnauthorized: false, ...(opts.verify ? { ca: opts.verify.ca, servername: opts.verify.hostname } : {}), ...opts.tlsOptions },
    logger: logger as unknown as SMTPConnection.Options['logger'],
    debug: true,
    transactionLog: true,
  });

  return new Promise((resolve) => {
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const fail = (err: SMTPConnection.SMTPError | Error) => {
      const e = err as SMTPConnection.SMTPError;
      result.error ??= { message: e.message, command: e.command, response: e.response, responseCode: e.responseCode };
      transcript.error(e.message + (e.response && !e.message.includes(e.response) ? `: ${e.response}` : ''));
      conn.close();
      finish();
    };
    const onAbort = () => fail(new Error('stopped: the check ran out of time'));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    conn.on('error', fail);
    conn.on('end', finish);

    const quit = () => {
      conn.quit();
      // Exim answers QUIT with 221 and closes; do not wait long for a server that does not.
      setTimeout(() => {
        conn.close();
        finish();
      }, 1000).unref();
    };

    const sendCommands = async () => {
      for (const command of opts.commands ?? []) {
        const text = await rawCommand(conn, command);
        (result.replies ??= []).push({ command, code: Number(/^\d{3}/.exec(text)?.[0] ?? 0), text });
      }
    };

    conn.connect(async () => {
      result.connected = true;
      noteTls();
      await sendCommands();
      if (!message) return quit();
      conn.send({ from: message.from, to: message.to }, message.raw, (err, info) => {
        if (err) return fail(err);
        result.accepted = { response: info.response, eximId: eximIdFrom(info.response), recipients: info.accepted };
        quit();
      });
    });
  });
}

/**
 * One command nodemailer's SMTPConnection has no method for, sent the way its own QUIT and RSET
 * are: the command, then a response action that receives the server's reply. Its logger records
 * both in the transcript.
 */
function rawCommand(conn: SMTPConnection, command: string): Promise<string> {
  const inner = conn as unknown as { _sendCommand(s: string): void; _responseActions: Array<(reply: string) => void> };
  return new Promise((resolve) => {
    inner._responseActions.push((reply) => resolve(reply));
    inner._sendCommand(command);
  });
}

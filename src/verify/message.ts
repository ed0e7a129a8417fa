import { randomBytes } from 'node:crypto';

/** Test messages: each carries a Message-ID no other run can repeat, so the mailbox search is exact. */
export function uniqueMessageId(tag: string, domain: string): string {
  return `<labctl-verify.${tag}.${Date.now().toString(36)}.${randomBytes(5).toString('hex')}@${domain}>`;
}

export interface TestMessage {
  from: string;
  to: string;
  subject: string;
  messageId: string;
  /** Extra header lines, e.g. "X-Labctl-Check: 3b". */
  extra?: string[];
}

/** The message text with LF line ends (Exim's command line) — the SMTP client turns them into CRLF. */
export function renderMessage(m: TestMessage): string {
  return [
    `From: labctl verify <${m.from}>`,
    `To: <${m.to}>`,
    `Subject: ${m.subject}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${m.messageId}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    ...(m.extra ?? []),
    '',
    `Sent by labctl verify to prove delivery to ${m.to}.`,
    '',
  ].join('\n');
}

/** Exim message ids: 1tXabc-000123-AB (4.96) or the longer 4.97+ form. */
export const EXIM_ID = /\b[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}\b/;

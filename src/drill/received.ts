/**
 * How long a message was held on the backup MX, read from its own Received: headers (the
 * newest first): the top one is the primary's reception, the next the backup's. Their difference
 * is the time the backup held it, whatever either machine's logs say. Whole seconds (RFC 5322
 * dates carry no fraction).
 */
import { headerValue } from '../verify/mailbox.js';

export interface ReceivedHop {
  by?: string;
  at: number;
}

/** The Received: headers of a message's header block, newest first. */
export function receivedHops(headers: string): ReceivedHop[] {
  const unfolded = headers.replace(/\r?\n[ \t]+/g, ' ');
  const hops: ReceivedHop[] = [];
  for (const line of unfolded.split(/\r?\n/)) {
    if (!/^received:/i.test(line)) continue;
    const at = Date.parse(line.slice(line.lastIndexOf(';') + 1).trim());
    if (Number.isNaN(at)) continue;
    hops.push({ by: /\bby\s+(\S+)/i.exec(line)?.[1], at });
  }
  return hops;
}

/** Seconds between the backup's reception and the primary's, or undefined without two hops. */
export function heldSeconds(headers: string): number | undefined {
  const [primary, backup] = receivedHops(headers);
  return primary && backup ? Math.max(0, (primary.at - backup.at) / 1000) : undefined;
}

export const messageIdOf = (headers: string) => headerValue(headers, 'Message-ID')?.replace(/^<|>$/g, '');

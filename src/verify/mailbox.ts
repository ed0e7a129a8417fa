/**
 * Reading an mbox file (what Exim's appendfile transport writes to /var/mail/<user>): messages
 * start at "From " lines; headers end at the first empty line. Pure text handling, so the lab's
 * host views can hand over the file content however they read it.
 */
export interface MboxMessage {
  /** The "From sender date" separator line. */
  separator: string;
  headers: string;
  body: string;
}

export function splitMbox(text: string): MboxMessage[] {
  const out: MboxMessage[] = [];
  const parts = text.split(/^(?=From )/m).filter((p) => p.startsWith('From '));
  for (const part of parts) {
    const nl = part.indexOf('\n');
    const separator = part.slice(0, nl);
    const rest = part.slice(nl + 1);
    const end = rest.search(/^\r?$/m);
    out.push({
      separator,
      headers: end === -1 ? rest : rest.slice(0, end).replace(/\n$/, ''),
      body: end === -1 ? '' : rest.slice(end).replace(/^\r?\n/, ''),
    });
  }
  return out;
}

/** The value of the first header named `name` (unfolded), or undefined. */
export function headerValue(headers: string, name: string): string | undefined {
  const re = new RegExp(`^${name}:[ \\t]*((?:.*)(?:\\n[ \\t].*)*)`, 'im');
  return re.exec(headers)?.[1].replace(/\n[ \t]+/g, ' ').trim();
}

/** The message carrying this Message-ID (with or without angle brackets), if delivered. */
export function findByMessageId(text: string, messageId: string): MboxMessage | undefined {
  const bare = messageId.replace(/^<|>$/g, '');
  return splitMbox(text).find((m) => headerValue(m.headers, 'Message-ID')?.replace(/^<|>$/g, '') === bare);
}

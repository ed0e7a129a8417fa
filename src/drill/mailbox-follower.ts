import { fileSize, readFrom } from '../system/files.js';
import { headerValue, splitMbox } from '../verify/mailbox.js';

/**
 * Follows a user's mailbox from its size when a drill began: each poll reads only what was
 * appended since the last complete message, so checking a drill's progress costs the same at the
 * thousandth message as at the first, however large the mailbox already was (reading the whole
 * mailbox five times a second took a large share of the CPU the drill measures). The last message
 * read may still be being written; it is read again on the next poll.
 */
export class MailboxFollower {
  private readonly complete: string[] = [];
  private constructor(
    private readonly file: string,
    private readonly idPrefix: string,
    private offset: number,
  ) {}

  static async fromEndOf(file: string, idPrefix: string): Promise<MailboxFollower> {
    return new MailboxFollower(file, idPrefix, await fileSize(file));
  }

  /** Message-IDs starting with the prefix delivered since the start, in order, repeats kept. */
  async ids(): Promise<string[]> {
    const chunk = await readFrom(this.file, this.offset);
    // The start of the last message in the chunk: everything before it is complete.
    const last = chunk.lastIndexOf('\nFrom ');
    const cut = last < 0 ? 0 : last + 1;
    if (cut > 0) {
      this.complete.push(...idsIn(chunk.subarray(0, cut).toString('utf8'), this.idPrefix));
      this.offset += cut;
    }
    return [...this.complete, ...idsIn(chunk.subarray(cut).toString('utf8'), this.idPrefix)];
  }
}

/** Message-IDs (without brackets) in mbox text that start with `idPrefix`, in order, repeats kept. */
const idsIn = (text: string, idPrefix: string) =>
  splitMbox(text)
    .map((m) => headerValue(m.headers, 'Message-ID')?.replace(/^<|>$/g, '') ?? '')
    .filter((id) => id.startsWith(idPrefix));

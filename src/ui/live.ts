import { promises as fs } from 'node:fs';

/**
 * A single status line that shows the latest output of a long command (the build) on a
 * terminal; silent when stdout is not a terminal (CI logs keep just the step lines).
 */
export class LiveLine {
  private last = 0;
  private shown = false;

  constructor(private readonly prefix: string, private readonly out: NodeJS.WriteStream = process.stdout) {}

  update(line: string): void {
    if (!this.out.isTTY) return;
    const now = Date.now();
    if (now - this.last < 80) return;
    this.last = now;
    const width = (this.out.columns || 80) - 1;
    const text = `${this.prefix} ${line.replace(/\s+/g, ' ').trim()}`.slice(0, width);
    this.out.write(`\r\x1b[2K${text}`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) this.out.write('\r\x1b[2K');
    this.shown = false;
  }
}

/** The last `n` lines of a log file, shown when a build fails. */
export async function tail(file: string, n: number): Promise<string> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  return text.replace(/\n$/, '').split('\n').slice(-n).join('\n');
}

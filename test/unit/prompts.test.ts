/**
 * The interactive path of configure/dns: with no --domain and a terminal, labctl asks. The CLI
 * runs under script(1), which gives it a pseudo-terminal; each answer is typed when its question
 * shows, and a bad answer is refused at the prompt with the validator's message.
 */
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { labctlBin } from '../helpers/cli.js';

const strip = (s: string) => s.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '');

async function answer(args: string[], script: Array<[RegExp, string]>): Promise<string> {
  const cmd = ['node', labctlBin, ...args].map((a) => `'${a}'`).join(' ');
  const child = execa('script', ['-qec', cmd, '/dev/null'], { reject: false, timeout: 20_000, env: { NO_COLOR: '1', TERM: 'xterm' } });
  let seen = '';
  let step = 0;
  child.stdout?.on('data', (chunk: Buffer) => {
    seen += strip(chunk.toString());
    while (step < script.length && script[step][0].test(seen)) {
      child.stdin?.write(script[step][1]);
      seen = '';
      step++;
    }
  });
  const r = await child;
  return strip(String(r.stdout));
}

describe('prompts when values are missing and stdin is a terminal', () => {
  it('asks for the domain (refusing a bad one), offers defaults, and prints the records', async () => {
    const out = await answer(['dns'], [
      [/Mail domain/, 'bad_domain!\r'],
      [/> domain: /, '\x15st14.sne24.ru\r'], // the refusal is shown; clear the line and answer again
      [/Mail host name/, '\r'],
      [/Local users/, 'ahmed\r'],
      [/Transport encryption/, '\r'],
    ]);
    expect(out).toContain('> domain: "bad_domain!": labels may hold only letters, digits and "-"');
    expect(out).toContain('st14.sne24.ru.');
    expect(out).toMatch(/IN MX\s+10 mail\.st14\.sne24\.ru\./);
  }, 30_000);

  it('never prompts with --yes: a missing value is an error naming the flag', async () => {
    const r = await execa('script', ['-qec', `node '${labctlBin}' dns --yes`, '/dev/null'], { reject: false, timeout: 20_000, env: { NO_COLOR: '1' } });
    const out = strip(String(r.stdout));
    expect(r.exitCode, out).toBe(2); // script -e passes the command's own exit status on
    expect(out).toMatch(/^labctl: domain: is required \(the mail domain, e\.g\. st14\.sne24\.ru\)\r?\n {2}fix --domain/m);
    expect(out).not.toContain('Mail domain');
  }, 30_000);
});

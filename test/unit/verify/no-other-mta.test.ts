/**
 * 1a-no-other-mta judges the host under test through its view (issue 11): a lab host's packages,
 * listeners and binaries are what that host's view reports, not the machine's. The host here is a
 * HostView that answers as a host with Postfix would; the check's verdict is logic over what the
 * view says, and it must ask the view for all of it.
 */
import { describe, expect, it } from 'vitest';
import { noOtherMta } from '../../../src/verify/checks/install.js';
import type { HostView } from '../../../src/system/hostview.js';
import type { RunResult } from '../../../src/system/run.js';
import type { CheckContext, VerifyTarget } from '../../../src/verify/types.js';

/** A host described by what its programs print: `argv joined by spaces` -> stdout (exit 0), anything else exit 1. */
function hostAnswering(answers: Record<string, string>): HostView & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async run(file, args): Promise<RunResult> {
      const command = [file, ...args].join(' ');
      asked.push(command);
      const stdout = answers[command];
      return { command, exitCode: stdout === undefined ? 1 : 0, stdout: stdout ?? '', stderr: '' };
    },
    async readFile() {
      return undefined;
    },
  };
}

const dpkg = "dpkg-query -W -f ${Package}\\t${db:Status-Abbrev}\\n exim4* postfix sendmail* opensmtpd nullmailer msmtp-mta";
const ss = 'ss -H -ltnp sport = :25';

async function check(view: HostView) {
  const target = { name: 'st14', address: '10.203.14.14', smtpPort: 25, eximBinary: '/usr/exim/bin/exim', view } as VerifyTarget;
  const ctx = { target, evidence: [], signal: new AbortController().signal, remainingMs: () => 10_000 } as unknown as CheckContext;
  return { outcome: await noOtherMta.run(ctx), evidence: ctx.evidence };
}

describe('1a-no-other-mta on a lab host', () => {
  it("fails on the host's Postfix: its package and its listener, as the host's view reports them", async () => {
    const host = hostAnswering({
      [dpkg]: 'postfix\tii \nexim4-base\tun \n',
      'readlink -f /usr/exim/bin/exim': '/usr/exim/bin/exim-4.98.2-1\n',
      [ss]: 'LISTEN 0 100 10.203.14.14:25 0.0.0.0:* users:(("master",pid=4242,fd=13))\n',
      'readlink /proc/4242/exe': '/usr/lib/postfix/sbin/master\n',
    });
    const { outcome, evidence } = await check(host);
    expect(outcome).toEqual({ status: 'fail', summary: 'installed: postfix; listening on 25: master (pid 4242, /usr/lib/postfix/sbin/master)' });
    expect(evidence[0]).toMatchObject({ label: 'MTA packages installed', text: expect.stringContaining(': postfix') });
    expect(host.asked).toEqual([dpkg, 'readlink -f /usr/exim/bin/exim', ss, 'readlink /proc/4242/exe']);
  });

  it("passes where the host's view shows only labctl's Exim", async () => {
    const host = hostAnswering({
      [dpkg]: '',
      'readlink -f /usr/exim/bin/exim': '/usr/exim/bin/exim-4.98.2-1\n',
      [ss]: 'LISTEN 0 20 10.203.14.14:25 0.0.0.0:* users:(("exim",pid=777,fd=3))\n',
      'readlink /proc/777/exe': '/usr/exim/bin/exim-4.98.2-1\n',
    });
    expect((await check(host)).outcome).toEqual({ status: 'pass', summary: 'no MTA package installed; port 25: only Exim listens' });
  });
});

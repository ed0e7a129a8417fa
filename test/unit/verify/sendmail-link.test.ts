/**
 * sendmail-link judges what the host's view reports: /usr/sbin/sendmail must resolve to the
 * Exim binary labctl installed, and labctl's local package (Provides: mail-transport-agent) must
 * be installed, or apt would pull in another MTA for mailx or cron.
 */
import { describe, expect, it } from 'vitest';
import { sendmailLink } from '../../../src/verify/checks/install.js';
import type { HostView } from '../../../src/system/hostview.js';
import type { CheckContext, VerifyTarget } from '../../../src/verify/types.js';

const dpkg = 'dpkg-query -W -f ${db:Status-Abbrev}\\t${Version}\\t${Provides} labctl-exim';
const EXIM = '/usr/exim/bin/exim-4.98.2-2';

function host(answers: Record<string, string>): HostView {
  return {
    async run(file, args) {
      const command = [file, ...args].join(' ');
      const stdout = answers[command];
      return { command, exitCode: stdout === undefined ? 1 : 0, stdout: stdout ?? '', stderr: '' };
    },
    async readFile() {
      return undefined;
    },
  };
}

async function check(answers: Record<string, string>) {
  const target = { name: 'st14', smtpPort: 25, eximBinary: '/usr/exim/bin/exim', view: host(answers) } as unknown as VerifyTarget;
  const ctx = { target, evidence: [], signal: new AbortController().signal, remainingMs: () => 10_000 } as unknown as CheckContext;
  return sendmailLink.run(ctx);
}

const linked = {
  'readlink -f /usr/exim/bin/exim': `${EXIM}\n`,
  'readlink -f /usr/sbin/sendmail': `${EXIM}\n`,
  'test -e /usr/sbin/sendmail': '',
  'readlink -f /usr/lib/sendmail': `${EXIM}\n`,
  'test -e /usr/lib/sendmail': '',
};

describe('sendmail-link', () => {
  it('passes when both links reach labctl\'s Exim and the package provides mail-transport-agent', async () => {
    expect(await check({ ...linked, [dpkg]: 'ii \t4.98.2-labctl1\tmail-transport-agent' })).toEqual({
      status: 'pass',
      summary: `/usr/sbin/sendmail -> ${EXIM}, /usr/lib/sendmail too; labctl-exim 4.98.2-labctl1 provides mail-transport-agent`,
    });
  });

  it('fails without /usr/sbin/sendmail (what labctl left before: mailx and cron could not send)', async () => {
    const { 'readlink -f /usr/sbin/sendmail': _a, 'test -e /usr/sbin/sendmail': _b, ...none } = linked;
    expect(await check(none)).toMatchObject({ status: 'fail', summary: expect.stringMatching(/^no \/usr\/sbin\/sendmail: mail, mailx and cron cannot send/) });
  });

  it("fails when /usr/sbin/sendmail is another MTA's", async () => {
    expect(await check({ ...linked, 'readlink -f /usr/sbin/sendmail': '/usr/sbin/nullmailer-inject\n', [dpkg]: 'ii \t4.98.2-labctl1\tmail-transport-agent' })).toMatchObject({
      status: 'fail',
      summary: `/usr/sbin/sendmail is /usr/sbin/nullmailer-inject, not labctl's Exim (${EXIM})`,
    });
  });

  it('fails when apt is not told: the link is there but the package is not', async () => {
    expect(await check(linked)).toMatchObject({ status: 'fail', summary: expect.stringContaining('package labctl-exim (Provides: mail-transport-agent) is not installed') });
  });
});

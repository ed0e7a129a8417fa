/**
 * 1d-build-options judges the build against what labctl install asked for: install.json records
 * the Local/Makefile settings, and each feature they turned on (SUPPORT_SPF, SUPPORT_DMARC) must
 * show in `exim -bV`'s "Support for" line, besides TLS and DKIM. The host is a view answering
 * `exim -bV` as a recorded build would; install.json is a real file in a scratch state directory.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOptions } from '../../../src/verify/checks/install.js';
import { Facts } from '../../../src/verify/facts.js';
import type { HostView } from '../../../src/system/hostview.js';
import type { CheckContext, VerifyTarget } from '../../../src/verify/types.js';

const bV = (support: string) => `Exim version 4.98.2 #2 built 05-Dec-2026 22:59:40\nSupport for: ${support}\nConfiguration file is /usr/exim/configure\n`;
const FULL = 'iconv() OpenSSL TLS_resume DANE DKIM DNSSEC ESMTP_Limits Event OCSP PIPECONNECT PRDR SPF DMARC';
const NO_DMARC = 'iconv() OpenSSL TLS_resume DANE DKIM DNSSEC ESMTP_Limits Event OCSP PIPECONNECT PRDR SPF';
const MINIMAL = 'iconv() OpenSSL TLS_resume DANE DKIM DNSSEC ESMTP_Limits Event OCSP PIPECONNECT PRDR';
const base = [
  { name: 'BIN_DIRECTORY', op: '=', value: '/usr/exim/bin' },
  { name: 'USE_OPENSSL', op: '=', value: 'yes' },
];
const full = [...base, { name: 'SUPPORT_SPF', op: '=', value: 'yes' }, { name: 'LDFLAGS', op: '+=', value: '-lspf2' }, { name: 'SUPPORT_DMARC', op: '=', value: 'yes' }, { name: 'LDFLAGS', op: '+=', value: '-lopendmarc' }];

let stateDir: string;
beforeAll(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'labctl-1d-'));
});
afterAll(() => rm(stateDir, { recursive: true, force: true }));

async function judge(settings: object[], support: string) {
  await writeFile(path.join(stateDir, 'install.json'), JSON.stringify({ schemaVersion: 1, version: '4.98.2', settings }));
  const view: HostView = {
    async run(file, args) {
      const command = [file, ...args].join(' ');
      return { command, exitCode: 0, stdout: command.endsWith(' -bV') ? bV(support) : '', stderr: '' };
    },
    async readFile() {
      return undefined;
    },
  };
  const target = { name: 'st14', smtpPort: 25, eximBinary: '/usr/exim/bin/exim', stateDir, view } as unknown as VerifyTarget;
  const ctx = { target, evidence: [], facts: new Facts(target), signal: new AbortController().signal, remainingMs: () => 10_000 } as unknown as CheckContext;
  return buildOptions.run(ctx);
}

describe('1d-build-options checks what labctl install asked for', () => {
  it('passes a full build (SPF and DMARC asked for and listed)', async () => {
    expect(await judge(full, FULL)).toEqual({ status: 'pass', summary: 'OpenSSL, DKIM, SPF, DMARC as asked' });
  });

  it('fails a build that was asked for DMARC and lacks it', async () => {
    expect(await judge(full, NO_DMARC)).toEqual({ status: 'fail', summary: 'missing: DMARC (install.json asked for SPF, DMARC)' });
  });

  it('fails a build that was asked for SPF and DMARC and has neither', async () => {
    expect(await judge(full, MINIMAL)).toEqual({ status: 'fail', summary: 'missing: SPF, DMARC (install.json asked for SPF, DMARC)' });
  });

  it('passes the minimal build (--without spf --without dmarc), saying what it lacks', async () => {
    expect(await judge(base, MINIMAL)).toEqual({ status: 'pass', summary: 'OpenSSL, DKIM; built without SPF, DMARC (install --without)' });
  });
});

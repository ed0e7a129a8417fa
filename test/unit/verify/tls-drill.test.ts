import { describe, expect, it } from 'vitest';
import { openChecks } from '../../../src/lab/drills/tls-checks.js';
import { tlsDrillScene, type Delivery, type TlsDrillScene } from '../../../src/lab/drills/tls-scene.js';
import type { LabState } from '../../../src/lab/state.js';
import { DEFAULT_LAB } from '../../../src/lab/topology.js';
import { Facts } from '../../../src/verify/facts.js';
import { runChecks, runOne } from '../../../src/verify/runner.js';
import type { VerifyTarget } from '../../../src/verify/types.js';

/**
 * The TLS drill's checks are verify checks: the verify runner runs them, they return a check
 * status, and their evidence is kept. These read a delivery the test makes up; the lab runs the
 * real one (test/e2e/04-lab.test.ts).
 */
const [st14, st18] = DEFAULT_LAB.hosts as [(typeof DEFAULT_LAB.hosts)[0], (typeof DEFAULT_LAB.hosts)[0]];
const state: LabState = {
  spec: DEFAULT_LAB,
  upAt: '2025-11-27T20:40:00Z',
  hosts: {
    st14: { mailHost: 'mail.st14.sne24.ru', domain: 'st14.sne24.ru', users: ['ahmed'], postmaster: 'ahmed', dkimSelector: 'lab' },
    st18: { mailHost: 'mail.st18.sne24.ru', domain: 'st18.sne24.ru', users: ['mohamed'], postmaster: 'mohamed', dkimSelector: 'lab' },
  },
  caCertificate: '/nonexistent/ca.pem',
};
const target = { name: 'st14', view: { run: async () => ({ command: '', exitCode: 0, stdout: '', stderr: '' }), readFile: async () => undefined } } as unknown as VerifyTarget;

const RUN = 'labtest1';
const delivered = (tls: boolean): Delivery => ({
  sent: { i: 1, messageId: `<${RUN}-1@mail.st18.sne24.ru>`, ok: true, mx: 'st18', acceptedAt: 1 },
  message: {
    headers: [
      'Received: from mail.st18.sne24.ru ([10.203.14.18])',
      `\tby mail.st14.sne24.ru with ${tls ? 'esmtps  (TLS1.3) tls TLS_AES_256_GCM_SHA384' : 'esmtp'}`,
      '\tid 1vOhWa-000E1k-2C',
      'DKIM-Signature: v=1; a=rsa-sha256; d=st18.sne24.ru; s=lab',
      'Subject: tls drill 1/1',
    ].join('\n'),
    body: '',
  },
  peerLog: `2025-11-27 20:46:10 1vOhWZ-000E0x-1A => ahmed@st14.sne24.ru R=dnslookup T=remote_smtp H=mail.st14.sne24.ru [10.203.14.14]${tls ? ' X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes' : ''} C="250 OK"`,
  primaryLog: [
    `2025-11-27 20:46:10.120 1vOhWa-000E1k-2C <= mohamed@st18.sne24.ru H=mail.st18.sne24.ru id=${RUN}-1@mail.st18.sne24.ru`,
    '2025-11-27 20:46:10.121 1vOhWa-000E1k-2C DKIM verify: status=pass d=st18.sne24.ru s=lab',
  ].join('\n'),
});

function scene(d: () => Promise<Delivery>): TlsDrillScene {
  return { state, primary: st14, peer: st18, from: 'mohamed@st18.sne24.ru', to: 'ahmed@st14.sne24.ru', runId: RUN, delivery: d };
}

describe("the TLS drill's checks, run by the verify runner", () => {
  it('pass on a delivery over verified TLS, with the log line and the Received header as evidence', async () => {
    const [starttls, dkim] = openChecks(scene(async () => delivered(true)));
    const r = await runOne(starttls!, target, new Facts(target), 1000);
    expect(r).toMatchObject({ id: 'starttls-verified', status: 'pass', summary: 'TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes; Received header shows TLS' });
    expect(r.evidence.map((e) => [e.kind, e.label])).toEqual([['log', 'st18 main log'], ['headers', 'st14: Received header']]);
    expect(await runOne(dkim!, target, new Facts(target), 1000)).toMatchObject({ id: 'dkim-pass', status: 'pass', summary: 'status=pass d=st18.sne24.ru s=lab' });
  });

  it('pass with CV=dane (the lab publishes TLSA under DNSSEC); fail with CV=no (TLS, but nothing verified)', async () => {
    const withCv = (cv: string) => async () => {
      const d = delivered(true);
      return { ...d, peerLog: d.peerLog.replace('CV=yes', cv).replace('H=mail.st14.sne24.ru [', 'H=mail.st14.sne24.ru DS [') };
    };
    const [dane] = openChecks(scene(withCv('CV=dane')));
    expect(await runOne(dane!, target, new Facts(target), 1000)).toMatchObject({ status: 'pass', summary: 'TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=dane; Received header shows TLS' });
    const [none] = openChecks(scene(withCv('CV=no')));
    expect(await runOne(none!, target, new Facts(target), 1000)).toMatchObject({ status: 'fail' });
  });

  it('fail, not ok: false, on a delivery in plaintext', async () => {
    const [starttls] = openChecks(scene(async () => delivered(false)));
    const r = await runOne(starttls!, target, new Facts(target), 1000);
    expect(r.status).toBe('fail');
    expect(r.summary).toMatch(/^no TLS CV=\?; Received header shows no TLS$/);
  });

  it('share one delivery, and fail with the runner\'s timeout when it does not come', async () => {
    let made = 0;
    const never = () => {
      made++;
      return new Promise<Delivery>(() => undefined);
    };
    const defs = openChecks(tlsDrillScene(state, st14, st18, never)).slice(0, 2);
    const report = await runChecks(target, { concurrency: 1, timeoutMs: 50 }, defs);
    expect(made).toBe(1);
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([['starttls-verified', 'fail'], ['dkim-pass', 'fail']]);
    expect(report.checks[0]!.summary).toMatch(/timed out after 50 ms/);
    expect(report).toMatchObject({ passed: 0, failed: 2 });
  });
});

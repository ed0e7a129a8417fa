import { describe, expect, it } from 'vitest';
import type { DaneDrill, SpoofDrill } from '../../../src/evidence/payloads.js';
import { protectsAgainst } from '../../../src/report/beyond.js';

const spoof: SpoofDrill = { sent: 1, refused: 1, delivered: 0, spf: 'fail', dkim: 'none', dmarc: 'fail', enforced: true, reason: 'Rejected by the DMARC policy of st18.sne24.ru (reject)', ok: true };
const monitor: SpoofDrill = { ...spoof, refused: 0, delivered: 1, enforced: false, reason: undefined };
const dane: DaneDrill = {
  primary: 'st14', peer: 'st18',
  staleTlsa: { served: ['3 1 1 aa'], wanted: '3 1 1 bb', stale: true },
  deferred: { ok: true, afterMs: 100, reason: 'certificate verify failed' },
  republished: { ok: true, afterMs: 3800 },
  delivered: { ok: true, afterMs: 100, dane: true },
  ok: true,
};
const text = (blocks: ReturnType<typeof protectsAgainst>) => JSON.stringify(blocks);

describe('the report\'s "what each record protects against", from the drills', () => {
  it('says what this run showed', () => {
    const t = text(protectsAgainst(spoof, monitor, dane));
    expect(t).toContain('refused it at DATA (\\"Rejected by the DMARC policy of st18.sne24.ru (reject)\\")');
    expect(t).toContain('delivered, marked dmarc=fail');
    expect(t).toContain('refused by the sending Exim, which deferred the mail');
    expect(t).toContain('delivered with CV=dane');
  });
  it('says so when a drill failed or did not run, never claims it', () => {
    const t = text(protectsAgainst({ ...spoof, refused: 0 }, undefined, { ...dane, deferred: { ok: false, afterMs: 0 }, delivered: { ok: true, afterMs: 1, dane: false } }));
    expect(t).toContain('did NOT refuse it');
    expect(t).toContain('NOT refused');
    expect(t).toContain('did not deliver with DANE');
    expect(text(protectsAgainst())).toContain('The spoof drill has not run');
  });
});

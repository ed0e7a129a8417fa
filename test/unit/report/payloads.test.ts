import { beforeAll, describe, expect, it } from 'vitest';
import { PAYLOAD_SLOTS, payloadItem, readPayload, type PayloadName } from '../../../src/evidence/payloads.js';
import type { EvidenceRecord } from '../../../src/evidence/types.js';
import { buildReport } from '../../../src/report/build.js';
import { allItems, type Block } from '../../../src/report/model.js';
import { signatureBlocks, tlsDrillBlocks } from '../../../src/report/payload-blocks.js';
import { findTlsReceived, starttlsLines } from '../../../src/report/transcripts.js';
import { fixtureRecords, SIGNER_FPR } from './fixture-store.js';

let records: EvidenceRecord[];
beforeAll(async () => {
  records = await fixtureRecords();
});
const rec = (area: string, id: string) => records.find((r) => r.area === area && r.id === id && !r.host)!;
const codeLabels = (blocks: Block[]) => blocks.flatMap((b) => (b.kind === 'code' ? [b.label] : []));

describe('typed payloads in the fixture store, as the producers write them', () => {
  it('reads each payload from its slot', () => {
    expect(readPayload(rec('install', '1c-signature'), 'signature')).toMatchObject({ primaryFingerprint: SIGNER_FPR, trustedAs: SIGNER_FPR, bySubkey: false });
    expect(readPayload(rec('lab', 'topology'), 'topology')?.spec.hosts.map((h) => h.name)).toEqual(['st14', 'st18']);
    expect(readPayload(rec('drill', 'backup-mx'), 'backupFigures')).toMatchObject({ sent: 20, lost: 0, primary: 'st14', backup: 'st18', forced: true });
    expect(readPayload(rec('drill', 'backup-mx'), 'backupTimeline')?.messages).toHaveLength(20);
    const tls = readPayload(rec('drill', 'tls'), 'tlsDrill')!;
    expect(tls).toMatchObject({ primary: 'st14', peer: 'st18', passed: 6, failed: 0 });
    expect(tls.checks.map((c) => [c.id, c.status])).toEqual(
      ['starttls-verified', 'dkim-pass', 'spf-pass', 'smtps-465', 'tls-required-plain', 'tls-required-starttls'].map((id) => [id, 'pass']),
    );
  });

  it('reads a payload only from its own record and item', () => {
    // verify/1c-signature carries the same signature record, but as a check's evidence, not install's payload.
    expect(readPayload(rec('verify', '1c-signature'), 'signature')).toBeUndefined();
    expect(readPayload(rec('drill', 'backup-mx'), 'tlsDrill')).toBeUndefined();
    expect(readPayload(undefined, 'topology')).toBeUndefined();
  });

  it('reads a payload of another shape as undefined, and the report shows that record as recorded', () => {
    const odd: Record<PayloadName, unknown> = {
      signature: { signer: 'x', primaryFingerprint: 42 },
      topology: { spec: { hosts: 'st14' } },
      backupFigures: { sent: 'ten' },
      backupTimeline: { runId: 'r', downAt: 1, returnedAt: 2, messages: [{ sent: 1 }] },
      tlsDrill: { primary: 'st14', peer: 'st18', checks: [{ id: 'x', ok: true }] },
    };
    for (const [name, data] of Object.entries(odd) as [PayloadName, unknown][]) {
      const slot = PAYLOAD_SLOTS[name];
      const r: EvidenceRecord = { area: slot.area, id: slot.id, title: 't', status: 'pass', at: '2025-11-27T20:00:00Z', evidence: [{ kind: 'data', label: slot.label, data }] };
      expect(readPayload(r, name), name).toBeUndefined();
    }
    const tls: EvidenceRecord = { area: 'drill', id: 'tls', title: 't', status: 'pass', at: '2025-11-27T20:00:00Z', evidence: [{ kind: 'data', label: 'checks', data: odd.tlsDrill }] };
    const item = allItems(buildReport([tls])).find((i) => i.key === 'drill/tls')!;
    expect(item.blocks.some((b) => b.kind === 'table' && b.caption === 'checks')).toBe(true);
  });

  it('writes what it reads: payloadItem puts a payload in its slot', () => {
    const sig = readPayload(rec('install', '1c-signature'), 'signature')!;
    const r: EvidenceRecord = { area: 'install', id: '1c-signature', title: 't', status: 'ok', at: '2025-11-27T20:00:00Z', evidence: [payloadItem('signature', sig)] };
    expect(r.evidence[0]).toEqual({ kind: 'data', label: 'signature', data: sig });
    expect(readPayload(r, 'signature')).toEqual(sig);
  });
});

describe('the report from typed payloads', () => {
  it('tables the signature: signer, fingerprints, which trusted key matched', () => {
    const [table] = signatureBlocks(rec('install', '1c-signature'));
    expect(table).toMatchObject({ kind: 'table', caption: 'signature', mono: true });
    expect(table!.kind === 'table' && table!.rows.map((r) => r[0])).toEqual(['signer', 'primary fingerprint', 'signing key fingerprint', 'by subkey', 'created', 'trusted as', 'keyring fingerprints']);
  });

  it('shows each TLS drill check with its verdict and summary, then its evidence', () => {
    const blocks = tlsDrillBlocks(rec('drill', 'tls'));
    const labels = codeLabels(blocks);
    expect(labels.slice(0, 3)).toEqual(['pass starttls-verified: st18 -> st14 over STARTTLS, certificate verified by the lab CA', 'st18 main log', 'st14: Received header']);
    expect(labels.filter((l) => /^(pass|FAIL) /.test(l))).toHaveLength(6);
    expect(labels).toContain('swaks --tls');
  });

  it('marks a failed TLS drill check FAIL', () => {
    const drill = readPayload(rec('drill', 'tls'), 'tlsDrill')!;
    const failed = { ...drill, passed: 5, failed: 1, checks: drill.checks.map((c, i) => (i === 1 ? { ...c, status: 'fail' as const } : c)) };
    const r: EvidenceRecord = { ...rec('drill', 'tls'), status: 'fail', evidence: [payloadItem('tlsDrill', failed)] };
    expect(codeLabels(tlsDrillBlocks(r))).toContain('FAIL dkim-pass: DKIM signed by st18 verifies on st14');
    expect(allItems(buildReport([r])).find((i) => i.key === 'drill/tls')!.status).toBe('fail');
  });

  it("quotes the TLS drill's transcripts and headers (6b, 7c)", () => {
    expect(findTlsReceived([rec('drill', 'tls')])).toMatch(/^Received: from mail\.st18\.sne24\.ru[\s\S]*esmtps/);
    expect(starttlsLines(rec('drill', 'tls'))).toMatch(/^<- {2}250-STARTTLS\n {4}\[\.\.\.\]\n -> STARTTLS\n<- {2}220 TLS go ahead\n/);
  });
});

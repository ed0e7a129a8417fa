/**
 * The CI smoke run (lab issue, item 5): the whole lab through the CLI, as a student would run it.
 * Install from the offline mirror (01-install left Exim built: this is the "nothing to do" path),
 * lab up, the backup-MX drill with 100 messages forced, the TLS drill, the wire drill (7c: tcpdump
 * and tshark, and its deliberately broken case), verify --lab, lab down,
 * and nothing left behind. Its evidence stays in the store for 06-report.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labctl, offlineMirror } from '../helpers/cli.js';
import { isRoot, requireRoot } from '../helpers/root.js';

requireRoot();

describe.runIf(isRoot)('lab smoke run (e2e, real Exim, BIND, namespaces)', () => {
  beforeAll(async () => {
    await labctl(['lab', 'down']);
  }, 120_000);
  afterAll(async () => {
    await labctl(['lab', 'down']);
  }, 120_000);

  it('installs Exim from the offline mirror: 01-install left it built, so there is nothing to do', async () => {
    const r = await labctl(['install', '--mirror', `${await offlineMirror()}/exim4`, '--yes']);
    expect(r.exitCode, r.all).toBe(0);
    // The whole line: "Exim 4.98.2 is installed and running." alone is what a rebuild prints.
    expect(r.stdout).toMatch(/^Nothing to do: Exim 4\.98\.2 is installed and running\.$/m);
  }, 900_000);

  it('brings the lab up', async () => {
    const r = await labctl(['lab', 'up']);
    console.log(r.all);
    expect(r.exitCode, r.all).toBe(0);
    const st = await labctl(['lab', 'status', '--json']);
    expect(st.exitCode, st.all).toBe(0);
    expect(st.stdout).toContain('st14.sne24.ru');
    expect(st.stdout).toContain('st18.sne24.ru');
  }, 180_000);

  it('runs the backup-MX drill with 100 messages, forced: nothing lost or duplicated', async () => {
    const r = await labctl(['lab', 'drill', 'backup-mx', '--messages', '100', '--force', '--json'], { timeoutMs: 300_000 });
    console.log(r.all);
    expect(r.exitCode, r.all).toBe(0);
    const figures = JSON.parse(r.stdout) as Record<string, number>;
    expect(Object.keys(figures).sort()).toEqual(['delivered', 'duplicates', 'heldOnBackup', 'heldSeconds', 'lost', 'recoverySeconds', 'sent']);
    expect(figures).toMatchObject({ sent: 100, heldOnBackup: 100, delivered: 100, lost: 0, duplicates: 0 });
  }, 300_000);

  it('runs the TLS drill', async () => {
    const r = await labctl(['lab', 'drill', 'tls', '--json'], { timeoutMs: 180_000 });
    console.log(r.all);
    expect(r.exitCode, r.all).toBe(0);
  }, 180_000);

  it('proves 7c on the wire: only TLS after STARTTLS, the control marker in the clear, SMTPS from the first byte', async () => {
    const r = await labctl(['lab', 'drill', 'wire', '--json'], { timeoutMs: 180_000 });
    console.log(r.all);
    expect(r.exitCode, r.all).toBe(0);
    const w = JSON.parse(r.stdout) as { tls: Record<string, unknown>; plain: Record<string, unknown>; smtps: Record<string, unknown>; pcap: string };
    expect(w.tls).toMatchObject({ markerFound: false, onlyTlsAfterStartTls: true, tlsVersion: expect.stringMatching(/^TLS 1\.[23]$/), cipher: expect.stringMatching(/^TLS_/) });
    expect(w.tls.plainCommands).toEqual(expect.arrayContaining(['STARTTLS', '220 TLS go ahead']));
    expect(w.plain).toMatchObject({ markerFound: true, packet: expect.any(Number), offset: expect.any(Number) });
    expect(w.smtps).toMatchObject({ markerFound: false, tlsFromFirstByte: true, plainCommands: [] });
    expect(existsSync(w.pcap)).toBe(true);
  }, 180_000);

  it('fails the wire proof when the "TLS" message is sent in plaintext (--demo-plaintext)', async () => {
    const r = await labctl(['lab', 'drill', 'wire', '--demo-plaintext', '--json'], { timeoutMs: 180_000 });
    expect(r.exitCode, r.all).toBe(1);
    const w = JSON.parse(r.stdout) as { tls: { markerFound: boolean; ok: boolean } };
    expect(w.tls).toMatchObject({ markerFound: true, ok: false });
  }, 180_000);

  it('verifies both lab hosts from inside the lab', async () => {
    const r = await labctl(['verify', '--lab', '--json'], { timeoutMs: 180_000 });
    console.log(r.stdout.slice(0, 4000));
    expect(r.exitCode, r.all).toBe(0);
  }, 180_000);

  it('takes the lab down and leaves nothing behind', async () => {
    const down = await labctl(['lab', 'down']);
    expect(down.exitCode, down.all).toBe(0);
    const left = await labctl(['lab', 'leftovers']);
    expect(left.exitCode, left.all).toBe(0);
    expect(left.stdout).toContain('nothing left behind');
  }, 120_000);
});

/**
 * End-to-end: Exim's reject and panic logs through `labctl logs`, and the verify check
 * `paniclog-empty`, on the machine's real Exim (installed, configured and running, as 02-07 leave
 * it). A real panic: exim run on a broken configuration file (-C) writes a configuration error
 * to the panic log. The panic log's earlier content is put back at the end. Needs root.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { labctl } from '../helpers/cli.js';
import { isRoot, requireRoot } from '../helpers/root.js';

const EXIM = '/usr/exim/bin/exim';

requireRoot();

interface Check {
  id: string;
  status: string;
  summary: string;
}

async function paniclogCheck(): Promise<{ exitCode: number; check: Check }> {
  const r = await labctl(['verify', '--only', 'paniclog-empty', '--json', '--no-store'], { timeoutMs: 60_000 });
  const report = JSON.parse(r.stdout) as { checks: Check[] };
  return { exitCode: r.exitCode, check: report.checks[0] };
}

describe.runIf(isRoot)('labctl logs and paniclog-empty (e2e, real Exim)', () => {
  let paniclog: string;
  let saved: string | undefined;
  let dir: string;

  beforeAll(async () => {
    const logs = await labctl(['logs', '--panic', '--json']);
    expect(logs.exitCode, logs.all).toBe(0);
    paniclog = JSON.parse(logs.stdout).logs[0].path;
    saved = await fs.readFile(paniclog, 'utf8').catch(() => undefined);
    if (saved !== undefined) await fs.writeFile(paniclog, '');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'labctl-logs-'));
  });

  afterAll(async () => {
    if (saved !== undefined) await fs.writeFile(paniclog, saved);
    else await fs.rm(paniclog, { force: true });
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('paniclog-empty passes while the panic log is empty', async () => {
    const { exitCode, check } = await paniclogCheck();
    expect(check.status, check.summary).toBe('pass');
    expect(exitCode).toBe(0);
  });

  it('a real panic (exim on a broken configuration file) fails paniclog-empty, naming the first line', async () => {
    const broken = path.join(dir, 'broken.conf');
    await fs.writeFile(broken, 'this_is_not_an_exim_option = 1\n');
    // -bP reads the configuration and logs its error to the panic log (-bV only prints it).
    const r = await execa(EXIM, ['-C', broken, '-bP', 'spool_directory'], { reject: false });
    expect(r.exitCode).not.toBe(0);
    const lines = (await fs.readFile(paniclog, 'utf8')).split('\n').filter(Boolean);
    expect(lines.length, `exim -C broken.conf wrote nothing to ${paniclog}`).toBeGreaterThan(0);
    expect(lines[0]).toContain(`Exim configuration error in line 1 of ${broken}`);
    expect(lines.join('\n')).toContain('this_is_not_an_exim_option');
    const { exitCode, check } = await paniclogCheck();
    expect(check.status).toBe('fail');
    expect(check.summary).toContain(lines[0]);
    expect(exitCode).toBe(1);
    const logs = await labctl(['logs', '--panic']);
    expect(logs.stdout).toContain(lines[0]);
  });

  it('passes again once the panic log is emptied', async () => {
    await fs.writeFile(paniclog, '');
    const { check } = await paniclogCheck();
    expect(check.status, check.summary).toBe('pass');
  });

  it('logs --reject shows the refusal of a relay attempt; logs --id shows one message (exigrep)', async () => {
    const tag = `labctl-logs-${process.pid}`;
    // From the machine's own outside address: localhost may relay (relay_from_hosts), it may not.
    const address = Object.values(os.networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    expect(address, 'no non-loopback IPv4 address on this machine').toBeDefined();
    const s = await execa('swaks', ['--server', address!, '--port', '25', '--from', 'exim-test@st14.sne24.ru', '--to', `${tag}@relay-test.example`, '--quit-after', 'RCPT'], { reject: false });
    expect(s.exitCode, s.stdout).toBe(24); // swaks: no recipient accepted
    const rejects = await labctl(['logs', '--reject', '--lines', '200']);
    expect(rejects.exitCode, rejects.all).toBe(0);
    expect(rejects.stdout.split('\n').find((l) => l.includes(`${tag}@relay-test.example`))).toMatch(/rejected RCPT.*relay not permitted/);

    const sent = await execa(EXIM, ['-odi', '-f', `${tag}@st14.sne24.ru`, 'exim-test@st14.sne24.ru'], { input: `Subject: ${tag}\n\nbody\n`, reject: false });
    expect(sent.exitCode, sent.stderr).toBe(0);
    const main = await labctl(['logs', '--lines', '50', '--json']);
    const reception = JSON.parse(main.stdout).logs[0].lines.find((l: string) => l.includes(`<= ${tag}@st14.sne24.ru`)) as string;
    const id = reception.split(' ')[2];
    const one = await labctl(['logs', '--id', id, '--json']);
    expect(one.exitCode, one.all).toBe(0);
    const lines = JSON.parse(one.stdout).logs[0].lines as string[];
    expect(lines.some((l) => l.includes(`${id} <=`))).toBe(true);
    expect(lines.some((l) => l.includes(`${id} => exim-test`))).toBe(true);
    expect(lines.every((l) => !l.includes(' ') || l.includes(id) || l.startsWith('+++'))).toBe(true);
  });
});

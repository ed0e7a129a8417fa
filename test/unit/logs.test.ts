/** Where Exim's logs are, and the reject-log lines a lab drill keeps (files under a scratch lab directory). */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eximLogPath, logLines } from '../../src/logs/paths.js';

describe('eximLogPath', () => {
  const opts = (o: Record<string, string>) => new Map(Object.entries(o));
  it('defaults to <spool>/log/<name>log', () => {
    expect(eximLogPath(opts({ spool_directory: '/var/spool/exim' }), 'panic')).toBe('/var/spool/exim/log/paniclog');
    expect(eximLogPath(opts({ spool_directory: '/srv/spool', log_file_path: '' }), 'reject')).toBe('/srv/spool/log/rejectlog');
  });
  it('follows log_file_path: %s, %D, and skips syslog', () => {
    const d = new Date(2026, 11, 5);
    expect(eximLogPath(opts({ log_file_path: 'syslog : /var/log/exim/%slog-%D' }), 'main', d)).toBe('/var/log/exim/mainlog-20261205');
    expect(eximLogPath(opts({ log_file_path: '/tmp/x/%slog' }), 'panic')).toBe('/tmp/x/paniclog');
  });
  it('counts only lines that say something', () => {
    expect(logLines(undefined)).toEqual([]);
    expect(logLines('\n\n')).toEqual([]);
    expect(logLines('a\n\nb\n')).toEqual(['a', 'b']);
  });
});

describe('a drill keeps the reject-log lines it caused', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'labctl-rejectlog-'));
    process.env.LABCTL_LAB_DIR = dir;
  });
  afterAll(async () => {
    delete process.env.LABCTL_LAB_DIR;
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('only the lines written after the offset, or says nothing was refused', async () => {
    const { rejectlogItem, rejectlogSize } = await import('../../src/lab/hosts/logs.js');
    const { labPaths, DEFAULT_LAB } = await import('../../src/lab/topology.js');
    const host = DEFAULT_LAB.hosts[0]!;
    expect(await rejectlogSize(host)).toBe(0);
    expect((await rejectlogItem(host, 0)).text).toBe('(nothing was refused)');
    const log = labPaths.host(host.name).log;
    await fs.mkdir(log, { recursive: true });
    await fs.writeFile(path.join(log, 'rejectlog'), 'old refusal\n');
    const offset = await rejectlogSize(host);
    await fs.appendFile(path.join(log, 'rejectlog'), '2026-12-05 23:00:00 H=(client.lab) [10.203.14.100] F=<a@st18.sne24.ru> rejected after DATA: Rejected by the DMARC policy\n');
    const item = await rejectlogItem(host, offset);
    expect(item.kind).toBe('log');
    expect(item.text).toBe('2026-12-05 23:00:00 H=(client.lab) [10.203.14.100] F=<a@st18.sne24.ru> rejected after DATA: Rejected by the DMARC policy');
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withPostmaster } from '../../../src/config/aliases.js';
import { loadConfigFile, mergeInputs, parseBackupFor } from '../../../src/config/source.js';
import { parseRouteOutput } from '../../../src/system/exim-check.js';

describe('withPostmaster', () => {
  it('replaces the first postmaster entry, drops the others with their continuation lines, keeps the rest', () => {
    const before = '# comment\nroot: admin\nPostmaster: root,\n  other\nabuse: root\npostmaster: someone\n';
    expect(withPostmaster(before, 'exim-test')).toBe('# comment\nroot: admin\npostmaster: exim-test\nabuse: root\n');
  });

  it('appends the entry when there is none, and keeps a commented one', () => {
    expect(withPostmaster('# postmaster: someone@your.domain\nroot: admin', 'ahmed')).toBe('# postmaster: someone@your.domain\nroot: admin\npostmaster: ahmed\n');
  });

  it('is a no-op on a file that is already right', () => {
    const text = 'root: admin\npostmaster: ahmed\n';
    expect(withPostmaster(text, 'ahmed')).toBe(text);
  });

  it('creates a file when there is none', () => {
    expect(withPostmaster(undefined, 'ahmed')).toMatch(/\npostmaster: ahmed\n$/);
  });
});

describe('config file and flags', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'labctl-cfg-test-'));
  const empty = mkdtempSync(path.join(tmpdir(), 'labctl-cfg-test-'));
  afterAll(() => {
    for (const d of [dir, empty]) rmSync(d, { recursive: true, force: true });
  });

  it('reads YAML, JSON and a configure: section; flags win', async () => {
    writeFileSync(path.join(dir, 'labctl.yaml'), 'domain: st14.sne24.ru\nusers: [ahmed]\ntls: required\n');
    writeFileSync(path.join(dir, 'lab.json'), JSON.stringify({ install: { x: 1 }, configure: { domain: 'st18.sne24.ru' } }));
    const yaml = await loadConfigFile(undefined, dir);
    expect(yaml?.values).toEqual({ domain: 'st14.sne24.ru', users: ['ahmed'], tls: 'required' });
    expect((await loadConfigFile('lab.json', dir))?.values).toEqual({ domain: 'st18.sne24.ru' });
    expect(mergeInputs(yaml?.values, { tls: 'off', users: undefined })).toEqual({ domain: 'st14.sne24.ru', users: ['ahmed'], tls: 'off' });
  });

  it('has no default file without labctl.yaml, and refuses a missing or broken explicit one', async () => {
    expect(await loadConfigFile(undefined, empty)).toBeUndefined();
    await expect(loadConfigFile('nope.yaml', empty)).rejects.toThrow(/nope\.yaml: no such file/);
    writeFileSync(path.join(empty, 'bad.yaml'), 'domain: [unclosed\n');
    await expect(loadConfigFile('bad.yaml', empty)).rejects.toThrow(/bad\.yaml: not valid YAML/);
    writeFileSync(path.join(empty, 'list.yaml'), '- a\n- b\n');
    await expect(loadConfigFile('list.yaml', empty)).rejects.toThrow(/must hold a mapping/);
  });

  it('parses --backup-for DOMAIN[,MAILHOST[,ADDRESS]]', () => {
    expect(parseBackupFor('st18.sne24.ru')).toEqual({ domain: 'st18.sne24.ru' });
    expect(parseBackupFor('st18.sne24.ru,mx.st18.sne24.ru,10.0.0.18')).toEqual({ domain: 'st18.sne24.ru', mailHost: 'mx.st18.sne24.ru', address: '10.0.0.18' });
    expect(() => parseBackupFor('a,b,c,d')).toThrow(/use DOMAIN\[,MAILHOST\[,ADDRESS\]\]/);
  });
});

describe('parseRouteOutput (exim -bt)', () => {
  it('follows an alias to the local user and its transport', () => {
    const out = 'exim-test@st14.sne24.ru\n    <-- postmaster@st14.sne24.ru\n  router = localuser, transport = local_delivery\n';
    expect(parseRouteOutput(out)).toEqual([{ address: 'exim-test@st14.sne24.ru', router: 'localuser', transport: 'local_delivery' }]);
  });

  it('finds nothing for an undeliverable address', () => {
    expect(parseRouteOutput('nobody@st14.sne24.ru is undeliverable: Unknown user')).toEqual([]);
  });
});

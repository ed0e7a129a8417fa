import { readFile, readdir, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { scratchStateDir } from '../../helpers/state-dir.js';
import { installStateFile, loadInstallState, saveInstallState, type InstallState } from '../../../src/state/install.js';

const stateDir = scratchStateDir('labctl-state-');

const sample: InstallState = {
  version: '4.98.2',
  inputsKey: '0123456789abcdef',
  tarballUrl: 'http://mirror.test/exim4/exim-4.98.2.tar.xz',
  signature: { signer: 'J', primaryFingerprint: 'A', signingKeyFingerprint: 'A', bySubkey: false, created: '2025-03-25T10:14:14Z', trustedAs: 'A', keyringFingerprints: ['A'] },
  settings: [{ name: 'EXIM_USER', op: '=', value: 'exim' }],
  binary: '/usr/exim/bin/exim',
  configureFile: '/usr/exim/configure',
  buildLog: '/var/lib/labctl/build/exim-4.98.2.build.log',
  installedAt: '2026-11-28T07:00:00.000Z',
  origin: 'debian',
  previousVersion: '4.96',
};

describe('install.json (src/state/install.ts)', () => {
  it('round-trips the record with its schema version, written atomically (no temp file left)', async () => {
    expect(await loadInstallState()).toBeUndefined();
    await saveInstallState(sample);
    expect(await loadInstallState()).toEqual(sample);
    const raw = JSON.parse(await readFile(installStateFile(), 'utf8')) as { schemaVersion: number };
    expect(raw.schemaVersion).toBe(1);
    expect(await readdir(stateDir())).toEqual(['install.json']);
  });

  it('reads a file an older labctl wrote without a schema version', async () => {
    await writeFile(installStateFile(), JSON.stringify(sample));
    expect(await loadInstallState()).toEqual(sample);
  });

  it('refuses a newer schema and garbage, naming the file', async () => {
    await writeFile(installStateFile(), JSON.stringify({ ...sample, schemaVersion: 2 }));
    await expect(loadInstallState()).rejects.toThrow(/install\.json has schema version 2; this labctl reads up to 1/);
    await writeFile(installStateFile(), '{ half');
    await expect(loadInstallState()).rejects.toThrow(/install\.json is not valid JSON/);
  });
});

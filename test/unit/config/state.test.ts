import { mkdir, open, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scratchStateDir } from '../../helpers/state-dir.js';
import { validateModel } from '../../../src/config/validate.js';
import { saveEvidence } from '../../../src/evidence/store.js';
import { configureStateFile, loadConfigureState, saveConfigureState, type ConfigureState } from '../../../src/config/state.js';
import { loadStoredModel } from '../../../src/verify/target.js';

const stateDir = scratchStateDir('labctl-state-');

const model = validateModel({ domain: 'st14.sne24.ru', users: ['ahmed'], backupFor: [{ domain: 'st18.sne24.ru' }] });
const sample: ConfigureState = { model, configureFile: '/usr/exim/configure', at: '2026-11-28T08:00:00.000Z' };

describe('configure.json (src/config/state.ts)', () => {
  it('round-trips the record with its schema version, reloadPending included', async () => {
    expect(await loadConfigureState()).toBeUndefined();
    await saveConfigureState(sample);
    expect(await loadConfigureState()).toEqual(sample);
    const raw = JSON.parse(await readFile(configureStateFile(), 'utf8')) as { schemaVersion: number; model: unknown };
    expect(raw.schemaVersion).toBe(1);
    expect(raw.model).toEqual(model);

    await saveConfigureState({ ...sample, reloadPending: true });
    expect(await loadConfigureState()).toEqual({ ...sample, reloadPending: true });
    await saveConfigureState(sample);
    expect((await loadConfigureState())?.reloadPending).toBeUndefined();
  });

  it('reads another state directory when given one (a lab host\'s)', async () => {
    const other = path.join(stateDir(), 'host');
    await saveConfigureState(sample, other);
    expect(await loadConfigureState()).toBeUndefined();
    expect(await loadConfigureState(other)).toEqual(sample);
    expect(configureStateFile(other)).toBe(path.join(other, 'configure.json'));
  });

  it('reads a file an older labctl wrote without a schema version', async () => {
    await writeFile(configureStateFile(), JSON.stringify(sample));
    expect(await loadConfigureState()).toEqual(sample);
  });

  it('refuses a newer schema and garbage, naming the file', async () => {
    await writeFile(configureStateFile(), JSON.stringify({ ...sample, schemaVersion: 2 }));
    await expect(loadConfigureState()).rejects.toThrow(/configure\.json has schema version 2; this labctl reads up to 1/);
    await writeFile(configureStateFile(), '{ half');
    await expect(loadConfigureState()).rejects.toThrow(/configure\.json is not valid JSON/);
  });

  it('writes atomically: a new file is renamed over the old one, a reader of the old one sees it whole, no temp file stays', async () => {
    await saveConfigureState(sample);
    const before = await stat(configureStateFile());
    const reader = await open(configureStateFile(), 'r');
    try {
      await saveConfigureState({ ...sample, configureFile: '/srv/exim/configure' });
      expect((await stat(configureStateFile())).ino).not.toBe(before.ino);
      // The file the reader opened is the old one, complete: never a half-written mix.
      expect(JSON.parse(await reader.readFile('utf8'))).toEqual({ schemaVersion: 1, ...sample });
    } finally {
      await reader.close();
    }
    expect((await loadConfigureState())?.configureFile).toBe('/srv/exim/configure');
    expect(await readdir(stateDir())).toEqual(['configure.json']);
  });

  it('a write that fails leaves no temp file beside the target', async () => {
    const blocked = path.join(stateDir(), 'blocked');
    // A directory where the file should be: the final rename fails.
    await mkdir(path.join(blocked, 'configure.json', 'x'), { recursive: true });
    await expect(saveConfigureState(sample, blocked)).rejects.toThrow();
    expect(await readdir(blocked)).toEqual(['configure.json']);
  });
});

describe('verify reads the configure model through src/config/state.ts only', () => {
  it('finds the model configure saved', async () => {
    await saveConfigureState(sample);
    expect(await loadStoredModel()).toEqual(model);
  });

  it('does not open configure\'s evidence to find a model', async () => {
    await saveEvidence({ area: 'configure', id: 'configure', title: 'Exim configuration', status: 'changed', at: sample.at, evidence: [{ kind: 'data', label: 'lab model', data: model }] });
    expect(await loadStoredModel()).toBeUndefined();
  });
});

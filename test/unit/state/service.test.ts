import { readFile, readdir, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { scratchStateDir } from '../../helpers/state-dir.js';
import { DEFAULT_SERVICE, eximEnvFile, loadServiceSettings, saveServiceSettings, serviceSettingsFile } from '../../../src/state/service.js';

const stateDir = scratchStateDir('labctl-service-');

const sample = { binary: '/opt/exim/bin/exim', queueInterval: '1m', pidFile: '/run/exim-lab.pid' };

describe('service.json and exim.env (src/state/service.ts)', () => {
  it('round-trips the settings with their schema version, and renders exim.env from them', async () => {
    expect(await loadServiceSettings()).toEqual(DEFAULT_SERVICE);
    await saveServiceSettings(sample);
    expect(await loadServiceSettings()).toEqual(sample);
    const raw = JSON.parse(await readFile(serviceSettingsFile(), 'utf8')) as { schemaVersion: number };
    expect(raw.schemaVersion).toBe(1);
    expect(await readFile(eximEnvFile(), 'utf8')).toMatch(/^QUEUE_INTERVAL=1m$/m);
    expect((await readdir(stateDir())).sort()).toEqual(['exim.env', 'service.json']);
  });

  it('reads a file an older labctl wrote without a schema version, over the defaults', async () => {
    await writeFile(serviceSettingsFile(), JSON.stringify({ binary: sample.binary, queueInterval: '5m' }));
    expect(await loadServiceSettings()).toEqual({ ...DEFAULT_SERVICE, binary: sample.binary, queueInterval: '5m' });
  });

  it('refuses a newer schema with one line naming the file', async () => {
    await writeFile(serviceSettingsFile(), JSON.stringify({ ...sample, schemaVersion: 2 }));
    const err = await loadServiceSettings().then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/service\.json has schema version 2; this labctl reads up to 1$/);
    expect(err?.message).not.toContain('\n');
    expect(err).toHaveProperty('hint');
  });

  it('refuses garbage with one line naming the file, never the defaults', async () => {
    await writeFile(serviceSettingsFile(), '{ "binary": "/usr/exim/bin/exim",');
    const err = await loadServiceSettings().then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/service\.json is not valid JSON/);
    expect(err?.message).not.toContain('\n');
    await writeFile(serviceSettingsFile(), '[]');
    await expect(loadServiceSettings()).rejects.toThrow(/service\.json is not a labctl state file/);
  });
});

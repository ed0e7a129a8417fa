/**
 * build.json's owner (src/install/build-manifest.ts): what it writes, that an export from the
 * first labctl that wrote one still reads, and the one-line refusals of a newer schema and of
 * garbage (the digest checked first, on the bytes read).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILD_SCHEMA, manifestFile, readManifest, writeManifest, type BuildManifest } from '../../../src/install/build-manifest.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'labctl-build-json-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** As the first --export-build wrote it (field for field). */
const sample: BuildManifest = {
  schema: 1,
  version: '4.98.2',
  inputsKey: 'f2c8abfcc383e2f8',
  make: { eximUser: 'exim', binDirectory: '/usr/exim/bin', configureFile: '/usr/exim/configure', spf: false },
  tarball: 'exim4/exim-4.98.2.tar.xz',
  tarballSha256: 'a'.repeat(64),
  tree: 'exim-4.98.2-build.tar.gz',
  treeSha256: 'b'.repeat(64),
  machine: { arch: 'x64', os: 'debian 12' },
  builtOn: 'st14',
  exportedAt: '2026-11-28T13:10:51.322Z',
};

const sha = async () => createHash('sha256').update(await readFile(manifestFile(dir))).digest('hex');
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: Error) => e);

describe('build.json (src/install/build-manifest.ts)', () => {
  it('round-trips the manifest with its schema version, world-readable, and the digest of its bytes is what --sha256 checks', async () => {
    await writeManifest(dir, sample);
    const raw = JSON.parse(await readFile(manifestFile(dir), 'utf8')) as { schema: number };
    expect(raw.schema).toBe(BUILD_SCHEMA);
    expect((await stat(manifestFile(dir))).mode & 0o777).toBe(0o644);
    expect(await readManifest(dir, await sha())).toEqual(sample);
  });

  it('reads an export an older labctl wrote (schema 1, no dmarc field)', async () => {
    await writeFile(manifestFile(dir), JSON.stringify(sample, null, 2));
    expect(await readManifest(dir, await sha())).toEqual(sample);
  });

  it('refuses a newer schema with one line naming the file and what to do, even with the right digest', async () => {
    await writeFile(manifestFile(dir), JSON.stringify({ ...sample, schema: 2, somethingNew: true }));
    const err = await failure(readManifest(dir, await sha()));
    expect(err?.message).toMatch(/^--from-build .*: build\.json has schema version 2; this labctl reads up to 1$/);
    expect(err).toHaveProperty('hint', 'install with the labctl that exported it, or export the build again with this one');
  });

  it('refuses garbage with one line, and checks the digest before it parses', async () => {
    await writeFile(manifestFile(dir), '{ "schema": 1,');
    const err = await failure(readManifest(dir, await sha()));
    expect(err?.message).toMatch(/^--from-build .*: build\.json is not valid JSON$/);
    const wrong = await failure(readManifest(dir, 'c'.repeat(64)));
    expect(wrong?.message).toMatch(/build\.json has sha256 [0-9a-f]{64}, not the c{64} given with --sha256$/);
  });
});

/**
 * build.json, the manifest of an exported build: the one module that names it, defines its shape
 * and reads and writes it. `labctl install --export-build DIR` writes it (./export-build.ts);
 * `--from-build DIR --sha256 DIGEST` reads it (./prebuilt.ts), and the class playbook checks the
 * names in it (tarball, tree) against fixed patterns before it fetches anything.
 *
 * Its schema version is the `schema` field, there since the first export (a state file under
 * /var/lib/labctl calls it `schemaVersion`; build.json keeps its name so that every export made
 * so far still reads). A newer schema is refused with one line, never read as a guess. With
 * `--sha256`, the bytes read are the bytes whose digest is checked, before they are parsed.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LabError, usageError } from '../errors.js';
import { writeAtomic } from '../system/files.js';
import type { MachineKind } from '../system/machine.js';
import type { MakefileOptions } from './makefile.js';

export const MANIFEST = 'build.json';
/** The schema this labctl writes and the newest it reads. */
export const BUILD_SCHEMA = 1;
export const manifestFile = (dir: string) => path.join(dir, MANIFEST);

export const SHA256 = /^[0-9a-f]{64}$/;

export interface BuildManifest {
  schema: typeof BUILD_SCHEMA;
  version: string;
  /** The digest of the tarball and the Makefile settings (InstallState.inputsKey). */
  inputsKey: string;
  /** The Makefile settings it was built with; --from-build installs with these. */
  make: MakefileOptions;
  /** exim4/<name>, as a mirror lays it out, and its signature beside it. */
  tarball: string;
  tarballSha256: string;
  /** The built tree, packed with node-tar (gzip). */
  tree: string;
  treeSha256: string;
  /** Where it was built: a tree is used only on the same architecture and OS release. */
  machine: MachineKind;
  builtOn: string;
  exportedAt: string;
}

const isString = (v: unknown): v is string => typeof v === 'string';
/** A name inside DIR: relative, plain characters, no "..". */
const isPlainName = (v: unknown) => isString(v) && /^[A-Za-z0-9._/-]+$/.test(v) && !v.startsWith('/') && !v.split('/').includes('..');

/** Every field labctl reads from a manifest, with its type: a hand-edited file is refused, not a crash. */
function isManifest(m: Partial<BuildManifest> | null): m is BuildManifest {
  const make = m?.make;
  return (
    m?.schema === BUILD_SCHEMA &&
    isString(m.version) &&
    isString(m.inputsKey) &&
    isPlainName(m.tarball) &&
    isPlainName(m.tree) &&
    SHA256.test(m.tarballSha256 ?? '') &&
    SHA256.test(m.treeSha256 ?? '') &&
    isString(m.machine?.arch) &&
    isString(m.machine?.os) &&
    isString(make?.binDirectory) &&
    isString(make?.configureFile) &&
    isString(make?.eximUser) &&
    typeof make?.spf === 'boolean' &&
    (make.dmarc === undefined || typeof make.dmarc === 'boolean')
  );
}

/**
 * Reads DIR/build.json; any problem is one line naming the file and what to do. With `sha256`,
 * the bytes read are the bytes checked: a build.json whose digest differs is refused before it is
 * parsed.
 */
export async function readManifest(dir: string, sha256?: string): Promise<BuildManifest> {
  const hint = 'make it with labctl install --export-build DIR on the machine that built Exim';
  const bytes = await fs.readFile(manifestFile(dir)).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw usageError(`--from-build ${dir}: cannot read ${MANIFEST} there (${err.code ?? err.message})`, hint);
  });
  if (bytes === undefined) throw usageError(`--from-build ${dir}: no ${MANIFEST} there`, hint);
  if (sha256 !== undefined) {
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== sha256) {
      throw new LabError(
        `--from-build ${dir}: ${MANIFEST} has sha256 ${actual}, not the ${sha256} given with --sha256`,
        'the export was changed after the controller took its digest: copy it again from the controller, and pass the digest the controller computed',
      );
    }
  }
  let m: Partial<BuildManifest> | null;
  try {
    m = JSON.parse(bytes.toString('utf8')) as Partial<BuildManifest> | null;
  } catch {
    throw usageError(`--from-build ${dir}: ${MANIFEST} is not valid JSON`, hint);
  }
  const schema = (m as { schema?: unknown } | null)?.schema;
  if (typeof schema === 'number' && Number.isInteger(schema) && schema > BUILD_SCHEMA) {
    throw usageError(
      `--from-build ${dir}: ${MANIFEST} has schema version ${schema}; this labctl reads up to ${BUILD_SCHEMA}`,
      'install with the labctl that exported it, or export the build again with this one',
    );
  }
  if (!isManifest(m)) throw usageError(`--from-build ${dir}: ${MANIFEST} is not a labctl build manifest`, hint);
  return m;
}

/** Writes DIR/build.json (world-readable: the class controller fetches it). */
export async function writeManifest(dir: string, m: BuildManifest): Promise<void> {
  await writeAtomic(manifestFile(dir), `${JSON.stringify(m, null, 2)}\n`, { mode: 0o644 });
}

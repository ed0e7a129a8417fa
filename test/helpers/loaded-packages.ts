/**
 * What a labctl run loads: the run is started with a module hook (load-recorder/) that writes
 * every module it imports to a scratch file, and the packages among them are returned beside
 * the run's result. A CommonJS package's own require() calls are not seen, its entry is.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { labctl } from './cli.js';

/** Libraries that cost a tenth of a second or more to load here, needed only by some runs of a command. */
export const HEAVY = ['mailauth', 'nodemailer', 'openpgp', 'playwright-core'];

const REGISTER = pathToFileURL(path.join(import.meta.dirname, 'load-recorder/register.mjs')).href;

/** The package of a node_modules URL (`@scope/name` or `name`), or undefined for any other module. */
export function packageOf(url: string): string | undefined {
  const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  return m?.[1];
}

export async function runRecordingLoads(args: string[], env: Record<string, string> = {}) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'labctl-loads-'));
  const log = path.join(dir, 'loaded');
  try {
    const r = await labctl(args, { env: { ...env, LABCTL_LOAD_LOG: log, NODE_OPTIONS: `--import=${REGISTER}` }, timeoutMs: 60_000 });
    const urls = (await fs.readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    const packages = [...new Set(urls.map(packageOf).filter((p): p is string => !!p))].sort();
    return { ...r, urls, packages };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

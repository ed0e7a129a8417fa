/**
 * When commands take the lock (issue 12): a bad flag is a usage error (exit 2) naming the flag,
 * found before the lock is asked for, so another labctl holding it does not turn a typo into a 75. Another labctl holds the lock exclusively throughout, in a scratch lock
 * directory; state and lab directories are scratch too, so nothing here reaches the machine's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { labctl } from '../helpers/cli.js';
import { startHolder, type Holder } from '../helpers/lock-holder.js';

let dir: string;
let env: Record<string, string>;
let holder: Holder;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'labctl-command-locks-'));
  env = {
    LABCTL_LOCK_DIR: path.join(dir, 'run'),
    LABCTL_STATE_DIR: path.join(dir, 'state'),
    LABCTL_LAB_DIR: path.join(dir, 'lab'),
    LABCTL_CACHE_DIR: path.join(dir, 'cache'),
    LABCTL_BUILD_DIR: path.join(dir, 'build'),
    LABCTL_UNIT_FILE: path.join(dir, 'exim.service'),
  };
  holder = await startHolder('exclusive', 'labctl lab drill backup-mx --messages 1000', env);
});
afterAll(async () => {
  await holder?.kill();
  await fs.rm(dir, { recursive: true, force: true });
});

const run = (args: string[]) => labctl(args, { env, timeoutMs: 60_000 });

describe('a bad flag while another labctl holds the lock', () => {
  it.each([
    [['install', '--source', 'bogus', '--yes'], '--source bogus: unknown source'],
    [['install', '--version', 'x.y'], '--version "x.y" is not an Exim version'],
    [['configure', '--domain', 'bad_domain'], 'fix --domain'],
    [['service', 'bogus'], 'unknown service action "bogus"'],
    [['verify', '--timeout', 'soon'], '--timeout soon'],
    [['report', '--host', 'Bad!'], '--host "Bad!"'],
    [['lab', 'up', '--config', '/nonexistent/lab.yaml'], 'cannot read lab config /nonexistent/lab.yaml'],
    [['lab', 'send', '--from', 'st14', '--to', 'nobody'], '--to: "nobody" is not an address'],
    [['lab', 'drill', 'backup-mx', '--messages', 'lots'], '--messages: "lots"'],
  ])('labctl %j exits 2 naming the flag, not 75 about the lock', async (args, message) => {
    const r = await run(args);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toContain('is held by');
    expect(r.exitCode, r.all).toBe(2);
  });
});

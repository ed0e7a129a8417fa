/**
 * Which commands take the lock, and when (issue 12): every command that changes the machine
 * takes it exclusively, verify and report share it, and a bad flag is a usage error (exit 2)
 * naming the flag, found before the lock is asked for, so another labctl holding it does not
 * turn a typo into a 75. Another labctl holds the lock exclusively throughout, in a scratch lock
 * directory; state and lab directories are scratch too, so nothing here reaches the machine's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { labctlHere } from '../helpers/cli.js';
import { startHolder, type Holder } from '../helpers/lock-holder.js';
import { HEAVY, runRecordingLoads } from '../helpers/loaded-packages.js';

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

const run = (args: string[]) => labctlHere(args, { env });

// Each test is one labctl run against the same holder, independent of the others, run in this
// process (labctlHere: the built CLI's main(), one run at a time); the heavy-library checks spawn.
describe.concurrent('a bad flag while another labctl holds the lock', () => {
  it.each([
    [['install', '--source', 'bogus', '--yes'], '--source bogus: unknown source'],
    [['install', '--version', 'x.y'], '--version "x.y" is not an Exim version'],
    [['configure', '--domain', 'bad_domain'], 'fix --domain'],
    [['service', 'bogus'], "value 'bogus' is invalid for argument 'action'"],
    [['verify', '--timeout', 'soon'], '--timeout soon'],
    [['report', '--host', 'Bad!'], '--host "Bad!"'],
    [['lab', 'up', '--config', '/nonexistent/lab.yaml'], 'cannot read lab config /nonexistent/lab.yaml'],
    [['lab', 'send', '--from', 'st14', '--to', 'nobody'], '--to: "nobody" is not an address'],
    [['lab', 'drill', 'backup-mx', '--messages', 'lots'], '--messages: "lots"'],
    [['lab', 'drill', 'backup-mx', '--force', '--runners', '0'], '--runners: "0"'],
    [['uninstall', '--purge'], "unknown option '--purge'"],
    [['uninstall', 'exim'], 'too many arguments'],
  ])('labctl %j exits 2 naming the flag, not 75 about the lock', async (args, message) => {
    const r = await run(args);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toContain('is held by');
    expect(r.exitCode, r.all).toBe(2);
  });
});

describe.concurrent('every command that changes the machine takes the lock alone; verify and report share it', () => {
  const none = () => path.join(dir, 'nothing-here');
  const alone: [string, () => string[]][] = [
    ['install', () => ['install', '--mirror', none(), '--yes']],
    ['configure', () => ['configure', '--domain', 'st14.sne24.ru', '--configure-file', path.join(none(), 'configure'), '--exim', path.join(none(), 'exim')]],
    ...['start', 'stop', 'restart', 'reload'].map((a): [string, () => string[]] => [`service ${a}`, () => ['service', a]]),
    ['lab up', () => ['lab', 'up']],
    ['lab down', () => ['lab', 'down']],
    ['lab send (it queues mail)', () => ['lab', 'send', '--from', 'st18', '--to', 'ahmed@st14.sne24.ru']],
    ['lab drill backup-mx', () => ['lab', 'drill', 'backup-mx', '--messages', '1']],
    ['lab drill tls', () => ['lab', 'drill', 'tls']],
    ['lab drill wire', () => ['lab', 'drill', 'wire']],
    ['lab drill spoof', () => ['lab', 'drill', 'spoof']],
    ['lab drill spoof --no-enforce', () => ['lab', 'drill', 'spoof', '--no-enforce']],
    ['lab drill dane', () => ['lab', 'drill', 'dane']],
    ['mirror', () => ['mirror', none()]],
    ['uninstall', () => ['uninstall']],
  ];
  const shared: [string, () => string[]][] = [
    ['verify', () => ['verify', '--no-store']],
    ['report', () => ['report', '--out', '-', '--no-html']],
  ];
  it.each([...alone.map(([n, a]) => [n, a, 'alone'] as const), ...shared.map(([n, a]) => [n, a, 'shared'] as const)])(
    'labctl %s: exit 75, naming the holder and how it wanted the lock',
    async (_name, args, how) => {
      const r = await run(args());
      expect(r.stderr).toContain(`is held by pid ${holder.pid} (labctl lab drill backup-mx --messages 1000)`);
      expect(r.stderr).toContain(`this run wanted it ${how}`);
      expect(r.exitCode, r.all).toBe(75);
    },
  );

  it.each([
    ['verify', () => ['verify', '--no-store'], 'shared'],
    ['lab drill dane', () => ['lab', 'drill', 'dane'], 'alone'],
    ['install', () => ['install', '--mirror', none(), '--yes'], 'alone'],
  ])('labctl %s refused by the lock loads none of the heavy libraries (OpenPGP.js, nodemailer, mailauth, playwright-core)', async (_name, args, how) => {
    const r = await runRecordingLoads(args(), env);
    expect(r.stderr).toContain(`this run wanted it ${how}`);
    expect(r.exitCode, r.all).toBe(75);
    expect(r.packages).toContain('commander');
    expect(r.packages.filter((p) => HEAVY.includes(p))).toEqual([]);
  });

  it('service status, a dry run and a diff only read: they share it', async () => {
    for (const args of [['service', 'status'], ['install', '--dry-run'], ['configure', '--domain', 'st14.sne24.ru', '--diff'], ['lab', 'up', '--dry-run'], ['uninstall', '--dry-run']]) {
      const r = await run(args);
      expect(r.stderr, args.join(' ')).toContain('this run wanted it shared');
    }
  });
});

/**
 * End-to-end: `labctl queue` on a message that real Exim holds because its destination refuses
 * connections (the write-up's 4b/4c): the list with its retry time, rule and last failure, `why`,
 * `show`, bad ids, a flush that cannot deliver, then a flush once the destination listens.
 *
 * The held message lives in a second, throwaway Exim instance (the installed binary with its own
 * configuration, spool and logs under a temporary directory, `labctl queue --config FILE`), so
 * the machine's queue, port 25 and daemon are not touched. Needs root and the Exim 01-install
 * built.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { labctl, repoRoot } from '../helpers/cli.js';
import { isRoot, requireRoot } from '../helpers/root.js';

const EXIM = '/usr/exim/bin/exim';

requireRoot();

/** A port nobody listens on: bound, then closed again. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

describe.runIf(isRoot)('labctl queue (e2e, real Exim, a destination that refuses)', () => {
  let dir: string;
  let config: string;
  let port: number;
  let id: string;
  let sink: ResultPromise | undefined;
  const q = (args: string[]) => labctl(['queue', ...args, '--config', config], { timeoutMs: 120_000 });

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'labctl-queue-'));
    await fs.chmod(dir, 0o755);
    const spool = path.join(dir, 'spool');
    await fs.mkdir(spool);
    await execa('chown', ['exim:exim', spool]);
    port = await closedPort();
    config = path.join(dir, 'configure');
    // The destination is "localhost" (a name, so exinext finds its retry hint) on a closed port.
    await fs.writeFile(
      config,
      [
        'primary_hostname = queue-test.example',
        'qualify_domain = queue-test.example',
        `spool_directory = ${spool}`,
        `log_file_path = ${spool}/log/%slog`,
        'keep_environment =',
        'begin routers',
        'held:',
        '  driver = manualroute',
        '  domains = held.test',
        '  transport = remote_smtp',
        '  route_list = * localhost byname',
        '  self = send',
        'begin transports',
        'remote_smtp:',
        '  driver = smtp',
        `  port = ${port}`,
        '  allow_localhost',
        'begin retry',
        '*  *  F,2h,1m; F,4d,6h',
        '',
      ].join('\n'),
    );
    const sent = await execa(EXIM, ['-C', config, '-odi', '-f', 'root@queue-test.example', 'someone@held.test'], {
      input: 'Subject: held for the queue test\n\nqueue-test-body\n',
      reject: false,
    });
    expect(sent.exitCode, sent.stderr).toBe(0);
    const list = await execa(EXIM, ['-C', config, '-bp'], { reject: false });
    id = /\s(\S{6}-\S{11}-\S{4})\s/.exec(list.stdout)?.[1] ?? '';
    expect(id, `exim -bp:\n${list.stdout}`).not.toBe('');
  });

  afterAll(async () => {
    sink?.kill();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('lists the held message with its age, next retry time and rule, and the last failure', async () => {
    const r = await q(['--json']);
    expect(r.exitCode, r.all).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.count).toBe(1);
    const m = out.messages[0];
    expect(m.id).toBe(id);
    expect(m.sender).toBe('root@queue-test.example');
    expect(m.recipients).toEqual([{ address: 'someone@held.test', delivered: false }]);
    expect(m.retry.rule).toEqual({ pattern: '*', error: '*', rules: 'F,2h,1m; F,4d,6h;' });
    expect(m.retry.hints[0].subject).toBe(`localhost 127.0.0.1:${port}`);
    expect(m.retry.hints[0].text).toBe('Connection refused');
    expect(m.retry.nextTry).toMatch(/^\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d$/);
    expect(m.lastFailure).toBe('defer (111): Connection refused');
    const text = await q([]);
    expect(text.stdout).toContain(`next try at: ${m.retry.nextTry} (exinext)`);
    expect(text.stdout).toContain('last failure: defer (111): Connection refused');
  });

  it('why: one paragraph with the failure, the rule, the retry time and how to deliver now', async () => {
    const r = await q(['why', id]);
    expect(r.exitCode, r.all).toBe(0);
    const p = r.stdout.trim();
    expect(p.split('\n')).toHaveLength(1);
    expect(p).toContain('"defer (111): Connection refused"');
    expect(p).toContain('"* * F,2h,1m; F,4d,6h;"');
    expect(p).toMatch(/not to be tried before \d\d-[A-Z][a-z]{2}-\d{4}/);
    expect(p).toContain('labctl queue flush --domain held.test');
    const j = JSON.parse((await q(['why', id, '--json'])).stdout);
    expect(j.frozen).toBe(false);
    expect(Date.parse(j.nextAttempt)).toBeGreaterThan(Date.now() - 120_000);
    console.log(`labctl queue why ${id}:\n${p}`);
  });

  it('show: headers, body and message log', async () => {
    const r = await q(['show', id, '--json']);
    expect(r.exitCode, r.all).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.headers).toContain('Subject: held for the queue test');
    expect(s.body).toContain('queue-test-body');
    expect(s.log).toContain('R=held T=remote_smtp defer (111): Connection refused');
  });

  it("logs --id: the message's lines in the main log (exigrep)", async () => {
    const r = await labctl(['logs', '--id', id, '--config', config, '--json']);
    expect(r.exitCode, r.all).toBe(0);
    const lines = JSON.parse(r.stdout).logs[0].lines as string[];
    expect(lines.find((l) => l.includes(`${id} <= root@queue-test.example`))).toBeDefined();
    expect(lines.find((l) => l.includes(`${id} == someone@held.test R=held T=remote_smtp defer (111): Connection refused`))).toBeDefined();
  });

  it('a malformed or unknown id: one line, exit 2', async () => {
    for (const bad of ['nonsense', '-Mrm', id.replace(/.$/, id.endsWith('x') ? 'y' : 'x')]) {
      for (const sub of ['why', 'show']) {
        // After "--", so that "-Mrm" reaches labctl as an id (it would be an unknown flag otherwise).
        const r = await labctl(['queue', sub, '--config', config, '--', bad]);
        expect(r.exitCode, `${sub} ${bad}: ${r.all}`).toBe(2);
        expect(r.stderr).toMatch(/^labctl: (".*" is not an Exim message id|message \S+ is not in the queue)/);
        expect(r.stdout).toBe('');
      }
    }
  });

  it('flush while the destination still refuses: exit 1, the message stays', async () => {
    const r = await q(['flush']);
    expect(r.exitCode, r.all).toBe(1);
    expect(r.stderr).toContain('nothing was delivered');
    expect(JSON.parse((await q(['--json'])).stdout).count).toBe(1);
  });

  it('flush --domain once the destination listens: delivered past the retry time (-Rff), queue empty', async () => {
    const file = path.join(dir, 'delivered.eml');
    sink = execa('node', [path.join(repoRoot, 'scripts/container/smtp.mjs'), 'sink', '127.0.0.1', String(port), file], { reject: false });
    await waitForPort(port);
    const r = await q(['flush', '--domain', 'held.test', '--json']);
    expect(r.exitCode, r.all).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ before: 1, after: 0, left: [] });
    expect(await fs.readFile(file, 'utf8')).toContain('queue-test-body');
    expect((await q([])).stdout).toContain('is empty');
  });
});

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port}`);
}

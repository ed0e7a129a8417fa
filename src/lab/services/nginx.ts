import { promises as fs } from 'node:fs';
import path from 'node:path';
import ejs from 'ejs';
import { mtaStsFor } from '../../config/dns.js';
import type { HostModel } from '../../config/model.js';
import { LabError } from '../../errors.js';
import { ensureDir, fileSize, readFrom, removePath, writeAtomic } from '../../system/files.js';
import { inNamespace } from '../../system/netns.js';
import { childPids, runningPid, signal, waitUntil } from '../../system/procs.js';
import { installChecked } from './install.js';
import type { HostKeyFiles } from './keys.js';
import { labTemplatesDir } from './templates.js';
import { labPaths, names, type LabMailHostSpec } from '../topology.js';

/**
 * The MTA-STS web server of a lab mail host (beyond the write-up): Debian's nginx in the host's namespace,
 * on its lab address, port 443, serving only https://mta-sts.<domain>/.well-known/mta-sts.txt
 * (the policy `labctl dns` computes) with the host's certificate from the lab CA.
 */
export const webFiles = (host: LabMailHostSpec) => {
  const dir = path.join(labPaths.host(host.name).root, 'web');
  return { dir, conf: path.join(dir, 'nginx.conf'), pid: path.join(dir, 'nginx.pid'), policy: path.join(dir, 'mta-sts.txt'), log: path.join(dir, 'error.log') };
};

export const webServerPid = (host: LabMailHostSpec) => runningPid(webFiles(host).pid);

/** What the web server's two files hold: its nginx.conf and the MTA-STS policy it serves. */
export async function renderWebServer(host: LabMailHostSpec, model: HostModel, keys: HostKeyFiles): Promise<{ conf: string; policy: string }> {
  const f = webFiles(host);
  const conf = await ejs.renderFile(path.join(labTemplatesDir, 'nginx.conf.ejs'), {
    dir: f.dir,
    listen: host.address,
    name: `mta-sts.${model.domain}`,
    certificate: keys.certificate,
    key: keys.privateKey,
    policy: f.policy,
  });
  return { conf, policy: mtaStsFor(model).text };
}

/** nginx -t on `conf` in the host's namespace; throws with nginx's words. */
async function testConf(host: LabMailHostSpec, conf: string, shown = conf): Promise<void> {
  const test = await inNamespace(names.hostNs(host.name), 'nginx', ['-t', '-q', '-c', conf], { allowFailure: true });
  if (test.exitCode !== 0) throw new LabError(`${host.name}: nginx -t refused ${shown}: ${(test.stderr || test.stdout).trim().split('\n')[0]}`, `see ${webFiles(host).log}`);
}

/** Writes the web server's policy and nginx.conf and checks them with nginx -t in the host's namespace. */
async function writeWebServer(host: LabMailHostSpec, model: HostModel, keys: HostKeyFiles): Promise<void> {
  const f = webFiles(host);
  await ensureDir(f.dir, 0o755);
  const want = await renderWebServer(host, model, keys);
  await writeAtomic(f.policy, want.policy, { mode: 0o644 });
  await writeAtomic(f.conf, want.conf);
  await testConf(host, f.conf);
}

export async function startWebServer(host: LabMailHostSpec, model: HostModel, keys: HostKeyFiles): Promise<number> {
  const f = webFiles(host);
  const already = await webServerPid(host);
  if (already) return already;
  await writeWebServer(host, model, keys);
  await removePath(f.pid);
  const r = await inNamespace(names.hostNs(host.name), 'nginx', ['-c', f.conf], { allowFailure: true, timeoutMs: 10_000 });
  if (!(await waitUntil(async () => (await webServerPid(host)) !== undefined, 5000, 50))) {
    const log = await fs.readFile(f.log, 'utf8').catch(() => '');
    throw new LabError(`${host.name}: the MTA-STS web server did not start: ${(r.stderr || log).trim().split('\n').slice(-1)[0] || 'no pid file'}`, `see ${f.log}`);
  }
  return (await webServerPid(host))!;
}

/**
 * SIGHUP to nginx's master `pid`, confirmed: it rereads nginx.conf and the certificate and starts
 * new workers (a worker pid it did not have), and its error.log says nothing at emerg or alert.
 */
async function hupWebServer(host: LabMailHostSpec, pid: number): Promise<void> {
  const f = webFiles(host);
  const before = await childPids(pid);
  const offset = await fileSize(f.log);
  const complaint = async () => /\[(emerg|alert)\].*/.exec((await readFrom(f.log, offset)).toString())?.[0];
  signal(pid, 'SIGHUP');
  const ok = await waitUntil(async () => !!(await complaint()) || (await childPids(pid)).some((w) => !before.includes(w)), 5000, 50);
  const why = await complaint();
  if (!ok || why) throw new LabError(`${host.name}: nginx (pid ${pid}) did not take the reload: ${why ?? 'no new worker within 5 s'}`, `see ${f.log}`);
  // The old workers finish what they serve and leave (at once when idle, as in the lab).
  await waitUntil(async () => !(await childPids(pid)).some((w) => before.includes(w)), 2000, 50);
}

/**
 * The running nginx's files replaced (./install.ts: staged, nginx -t on the staged nginx.conf,
 * renamed into place), then SIGHUP, confirmed by new workers; the old files back if it fails.
 * Its pid, and how to put the old files back (lab up's take-back).
 */
export async function reloadWebServer(host: LabMailHostSpec, model: HostModel, keys: HostKeyFiles): Promise<{ pid: number; restore: () => Promise<string> }> {
  const pid = await webServerPid(host);
  if (!pid) throw new LabError(`${host.name}: the MTA-STS web server is not running`, 'run labctl lab down, then labctl lab up');
  const f = webFiles(host);
  const want = await renderWebServer(host, model, keys);
  const done = await installChecked({
    what: `${host.name}'s nginx.conf and MTA-STS policy`,
    files: [{ path: f.policy, text: want.policy, mode: 0o644 }, { path: f.conf, text: want.conf }],
    check: (staged) => testConf(host, staged[f.conf]!, `the new ${f.conf}`),
    reload: () => hupWebServer(host, pid),
  });
  return { pid, restore: done.restore };
}

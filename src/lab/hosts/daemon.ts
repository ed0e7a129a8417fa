import { promises as fs } from 'node:fs';
import { LabError } from '../../errors.js';
import { removePath } from '../../system/files.js';
import { inNamespace } from '../../system/netns.js';
import { runningPid, signal, terminate, waitUntil } from '../../system/procs.js';
import { labPaths, mailHostName, names, type LabMailHostSpec } from '../topology.js';
import { logSize, mainlogSince } from './logs.js';
import { eximInView } from './view.js';

/**
 * A lab host's Exim daemon: started in the host's view (its own configure, spool, mailboxes),
 * tracked by its own pid file, with the lab's queue runner interval.
 */
export const daemonPid = (host: LabMailHostSpec) => runningPid(labPaths.host(host.name).pidFile);

/** Ports the host's daemon listens on, as seen inside its namespace. */
export async function listeningPorts(host: LabMailHostSpec): Promise<number[]> {
  const r = await inNamespace(names.hostNs(host.name), 'ss', ['-Hltn'], { allowFailure: true });
  const ports = new Set<number>();
  for (const line of r.stdout.split('\n')) {
    const local = line.trim().split(/\s+/)[3];
    const port = local ? Number(local.slice(local.lastIndexOf(':') + 1)) : NaN;
    if (Number.isInteger(port)) ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}

export async function startDaemon(host: LabMailHostSpec, queueInterval: string): Promise<number> {
  const p = labPaths.host(host.name);
  const existing = await daemonPid(host);
  if (existing) return existing;
  await removePath(p.pidFile);
  const r = await eximInView(host, mailHostName(host), ['-bd', `-q${queueInterval}`, '-oP', p.pidFile], {
    allowFailure: true,
    timeoutMs: 15000,
  });
  const up = await waitUntil(async () => (await daemonPid(host)) !== undefined && (await listeningPorts(host)).includes(25), 5000, 50);
  if (!up) {
    const panic = await fs.readFile(`${p.log}/paniclog`, 'utf8').catch(() => '');
    const why = (r.stderr || r.stdout || panic.trim().split('\n').slice(-2).join(' | ')).trim();
    throw new LabError(`${host.name}: the Exim daemon did not start: ${why || 'not listening on port 25'}`, `see ${p.log}/mainlog and paniclog`);
  }
  return (await daemonPid(host))!;
}

/**
 * SIGHUP: the daemon re-executes itself (same pid) and rereads its configure file. Waits for it
 * to log its start again in the host's mainlog and to listen on port 25; its pid.
 */
export async function reloadDaemon(host: LabMailHostSpec): Promise<number> {
  const p = labPaths.host(host.name);
  const pid = await daemonPid(host);
  if (!pid) throw new LabError(`${host.name}: the Exim daemon is not running`, 'run labctl lab down, then labctl lab up');
  const since = await logSize(host);
  const restarted = async () => /daemon started: pid=/.test(await mainlogSince(host, since));
  signal(pid, 'SIGHUP');
  if (!(await waitUntil(async () => (await restarted()) && (await daemonPid(host)) !== undefined && (await listeningPorts(host)).includes(25), 10_000, 50))) {
    throw new LabError(`${host.name}: the Exim daemon (pid ${pid}) did not start again after SIGHUP`, `see ${p.log}/mainlog and paniclog`);
  }
  return (await daemonPid(host))!;
}

/** Stops the daemon (its running deliveries finish on their own). Returns whether one was running. */
export async function stopDaemon(host: LabMailHostSpec): Promise<boolean> {
  const pid = await daemonPid(host);
  if (!pid) return false;
  await terminate([pid], 3000);
  await waitUntil(async () => !(await listeningPorts(host)).includes(25), 3000, 50);
  return true;
}

/** Number of messages in the host's queue (exim -bpc in its view). */
export async function queueCount(host: LabMailHostSpec): Promise<number> {
  const r = await eximInView(host, mailHostName(host), ['-bpc'], { allowFailure: true, timeoutMs: 10000 });
  const n = Number.parseInt(r.stdout.trim(), 10);
  return Number.isInteger(n) ? n : -1;
}

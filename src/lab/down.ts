import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LabError, usageError } from '../errors.js';
import {
  deleteNamespace,
  listNamespaceEtc,
  listNamespaces,
  namespacePids,
  removeNamespaceEtc,
} from '../system/netns.js';
import { alive, terminate } from '../system/procs.js';
import { run } from '../system/run.js';
import { LAB_PREFIX, labPaths, names } from './topology.js';
import { copyTree, exists, removePath } from '../system/files.js';

/**
 * Tearing the lab down, from whatever state it is in: after a clean `lab up`, a half-finished
 * one, or a `kill -9` of any daemon. Everything is found by name (the `labctl-` prefix, the lab
 * directory), not from the state file, so it also works when that file is gone.
 */
export interface Leftovers {
  namespaces: string[];
  etcNetns: string[];
  processes: { pid: number; command: string }[];
  mounts: string[];
  files: string[];
}

const isLab = (name: string) => name.startsWith(LAB_PREFIX);

async function readText(file: string): Promise<string> {
  return fs.readFile(file, 'utf8').catch(() => '');
}

/**
 * Processes that belong to the lab: every process in a lab network namespace, plus any process
 * whose mounts or command line refer to the lab directory (a host view whose namespace name is
 * already gone still has its bind mounts from there).
 */
async function labProcesses(): Promise<{ pid: number; command: string }[]> {
  const found = new Map<number, string>();
  const cmd = async (pid: number) => (await readText(`/proc/${pid}/cmdline`)).split('\0').filter(Boolean).join(' ');
  for (const ns of (await listNamespaces()).filter(isLab)) {
    for (const pid of await namespacePids(ns)) found.set(pid, await cmd(pid));
  }
  const dir = labPaths.root;
  const self = process.pid;
  for (const entry of await fs.readdir('/proc').catch(() => [] as string[])) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === self || found.has(pid)) continue;
    const command = await cmd(pid);
    if (!command) continue; // kernel threads
    const mounts = await readText(`/proc/${pid}/mountinfo`);
    // A process of a host view has the lab directory bind-mounted; only our own children use it.
    const mountsLab = mounts.split('\n').some((l) => l.split(' ')[3]?.startsWith(dir));
    if (mountsLab || command.includes(`${dir}/`)) found.set(pid, command);
  }
  return [...found].filter(([pid]) => alive(pid)).map(([pid, command]) => ({ pid, command }));
}

/** Mounts in this (the root) mount namespace that belong to the lab. */
async function labMounts(): Promise<string[]> {
  const info = await readText('/proc/self/mountinfo');
  return info
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((mp) => mp.startsWith(`/run/netns/${LAB_PREFIX}`) || mp.startsWith(labPaths.root));
}

export async function findLeftovers(): Promise<Leftovers> {
  const files = (await fs.stat(labPaths.root).then(() => true, () => false)) ? [labPaths.root] : [];
  return {
    namespaces: (await listNamespaces()).filter(isLab),
    etcNetns: (await listNamespaceEtc()).filter(isLab).map((n) => `/etc/netns/${n}`),
    processes: await labProcesses(),
    mounts: await labMounts(),
    files,
  };
}

export function describeLeftovers(l: Leftovers): string[] {
  return [
    ...l.namespaces.map((n) => `network namespace ${n}`),
    ...l.etcNetns.map((f) => `file ${f}`),
    ...l.processes.map((p) => `process ${p.pid} (${p.command.slice(0, 80)})`),
    ...l.mounts.map((m) => `mount ${m}`),
    ...l.files.map((f) => `directory ${f}`),
  ];
}

/** A lab host's queue as `lab down` found it, and where its spool was copied (--keep-spool). */
export interface SpoolRecord {
  host: string;
  queued: number;
  keptIn?: string;
}

/** Messages in an Exim spool: one `-H` file each under input/ (in subdirectories when split). */
async function countQueued(spool: string): Promise<number> {
  const count = async (dir: string): Promise<number> => {
    let n = 0;
    for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) n += await count(path.join(dir, e.name));
      else if (e.name.endsWith('-H')) n += 1;
    }
    return n;
  };
  return count(path.join(spool, 'input'));
}

/** The mail hosts whose directories are on disk; found by listing, so a lost state file does not matter. */
async function hostsOnDisk(): Promise<string[]> {
  const dir = path.join(labPaths.root, 'hosts');
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

/** Where --keep-spool puts a host's spool; refused before anything is removed when it is taken. */
export async function checkKeepSpool(dir: string): Promise<void> {
  for (const host of await hostsOnDisk()) {
    const dest = path.join(dir, host);
    if (await exists(dest)) throw usageError(`--keep-spool: ${dest} already exists`, 'name an empty or new directory: a kept spool is never overwritten');
  }
}

export interface DownOptions {
  /** Copy each host's spool (queue, message logs, hints, logs) to DIR/<host> before removing it. */
  keepSpool?: string;
  /** Told each host's queue before anything is removed. */
  onSpool?: (s: SpoolRecord) => void;
}

export interface DownReport {
  killed: number;
  namespaces: string[];
  removedEtc: string[];
  removedDir: boolean;
  spools: SpoolRecord[];
}

export async function labDown(o: DownOptions = {}): Promise<DownReport> {
  const keepSpool = o.keepSpool === undefined ? undefined : path.resolve(o.keepSpool);
  if (keepSpool) await checkKeepSpool(keepSpool);
  const before = await findLeftovers();
  // Processes first: a namespace with processes in it outlives its name. Stopping the daemons
  // first also means no delivery changes a queue between counting it and removing it.
  const killed = await terminate(before.processes.map((p) => p.pid), 2000);
  // What is discarded is said (and kept, if asked) before anything is removed.
  const spools: SpoolRecord[] = [];
  for (const host of await hostsOnDisk()) {
    const spool = labPaths.host(host).spool;
    const record: SpoolRecord = { host, queued: await countQueued(spool) };
    if (keepSpool && (await exists(spool))) {
      record.keptIn = path.join(keepSpool, host);
      await copyTree(spool, record.keptIn);
    }
    spools.push(record);
    o.onSpool?.(record);
  }
  // The switch last, so veth peers go with the hosts first (either order works; this is tidier).
  const order = [...before.namespaces].sort((a, b) => Number(a === names.switchNs) - Number(b === names.switchNs));
  for (const ns of order) await deleteNamespace(ns);
  const removedEtc: string[] = [];
  for (const ns of (await listNamespaceEtc()).filter(isLab)) if (await removeNamespaceEtc(ns)) removedEtc.push(ns);
  for (const mp of await labMounts()) await run('umount', ['-l', mp], { allowFailure: true });
  const removedDir = before.files.length > 0;
  await removePath(labPaths.root);

  const after = await findLeftovers();
  const left = describeLeftovers(after);
  if (left.length) throw new LabError(`lab down left things behind: ${left.join('; ')}`, 'run labctl lab down again; report it if it persists');
  return { killed: killed.length, namespaces: order, removedEtc, removedDir, spools };
}

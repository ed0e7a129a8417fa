import { promises as fs } from 'node:fs';
import { listNamespaceEtc, listNamespaces, namespacePids } from '../../system/netns.js';
import { alive } from '../../system/procs.js';
import { LAB_PREFIX, labPaths } from '../topology.js';

/**
 * What a lab left on this machine, from whatever state it is in: after a clean `lab up`, a
 * half-finished one, or a `kill -9` of any daemon. Everything is found by name (the `labctl-`
 * prefix, the lab directory), not from the state file, so it also works when that file is gone.
 * `lab down` removes it (./steps.ts), `lab up` refuses to start beside it, `lab leftovers` lists it.
 */
export interface Leftovers {
  namespaces: string[];
  etcNetns: string[];
  processes: { pid: number; command: string }[];
  mounts: string[];
  files: string[];
}

export const isLab = (name: string) => name.startsWith(LAB_PREFIX);

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
export async function labMounts(): Promise<string[]> {
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

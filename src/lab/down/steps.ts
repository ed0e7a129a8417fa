import path from 'node:path';
import { copyTree, exists, removePath } from '../../system/files.js';
import { deleteNamespace, listNamespaceEtc, removeNamespaceEtc } from '../../system/netns.js';
import { terminate } from '../../system/procs.js';
import { run } from '../../system/run.js';
import type { Step } from '../../steps/types.js';
import { labPaths, names } from '../topology.js';
import { isLab, labMounts, type Leftovers } from './leftovers.js';
import { countQueued, hostsOnDisk, type SpoolRecord } from './spools.js';

/** What `lab down`'s steps share: what was there at the start, the options, and the report they fill. */
export interface DownContext {
  before: Leftovers;
  keepSpool?: string;
  onSpool?: (s: SpoolRecord) => void;
  report: DownReport;
}

export interface DownReport {
  killed: number;
  namespaces: string[];
  removedEtc: string[];
  removedDir: boolean;
  spools: SpoolRecord[];
}

/**
 * `lab down` as a list of steps, in the order that leaves nothing behind. Processes first: a
 * namespace with processes in it outlives its name, and with the daemons stopped no delivery
 * changes a queue between counting it and removing it. What is discarded is said (and kept, if
 * asked) before anything is removed. The switch's namespace last, so veth peers go with the hosts.
 */
export const labDownSteps: readonly Step<DownContext>[] = [
  {
    id: 'processes',
    title: 'stop every process of the lab',
    async check(ctx) {
      const p = ctx.before.processes;
      return p.length ? { done: false, detail: `stop ${p.length}: ${p.map((x) => `${x.pid} ${path.basename(x.command.split(' ')[0]!).replace(/:$/, '')}`).join(', ')}` } : { done: true };
    },
    async apply(ctx) {
      ctx.report.killed = (await terminate(ctx.before.processes.map((p) => p.pid), 2000)).length;
      return { detail: `${ctx.report.killed} stopped` };
    },
  },
  {
    id: 'spools',
    title: "each host's queue: counted, kept with --keep-spool",
    async check(ctx) {
      const hosts = await hostsOnDisk();
      if (!hosts.length) return { done: true };
      const counts = await Promise.all(hosts.map(async (h) => `${h}: ${await countQueued(labPaths.host(h).spool)} queued`));
      return { done: false, detail: `${counts.join(', ')}${ctx.keepSpool ? `; spools copied to ${ctx.keepSpool}` : ' (discarded)'}` };
    },
    async apply(ctx) {
      for (const host of await hostsOnDisk()) {
        const spool = labPaths.host(host).spool;
        const record: SpoolRecord = { host, queued: await countQueued(spool) };
        if (ctx.keepSpool && (await exists(spool))) {
          record.keptIn = path.join(ctx.keepSpool, host);
          await copyTree(spool, record.keptIn);
        }
        ctx.report.spools.push(record);
        ctx.onSpool?.(record);
      }
      return { detail: ctx.report.spools.map((s) => `${s.host}: ${s.queued} queued`).join(', ') };
    },
  },
  {
    id: 'namespaces',
    title: 'network namespaces',
    async check(ctx) {
      return ctx.before.namespaces.length ? { done: false, detail: `delete ${ctx.before.namespaces.join(' ')}` } : { done: true };
    },
    async apply(ctx) {
      const order = [...ctx.before.namespaces].sort((a, b) => Number(a === names.switchNs) - Number(b === names.switchNs));
      for (const ns of order) await deleteNamespace(ns);
      ctx.report.namespaces = order;
      return { detail: order.join(' ') };
    },
  },
  {
    id: 'netns-etc',
    title: '/etc/netns of the lab',
    async check() {
      const etc = (await listNamespaceEtc()).filter(isLab);
      return etc.length ? { done: false, detail: `remove ${etc.map((n) => `/etc/netns/${n}`).join(' ')}` } : { done: true };
    },
    async apply(ctx) {
      for (const ns of (await listNamespaceEtc()).filter(isLab)) if (await removeNamespaceEtc(ns)) ctx.report.removedEtc.push(ns);
      return { detail: ctx.report.removedEtc.join(' ') };
    },
  },
  {
    id: 'mounts',
    title: 'mounts of the lab',
    async check() {
      const mounts = await labMounts();
      return mounts.length ? { done: false, detail: `unmount ${mounts.join(' ')}` } : { done: true };
    },
    async apply() {
      const mounts = await labMounts();
      for (const mp of mounts) await run('umount', ['-l', mp], { allowFailure: true });
      return { detail: mounts.join(' ') };
    },
  },
  {
    id: 'directory',
    title: 'the lab directory',
    async check() {
      return (await exists(labPaths.root)) ? { done: false, detail: `remove ${labPaths.root}` } : { done: true };
    },
    async apply(ctx) {
      await removePath(labPaths.root);
      ctx.report.removedDir = true;
      return { detail: labPaths.root };
    },
  },
];

import { promises as fs } from 'node:fs';

/**
 * The machine's CPU time from /proc/stat, in clock ticks (USER_HZ, 100 a second on Linux): busy
 * (user, nice, system, irq, softirq, steal) and total (busy plus idle and iowait). Two samples
 * give how much of the machine a phase used, whichever processes did the work.
 */
export interface CpuSample {
  busy: number;
  total: number;
  /** The cpuN lines counted beside the total: the cores that total is over. */
  cores: number;
}

const TICKS_PER_SECOND = 100;

export function parseProcStat(text: string): CpuSample {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat has no "cpu" line');
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  const cores = text.split('\n').filter((l) => /^cpu\d+\s/.test(l)).length;
  return { busy, total: busy + idle + iowait, cores: cores || 1 };
}

export async function cpuSample(): Promise<CpuSample> {
  return parseProcStat(await fs.readFile('/proc/stat', 'utf8'));
}

/** What a piece of work cost the machine between two samples. */
export interface CpuUse {
  /** CPU seconds used on all cores together. */
  busySeconds: number;
  /** Share of all cores' time that was busy (0-1). */
  busyShare: number;
  cores: number;
}

/**
 * The cores are those /proc/stat counts, the same ones its total is over (os.availableParallelism
 * would give the process's affinity, another set under a cpuset or in a container).
 */
export function cpuUse(before: CpuSample, after: CpuSample): CpuUse {
  const busy = after.busy - before.busy;
  const total = after.total - before.total;
  return { busySeconds: busy / TICKS_PER_SECOND, busyShare: total > 0 ? busy / total : 0, cores: after.cores };
}

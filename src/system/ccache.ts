/**
 * A compiler cache for Exim's builds: Debian's ccache, turned on by LABCTL_CCACHE=1 (the test
 * suite, CI, the container smoke and the class builder set it; a student's install does not).
 * Repeated builds of the same source with the same settings then take their objects from the
 * cache. ccache hashes the compiler, its flags and the preprocessed source, and compiles afresh
 * any file that uses __DATE__ or __TIME__, so what is built does not change. Exim's OS Makefile
 * sets CC itself (cc on Linux), so the compiler is given on make's command line.
 */
import { LabError } from '../errors.js';
import { run, which } from './run.js';

export const CCACHE_VARIABLE = 'LABCTL_CCACHE';
/** Where the cache lives unless CCACHE_DIR says otherwise: beside, not inside, the download cache (tests wipe that). */
export const DEFAULT_CCACHE_DIR = '/var/cache/labctl-ccache';
/** Exim's OS/Makefile-Linux says CC=cc: the same compiler, through ccache. */
const COMPILER = 'cc';

export interface CcacheStats {
  hits: number;
  misses: number;
}

export interface CompilerCache {
  dir: string;
  /** Appended to make's arguments. */
  makeArgs: string[];
  env: Record<string, string>;
  stats(): Promise<CcacheStats | undefined>;
}

export const ccacheWanted = (env: NodeJS.ProcessEnv = process.env) => env[CCACHE_VARIABLE] === '1';

/** The counters `ccache --print-stats` prints (tab-separated name and value, ccache 4). */
export function parseCcacheStats(text: string): CcacheStats | undefined {
  const v = new Map(text.split('\n').map((l) => l.split('\t') as [string, string]));
  const n = (k: string) => Number.parseInt(v.get(k) ?? '', 10);
  const hits = n('direct_cache_hit') + n('preprocessed_cache_hit');
  const misses = n('cache_miss');
  return Number.isFinite(hits) && Number.isFinite(misses) ? { hits, misses } : undefined;
}

/** The cache when LABCTL_CCACHE=1 asks for it; an error naming the package when ccache is missing. */
export async function compilerCache(env: NodeJS.ProcessEnv = process.env): Promise<CompilerCache | undefined> {
  if (!ccacheWanted(env)) return undefined;
  if (!(await which('ccache'))) throw new LabError(`${CCACHE_VARIABLE}=1 asks for ccache, which is not installed`, `apt-get install ccache, or unset ${CCACHE_VARIABLE}`);
  const dir = env.CCACHE_DIR || DEFAULT_CCACHE_DIR;
  const ccEnv = { CCACHE_DIR: dir };
  return {
    dir,
    makeArgs: [`CC=ccache ${COMPILER}`],
    env: ccEnv,
    stats: async () => parseCcacheStats((await run('ccache', ['--print-stats'], { env: ccEnv, allowFailure: true })).stdout),
  };
}

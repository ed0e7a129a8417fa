import { promises as fs } from 'node:fs';
import { run, type RunOptions, type RunResult } from './run.js';

/**
 * The machine's own view of a mail host: programs run directly and files are read from the
 * root file system. The lab supplies views that enter a host's namespaces instead.
 */
export interface RootView {
  run(file: string, args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  readFile(path: string, opts?: { tailBytes?: number }): Promise<string | undefined>;
}

/** Reads a file, or only its last `tailBytes` (a long main log); undefined when it is missing. */
export async function readFileTail(path: string, tailBytes?: number): Promise<string | undefined> {
  let fh;
  try {
    fh = await fs.open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const { size } = await fh.stat();
    const start = tailBytes && size > tailBytes ? size - tailBytes : 0;
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

export const rootView: RootView = {
  run: (file, args, opts) => run(file, args, { ...opts, allowFailure: true }),
  readFile: (path, opts) => readFileTail(path, opts?.tailBytes),
};

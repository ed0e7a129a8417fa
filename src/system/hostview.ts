import { promises as fs } from 'node:fs';
import { run, type RunOptions, type RunResult } from './run.js';

/**
 * How labctl reaches one mail host: the one type for it. The machine's own view (`rootView`)
 * runs programs directly and reads files from the root file system; a lab host's view
 * (src/lab/hosts/view.ts `hostView`) enters its namespaces, so `exim`, `ss`, `dpkg-query` and file
 * reads see that host's configure, spool, mailboxes and listeners. Verify checks go through it
 * (VerifyTarget.view) and work the same on both.
 */
export interface HostView {
  /** Runs a program in the host's view; never throws on a non-zero exit (callers read exitCode). */
  run(file: string, args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** Reads a file as the host sees it; `tailBytes` limits a big file (the main log) to its end. */
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

/** The machine itself, seen from the root namespaces. */
export const rootView: HostView = {
  run: (file, args, opts) => run(file, args, { ...opts, allowFailure: true }),
  readFile: (path, opts) => readFileTail(path, opts?.tailBytes),
};

/** One Exim as labctl reaches it: a view, its binary (exinext, exigrep beside it), maybe another configuration (-C). */
export interface EximHost {
  view: HostView;
  exim: string;
  /** Another configuration file (exim -C, exinext -C): a second Exim, as in the tests. */
  config?: string;
  /** A lab host's name; undefined for the machine. */
  name?: string;
}

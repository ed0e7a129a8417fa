/**
 * Another labctl holding the lock, for the lock tests: a child process that takes the lock with
 * the built src/system/lock.ts (dist/, which npm test builds first), says "held", and keeps it
 * until its standard input closes (release) or it is killed.
 */
import { execa, type ResultPromise } from 'execa';
import path from 'node:path';
import { repoRoot } from './cli.js';

const HOLDER = `
const [, lockModule, mode, command] = process.argv;
const { acquireLock } = await import(lockModule);
const lock = await acquireLock(mode, { command });
process.stdout.write('held\\n');
process.stdin.resume();
process.stdin.on('end', () => { lock.release(); process.exit(0); });
`;

export interface Holder {
  pid: number;
  /** Gives the lock back and waits for the holder to exit. */
  release(): Promise<void>;
  /** kill -9: the kernel is left to release the lock. */
  kill(): Promise<void>;
}

export async function startHolder(mode: 'shared' | 'exclusive', command: string, env: Record<string, string>): Promise<Holder> {
  const child: ResultPromise = execa('node', ['--input-type=module', '-e', HOLDER, path.join(repoRoot, 'dist/system/lock.js'), mode, command], {
    env,
    stdin: 'pipe',
    reject: false,
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('held\n')) resolve();
    });
    child.then((r) => reject(new Error(`the lock holder exited before it held the lock: ${r.stderr || r.stdout}`)), reject);
  });
  return {
    pid: child.pid!,
    async release() {
      child.stdin!.end();
      await child;
    },
    async kill() {
      child.kill('SIGKILL');
      await child;
    },
  };
}

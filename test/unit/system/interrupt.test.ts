import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  onInterrupt,
  pendingInterruptCleanups,
  runInterruptCleanups,
} from '../../../src/system/interrupt.js';
import { scratch } from '../source/helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
async function tmp(): Promise<string> {
  const s = await scratch('interrupt');
  cleanups.push(s.cleanup);
  return s.dir;
}

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const viteNode = path.join(repo, 'node_modules', 'vite-node', 'vite-node.mjs');

/**
 * Runs a TypeScript script in a child node (through vite-node, which comes with vitest, so the
 * child imports src/ as the tests do, with no build) and resolves with how it ended.
 */
function runScript(file: string, env: Record<string, string>, onStdout: (line: string) => void) {
  const child = spawn(process.execPath, [viteNode, file], { cwd: repo, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => d.split('\n').filter(Boolean).forEach(onStdout));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, ended };
}

describe('onInterrupt', () => {
  it('runs every registered cleanup once, even after one that throws, and forgets them', () => {
    const ran: string[] = [];
    onInterrupt(() => ran.push('a'));
    onInterrupt(() => {
      throw new Error('boom');
    });
    const forget = onInterrupt(() => ran.push('gone'));
    onInterrupt(() => ran.push('c'));
    forget();
    runInterruptCleanups();
    expect(ran).toEqual(['a', 'c']);
    expect(pendingInterruptCleanups()).toBe(0);
    runInterruptCleanups();
    expect(ran).toEqual(['a', 'c']);
  });
});

describe('installInterruptHandlers (real signals, child process)', () => {
  const script = (extraListener: boolean) => `
import { writeFileSync } from 'node:fs';
import { installInterruptHandlers, onInterrupt } from ${JSON.stringify(path.join(repo, 'src/system/interrupt.ts'))};
installInterruptHandlers();
installInterruptHandlers(); // a second call adds nothing
${extraListener ? "process.on('SIGINT', () => {}); process.on('SIGTERM', () => {});" : ''}
onInterrupt(() => writeFileSync(process.env.MARKER!, 'cleaned'));
setInterval(() => {}, 1000);
console.log('ready');
`;

  for (const [signal, extra, expected] of [
    ['SIGTERM', false, { code: null, signal: 'SIGTERM' }],
    ['SIGINT', false, { code: null, signal: 'SIGINT' }],
    ['SIGINT', true, { code: 130, signal: null }],
  ] as const) {
    it(`${signal}${extra ? ' with another listener' : ''}: runs the cleanups, then ends with ${expected.signal ?? `exit ${expected.code}`}`, async () => {
      expect(existsSync(viteNode), `${viteNode} (comes with vitest)`).toBe(true);
      const dir = await tmp();
      const file = path.join(dir, 'child.ts');
      const marker = path.join(dir, 'marker');
      await writeFile(file, script(extra));
      const { child, ended } = runScript(file, { MARKER: marker }, (line) => {
        if (line === 'ready') child.kill(signal);
      });
      const end = await ended;
      expect({ code: end.code, signal: end.signal }, end.stderr).toEqual(expected);
      expect(await readFile(marker, 'utf8')).toBe('cleaned');
    });
  }
});

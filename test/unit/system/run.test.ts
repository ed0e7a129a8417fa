/**
 * run(), runInBackground() and which() on node:child_process: the results and errors labctl's
 * callers read, as they were with execa (real programs: sh, cat, sleep).
 */
import { describe, expect, it } from 'vitest';
import { LabError } from '../../../src/errors.js';
import { run, runInBackground, which } from '../../../src/system/run.js';

const fails = async (p: Promise<unknown>) => {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(LabError);
  return (err as Error).message;
};

describe('run', () => {
  it('collects stdout and stderr without their final newline, and the exit code', async () => {
    const r = await run('sh', ['-c', 'printf "out\\n\\n"; echo err >&2; exit 3'], { allowFailure: true });
    expect(r).toEqual({ command: `sh -c 'printf "out\\n\\n"; echo err >&2; exit 3'`, exitCode: 3, stdout: 'out\n', stderr: 'err' });
    expect(await fails(run('sh', ['-c', 'echo err >&2; exit 3']))).toBe(`sh -c 'echo err >&2; exit 3' exited with 3: err`);
  });

  it('gives input on stdin, extends the environment, runs in cwd; stdin is closed otherwise', async () => {
    expect((await run('cat', [], { input: 'a\nb\n' })).stdout).toBe('a\nb');
    expect((await run('cat', [])).stdout).toBe('');
    process.env.LABCTL_RUN_TEST = 'kept';
    expect((await run('sh', ['-c', 'echo $LABCTL_RUN_TEST:$ADDED'], { env: { ADDED: 'added' } })).stdout).toBe('kept:added');
    delete process.env.LABCTL_RUN_TEST;
    expect((await run('pwd', [], { cwd: '/' })).stdout).toBe('/');
    // A program that does not read its input is not an error.
    expect((await run('true', [], { input: 'x'.repeat(1 << 20) })).exitCode).toBe(0);
  });

  it('reports a missing program, a timeout and a signal as exit code -1, or throws them', async () => {
    expect(await run('labctl-no-such-program', ['x'], { allowFailure: true })).toMatchObject({ exitCode: -1, stderr: 'spawn labctl-no-such-program ENOENT' });
    expect(await fails(run('labctl-no-such-program', []))).toBe('labctl-no-such-program: spawn labctl-no-such-program ENOENT');
    const started = performance.now();
    expect(await run('sleep', ['10'], { timeoutMs: 200, allowFailure: true })).toMatchObject({ exitCode: -1, stderr: 'timed out after 200 ms' });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(await fails(run('sleep', ['10'], { timeoutMs: 200 }))).toBe('sleep 10: timed out after 200 ms');
    expect((await run('sh', ['-c', 'kill -9 $$'], { allowFailure: true })).stderr).toBe(`Command was killed with SIGKILL (Forced termination): sh -c 'kill -9 $$'`);
  });
});

describe('runInBackground', () => {
  it('keeps the output so far and collects it when stopped', async () => {
    const bg = runInBackground('sh', ['-c', 'echo started; echo warn >&2; exec sleep 30']);
    for (let i = 0; i < 100 && !bg.output().includes('warn'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(bg.output()).toContain('started');
    const r = await bg.stop('SIGTERM');
    expect(r).toMatchObject({ stdout: 'started', stderr: 'warn', exitCode: -1 });
  });
});

describe('which', () => {
  it('finds a program on PATH as command -v does, and nothing for a missing one', async () => {
    expect(await which('sh')).toBe((await run('sh', ['-c', 'command -v sh'])).stdout);
    expect(await which('labctl-no-such-program')).toBeUndefined();
    expect(await which('/bin/sh')).toBe('/bin/sh');
  });
});

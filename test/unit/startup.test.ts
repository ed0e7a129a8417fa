/**
 * What `labctl --version` and `--help` load: src/cli.ts and everything it imports statically.
 * Each command's action is imported only when it runs (src/commands/lazy.ts), so that closure
 * holds the command definitions and light constants, and no library but commander.
 * And what a command loads before it parses its flags and takes the lock: its action module's
 * static closure, with none of the heavy libraries (OpenPGP.js, nodemailer, mailauth,
 * playwright-core), which the code that needs them imports when it runs. A usage error or a
 * refusal by the lock answers without loading them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HEAVY, runRecordingLoads } from '../helpers/loaded-packages.js';

const SRC = path.resolve(import.meta.dirname, '../../src');

/** Static imports and re-exports of a source text (a dynamic `import()` is not one). */
export function staticImports(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  return [...code.matchAll(/(?:^|\n)\s*(?:import|export)\s(?:[^;'"]*?\sfrom\s+)?['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

/** Every source file and package reached from `entry` by static imports; type-only imports load nothing. */
export function startupClosure(entry: string, read: (file: string) => string = (f) => readFileSync(f, 'utf8')) {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const text = read(file).replace(/(?:^|\n)\s*(?:import|export)\s+type\s[^;]*;/g, '\n');
    for (const spec of staticImports(text)) {
      if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
      else if (!spec.startsWith('node:')) packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  };
  visit(entry);
  return { files: [...files].map((f) => path.relative(SRC, f)).sort(), packages: [...packages].sort() };
}

describe('startup loads only the command definitions', () => {
  const closure = startupClosure(path.join(SRC, 'cli.ts'));

  it('no library but commander', () => {
    expect(closure.packages).toEqual(['commander']);
  });

  it('no action module, and every command file in the closure', () => {
    expect(closure.files.filter((f) => f.startsWith('commands/actions/'))).toEqual([]);
    expect(closure.files).toEqual(expect.arrayContaining(['commands/install.ts', 'commands/verify.ts', 'commands/lab.ts', 'commands/lazy.ts']));
  });

  it('the closure finder sees static imports, not dynamic ones nor types', () => {
    const texts: Record<string, string> = {
      '/x/src/cli.ts': "import { a } from './a.js';\nimport type { T } from './t.js';\nimport chalk from 'chalk';\nexport { b } from './b.js';\nconst late = () => import('./heavy.js');",
      '/x/src/a.ts': "import { Command } from 'commander';\nimport '@scope/pkg/sub';",
      '/x/src/b.ts': "import os from 'node:os';",
    };
    const got = startupClosure('/x/src/cli.ts', (f) => texts[f]!);
    expect(got.packages).toEqual(['@scope/pkg', 'chalk', 'commander']);
    expect(got.files.map((f) => path.basename(f))).toEqual(['a.ts', 'b.ts', 'cli.ts']);
  });
});

describe('a command loads its heavy libraries only when it uses them', () => {
  const actions = readdirSync(path.join(SRC, 'commands/actions')).filter((f) => f.endsWith('.ts'));

  it.each(actions)('commands/actions/%s imports none of them statically', (file) => {
    const closure = startupClosure(path.join(SRC, 'commands/actions', file));
    expect(closure.packages.filter((p) => HEAVY.includes(p))).toEqual([]);
  });

  // The real runs: every module they load is recorded by a module hook (test/helpers/loaded-packages.ts).
  it.each([
    [['lab', 'drill', 'backup-mx', '--messages', 'lots'], '--messages: "lots"'],
    [['verify', '--timeout', 'soon'], '--timeout soon'],
    [['install', '--version', 'x.y'], '--version "x.y" is not an Exim version'],
  ])('labctl %j, a usage error, loads none of them', async (args, message) => {
    const r = await runRecordingLoads(args);
    expect(r.stderr).toContain(message);
    expect(r.exitCode, r.all).toBe(2);
    // The recorder saw the run: the CLI and commander at least.
    expect(r.packages).toContain('commander');
    expect(r.packages.filter((p) => HEAVY.includes(p))).toEqual([]);
  });
});

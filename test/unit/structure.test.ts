/**
 * The shape issue 11 asks the tree to keep, read from the sources: imports run one way (no
 * cycles), a default (the mail spool) and a type (HostView) that belong in one place are written
 * in one place, and the modules split along their seams stay under 200 lines.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rootView } from '../../src/system/hostview.js';
import { hostView } from '../../src/lab/view.js';
import { DEFAULT_LAB } from '../../src/lab/topology.js';

const SRC = path.resolve(import.meta.dirname, '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const rel = (file: string) => `src/${path.relative(SRC, file)}`;

/** Relative imports (type-only imports included: a cycle of types is still a tangle), as source files. */
export function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"](\.[^'"]+)['"]/g)) {
    out.push(path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, '.ts')));
  }
  return out;
}

/** Every import cycle, each as the list of files around it, starting from its smallest name. */
export function cycles(graph: Map<string, string[]>): string[][] {
  const found = new Map<string, string[]>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    for (const next of graph.get(n) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === 'open') {
        const loop = stack.slice(stack.indexOf(next));
        const start = loop.indexOf([...loop].sort()[0]!);
        const canonical = [...loop.slice(start), ...loop.slice(0, start)];
        found.set(canonical.join(' -> '), canonical);
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n);
  return [...found.values()];
}

const files = sources(SRC);
const texts = new Map(files.map((f) => [f, readFileSync(f, 'utf8')]));

describe('the tree keeps its shape (issue 11)', () => {
  it('no import cycles in src/', () => {
    const graph = new Map(files.map((f) => [f, importsOf(f, texts.get(f)!)]));
    const loops = cycles(graph).map((c) => [...c, c[0]!].map(rel).join(' -> '));
    expect(loops, loops.join('\n')).toEqual([]);
  });

  it('the cycle finder finds a cycle', () => {
    const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a', 'd']], ['d', []]]);
    expect(cycles(g)).toEqual([['a', 'b', 'c']]);
    expect(cycles(new Map([['a', ['b']], ['b', []]]))).toEqual([]);
    expect(importsOf('/x/src/a.ts', "import type { T } from './b.js';\nexport { u } from '../c.js';\nimport x from 'node:fs';")).toEqual(['/x/src/b.ts', '/x/c.ts']);
  });
});

/** The code of a file without its comments (a comment may name a path; only code sets one). */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');

describe('one owner for each default (issue 11)', () => {
  it('the mail spool /var/mail is written once, in src/paths.ts', () => {
    const writers = files.filter((f) => /\/var\/mail(?![\w-])/.test(code(texts.get(f)!))).map(rel);
    expect(writers).toEqual(['src/paths.ts']);
  });
});

describe('one HostView (issue 11)', () => {
  it('is declared once, in src/system/hostview.ts, and no other interface has its shape', () => {
    const declared = files.filter((f) => /\b(interface|type)\s+HostView\b/.test(code(texts.get(f)!))).map(rel);
    expect(declared).toEqual(['src/system/hostview.ts']);
    // The same two members under another name would be a second host view.
    const lookalikes = files
      .flatMap((f) => [...code(texts.get(f)!).matchAll(/interface\s+(\w+)\s*\{\s*(?:\/\*\*[^]*?\*\/\s*)?run\(file[^;]*;\s*(?:\/\*\*[^]*?\*\/\s*)?readFile\(/g)].map((m) => `${rel(f)} ${m[1]}`));
    expect(lookalikes).toEqual(['src/system/hostview.ts HostView']);
  });

  it('the machine and a lab host both give one', () => {
    const views = [rootView, hostView(DEFAULT_LAB.hosts[0]!, 'mail.st14.sne24.ru')];
    for (const v of views) expect([typeof v.run, typeof v.readFile]).toEqual(['function', 'function']);
  });
});

describe('small modules (issue 11: the 200-line guideline)', () => {
  it('the report and the TLS drill are split along their seams: no file of theirs over 200 lines', () => {
    const watched = files.filter((f) => rel(f).startsWith('src/report/') || /^src\/lab\/drill-tls/.test(rel(f)));
    expect(watched.map(rel)).toEqual(expect.arrayContaining(['src/report/svg.ts', 'src/lab/drill-tls-checks.ts']));
    const long = watched.map((f) => [rel(f), texts.get(f)!.split('\n').length - 1] as const).filter(([, n]) => n > 200);
    expect(long).toEqual([]);
  });
});

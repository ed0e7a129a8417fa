/**
 * The shape issue 11 asks the tree to keep, read from the sources: imports run one way (no
 * cycles), a default (the mail spool) and a type (HostView) that belong in one place are written
 * in one place, and the modules split along their seams stay under 200 lines.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rootView } from '../../src/system/hostview.js';
import { hostView } from '../../src/lab/hosts/view.js';
import { DEFAULT_LAB } from '../../src/lab/topology.js';
import { cycles, importGraph, importsOf, sourceFiles, upwardImports } from '../lint/imports.js';
import { crowdedFolders, lineCount, longFiles } from '../lint/size.js';

const SRC = path.resolve(import.meta.dirname, '../../src');
const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/lint/src');


const rel = (file: string) => `src/${path.relative(SRC, file)}`;

const files = sourceFiles(SRC);
const graph = importGraph(files);
const texts = new Map(files.map((f) => [f, readFileSync(f, 'utf8')]));

describe('the tree keeps its shape: the import graph as the TypeScript compiler reads it (test/lint/imports.ts)', () => {
  it('no import cycles in src/, import() expressions and import() types included', () => {
    const loops = cycles(graph).map((c) => [...c, c[0]!].map(rel).join(' -> '));
    expect(loops, loops.join('\n')).toEqual([]);
  });

  it('no upward or sideways import between the floors of src/, type imports included, and every folder on a floor', () => {
    const { upward, unplaced } = upwardImports(SRC, graph);
    expect(unplaced).toEqual([]);
    expect(upward, upward.join('\n')).toEqual([]);
  });

  it('the cycle finder finds a cycle', () => {
    const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a', 'd']], ['d', []]]);
    expect(cycles(g)).toEqual([['a', 'b', 'c']]);
    expect(cycles(new Map([['a', ['b']], ['b', []]]))).toEqual([]);
  });

  it('reads every way a file names another: import, import type, export from, import() and import() types; not comments or strings', () => {
    const text = [
      "import type { T } from './b.js';",
      "export { u } from '../c.js';",
      "import x from 'node:fs';",
      "type L = import('./d.js').L;",
      "const m = () => import('./e.js');",
      "// import { no } from './comment.js';",
      "const s = \"import('./string.js')\";",
    ].join('\n');
    expect(importsOf('/x/src/a.ts', text)).toEqual(['/x/src/b.ts', '/x/c.ts', '/x/src/d.ts', '/x/src/e.ts']);
  });

  it('catches the planted import() cycle and the planted upward type import in its fixtures', () => {
    const fixture = importGraph(sourceFiles(FIXTURE));
    const at = (f: string) => path.relative(FIXTURE, f);
    expect(cycles(fixture).map((c) => c.map(at))).toEqual([['lab/cycle-a.ts', 'lab/cycle-b.ts']]);
    expect(upwardImports(FIXTURE, fixture)).toEqual({ upward: ['evidence/upward.ts -> lab/cycle-b.ts'], unplaced: [] });
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
    const watched = files.filter((f) => rel(f).startsWith('src/report/') || /^src\/lab\/drills\/tls/.test(rel(f)));
    expect(watched.map(rel)).toEqual(expect.arrayContaining(['src/report/svg.ts', 'src/lab/drills/tls-checks.ts']));
    const long = watched.map((f) => [rel(f), texts.get(f)!.split('\n').length - 1] as const).filter(([, n]) => n > 200);
    expect(long).toEqual([]);
  });
});

describe('rooms a newcomer can read (test/lint/size.ts)', () => {
  it('no folder of src/lab holds more than 12 files: the lab is in rooms (drills, services, hosts, up)', () => {
    expect(crowdedFolders(SRC, path.join(SRC, 'lab'), 12)).toEqual([]);
  });

  it('no file in src is over 300 lines', () => {
    const long = longFiles(SRC, files, 300);
    expect(long, long.join('\n')).toEqual([]);
  });

  it('both rules catch what they claim in the fixtures: a folder over its limit, a file over its length', () => {
    const fixtureFiles = sourceFiles(FIXTURE);
    expect(crowdedFolders(FIXTURE, FIXTURE, 3)).toEqual(['lab: 4 files']);
    expect(crowdedFolders(FIXTURE, FIXTURE, 4)).toEqual([]);
    expect(longFiles(FIXTURE, fixtureFiles, 10)).toEqual(['lab/planted.ts: 15 lines']);
    expect(lineCount('a\nb\n')).toBe(2);
    expect(lineCount('a\nb')).toBe(2);
  });
});

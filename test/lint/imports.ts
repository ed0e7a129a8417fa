/**
 * The import graph of a source tree as the TypeScript compiler reads it: static imports and
 * re-exports, `import type`, `import()` expressions and `import('...')` types, and
 * `import x = require()`. Used by test/unit/structure.test.ts and proved by its fixtures.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export function sourceFiles(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/**
 * Parsed files, kept for the run: the lints (structure, seam, evidence owner) read the same
 * sources, and the unit files share a worker's modules. Kept by path and used only while the
 * text is the same, so a changed file is read afresh.
 */
const parsed = new Map<string, ts.SourceFile>();

export function parse(file: string, text = readFileSync(file, 'utf8')): ts.SourceFile {
  const known = parsed.get(file);
  if (known && known.text === text) return known;
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  parsed.set(file, sf);
  return sf;
}

/** Every module specifier a file names, with how it names it. */
export function specifiers(sf: ts.SourceFile): { spec: string; how: 'static' | 'type' | 'dynamic' }[] {
  const out: { spec: string; how: 'static' | 'type' | 'dynamic' }[] = [];
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const typeOnly = ts.isImportDeclaration(node) ? !!node.importClause?.isTypeOnly : node.isTypeOnly;
      out.push({ spec: node.moduleSpecifier.text, how: typeOnly ? 'type' : 'static' });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteralLike(arg)) out.push({ spec: arg.text, how: 'dynamic' });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      out.push({ spec: node.argument.literal.text, how: 'type' });
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      out.push({ spec: node.moduleReference.expression.text, how: 'static' });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The relative imports of a file, as the source files they name. */
export function importsOf(file: string, text?: string): string[] {
  return specifiers(parse(file, text))
    .filter((s) => s.spec.startsWith('.'))
    .map((s) => path.resolve(path.dirname(file), s.spec.replace(/\.js$/, '.ts')));
}

export function importGraph(files: string[]): Map<string, string[]> {
  return new Map(files.map((f) => [f, importsOf(f)]));
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

/**
 * The floors of src, lowest first: a module may import from its own top-level folder and from
 * any lower floor, never from its own floor's other folders or from above. A top-level name not
 * listed here is an error, so a new folder is placed on purpose.
 */
export const FLOORS: readonly (readonly string[])[] = [
  ['errors'],
  ['paths', 'safe-names', 'exim-options'],
  ['system'],
  ['source', 'queue', 'logs'],
  ['state'],
  ['evidence'],
  ['steps'],
  ['ui', 'report'],
  ['config'],
  ['install', 'verify', 'class'],
  ['drill'],
  ['lab'],
  ['uninstall'],
  ['commands'],
  ['cli'],
];

/** The top-level folder (or file, without .ts) of a file under root. */
export const topOf = (root: string, file: string) => path.relative(root, file).split(path.sep)[0]!.replace(/\.ts$/, '');

/** Every import that is not downward, as `from -> to` relative to root; and the names no floor holds. */
export function upwardImports(root: string, graph: Map<string, string[]>, floors = FLOORS): { upward: string[]; unplaced: string[] } {
  const floor = new Map(floors.flatMap((names, i) => names.map((n) => [n, i] as const)));
  const upward: string[] = [];
  const unplaced = new Set<string>();
  for (const [file, targets] of graph) {
    const from = topOf(root, file);
    if (!floor.has(from)) unplaced.add(from);
    for (const target of targets) {
      const to = topOf(root, target);
      if (to === from || !graph.has(target)) continue;
      if (!floor.has(to)) unplaced.add(to);
      else if (floor.has(from) && floor.get(to)! >= floor.get(from)!) upward.push(`${path.relative(root, file)} -> ${path.relative(root, target)}`);
    }
  }
  return { upward: [...new Set(upward)].sort(), unplaced: [...unplaced].sort() };
}

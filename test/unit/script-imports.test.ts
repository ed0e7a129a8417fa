/**
 * The benchmarks and scripts that load labctl's build (bench/*.mjs, scripts/**\/*.mjs) name only
 * what that build exports. They run outside the compiler and outside CI's test command, so a name
 * a refactor moved (bench/signature.mjs asked dist/source/release-check.js for trustedFingerprints
 * after its re-export was dropped) would only show as a TypeError in the middle of a benchmark.
 * Read with the TypeScript compiler: `import { a } from '../dist/x.js'` and
 * `const { a, b: c } = await import('../dist/x.js')`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

function mjsFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? mjsFiles(path.join(dir, e.name)) : e.name.endsWith('.mjs') ? [path.join(dir, e.name)] : [],
  );
}

interface Wanted {
  module: string;
  names: string[];
  line: number;
}

/** Every import of a module under dist/ in `text`, with the names it takes. */
function distImports(text: string, file = 'x.mjs'): Wanted[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const out: Wanted[] = [];
  const line = (n: ts.Node) => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
  const fromDist = (s: ts.Expression | undefined): string | undefined => (s && ts.isStringLiteral(s) && /(^|\/)dist\//.test(s.text) ? s.text : undefined);
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n)) {
      const module = fromDist(n.moduleSpecifier);
      const bindings = n.importClause?.namedBindings;
      if (module && bindings && ts.isNamedImports(bindings)) out.push({ module, names: bindings.elements.map((e) => (e.propertyName ?? e.name).text), line: line(n) });
    }
    if (ts.isVariableDeclaration(n) && ts.isObjectBindingPattern(n.name) && n.initializer && ts.isAwaitExpression(n.initializer)) {
      const call = n.initializer.expression;
      const module = ts.isCallExpression(call) && call.expression.kind === ts.SyntaxKind.ImportKeyword ? fromDist(call.arguments[0]) : undefined;
      if (module) {
        const names = n.name.elements.map((e) => {
          const key = e.propertyName ?? e.name;
          return ts.isIdentifier(key) || ts.isStringLiteral(key) ? key.text : key.getText(sf);
        });
        out.push({ module, names, line: line(n) });
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

describe('bench/ and scripts/ take from dist/ only what it exports', () => {
  it('reads both spellings of an import, and nothing else', () => {
    const found = distImports(
      [
        "import { a, b as c } from '../dist/x.js';",
        "import fs from 'node:fs';",
        "const { d, e: f } = await import('../dist/y.js');",
        "const { g } = await import('node:path');",
      ].join('\n'),
    );
    expect(found).toEqual([
      { module: '../dist/x.js', names: ['a', 'b'], line: 1 },
      { module: '../dist/y.js', names: ['d', 'e'], line: 3 },
    ]);
  });

  const files = [...mjsFiles('bench'), ...mjsFiles('scripts')];
  it('finds the imports to check', () => {
    expect(files.flatMap((f) => distImports(readFileSync(path.join(ROOT, f), 'utf8'), f)).length).toBeGreaterThan(3);
  });

  it.each(files)('%s', async (file) => {
    const missing: string[] = [];
    for (const w of distImports(readFileSync(path.join(ROOT, file), 'utf8'), file)) {
      const target = path.resolve(ROOT, path.dirname(file), w.module);
      const mod = (await import(pathToFileURL(target).href)) as Record<string, unknown>;
      for (const name of w.names) if (!(name in mod)) missing.push(`${file}:${w.line}: ${w.module} exports no ${name}`);
    }
    expect(missing).toEqual([]);
  });
});

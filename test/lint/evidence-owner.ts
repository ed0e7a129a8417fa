/**
 * Who makes evidence records, read with the TypeScript compiler: outside the owner
 * (src/evidence/record.ts, whose evidenceRecord and saveOutcome every producer uses), no file
 * imports or calls saveEvidence, and no file writes an object literal with a record's `area`,
 * `status` and `evidence`. Used by test/unit/evidence-owner.test.ts and proved by the files in
 * test/fixtures/lint/evidence/.
 */
import ts from 'typescript';
import { parse } from './imports.js';

export interface RecordOffence {
  line: number;
  what: 'saveEvidence' | 'record literal';
  code: string;
}

const RECORD_KEYS = ['area', 'status', 'evidence'];

const keyName = (p: ts.ObjectLiteralElementLike): string | undefined =>
  (ts.isPropertyAssignment(p) || ts.isShorthandPropertyAssignment(p) || ts.isMethodDeclaration(p)) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? p.name.text : undefined;

export function recordOffences(file: string, text?: string): RecordOffence[] {
  const sf = parse(file, text);
  const out: RecordOffence[] = [];
  const add = (node: ts.Node, what: RecordOffence['what']) =>
    out.push({ line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, what, code: node.getText(sf).split('\n')[0]!.slice(0, 60) });

  const visit = (node: ts.Node) => {
    // import { saveEvidence } / { saveEvidence as save } (a value import: the name is then called).
    if (ts.isImportSpecifier(node) && !node.isTypeOnly && !node.parent.parent.isTypeOnly && (node.propertyName ?? node.name).text === 'saveEvidence') add(node, 'saveEvidence');
    // store.saveEvidence(...) through a namespace or a dynamic import.
    if (ts.isPropertyAccessExpression(node) && node.name.text === 'saveEvidence') add(node, 'saveEvidence');
    if (ts.isObjectLiteralExpression(node)) {
      const keys = new Set(node.properties.map(keyName));
      if (RECORD_KEYS.every((k) => keys.has(k))) add(node, 'record literal');
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out.sort((a, b) => a.line - b.line);
}

/**
 * What only src/system may do, found by reading the code with the TypeScript compiler: which
 * names a file imports from which module, and what it calls on them. An offence is a write
 * (node:fs), a spawn (execa, node:child_process), a signal (process.kill), a socket or request
 * (node:net, node:tls, node:dgram, node:http(s), nodemailer, fetch) or an archive write or
 * extraction (node-tar). Type-only imports are not offences. Used by test/unit/seam.test.ts and
 * proved by the files in test/fixtures/lint/.
 */
import ts from 'typescript';
import { parse } from './imports.js';

export interface Offence {
  line: number;
  what: 'write' | 'spawn' | 'signal' | 'socket' | 'archive';
  code: string;
}

const FS_WRITES = [
  'writeFile', 'appendFile', 'rename', 'rm', 'rmdir', 'mkdir', 'mkdtemp', 'chmod', 'chown', 'lchown', 'lchmod',
  'symlink', 'link', 'unlink', 'copyFile', 'cp', 'truncate', 'ftruncate', 'utimes', 'lutimes', 'futimes', 'fchmod',
  'fchown', 'write', 'writev', 'createWriteStream',
];
const syncToo = (names: string[]) => names.flatMap((n) => [n, `${n}Sync`]);

/** Per module (without `node:`), the members that are offences; '*' means every value import. */
const RULES: Record<string, { what: Offence['what']; members: string[] | '*' }> = {
  'fs': { what: 'write', members: syncToo(FS_WRITES) },
  'fs/promises': { what: 'write', members: FS_WRITES },
  'child_process': { what: 'spawn', members: '*' },
  'execa': { what: 'spawn', members: '*' },
  'net': { what: 'socket', members: ['connect', 'createConnection', 'createServer', 'Socket', 'Server'] },
  'tls': { what: 'socket', members: ['connect', 'createServer', 'TLSSocket', 'Server'] },
  'dgram': { what: 'socket', members: ['createSocket', 'Socket'] },
  'http': { what: 'socket', members: ['request', 'get', 'createServer', 'Agent'] },
  'https': { what: 'socket', members: ['request', 'get', 'createServer', 'Agent'] },
  'nodemailer': { what: 'socket', members: ['createTransport'] },
  'tar': { what: 'archive', members: ['x', 'extract', 'c', 'create', 'r', 'replace', 'u', 'update', 'Unpack', 'UnpackSync'] },
};

const moduleName = (spec: string) => spec.replace(/^node:/, '');
const isForbidden = (mod: string, member: string) => {
  const rule = RULES[mod];
  return rule && (rule.members === '*' || rule.members.includes(member)) ? rule.what : undefined;
};
/** Flags that open a file for writing. */
const WRITE_FLAG = /[wa+]/;

export function seamOffences(file: string, text?: string): Offence[] {
  const sf = parse(file, text);
  const out: Offence[] = [];
  const add = (node: ts.Node, what: Offence['what']) =>
    out.push({ line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, what, code: node.getText(sf).split('\n')[0]!.slice(0, 80) });
  /** Local names bound to a whole module (default or namespace import, or fs's `promises`). */
  const wholes = new Map<string, string>();

  for (const st of sf.statements) {
    if (!ts.isImportDeclaration(st) || !ts.isStringLiteral(st.moduleSpecifier)) continue;
    const clause = st.importClause;
    if (!clause || clause.isTypeOnly) continue;
    const mod = moduleName(st.moduleSpecifier.text);
    if (!RULES[mod]) continue;
    if (clause.name) wholes.set(clause.name.text, mod);
    const b = clause.namedBindings;
    if (b && ts.isNamespaceImport(b)) wholes.set(b.name.text, mod);
    if (b && ts.isNamedImports(b) && RULES[mod]!.members !== '*') {
      for (const el of b.elements) {
        if (el.isTypeOnly) continue;
        const member = (el.propertyName ?? el.name).text;
        if (mod === 'fs' && member === 'promises') { wholes.set(el.name.text, 'fs/promises'); continue; }
        const what = isForbidden(mod, member);
        if (what) add(el, what);
      }
    }
    if (RULES[mod]!.members === '*') add(st, RULES[mod]!.what);
  }

  const visit = (node: ts.Node) => {
    if (ts.isPropertyAccessExpression(node)) {
      const target = node.expression;
      const member = node.name.text;
      if (ts.isIdentifier(target)) {
        const mod = wholes.get(target.text);
        if (mod && RULES[mod]!.members !== '*') {
          const what = isForbidden(mod, member);
          if (what) add(node, what);
          if (mod === 'fs' && member === 'promises') wholes.set(`${target.text}.promises`, 'fs/promises');
        }
        if (target.text === 'process' && member === 'kill') add(node, 'signal');
      } else if (ts.isPropertyAccessExpression(target) && ts.isIdentifier(target.expression) && target.name.text === 'promises' && wholes.get(target.expression.text) === 'fs') {
        const what = isForbidden('fs/promises', member);
        if (what) add(node, what);
      }
    }
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      // fs.open(p, 'w') and its kin: a write by its flag.
      const name = ts.isPropertyAccessExpression(callee) ? callee.name.text : ts.isIdentifier(callee) ? callee.text : '';
      const flag = node.arguments[1];
      if ((name === 'open' || name === 'openSync') && flag && ts.isStringLiteralLike(flag) && WRITE_FLAG.test(flag.text)) add(node, 'write');
      if (ts.isIdentifier(callee) && callee.text === 'fetch') add(node, 'socket');
      if (callee.kind === ts.SyntaxKind.ImportKeyword) {
        const arg = node.arguments[0];
        if (arg && ts.isStringLiteralLike(arg) && RULES[moduleName(arg.text)]) add(node, RULES[moduleName(arg.text)]!.what);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out.sort((a, b) => a.line - b.line);
}

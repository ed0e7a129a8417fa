/**
 * Every command labctl suggests to a person exists and parses as written: the report's "run ..."
 * lines (the evidence catalogue, read through a report built from an empty store and from one of
 * lab records), the hint of every error (read from the sources with the TypeScript compiler: the
 * argument given for a parameter named `hint`), and the command lines of README.md and docs/*.md
 * (code blocks and `labctl ...` code spans). Each goes through the program as built (buildProgram), its actions
 * replaced by no-ops, and fails on an unknown command, flag or argument.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli.js';
import type { EvidenceRecord } from '../../src/evidence/types.js';
import { buildReport } from '../../src/report/build.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { parse, sourceFiles } from '../lint/imports.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** What commander says about a command line that does not parse; help, a missing argument or value still name a real command. */
const UNPARSED = new Set(['commander.unknownCommand', 'commander.unknownOption', 'commander.excessArguments', 'commander.invalidArgument', 'commander.optionMissingArgument', 'commander.conflictingOption']);

/** Parses the words after `labctl` with the real program, no action run; the error, if it does not parse. */
async function parseError(words: string[]): Promise<string | undefined> {
  const program = buildProgram();
  const quiet = (c: Command) => {
    c.configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
    if (!c.commands.length) c.action(() => {});
    c.commands.forEach(quiet);
  };
  quiet(program);
  try {
    await program.parseAsync(words, { from: 'user' });
    return undefined;
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    return UNPARSED.has(err.code) ? err.message : undefined;
  }
}

const SHELL_STOP = /^(&&|\|\||\||;|&|>|>>|2>|2>&1|<)$/;
const TRAILING = /[,;:.)]+$/;

/** Splits on blanks, keeping '...' and "..." together (without the quotes). */
function words(text: string): string[] {
  return [...text.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

const findOption = (cmd: Command, flag: string) => cmd.options.find((o) => o.long === flag.split('=')[0] || o.short === flag);

/**
 * The words of the command a mention starts, read with the program's own tree: subcommands
 * descend, flags take their value, a command takes its declared arguments; the next word, or a
 * word ending a clause (", ; : . )"), ends it. Undefined when the words are prose about labctl
 * ("labctl runs as root"); `strict` (a code span, a code line, "run ...") reads them as a command.
 */
export function commandWords(program: Command, after: string[], strict: boolean): string[] | undefined {
  const out: string[] = [];
  let cmd = program;
  let args = 0;
  for (let i = 0; i < after.length; i++) {
    let w = after[i]!;
    if (SHELL_STOP.test(w) || w.startsWith('#') || w.startsWith('(')) break;
    if (w === '--') {
      out.push(...after.slice(i));
      break;
    }
    const ends = TRAILING.test(w);
    w = w.replace(TRAILING, '');
    if (!w) break;
    if (w.startsWith('-')) {
      out.push(w);
      const opt = findOption(cmd, w);
      if (opt && (opt.required || opt.optional) && !w.includes('=') && !ends && i + 1 < after.length && !SHELL_STOP.test(after[i + 1]!)) {
        const v = after[++i]!;
        out.push(v.replace(TRAILING, ''));
        if (TRAILING.test(v)) break;
      }
    } else if (cmd.commands.length) {
      const sub = cmd.commands.find((c) => c.name() === w || c.aliases().includes(w));
      if (!sub && cmd === program && !strict) return undefined;
      out.push(w);
      if (!sub) break;
      cmd = sub;
      args = 0;
    } else {
      const declared = cmd.registeredArguments;
      if (args >= declared.length && !declared.at(-1)?.variadic) break;
      out.push(w);
      args++;
    }
    if (ends) break;
  }
  return out;
}

/** `[a]` read with and without a; `a|b` (or Markdown's `a\|b`) read as a, then as b. */
export function variants(text: string): string[] {
  const t = text.replace(/\\\|/g, '|');
  const opt = /\[([^[\]]*)\]/.exec(t);
  if (opt) return [...variants(t.slice(0, opt.index) + t.slice(opt.index + opt[0].length)), ...variants(t.slice(0, opt.index) + opt[1] + t.slice(opt.index + opt[0].length))];
  const alt = /(^|\s)([^\s|]+(?:\|[^\s|]+)+)(?=\s|$)/.exec(t);
  if (alt) return alt[2]!.split('|').flatMap((a) => variants(t.slice(0, alt.index + alt[1]!.length) + a + t.slice(alt.index + alt[0].length)));
  return [t];
}

interface Suggestion {
  where: string;
  line: string;
}

/** Every mention of labctl in a text that reads as a command: in a code span, a code line, or prose. */
export function suggestionsIn(program: Command, text: string, where: string, strictAll = false): Suggestion[] {
  const spans = [...text.matchAll(/`([^`\n]+)`/g)].map((m) => ({ from: m.index! + 1, to: m.index! + 1 + m[1]!.length }));
  const out: Suggestion[] = [];
  for (const m of text.matchAll(/(?<![\w/.-])(?:\.?\/?bin\/)?labctl(?=\s)/g)) {
    const span = spans.find((s) => m.index! >= s.from && m.index! < s.to);
    const rest = text.slice(m.index! + m[0].length, span ? span.to : undefined);
    const strict = strictAll || !!span || /\b(run|rerun)\s+$/i.test(text.slice(0, m.index!));
    for (const v of variants(rest.split('\n')[0]!)) {
      const cmd = commandWords(program, words(v), strict);
      if (cmd) out.push({ where, line: `labctl ${cmd.join(' ')}` });
    }
  }
  return out;
}

async function failures(list: Suggestion[]): Promise<string[]> {
  const bad: string[] = [];
  const seen = new Set<string>();
  for (const s of list) {
    if (seen.has(s.line)) continue;
    seen.add(s.line);
    const err = await parseError(words(s.line).slice(1));
    if (err) bad.push(`${s.where}: \`${s.line}\`: ${err}`);
  }
  return bad;
}

// --- the three sources ----------------------------------------------------------------------

/** The report over an empty store (every item missing, with its command) and over lab hosts' records. */
function reportSuggestions(program: Command): Suggestion[] {
  const at = '2026-12-01T10:00:00.000Z';
  const lab: EvidenceRecord[] = [
    { area: 'verify', id: '6-starttls', title: 'STARTTLS', status: 'pass', host: 'st14', at, evidence: [] },
    { area: 'verify', id: '4a-dns-mx', title: 'MX', status: 'warn', at, evidence: [] },
  ];
  const texts = [renderMarkdown(buildReport([])), renderMarkdown(buildReport(lab)), renderMarkdown(buildReport(lab, { host: 'st14' }))];
  const strict = [buildReport([]), buildReport(lab, { host: 'st14' })].flatMap((r) => r.missing.map((m) => ({ where: `report: ${m.key}`, line: m.command })));
  return [
    ...strict.flatMap((s) => suggestionsIn(program, s.line, s.where, true)),
    ...texts.flatMap((t) => t.split('\n').flatMap((line) => suggestionsIn(program, line, 'report'))),
  ];
}

/**
 * The text of every argument passed for a parameter named `hint` in src: the functions and
 * constructors that take one (LabError, usageError, SignatureError, a helper that hands its hint
 * on) are found by their parameter's name, then every call of them. `${...}` reads as X; the
 * strings a placeholder, a branch or a local constant is made of are read too.
 */
export function errorHints(): { where: string; text: string }[] {
  // Parsed once per worker with the lints (test/lint/imports.ts keeps them).
  const files = sourceFiles(path.join(ROOT, 'src')).map((f) => parse(f));
  const takers = new Map<string, Set<number>>();
  const hintIndex = (params: ts.NodeArray<ts.ParameterDeclaration>) => params.findIndex((p) => ts.isIdentifier(p.name) && p.name.text === 'hint');
  const take = (name: string | undefined, i: number) => {
    if (name && i >= 0) takers.set(name, new Set([...(takers.get(name) ?? []), i]));
  };
  const walk = (node: ts.Node, visit: (n: ts.Node) => void) => {
    visit(node);
    ts.forEachChild(node, (c) => walk(c, visit));
  };
  for (const sf of files) {
    walk(sf, (n) => {
      if (ts.isFunctionDeclaration(n)) take(n.name?.text, hintIndex(n.parameters));
      if (ts.isConstructorDeclaration(n) && ts.isClassDeclaration(n.parent)) take(n.parent.name?.text, hintIndex(n.parameters));
      if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer && (ts.isArrowFunction(n.initializer) || ts.isFunctionExpression(n.initializer))) take(n.name.text, hintIndex(n.initializer.parameters));
    });
  }
  const out: { where: string; text: string }[] = [];
  for (const sf of files) {
    const constants = new Map<string, ts.Expression[]>();
    walk(sf, (n) => {
      if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer) constants.set(n.name.text, [...(constants.get(n.name.text) ?? []), n.initializer]);
    });
    const textsOf = (node: ts.Node, seen: Set<string>): string[] => {
      if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
      if (ts.isTemplateExpression(node)) return [node.head.text + node.templateSpans.map((s) => `X${s.literal.text}`).join(''), ...node.templateSpans.flatMap((s) => textsOf(s.expression, seen))];
      if (ts.isIdentifier(node)) {
        if (seen.has(node.text)) return [];
        seen.add(node.text);
        return (constants.get(node.text) ?? []).flatMap((e) => textsOf(e, seen));
      }
      const inner: string[] = [];
      ts.forEachChild(node, (c) => void inner.push(...textsOf(c, seen)));
      return inner;
    };
    walk(sf, (n) => {
      if (!(ts.isCallExpression(n) || ts.isNewExpression(n)) || !n.arguments) return;
      const callee = ts.isIdentifier(n.expression) ? n.expression.text : ts.isPropertyAccessExpression(n.expression) ? n.expression.name.text : undefined;
      for (const i of (callee && takers.get(callee)) || []) {
        const arg = n.arguments[i];
        if (!arg) continue;
        const where = `${path.relative(ROOT, sf.fileName)}:${sf.getLineAndCharacterOfPosition(arg.getStart()).line + 1}`;
        for (const text of textsOf(arg, new Set())) out.push({ where, text });
      }
    });
  }
  return out;
}

/** The Markdown pages people read: the README and the manual in docs/. */
const PAGES = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((n) => n.endsWith('.md')).sort().map((n) => `docs/${n}`)];

/** A page's code lines (the `$ ` lines of a block that shows output) and `labctl ...` code spans. */
function pageSuggestions(program: Command, page: string): Suggestion[] {
  const lines = readFileSync(path.join(ROOT, page), 'utf8').split('\n');
  const out: Suggestion[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (/^\s*```/.test(lines[i]!)) {
      const start = i;
      const block: string[] = [];
      while (++i < lines.length && !/^\s*```/.test(lines[i]!)) block.push(lines[i]!);
      // An sh block is commands; another block shows a session, its commands after "$ ".
      const sh = /^\s*```(sh|bash)\b/.test(lines[start]!);
      block.forEach((l, k) => {
        if (!sh && !l.startsWith('$ ')) return;
        out.push(...suggestionsIn(program, l.replace(/^\$ /, ''), `${page}:${start + k + 2}`, true));
      });
      continue;
    }
    for (const m of lines[i]!.matchAll(/`((?:\.\/bin\/)?labctl [^`]+)`/g)) out.push(...suggestionsIn(program, m[1]!, `${page}:${i + 1}`, true));
  }
  return out;
}

describe('commands labctl suggests', () => {
  const program = buildProgram();

  it('are read as written, and a wrong one is caught (the checker can fail)', async () => {
    expect(suggestionsIn(program, 'run `labctl lab drill spoof --no-enforce`', 'x').map((s) => s.line)).toEqual(['labctl lab drill spoof --no-enforce']);
    expect(suggestionsIn(program, 'run labctl lab down, then labctl lab up', 'x').map((s) => s.line)).toEqual(['labctl lab down', 'labctl lab up']);
    expect(suggestionsIn(program, 'run labctl install --with dmarc, then labctl lab down and labctl lab up', 'x').map((s) => s.line)).toEqual(['labctl install --with dmarc', 'labctl lab down', 'labctl lab up']);
    expect(suggestionsIn(program, 'labctl runs as root; labctl install first', 'x').map((s) => s.line)).toEqual(['labctl install']);
    expect(suggestionsIn(program, 'sudo ./bin/labctl lab drill spoof [--no-enforce] # DMARC', 'x', true).map((s) => s.line)).toEqual(['labctl lab drill spoof', 'labctl lab drill spoof --no-enforce']);
    const bad = await failures([
      { where: 'x', line: 'labctl lab drill spoof-monitor' },
      { where: 'x', line: 'labctl install --no-such-flag' },
      { where: 'x', line: 'labctl service restrat' },
      { where: 'x', line: 'labctl nosuch' },
    ]);
    expect(bad).toHaveLength(4);
    expect(bad[0]).toContain("unknown command 'spoof-monitor'");
    expect(await failures([{ where: 'x', line: 'labctl lab drill spoof --no-enforce' }, { where: 'x', line: 'labctl --wait 60 configure --tls required' }])).toEqual([]);
  });

  it('in the report (the evidence catalogue) exist and parse', async () => {
    const found = reportSuggestions(program);
    expect(found.length).toBeGreaterThan(20);
    expect(await failures(found)).toEqual([]);
  });

  it('in the hint of every error exist and parse', async () => {
    const hints = errorHints();
    expect(hints.length).toBeGreaterThan(50);
    const found = hints.flatMap((h) => suggestionsIn(program, h.text, h.where));
    console.log(`${hints.length} hint texts, ${found.length} commands in them: ${[...new Set(found.map((f) => f.line))].join(", ")}`);
    expect(found.length).toBeGreaterThan(10);
    expect(await failures(found)).toEqual([]);
  });

  it('in README.md and docs/ exist and parse', async () => {
    const readme = pageSuggestions(program, 'README.md');
    expect(readme.length).toBeGreaterThan(10);
    const found = PAGES.flatMap((p) => pageSuggestions(program, p));
    expect(found.length).toBeGreaterThan(60);
    expect(await failures(found)).toEqual([]);
  });
});

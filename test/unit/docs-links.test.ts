/**
 * README.md is the front door and docs/ the manual; both stay true to the tree. Every relative
 * link and image in README.md and docs/*.md leads to a file that exists, every #anchor to a
 * heading of that page (GitHub's slugs), every docs page is linked from the README, and every
 * repository path written as code (`src/verify/catalogue.ts`) exists. No Markdown library is in
 * the lockfile, so headings and links are read by the small parser below, which skips fenced
 * code blocks and code spans as GitHub does.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The prose lines of a Markdown text (fenced code blocks blanked), with their line numbers. */
function proseLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let fence: string | undefined;
  text.split('\n').forEach((l, i) => {
    const open = /^\s{0,3}(`{3,}|~{3,})/.exec(l);
    if (fence) {
      if (open && open[1]![0] === fence[0] && open[1]!.length >= fence.length && l.trim() === open[1]) fence = undefined;
      return;
    }
    if (open) {
      fence = open[1];
      return;
    }
    out.push({ line: i + 1, text: l });
  });
  return out;
}

/** GitHub's anchor for a heading: its text as rendered, lower-cased, punctuation dropped, spaces as hyphens. */
export function slug(heading: string): string {
  const rendered = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`/g, '')
    .replace(/<[^>]+>/g, '')
    .replace(/\*\*|__|\*/g, '');
  return rendered
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a page offers: one per ATX heading (repeats get -1, -2, ... as on GitHub) and each explicit id or name. */
export function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const { text: l } of proseLines(text)) {
    const h = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(l);
    if (h) {
      const base = slug(h[1]!);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      out.add(n ? `${base}-${n}` : base);
    }
    for (const m of l.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) out.add(m[1]!);
  }
  return out;
}

/** A prose line without its code spans, so a link written as code is not followed. */
const withoutCode = (l: string) => l.replace(/(`+)(?:(?!\1).)+?\1/g, '');

export interface Problem {
  where: string;
  what: string;
}

/**
 * Every relative link of one page, checked: the file exists (from the page's folder), and an
 * anchor names a heading of the page it points to. `read` gives a page's text (the tree, or a
 * planted fixture).
 */
export function linkProblems(file: string, read: (file: string) => string | undefined): Problem[] {
  const text = read(file);
  if (text === undefined) return [{ where: file, what: 'no such page' }];
  const problems: Problem[] = [];
  for (const { line, text: l } of proseLines(text)) {
    for (const m of withoutCode(l).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      const where = `${file}:${line}`;
      const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
      const resolved = pathPart ? path.posix.normalize(path.posix.join(path.posix.dirname(file), decodeURI(pathPart))) : file;
      if (resolved.startsWith('..')) {
        problems.push({ where, what: `${target} leads out of the repository` });
        continue;
      }
      const body = read(resolved);
      if (body === undefined && !exists(resolved)) {
        problems.push({ where, what: `${target}: no file ${resolved}` });
        continue;
      }
      if (anchor === undefined) continue;
      if (body === undefined || !resolved.endsWith('.md')) {
        problems.push({ where, what: `${target}: an anchor into ${resolved}, which is not a Markdown page` });
        continue;
      }
      if (!anchorsOf(body).has(anchor)) problems.push({ where, what: `${target}: ${resolved} has no heading #${anchor}` });
    }
  }
  return problems;
}

/** Top folders whose paths, written as code in the docs, must exist. */
const TREE = /^(?:src|test|scripts|templates|fixtures|bench|ansible|docs|bin|\.ci)\//;
/** Paths in Exim's own source tree, not this repository's, that the docs name. */
const EXIM_TREE = new Set(['src/EDITME', 'scripts/exim_install']);

/** Repository paths written as code spans on a page, e.g. `src/verify/checks/tls.ts`; placeholders (<name>, *, {n}) left out. */
export function pathProblems(file: string, text: string, has: (p: string) => boolean): Problem[] {
  const problems: Problem[] = [];
  for (const { line, text: l } of proseLines(text)) {
    for (const m of l.matchAll(/`([^`\s]+)`/g)) {
      const p = m[1]!.replace(/[.,;:]$/, '');
      if (!TREE.test(p) || /[<>*{}$|]/.test(p) || EXIM_TREE.has(p)) continue;
      if (!has(p.replace(/\/$/, ''))) problems.push({ where: `${file}:${line}`, what: `\`${p}\`: no such path in the repository` });
    }
  }
  return problems;
}

const exists = (p: string) => existsSync(path.join(ROOT, p));
const readTree = (p: string) => {
  if (!p.endsWith('.md') || !exists(p)) return undefined;
  return readFileSync(path.join(ROOT, p), 'utf8');
};
const PAGES = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((n) => n.endsWith('.md')).sort().map((n) => `docs/${n}`)];

const show = (ps: Problem[]) => ps.map((p) => `${p.where}: ${p.what}`);

describe('README.md and docs/', () => {
  it('slugs headings as GitHub does', () => {
    expect(slug('`labctl configure` and `labctl dns`')).toBe('labctl-configure-and-labctl-dns');
    expect(slug('The two-machine test: `npm run test:pair`')).toBe('the-two-machine-test-npm-run-testpair');
    expect(slug('DANE in the class: what `trust-ad` trusts')).toBe('dane-in-the-class-what-trust-ad-trusts');
    expect(slug('On the lab: `verify --lab`')).toBe('on-the-lab-verify---lab');
    expect(slug('A class of 40 real VMs')).toBe('a-class-of-40-real-vms');
    expect([...anchorsOf('# A\n## Flags\n```\n# not a heading\n```\n## Flags\n<a id="x"></a>\n')]).toEqual(['a', 'flags', 'flags-1', 'x']);
  });

  it('the checker catches a missing file, a wrong anchor, a path out of the tree and a missing code path (it can fail)', () => {
    const pages: Record<string, string> = {
      'README.md': [
        'See [install](docs/install.md#flags), [gone](docs/gone.md), [bad](docs/install.md#nosuch),',
        '[up](../outside.md), [web](https://example.org/x#y) and `[not a link](docs/gone.md)`.',
        '```',
        '[in a fence](docs/gone.md)',
        '```',
        'The checks live in `src/verify/nosuch.ts` and `src/verify/catalogue.ts`; `src/commands/<name>.ts` is a pattern.',
      ].join('\n'),
      'docs/install.md': '# Install\n\n## Flags\n\nBack to the [README](../README.md#nosuch).\n',
    };
    const read = (p: string) => pages[p];
    expect(show(linkProblems('README.md', read))).toEqual([
      'README.md:1: docs/gone.md: no file docs/gone.md',
      'README.md:1: docs/install.md#nosuch: docs/install.md has no heading #nosuch',
      'README.md:2: ../outside.md leads out of the repository',
    ]);
    expect(show(linkProblems('docs/install.md', read))).toEqual(['docs/install.md:5: ../README.md#nosuch: README.md has no heading #nosuch']);
    expect(show(pathProblems('README.md', pages['README.md']!, exists))).toEqual(['README.md:6: `src/verify/nosuch.ts`: no such path in the repository']);
  });

  it('every relative link and #anchor resolves', () => {
    expect(PAGES.length).toBeGreaterThan(5);
    expect(show(PAGES.flatMap((p) => linkProblems(p, readTree)))).toEqual([]);
  });

  it('every docs page is linked from the README', () => {
    const readme = readTree('README.md')!;
    const linked = new Set([...readme.matchAll(/\]\((docs\/[^)#\s]+\.md)/g)].map((m) => m[1]));
    expect(PAGES.filter((p) => p.startsWith('docs/') && !linked.has(p))).toEqual([]);
  });

  it('every repository path written as code exists', () => {
    expect(show(PAGES.flatMap((p) => pathProblems(p, readTree(p)!, exists)))).toEqual([]);
  });

  it('the README stays a front door: at most 250 lines, and no project issue numbers in README or docs', () => {
    expect(readTree('README.md')!.split('\n').length).toBeLessThanOrEqual(250);
    const mentions = PAGES.flatMap((p) => proseLines(readTree(p)!).filter((l) => /\bissues? #?\d+/i.test(l.text)).map((l) => `${p}:${l.line}`));
    expect(mentions).toEqual([]);
  });
});

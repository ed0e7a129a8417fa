/**
 * src/system is the seam: it is the only code that writes files, changes modes or owners, or
 * spawns processes. Everything else computes what to do and hands it there (issue 11, move 4).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** What only src/system may do, as it appears in the code. */
const FORBIDDEN: [string, RegExp][] = [
  ['imports execa', /from ['"]execa['"]/],
  ['imports node:child_process', /from ['"](node:)?child_process['"]/],
  ['writes with node:fs', /\b(fs|fsp|promises)\.(writeFile|appendFile|rename|rm|rmdir|mkdir|mkdtemp|chmod|chown|lchown|symlink|link|unlink|copyFile|cp|truncate|utimes)\(/],
  ['imports a node:fs write function', /import\s*\{[^}]*\b(writeFile|appendFile|rename|rm|rmdir|mkdir|mkdtemp|chmod|chown|symlink|unlink|copyFile|cp|createWriteStream|writeFileSync|appendFileSync|renameSync|rmSync|mkdirSync|chmodSync|chownSync|symlinkSync|unlinkSync|copyFileSync|cpSync)\b[^}]*\}\s*from\s*['"](node:)?fs(\/promises)?['"]/],
  ['opens a file for writing', /\.open\([^)]*['"](w|wx|a|r\+|w\+)['"]/],
];

describe('the src/system seam', () => {
  it('holds: no file outside src/system writes files, changes modes or spawns processes', () => {
    const offences: string[] = [];
    for (const file of sources(SRC)) {
      const rel = path.relative(SRC, file);
      if (rel.startsWith(`system${path.sep}`)) continue;
      const text = readFileSync(file, 'utf8');
      for (const [what, re] of FORBIDDEN) {
        const m = re.exec(text);
        if (m) offences.push(`src/${rel}:${text.slice(0, m.index).split('\n').length} ${what}: ${m[0]}`);
      }
    }
    expect(offences, offences.join('\n')).toEqual([]);
  });

  it('catches what it claims to catch', () => {
    const hits = (code: string) => FORBIDDEN.filter(([, re]) => re.test(code)).map(([what]) => what);
    expect(hits("import { execa } from 'execa';")).toEqual(['imports execa']);
    expect(hits("await fs.writeFile(p, 'x');")).toEqual(['writes with node:fs']);
    expect(hits("import { rmSync, readFileSync } from 'node:fs';")).toEqual(['imports a node:fs write function']);
    expect(hits("const fh = await fs.open(p, 'w');")).toEqual(['opens a file for writing']);
    expect(hits("const text = await fs.readFile(p, 'utf8');")).toEqual([]);
  });
});

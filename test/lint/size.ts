/**
 * The size rules of the tree (test/unit/structure.test.ts): no folder under a room with more files
 * than a newcomer can scan, no source file longer than a screenful or two. Counted from the files
 * on disk; proved on test/fixtures/lint with lower limits.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Every folder at or under `dir` holding more than `max` .ts files of its own, as `folder: N files` relative to `root`. */
export function crowdedFolders(root: string, dir: string, max: number): string[] {
  const names = readdirSync(dir).sort();
  const own = names.filter((n) => n.endsWith('.ts') && statSync(path.join(dir, n)).isFile()).length;
  const here = own > max ? [`${path.relative(root, dir) || '.'}: ${own} files`] : [];
  const below = names.filter((n) => statSync(path.join(dir, n)).isDirectory()).flatMap((n) => crowdedFolders(root, path.join(dir, n), max));
  return [...here, ...below];
}

/** Lines in a file's text (a final newline ends the last line; it does not start another). */
export const lineCount = (text: string) => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);

/** Every file longer than `max` lines, as `file: N lines` relative to `root`. */
export function longFiles(root: string, files: string[], max: number): string[] {
  return files
    .map((f) => [path.relative(root, f), lineCount(readFileSync(f, 'utf8'))] as const)
    .filter(([, n]) => n > max)
    .map(([f, n]) => `${f}: ${n} lines`);
}

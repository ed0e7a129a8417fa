import { createReadStream, createWriteStream, promises as fs, constants, renameSync, rmSync, type Stats, type WriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

export async function readIfExists(p: string): Promise<string | undefined> {
  try {
    return await fs.readFile(p, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** `use` on one descriptor of `file`, opened without following a symlink at its last component (O_NOFOLLOW: ELOOP). */
async function withNoFollow<T>(file: string, use: (fh: fs.FileHandle) => Promise<T>): Promise<T> {
  const fh = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    return await use(fh);
  } finally {
    await fh.close();
  }
}

/**
 * Opens `file` once, lets `judge` look at that descriptor's fstat (it throws to refuse), and reads
 * from the same descriptor: what was judged is what is read, whatever happens to the path
 * meanwhile. Undefined when there is no such file.
 */
export async function readJudged(file: string, judge: (st: Stats) => void | Promise<void>): Promise<string | undefined> {
  try {
    return await withNoFollow(file, async (fh) => {
      await judge(await fh.stat());
      return fh.readFile('utf8');
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * A regular file's bytes, read from one descriptor: the bytes a caller checks (a signature, a
 * digest) are the bytes it then uses, not whatever the path names a moment later.
 */
export function readRegularFile(file: string): Promise<Buffer> {
  return withNoFollow(file, async (fh) => {
    if (!(await fh.stat()).isFile()) throw new Error(`${file} is not a regular file`);
    return fh.readFile();
  });
}

/** lstat of a directory and each directory above it, up to /, after resolving symlinks. */
export async function ancestorsOf(dir: string): Promise<{ path: string; st: Stats }[]> {
  const out: { path: string; st: Stats }[] = [];
  for (let d = await fs.realpath(dir); ; d = path.dirname(d)) {
    out.push({ path: d, st: await fs.lstat(d) });
    if (d === path.dirname(d)) return out;
  }
}

export interface WriteOptions {
  mode?: number;
  uid?: number;
  gid?: number;
}

/** A temporary path beside `target`, on the same file system so a rename is atomic. */
export function siblingTemp(target: string, tag = 'new'): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${tag}-${randomBytes(4).toString('hex')}`);
}

/** Writes `target` whole or not at all: temp file beside it, fsync, then rename over it. */
export async function writeAtomic(target: string, data: string | Buffer, opts: WriteOptions = {}): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const tmp = siblingTemp(target);
  try {
    const fh = await fs.open(tmp, 'w', opts.mode ?? 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (opts.mode !== undefined) await fs.chmod(tmp, opts.mode);
    if (opts.uid !== undefined || opts.gid !== undefined) await fs.chown(tmp, opts.uid ?? -1, opts.gid ?? -1);
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/** Writes only when the content differs; returns whether it changed anything. */
export async function writeIfChanged(target: string, data: string, opts: WriteOptions = {}): Promise<boolean> {
  if ((await readIfExists(target)) === data) return false;
  await writeAtomic(target, data, opts);
  return true;
}

export async function readJson<T>(p: string): Promise<T | undefined> {
  const text = await readIfExists(p);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

export const writeJson = (p: string, value: unknown, opts?: WriteOptions) =>
  writeAtomic(p, JSON.stringify(value, null, 2) + '\n', opts);

/**
 * Rewrites `target` keeping its inode, for files bind-mounted into a lab host's view: a rename
 * would leave the mount (and the daemon reading through it) on the old inode.
 */
export async function writeInPlace(target: string, data: Buffer | string, mode = 0o644): Promise<void> {
  const fh = await fs.open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Where a symlink points, or undefined when `p` is not a symlink. */
export async function readLinkIfAny(p: string): Promise<string | undefined> {
  return fs.readlink(p).catch(() => undefined);
}

/** Points the symlink `p` at `target` atomically (a new link beside it, renamed over it). */
export async function replaceSymlink(p: string, target: string): Promise<void> {
  const tmp = siblingTemp(p, 'link');
  await fs.symlink(target, tmp);
  try {
    await fs.rename(tmp, p);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/** Creates a directory and its parents (nothing if it is there). */
export async function ensureDir(p: string, mode?: number): Promise<void> {
  await fs.mkdir(p, { recursive: true, ...(mode === undefined ? {} : { mode }) });
}

/** Removes a file or a whole tree; nothing if it is not there. */
export async function removePath(p: string): Promise<void> {
  await fs.rm(p, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
}

/** The same, synchronously: for SIGINT/SIGTERM cleanups (src/system/interrupt.ts), which cannot wait. */
export function removePathSync(p: string): void {
  rmSync(p, { recursive: true, force: true });
}

/**
 * Copies a tree, keeping modes, owners and times; `dest` must not exist yet (a copy never merges
 * into, or overwrites, an earlier one).
 */
export async function copyTree(src: string, dest: string): Promise<void> {
  await fs.cp(src, dest, { recursive: true, preserveTimestamps: true, errorOnExist: true, force: false, verbatimSymlinks: true });
  // fs.cp keeps modes but not owners; Exim reads its spool only as its own user.
  const chownAll = async (from: string, to: string): Promise<void> => {
    const st = await fs.lstat(from);
    await fs.lchown(to, st.uid, st.gid).catch(() => undefined);
    if (st.isDirectory()) for (const e of await fs.readdir(from)) await chownAll(path.join(from, e), path.join(to, e));
  };
  await chownAll(src, dest);
}

/** A file's size in bytes; 0 when it is not there. */
export async function fileSize(p: string): Promise<number> {
  return (await fs.stat(p).catch(() => ({ size: 0 }))).size;
}

/** A file's bytes from `offset` to its end as it is now; empty when it is not there or not that long. */
export async function readFrom(p: string, offset: number): Promise<Buffer> {
  const fh = await fs.open(p, 'r').catch(() => undefined);
  if (!fh) return Buffer.alloc(0);
  try {
    const { size } = await fh.stat();
    if (size <= offset) return Buffer.alloc(0);
    const buf = Buffer.alloc(size - offset);
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The SHA-256 of a file's bytes, hex, read as a stream. */
export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Packs `dir` (its last component becomes the archive's one top-level directory) as a gzip tar. */
export async function packDirectory(dir: string, file: string): Promise<void> {
  // node-tar is loaded here, for the one command that packs (install --export-build).
  const tar = await import('tar');
  await tar.create({ gzip: true, file, cwd: path.dirname(dir), portable: true }, [path.basename(dir)]);
}

/** Copies one file (into a directory that is itself renamed into place when complete). */
export async function copyFile(src: string, dest: string, mode = 0o644): Promise<void> {
  await fs.copyFile(src, dest);
  await fs.chmod(dest, mode);
}

/** Renames within one file system (atomic). */
export async function movePath(from: string, to: string): Promise<void> {
  await fs.rename(from, to);
}

/** The same, synchronously: for SIGINT/SIGTERM cleanups. */
export function movePathSync(from: string, to: string): void {
  renameSync(from, to);
}

/** A new empty directory under the system's temporary directory. */
export async function makeTempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** A write stream on a file that must not exist yet (O_EXCL): a second writer fails instead of interleaving. */
export function exclusiveWriteStream(p: string): WriteStream {
  return createWriteStream(p, { flags: 'wx' });
}

/** Owner, group and permission bits of a file or directory (undefined when it is not there). */
export async function ownership(p: string): Promise<{ uid: number; gid: number; mode: number } | undefined> {
  const st = await fs.stat(p).catch(() => undefined);
  return st && { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 };
}

/** Whether a path's owner, group and permission bits already are these. */
export async function ownedAs(p: string, uid: number, gid: number, mode: number): Promise<boolean> {
  const o = await ownership(p);
  return !!o && o.uid === uid && o.gid === gid && o.mode === mode;
}

/** Makes a path's owner, group and permission bits these (setMode); whether it had to. */
export async function ensureOwnership(p: string, uid: number, gid: number, mode: number): Promise<boolean> {
  if (await ownedAs(p, uid, gid, mode)) return false;
  await setMode(p, mode, { uid, gid });
  return true;
}

/** Sets a path's permission bits (and owner, when given, first: chown clears set-id bits). */
export async function setMode(p: string, mode: number, owner?: { uid: number; gid: number }): Promise<void> {
  if (owner) await fs.chown(p, owner.uid, owner.gid);
  await fs.chmod(p, mode);
}

/** A new version of a file written beside it, to be checked before it replaces the original. */
export interface StagedFile {
  path: string;
  /** Renames it over the target, with the target's mode and owner when the target existed. */
  commit(): Promise<void>;
  discard(): Promise<void>;
}

/** Writes `data` beside `target` (same file system, fsync'ed) without touching `target` yet. */
export async function stageBeside(target: string, data: string | Buffer, mode = 0o644): Promise<StagedFile> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const tmp = siblingTemp(target, 'check');
  const fh = await fs.open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return {
    path: tmp,
    async commit() {
      const st = await fs.stat(target).catch(() => undefined);
      if (st) {
        await fs.chmod(tmp, st.mode & 0o7777);
        await fs.chown(tmp, st.uid, st.gid);
      }
      await fs.rename(tmp, target);
    },
    discard: () => fs.rm(tmp, { force: true }),
  };
}

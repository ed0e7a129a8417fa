import { errorMessage, LabError } from '../../errors.js';
import { readIfExists, removePath, stageBeside, type StagedFile } from '../../system/files.js';

/**
 * A running lab daemon's files replaced as labctl configure installs Exim's: each new text staged
 * beside its file, the staged copies checked (`check` gets each file's staged path), then renamed
 * into place, and the daemon told (`reload`, which confirms it acted). When the check fails
 * nothing was touched; when telling the daemon fails, the old bytes go back and it is told again.
 * `restore` does the same later: what lab up's take-back runs when a later step fails.
 */
export interface InstalledFiles {
  /** The old bytes back in place, the daemon told again; what was done, for the take-back's note. */
  restore(): Promise<string>;
}

export interface InstallOptions {
  /** Each file with its new text (and mode when it is new). */
  files: readonly { path: string; text: string; mode?: number }[];
  /** Checks the staged copies; throws (one line, naming the step) to leave everything as it was. */
  check(staged: Record<string, string>): Promise<void>;
  /** Tells the daemon and confirms it acted; `restored` when it is told about the old files again. */
  reload(restored: boolean): Promise<void>;
  /** What the files are, for messages: "st14's nginx.conf and MTA-STS policy". */
  what: string;
}

async function putBack(before: Map<string, string | undefined>): Promise<void> {
  for (const [file, text] of before) {
    if (text === undefined) await removePath(file);
    else await (await stageBeside(file, text)).commit();
  }
}

export async function installChecked(o: InstallOptions): Promise<InstalledFiles> {
  const before = new Map<string, string | undefined>();
  for (const f of o.files) before.set(f.path, await readIfExists(f.path));
  const staged: StagedFile[] = [];
  try {
    for (const f of o.files) staged.push(await stageBeside(f.path, f.text, f.mode));
    await o.check(Object.fromEntries(o.files.map((f, i) => [f.path, staged[i]!.path])));
  } catch (err) {
    for (const s of staged) await s.discard();
    throw err;
  }
  try {
    for (const s of staged) await s.commit();
  } catch (err) {
    for (const s of staged) await s.discard();
    await putBack(before);
    throw new LabError(`could not install ${o.what}: ${errorMessage(err)}; the old files were put back`);
  }
  const restore = async () => {
    await putBack(before);
    await o.reload(true);
    return `${o.what} put back as they were, and the daemon told again`;
  };
  try {
    await o.reload(false);
  } catch (err) {
    let again = 'the daemon told again';
    try {
      await putBack(before);
      await o.reload(true);
    } catch (e) {
      again = `telling the daemon again failed too: ${errorMessage(e).split('\n')[0]}`;
    }
    const msg = errorMessage(err).split('\n')[0]!;
    throw new LabError(`${msg}; ${o.what} were put back as they were and ${again}`, err instanceof LabError ? err.hint : undefined, err instanceof LabError ? err.exitCode : undefined);
  }
  return { restore };
}

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { EXIM_DEFAULTS } from '../paths.js';
import { LabError, errorMessage } from '../errors.js';
import { keepBackup } from '../system/backup.js';
import { eximComplaint, eximOption, eximRoute, eximSyntaxCheck, type EximCheck, type EximRunner, type RouteCheck } from '../system/exim-check.js';
import { removePath, stageBeside, writeInPlace } from '../system/files.js';
import { groupId, lookupUser } from '../system/accounts.js';

/**
 * Validate, then swap (as Debian's update-exim4.conf, and further): the new configuration is
 * written beside the installed one, Exim checks its syntax and routes test addresses with it,
 * and only then does it replace the old file. The running daemon is reloaded and must survive;
 * otherwise the old file comes back byte for byte and the daemon is restarted on it.
 */
export interface SafeInstallOptions {
  /** The new configuration text. */
  text: string;
  /** The installed configuration file, e.g. /usr/exim/configure. */
  target: string;
  eximBinary: string;
  /** Runs the checks' exim commands somewhere else (a lab host's view); default eximBinary. */
  exim?: EximRunner;
  /** Addresses that must route to `expectTransport`, e.g. postmaster@st14.sne24.ru and exim-test@st14.sne24.ru. */
  testAddresses: string[];
  /** Default local_delivery. */
  expectTransport?: string;
  /** Reloads the daemon and throws if it is not running afterwards. */
  reload: () => Promise<void>;
  /** Brings the daemon back after a failed reload; default: call reload again (which starts it). */
  restart?: () => Promise<void>;
  /**
   * Rewrite the installed file in place (same inode) instead of renaming a new file over it.
   * For a file that is bind-mounted into a host's view: a rename would not reach it.
   */
  inPlace?: boolean;
  /** Backups to keep as configure.<time>.bak; default 5. */
  keepBackups?: number;
  /** Exim's panic log, read for the daemon's own words when a reload kills it. */
  paniclog?: string;
  /** Skip the reload (nothing is running yet, or the caller restarts itself). */
  noReload?: boolean;
  /**
   * Runs once the candidate passed every check and is about to replace the installed file (not
   * when the installed file already has these bytes): what the caller records only for a
   * configuration Exim accepted (configure marks its state here).
   */
  beforeSwap?: () => Promise<void>;
}

export interface SafeInstallResult {
  /** False when the installed file already had exactly this text. */
  changed: boolean;
  /** The backup made of the previous file, when there was one and it changed. */
  backup?: string;
  checks: EximCheck[];
  routes: RouteCheck[];
}

async function tlsFilesReadable(runner: string | EximRunner, file: string): Promise<void> {
  const exim = await lookupUser(EXIM_DEFAULTS.user);
  const eximGid = await groupId(EXIM_DEFAULTS.group);
  for (const option of ['tls_certificate', 'tls_privatekey']) {
    const value = await eximOption(runner, file, option);
    if (!value || value.includes('$')) continue;
    const st = await fs.stat(value).catch(() => undefined);
    if (!st) throw new LabError(`${option} = ${value}: no such file; the new configuration was not installed`, 'give an existing certificate and key (--tls-cert, --tls-key) or leave them out');
    const mode = st.mode & 0o777;
    const readable = (mode & 0o004) !== 0 || (eximGid !== undefined && st.gid === eximGid && (mode & 0o040) !== 0) || (exim !== undefined && st.uid === exim.uid && (mode & 0o400) !== 0);
    if (!readable) {
      throw new LabError(`${option} = ${value}: not readable by the exim user (mode ${mode.toString(8).padStart(4, '0')}); the new configuration was not installed`, `make it root:${EXIM_DEFAULTS.group} with mode 0640`);
    }
  }
}

function describeRoute(r: RouteCheck): string {
  return r.routes.map((s) => `${s.address} via ${s.router ?? '?'}${s.transport ? ` -> ${s.transport}` : ''}`).join(', ') || eximComplaint(r.output);
}

/** Runs the checks on `file`; throws with Exim's own message on the first failure. */
export async function checkConfigureFile(file: string, opts: Pick<SafeInstallOptions, 'eximBinary' | 'exim' | 'testAddresses' | 'expectTransport'>): Promise<{ checks: EximCheck[]; routes: RouteCheck[] }> {
  const expect = opts.expectTransport ?? 'local_delivery';
  const exim = opts.exim ?? opts.eximBinary;
  const syntax = await eximSyntaxCheck(exim, file);
  if (syntax.exitCode !== 0) {
    throw new LabError(`Exim refused the new configuration: ${eximComplaint(syntax.output)}`, 'the installed configuration was left as it was');
  }
  const routes: RouteCheck[] = [];
  for (const address of opts.testAddresses) {
    const r = await eximRoute(exim, file, address);
    routes.push(r);
    const last = r.routes[r.routes.length - 1];
    if (r.exitCode !== 0 || !last || last.transport !== expect) {
      throw new LabError(`with the new configuration ${address} does not route to ${expect}: ${describeRoute(r)}`, 'the installed configuration was left as it was');
    }
  }
  await tlsFilesReadable(exim, file);
  return { checks: [syntax], routes };
}

async function paniclogSize(file: string): Promise<number> {
  return (await fs.stat(file).catch(() => undefined))?.size ?? 0;
}

async function paniclogSince(file: string, offset: number): Promise<string> {
  const fh = await fs.open(file, 'r').catch(() => undefined);
  if (!fh) return '';
  try {
    const { size } = await fh.stat();
    if (size <= offset) return '';
    const buf = Buffer.alloc(Math.min(size - offset, 8192));
    await fh.read(buf, 0, buf.length, size - buf.length);
    return buf.toString('utf8').trim().split('\n').slice(-3).join(' | ');
  } finally {
    await fh.close();
  }
}

export async function safeInstallConfigure(opts: SafeInstallOptions): Promise<SafeInstallResult> {
  const { target } = opts;
  const before = await fs.readFile(target).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  const staged = await stageBeside(target, opts.text);
  let checks: { checks: EximCheck[]; routes: RouteCheck[] };
  try {
    checks = await checkConfigureFile(staged.path, opts);
  } catch (err) {
    await staged.discard();
    throw err;
  }

  if (before !== undefined && before.equals(Buffer.from(opts.text))) {
    await staged.discard();
    return { changed: false, ...checks };
  }

  try {
    await opts.beforeSwap?.();
  } catch (err) {
    await staged.discard();
    throw err;
  }
  const backup = before !== undefined ? await keepBackup(target, opts.keepBackups ?? 5) : undefined;
  try {
    if (opts.inPlace) {
      await staged.discard();
      await writeInPlace(target, opts.text);
    } else {
      await staged.commit();
    }
  } catch (err) {
    await staged.discard();
    throw new LabError(`could not install ${target}: ${errorMessage(err)}`);
  }

  if (opts.noReload) return { changed: true, backup, ...checks };

  const paniclog = opts.paniclog ?? path.join(EXIM_DEFAULTS.spoolDirectory, 'log', 'paniclog');
  const panicOffset = await paniclogSize(paniclog);
  try {
    await opts.reload();
  } catch (err) {
    const exim = await paniclogSince(paniclog, panicOffset);
    await restore(target, before, opts.inPlace ?? false);
    let restarted = 'the daemon was restarted on it';
    try {
      await (opts.restart ?? opts.reload)();
    } catch (again) {
      restarted = `restarting the daemon failed too: ${errorMessage(again)}`;
    }
    throw new LabError(
      `the daemon did not survive the new configuration: ${exim || errorMessage(err)}; the previous configuration was restored and ${restarted}`,
      `see ${paniclog}`,
    );
  }
  return { changed: true, backup, ...checks };
}

/** Puts the previous bytes back exactly (or removes the file when there was none). */
async function restore(target: string, before: Buffer | undefined, inPlace: boolean): Promise<void> {
  if (before === undefined) {
    await removePath(target);
    return;
  }
  if (inPlace) {
    await writeInPlace(target, before);
    return;
  }
  await (await stageBeside(target, before)).commit();
}

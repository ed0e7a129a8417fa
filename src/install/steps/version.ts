/**
 * `exim -bV` of the installed binary: the expected version, OpenSSL, the configured file, and a
 * configuration it accepts. On an upgrade that fails here, `exim` is pointed back at the release
 * the daemon still runs, so nothing is left half-upgraded.
 */
import { LabError } from '../../errors.js';
import { eximVersion, type EximVersionInfo } from '../../system/exim.js';
import { replaceSymlink } from '../../system/files.js';
import type { Step } from '../../steps/types.js';
import { isUpToDate, releaseOf, withoutRelease, type InstallContext } from '../context.js';
import { recordInstalledBinary, restoreRecord } from '../record.js';

function problems(ctx: InstallContext, info: EximVersionInfo, version: string): { list: string[]; complaint?: string } {
  const list: string[] = [];
  if (info.version !== version) list.push(`version ${info.version ?? 'unknown'} (expected ${version})`);
  if (!info.supportFor.includes('OpenSSL')) list.push('no OpenSSL under "Support for"');
  if (info.configurationFile !== ctx.o.configureFile) list.push(`configuration file ${info.configurationFile ?? 'unknown'} (expected ${ctx.o.configureFile})`);
  const complaint = (info.raw.stderr || '').split('\n').find((l) => /error|unknown|not/i.test(l));
  if (info.raw.exitCode !== 0) list.push(`it rejects ${ctx.o.configureFile}: ${complaint ?? `exit ${info.raw.exitCode}`}`);
  return { list, complaint };
}

const summary = (info: EximVersionInfo) => `Exim ${info.version}, Support for: ${info.supportFor.join(' ')}`;

export const version: Step<InstallContext> = {
  id: 'install-version',
  title: (ctx) => `${ctx.binary} -bV`,
  async check(ctx) {
    if (!ctx.release) return withoutRelease(ctx);
    if (!(await isUpToDate(ctx))) return { done: false };
    // Up to date: this run built and installed nothing, so the binary and its configuration
    // file are the ones `exim -bV` answered for when the run started.
    const info = ctx.versionBefore ?? (await eximVersion(ctx.binary));
    return { done: problems(ctx, info, ctx.release.version).list.length === 0, detail: summary(info) };
  },
  async apply(ctx) {
    const r = releaseOf(ctx);
    const info = await eximVersion(ctx.binary);
    const evidence = [{ kind: 'command' as const, label: 'exim -bV', command: info.raw.command, exitCode: info.raw.exitCode, text: info.raw.stdout }];
    const { list, complaint } = problems(ctx, info, r.version);
    if (list.length) {
      if (ctx.previousLink && ctx.installedBefore && ctx.installedBefore !== r.version) {
        await replaceSymlink(ctx.binary, ctx.previousLink);
        await restoreRecord(ctx);
        throw new LabError(`Exim ${r.version} was built but not activated: exim -bV: ${list.join('; ')}`, `${ctx.binary} points at Exim ${ctx.installedBefore} again and its daemon was not touched; fix the configuration (labctl configure checks it) and rerun`);
      }
      throw new LabError(`exim -bV: ${list.join('; ')}`, complaint);
    }
    // The new binary is in place and sound: a rerun finds it built, and still restarts the daemon.
    await recordInstalledBinary(ctx);
    return { detail: summary(info), evidence };
  },
};

import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT, LabError } from '../errors.js';
import { saveEvidence, type EvidenceItem } from '../evidence/store.js';
import { EXIM_DEFAULTS, paths } from '../paths.js';
import type { SourceChoice } from '../source/candidates.js';
import { fetchVerifiedSource, planSource } from '../source/fetch.js';
import { extractTarball } from '../source/extract.js';
import { aptInstall, installedPackages, isAptBased, aptRemove } from '../system/apt.js';
import { eximVersion } from '../system/exim.js';
import { advisoriesFor, fixingRelease, formatAdvisory } from '../source/advisories.js';
import { compareVersions } from '../source/versions.js';
import { readIfExists, readJson, readLinkIfAny, replaceSymlink, writeIfChanged, writeJson } from '../system/files.js';
import { scanForMta } from '../system/mta.js';
import { waitForGreeting } from '../system/smtp-probe.js';
import { run, runLogged } from '../system/run.js';
import { DEFAULT_SERVICE, envFile, loadServiceSettings, saveServiceSettings, serviceControl, systemdRunning, UNIT_NAME, type ServiceSettings } from '../system/service.js';
import { ensureSystemUser, userExists } from '../system/users.js';
import { LiveLine, tail } from '../ui/live.js';
import { StepRunner, type StepOutcome } from '../ui/steps.js';
import { unifiedDiff } from '../ui/diff.js';
import { labSettings, renderMakefile, settingsTable, type MakefileOptions } from './makefile.js';
import { renderUnit } from './service-unit.js';

export interface InstallOptions {
  source: SourceChoice;
  mirror?: string;
  version?: string;
  allowDowngrade: boolean;
  cacheDir: string;
  keyringFile?: string;
  trusted: string[];
  binDirectory: string;
  configureFile: string;
  eximUser: string;
  spf: boolean;
  /** The daemon's -q interval; undefined keeps the one saved by an earlier install or configure. */
  queueInterval?: string;
  removeExisting: boolean;
  /** Answers yes to the removal prompt. */
  yes: boolean;
  confirm: (question: string) => Promise<boolean>;
  json: boolean;
}

/** What install.json under the state directory records (read by verify and report). */
export interface InstallState {
  version: string;
  inputsKey: string;
  tarballUrl: string;
  signature: unknown;
  settings: { name: string; op: string; value: string }[];
  binary: string;
  configureFile: string;
  buildLog: string;
  installedAt: string;
  /** Where the source came from: official, mirror or debian. */
  origin?: string;
  /** The release this install replaced, if any (an upgrade or a downgrade). */
  previousVersion?: string;
}

export const BUILD_PACKAGES = ['build-essential', 'libssl-dev', 'libpcre2-dev', 'libdb-dev', 'pkg-config'];
const stateFile = () => path.join(paths.stateDir, 'install.json');

export const buildPackages = (spf: boolean) => (spf ? [...BUILD_PACKAGES, 'libspf2-dev'] : BUILD_PACKAGES);

const EDITME_LABELS = { before: 'src/EDITME', after: 'Local/Makefile' };

function makefileOptions(o: InstallOptions): MakefileOptions {
  return { eximUser: o.eximUser, binDirectory: o.binDirectory, configureFile: o.configureFile, spf: o.spf };
}

async function isRoot(): Promise<boolean> {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** The plan --dry-run prints: no writes, no root needed. */
export async function installPlan(o: InstallOptions): Promise<string[]> {
  const notes: string[] = [];
  const { origin, candidates } = await planSource({ source: o.source, mirror: o.mirror, version: o.version, cacheDir: o.cacheDir, log: (l) => notes.push(l) });
  const v = candidates[0]?.version ?? o.version ?? '<version>';
  const srcDir = path.join(paths.buildRoot, `exim-${v}`);
  const binary = path.join(o.binDirectory, 'exim');
  return [
    `pre-flight: check root, apt, installed MTA packages, /usr/sbin/sendmail, port 25${o.removeExisting ? ' (remove any found with apt-get remove)' : ''}`,
    ...notes.map((n) => `note: ${n}`),
    `source: ${origin.label}; releases newest first: ${candidates.map((c) => c.version).join(', ')}`,
    ...candidates.map((c) => `  ${c.version}: ${c.tarballUrl} (+ .asc) -> ${c.tarballPath}${c.inCache ? ' (in cache)' : ''}`),
    `verify: each .asc newest first against labctl's pinned keys${origin.keyringUrl ? ` (plus trusted keys from ${origin.keyringUrl})` : ''}; skip a release whose key is not pinned, stop on any bad signature`,
    `refuse a release older than the installed one${o.allowDowngrade ? ' (allowed: --allow-downgrade)' : ''}; list its known advisories and ask${o.yes ? ' (answered by --yes)' : ''}`,
    `apt-get install -y ${buildPackages(o.spf).join(' ')} (those not installed)`,
    `create system user/group ${o.eximUser} (no login shell) if missing`,
    `extract: the chosen tarball -> ${srcDir}`,
    `write: ${srcDir}/Local/Makefile from templates/Makefile.ejs and src/EDITME:`,
    ...settingsTable(labSettings(makefileOptions(o))).split('\n').map((l) => `    ${l}`),
    `run: make -j${os.availableParallelism()} (in ${srcDir}, log ${srcDir}.build.log)`,
    `run: make install`,
    `check: ${binary} -bV reports ${v}, OpenSSL, configuration file ${o.configureFile}`,
    `write: ${paths.unitFile} (ExecStart=${binary} -bdf -q\${QUEUE_INTERVAL}, from ${envFile()}); systemd-analyze verify`,
    `write: ${envFile()} (QUEUE_INTERVAL=${o.queueInterval ?? 'as saved, default 30m'})`,
    (await systemdRunning()) ? `run: systemctl daemon-reload; systemctl enable --now ${UNIT_NAME}` : `start: ${binary} -bd -q${o.queueInterval ?? '<saved interval>'} -oP /run/exim.pid (no systemd here)`,
    `write: ${stateFile()}`,
  ];
}

function inputsKey(o: InstallOptions, version: string, tarballSha: string): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ version, tarballSha, make: makefileOptions(o) }));
  return h.digest('hex').slice(0, 16);
}

async function sha256File(file: string): Promise<string> {
  return createHash('sha256').update(await fs.readFile(file)).digest('hex');
}

/** labctl install: write-up Task 1 (1a-1d and the service), each step idempotent. */
export async function install(o: InstallOptions, steps: StepRunner): Promise<InstallState> {
  const evidence: Record<string, EvidenceItem[]> = {};
  const binary = path.join(o.binDirectory, 'exim');

  await steps.step('1a-preflight', 'pre-flight: root, apt, other MTAs', async () => {
    if (!(await isRoot())) throw new LabError('labctl install must run as root', 'run it with sudo, or use --dry-run to see the plan', EXIT.preflight);
    if (!(await isAptBased())) throw new LabError('this machine has no apt-get/dpkg: labctl supports Debian and Ubuntu', undefined, EXIT.preflight);
    const scan = await scanForMta(binary);
    evidence['1a-preflight'] = [{ kind: 'text', label: 'pre-installed MTA scan', text: scan.lines.join('\n') }];
    if (!scan.found) return { status: 'ok', detail: 'no other MTA found' };
    const what = [
      ...scan.packages.map((p) => `package ${p}`),
      ...(scan.sendmail && !scan.packages.includes(scan.sendmail.owner ?? '')
        ? [`/usr/sbin/sendmail${scan.sendmail.target === '/usr/sbin/sendmail' ? '' : ` -> ${scan.sendmail.target}`}${scan.sendmail.owner ? ` (package ${scan.sendmail.owner})` : ''}`]
        : []),
      ...(scan.listener ? [`${scan.listener.process} listening on port 25`] : []),
    ].join(', ');
    if (!o.removeExisting) {
      throw new LabError(`another MTA is installed: ${what}`, `remove it first, or rerun with --remove-existing to apt-get remove ${scan.packages.join(' ') || 'it'}`, EXIT.preflight);
    }
    const removable = [...new Set([...scan.packages, ...(scan.sendmail?.owner ? [scan.sendmail.owner] : [])])];
    if (!removable.length) throw new LabError(`another MTA is running but no package provides it: ${what}`, 'stop and remove it by hand, then rerun', EXIT.preflight);
    if (!o.yes && !(await o.confirm(`Remove ${removable.join(', ')} with apt-get remove?`))) {
      throw new LabError(`not removing ${removable.join(', ')}`, 'labctl cannot install Exim beside another MTA', EXIT.preflight);
    }
    await aptRemove(removable);
    const after = await scanForMta(binary);
    if (after.found) throw new LabError(`still found after removal: ${after.lines.join('; ')}`, undefined, EXIT.preflight);
    evidence['1a-preflight'].push({ kind: 'command', label: 'removed', command: `apt-get remove -y ${removable.join(' ')}` });
    return { status: 'done', detail: `removed ${removable.join(', ')}` };
  });

  const installedBefore = (await eximVersion(binary)).version;
  const src = await (async () => {
    let result: Awaited<ReturnType<typeof fetchVerifiedSource>> | undefined;
    await steps.step('1b-source', 'download source and signature', async () => {
      result = await fetchVerifiedSource({
        source: o.source,
        mirror: o.mirror,
        version: o.version,
        cacheDir: o.cacheDir,
        keyringFile: o.keyringFile,
        trusted: o.trusted,
        installedVersion: installedBefore,
        allowDowngrade: o.allowDowngrade,
        progress: !o.json,
        log: (line) => steps.note(line),
      });
      evidence['1b-source'] = [{ kind: 'data', label: 'source', data: { origin: result.origin, from: result.originLabel, version: result.version, tarballUrl: result.tarballUrl, ascUrl: result.ascUrl, keyringUrl: result.keyringUrl, format: result.format, notes: result.notes, skipped: result.skipped } }];
      const skippedNote = result.skipped.length ? `; skipped ${result.skipped.map((x) => x.version).join(', ')} (unpinned key)` : '';
      return { status: result.cached ? 'ok' : 'done', detail: `exim ${result.version} (${result.format}) from ${result.originLabel}${result.cached ? ', cached' : ''}${skippedNote}` };
    });
    return result!;
  })();

  await steps.step('1c-signature', 'verify PGP signature', async () => {
    const s = src.signature;
    evidence['1c-signature'] = [{ kind: 'data', label: 'signature', data: s }];
    return { status: src.cached ? 'ok' : 'done', detail: `good signature by ${s.signer}, ${s.primaryFingerprint}, made ${s.created}`, ms: src.verifyMs };
  });

  await steps.step('1b-advisories', 'known advisories for this release', async () => {
    const list = advisoriesFor(src.version, { tls: 'openssl' });
    evidence['1b-advisories'] = [{ kind: 'text', label: `advisories that apply to Exim ${src.version}`, text: list.length ? list.map(formatAdvisory).join('\n') : '(none known)' }];
    if (!list.length) return { status: 'ok', detail: 'none known' };
    const fix = fixingRelease(list);
    for (const a of list) steps.note(formatAdvisory(a));
    const newer = src.skipped.find((x) => fix && compareVersions(x.version, fix) >= 0);
    const fixNote = `fixed in ${fix}${newer ? ` (${newer.version} is offered but signed by the unpinned key ${newer.issuer})` : ''}`;
    if (!o.yes && !(await o.confirm(`Exim ${src.version} has ${list.length} known advisories, ${fixNote}. Build it anyway?`))) {
      throw new LabError(`not building Exim ${src.version}: ${list.length} known advisories (${fixNote})`, 'install a fixed release (--version, --trust), or rerun with --yes to accept them', EXIT.preflight);
    }
    return { status: 'ok', detail: `${list.length} accepted (${list.map((a) => a.id).join(', ')}); ${fixNote}` };
  });

  const sha = await sha256File(src.tarballPath);
  const key = inputsKey(o, src.version, sha);
  const previous = await readJson<InstallState>(stateFile()).catch(() => undefined);
  const upToDate = previous?.inputsKey === key && installedBefore === src.version;

  await steps.step('deps', 'build dependencies (apt)', async () => {
    const wanted = buildPackages(o.spf);
    const have = new Set(await installedPackages(wanted));
    const missing = wanted.filter((p) => !have.has(p));
    if (!missing.length) return { status: 'ok', detail: wanted.join(' ') };
    await aptInstall(missing);
    evidence.deps = [{ kind: 'command', label: 'apt', command: `apt-get install -y ${missing.join(' ')}` }];
    return { status: 'done', detail: `installed ${missing.join(' ')}` };
  });

  await steps.step('exim-user', `system user and group ${o.eximUser}`, async () => {
    if (await userExists(o.eximUser)) return { status: 'ok' };
    await ensureSystemUser(o.eximUser, o.eximUser);
    return { status: 'done', detail: 'created (no login shell)' };
  });

  const srcDir = path.join(paths.buildRoot, `exim-${src.version}`);
  const buildLog = `${srcDir}.build.log`;
  let makefile = '';
  const skip = (why: string): StepOutcome => ({ status: 'ok', detail: why });

  await steps.step('extract', 'extract source', async () => {
    if (upToDate) return skip(`exim ${src.version} already built with these options`);
    await fs.rm(srcDir, { recursive: true, force: true });
    await fs.mkdir(paths.buildRoot, { recursive: true });
    const dir = await extractTarball(src.tarballPath, paths.buildRoot);
    if (path.resolve(dir) !== path.resolve(srcDir)) throw new LabError(`the tarball unpacked to ${dir}, expected ${srcDir}`);
    return { status: 'done', detail: srcDir };
  });

  await steps.step('1d-makefile', 'write Local/Makefile', async () => {
    const editmeFile = path.join(srcDir, 'src/EDITME');
    const editme = await readIfExists(editmeFile);
    if (editme === undefined) {
      if (upToDate) return skip('unchanged');
      throw new LabError(`${editmeFile} is missing from the extracted source`);
    }
    makefile = await renderMakefile(editme, src.version, makefileOptions(o));
    const settings = labSettings(makefileOptions(o));
    evidence['1d-makefile'] = [
      { kind: 'text', label: 'settings', text: settingsTable(settings) },
      { kind: 'text', label: 'diff against src/EDITME', text: unifiedDiff(editme, makefile, EDITME_LABELS) },
    ];
    const changed = await writeIfChanged(path.join(srcDir, 'Local/Makefile'), makefile);
    return { status: changed ? 'done' : 'ok', detail: settings.map((s) => `${s.name}${s.op}${s.value}`).join(' ') };
  });

  /** Where `exim` pointed before make install (the running release's binary), for a rollback. */
  let previousLink: string | undefined;
  const cores = os.availableParallelism();
  for (const [id, title, args] of [
    ['build', `make -j${cores}`, [`-j${cores}`]],
    ['make-install', 'make install', ['install']],
  ] as const) {
    await steps.step(id, title, async () => {
      if (upToDate) return skip('up to date');
      if (id === 'build') {
        await fs.rm(buildLog, { force: true });
        steps.note(`build log: ${buildLog}`);
      }
      if (id === 'make-install') {
        previousLink = await readLinkIfAny(binary);
        await unlinkInstalledBinaries(o.binDirectory, src.version);
      }
      const live = new LiveLine(`  ${title}:`);
      try {
        await runLogged('make', args, { cwd: srcDir, logFile: buildLog, onLine: (l) => live.update(l) });
      } catch (err) {
        live.clear();
        const last = await tail(buildLog, 30);
        throw new LabError(`${title} failed; the last 30 lines of ${buildLog}:\n${last}`, `full log: ${buildLog}`);
      }
      live.clear();
      evidence[id] = [{ kind: 'log', label: `last lines of ${path.basename(buildLog)}`, text: await tail(buildLog, 15) }];
      return { status: 'done', detail: `log ${buildLog}` };
    });
  }

  await steps.step('install-version', `${binary} -bV`, async () => {
    const info = await eximVersion(binary);
    evidence['install-version'] = [{ kind: 'command', label: 'exim -bV', command: info.raw.command, exitCode: info.raw.exitCode, text: info.raw.stdout }];
    const problems: string[] = [];
    if (info.version !== src.version) problems.push(`version ${info.version ?? 'unknown'} (expected ${src.version})`);
    if (!info.supportFor.includes('OpenSSL')) problems.push('no OpenSSL under "Support for"');
    if (info.configurationFile !== o.configureFile) problems.push(`configuration file ${info.configurationFile ?? 'unknown'} (expected ${o.configureFile})`);
    const complaint = (info.raw.stderr || '').split('\n').find((l) => /error|unknown|not/i.test(l));
    if (info.raw.exitCode !== 0) problems.push(`it rejects ${o.configureFile}: ${complaint ?? `exit ${info.raw.exitCode}`}`);
    if (problems.length) {
      if (previousLink && installedBefore && installedBefore !== src.version) {
        // The daemon still runs the old release: point exim back at it, so nothing is half-upgraded.
        await replaceSymlink(binary, previousLink);
        throw new LabError(`Exim ${src.version} was built but not activated: exim -bV: ${problems.join('; ')}`, `${binary} points at Exim ${installedBefore} again and its daemon was not touched; fix the configuration (labctl configure checks it) and rerun`);
      }
      throw new LabError(`exim -bV: ${problems.join('; ')}`, complaint);
    }
    return { status: upToDate ? 'ok' : 'done', detail: `Exim ${info.version}, Support for: ${info.supportFor.join(' ')}` };
  });

  const saved = await loadServiceSettings();
  const service: ServiceSettings = { ...saved, binary, queueInterval: o.queueInterval ?? saved.queueInterval };
  await steps.step('service', `service unit and daemon`, async () => {
    const unit = await renderUnit({ binary, queueInterval: DEFAULT_SERVICE.queueInterval, envFile: envFile(), configureFile: o.configureFile, spoolDirectory: EXIM_DEFAULTS.spoolDirectory });
    const unitChanged = await writeIfChanged(paths.unitFile, unit);
    evidence.service = [{ kind: 'file', label: paths.unitFile, text: unit }];
    const analyze = await run('systemd-analyze', ['verify', paths.unitFile], { allowFailure: true });
    const complaints = `${analyze.stdout}\n${analyze.stderr}`.split('\n').filter((l) => l.includes(path.basename(paths.unitFile)));
    evidence.service.push({ kind: 'command', label: 'systemd-analyze verify', command: analyze.command, exitCode: analyze.exitCode, text: (analyze.stdout + analyze.stderr).trim() || '(no complaints)' });
    if (complaints.length) throw new LabError(`systemd-analyze verify rejects ${paths.unitFile}: ${complaints[0]}`);
    const intervalChanged = saved.queueInterval !== service.queueInterval;
    await saveServiceSettings(service);
    const systemd = await systemdRunning();
    let before = await serviceControl('status', service);
    if (systemd) {
      if (unitChanged) await run('systemctl', ['daemon-reload']);
      await run('systemctl', ['enable', UNIT_NAME]);
    } else if (!before.running) steps.note('systemd is not running (container?): the unit is installed; starting the daemon directly');
    // A rebuilt binary must be restarted to take effect.
    if (before.running && (!upToDate || intervalChanged)) before = await serviceControl('restart', service);
    const st = before.running ? before : await serviceControl('start', service);
    const banner = await waitForGreeting('127.0.0.1', 25, 5000);
    if (!banner?.includes('Exim')) throw new LabError(`nothing answers on port 25 with an Exim banner (${banner ?? 'no answer'})`, `see ${EXIM_DEFAULTS.spoolDirectory}/log/mainlog and paniclog`);
    evidence.service.push({ kind: 'text', label: 'port 25 greeting', text: banner });
    const changed = unitChanged || !before.running || !upToDate || intervalChanged;
    return { status: changed ? 'done' : 'ok', detail: `pid ${st.pid} via ${st.manager}; port 25: ${banner}` };
  });

  const state: InstallState = {
    version: src.version,
    inputsKey: key,
    tarballUrl: src.tarballUrl,
    signature: src.signature,
    settings: labSettings(makefileOptions(o)).map(({ name, op, value }) => ({ name, op, value })),
    binary,
    configureFile: o.configureFile,
    buildLog,
    installedAt: upToDate && previous ? previous.installedAt : new Date().toISOString(),
    origin: src.origin,
    previousVersion: upToDate ? previous?.previousVersion : installedBefore && installedBefore !== src.version ? installedBefore : previous?.previousVersion,
  };
  if (!upToDate) await writeJson(stateFile(), state);
  await recordEvidence(steps, evidence, upToDate);
  return state;
}

/**
 * make install copies the new binary over exim-<version>-<n>; while a daemon (ours, or a lab
 * host's) runs that file the copy fails with "Text file busy". Unlinking it first is safe: running
 * daemons keep their inode, and their next re-exec (HUP, restart) picks up the new file.
 */
async function unlinkInstalledBinaries(binDirectory: string, version: string): Promise<void> {
  const names = await fs.readdir(binDirectory).catch(() => [] as string[]);
  const escaped = version.replace(/\./g, '\\.');
  const pattern = new RegExp(`^exim-${escaped}-\\d+$`);
  for (const name of names.filter((n) => pattern.test(n))) await fs.rm(path.join(binDirectory, name), { force: true });
}

/** One evidence record per step; a run that changed nothing keeps the records of the run that did. */
async function recordEvidence(steps: StepRunner, evidence: Record<string, EvidenceItem[]>, upToDate: boolean): Promise<void> {
  for (const r of steps.results) {
    if (upToDate && !evidence[r.id]) continue;
    await saveEvidence({ area: 'install', id: r.id, title: r.title, status: r.status, summary: r.detail, at: new Date().toISOString(), ms: Math.round(r.ms), evidence: evidence[r.id] ?? [] });
  }
}

/** --show-makefile: the effective settings and the diff against EDITME, from the verified source. */
export async function showMakefile(o: InstallOptions, steps: StepRunner): Promise<string> {
  const src = await fetchVerifiedSource({ source: o.source, mirror: o.mirror, version: o.version, cacheDir: o.cacheDir, keyringFile: o.keyringFile, trusted: o.trusted, allowDowngrade: true, progress: false, log: (l) => steps.note(l) });
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'labctl-editme-'));
  try {
    const dir = await extractTarball(src.tarballPath, tmp);
    const editme = await fs.readFile(path.join(dir, 'src/EDITME'), 'utf8');
    const makefile = await renderMakefile(editme, src.version, makefileOptions(o));
    return [
      `Local/Makefile settings for Exim ${src.version}:`,
      settingsTable(labSettings(makefileOptions(o))),
      '',
      unifiedDiff(editme, makefile, EDITME_LABELS),
    ].join('\n');
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}


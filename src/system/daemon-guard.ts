/**
 * A drill that stops this machine's Exim daemon (the backup-MX drill on a real pair) never leaves
 * it stopped. Before the stop it writes a marker (which run stopped it, and when); it starts the
 * daemon again and removes the marker when the drill ends, fails, or is interrupted (Ctrl-C,
 * SIGTERM: a synchronous start from the interrupt handler). After a kill -9 the marker outlives
 * the run, and the next labctl run of any kind finds it and starts the daemon (restoreLeftDown,
 * called by the CLI before it parses anything), saying so.
 */
import { readFileSync } from 'node:fs';
import { execaSync } from 'execa';
import { errorMessage } from '../errors.js';
import { daemonDownMarker } from './daemon-marker.js';
import { removePath, removePathSync, writeJson } from './files.js';
import { onInterrupt } from './interrupt.js';
import { alive } from './procs.js';
import { serviceControl, serviceStatus, systemdRunning, UNIT_NAME, type ServiceSettings } from './service.js';

export interface DaemonDownMarker {
  /** The labctl process that stopped the daemon. */
  pid: number;
  /** What stopped it, for the message: "labctl drill backup-mx". */
  by: string;
  at: string;
  /** How to start it again without async work: the systemd unit, or the direct command. */
  start: { file: string; args: string[] };
}


/** What the marker file holds: a marker, or why it cannot be one (a torn or hand-edited file). */
type MarkerRead = { marker: DaemonDownMarker } | { malformed: string };

function isMarker(m: unknown): m is DaemonDownMarker {
  const o = m as Partial<DaemonDownMarker> | null;
  return typeof o === 'object' && o !== null && Number.isInteger(o.pid) && (o.pid as number) > 0 && typeof o.by === 'string' && typeof o.at === 'string';
}

/** The marker, undefined when there is none (the common case: one failed read of a missing file). */
function readMarker(): MarkerRead | undefined {
  let text: string;
  try {
    text = readFileSync(daemonDownMarker(), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return { malformed: errorMessage(err) };
  }
  try {
    const m: unknown = JSON.parse(text);
    return isMarker(m) ? { marker: m } : { malformed: 'no pid, by and at' };
  } catch (err) {
    return { malformed: errorMessage(err) };
  }
}

/** Starts the daemon from a marker, synchronously (usable from a signal handler). */
function startSync(m: DaemonDownMarker): boolean {
  const r = execaSync(m.start.file, m.start.args, { reject: false, stdin: 'ignore', timeout: 20_000 });
  return r.exitCode === 0;
}

export interface StoppedDaemon {
  /** Starts the daemon again (if it is not running) and removes the marker. */
  restore(): Promise<void>;
}

/**
 * Stops this machine's daemon for `by`, run with `settings` (src/state/service.ts), with the marker
 * and the interrupt handler in place first.
 */
export async function stopDaemonGuarded(by: string, settings: ServiceSettings): Promise<StoppedDaemon> {
  const start = (await systemdRunning())
    ? { file: 'systemctl', args: ['start', UNIT_NAME] }
    : { file: settings.binary, args: ['-bd', `-q${settings.queueInterval}`, '-oP', settings.pidFile] };
  const marker: DaemonDownMarker = { pid: process.pid, by, at: new Date().toISOString(), start };
  await writeJson(daemonDownMarker(), marker);
  const unregister = onInterrupt(() => {
    if (startSync(marker)) removePathSync(daemonDownMarker());
  });
  try {
    await serviceControl('stop', settings);
  } catch (err) {
    unregister();
    await serviceControl('start', settings).catch(() => undefined);
    await removePath(daemonDownMarker());
    throw err;
  }
  return {
    async restore() {
      try {
        if (!(await serviceStatus(settings)).running) await serviceControl('start', settings);
        await removePath(daemonDownMarker());
      } finally {
        unregister();
      }
    },
  };
}

/**
 * A marker whose run is gone (killed with -9, a power cut of the shell): start the daemon as
 * `labctl service start` would, from this machine's service settings (`loadSettings`, the owner's
 * src/state/service.ts; never a command read from the file), remove the marker and return the
 * line to print. A marker that cannot be read as one was not written whole by a live labctl (it
 * writes atomically), so it is treated as left over. Returns undefined when there is nothing to do.
 */
export async function restoreLeftDown(loadSettings: () => Promise<ServiceSettings>): Promise<string | undefined> {
  const read = readMarker();
  if (!read) return undefined;
  if ('marker' in read && alive(read.marker.pid)) return undefined;
  const what = 'marker' in read ? `an interrupted ${read.marker.by} (at ${read.marker.at})` : `an interrupted labctl drill (its marker ${daemonDownMarker()} is unreadable: ${read.malformed})`;
  try {
    const settings = await loadSettings();
    if (!(await serviceStatus(settings)).running) await serviceControl('start', settings);
    await removePath(daemonDownMarker());
    return `the Exim daemon was left stopped by ${what}: started it again`;
  } catch (err) {
    return `the Exim daemon was left stopped by ${what} and could not be started (${errorMessage(err)}): run labctl service start`;
  }
}

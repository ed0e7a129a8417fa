import { EXIM_DEFAULTS, MAIL_SPOOL } from '../../paths.js';
import type { HostView } from '../../system/hostview.js';
import { run, type RunOptions, type RunResult } from '../../system/run.js';
import { labPaths, names, type LabMailHostSpec } from '../topology.js';

/**
 * A mail host's view of the machine: its network namespace (with /etc/netns/<ns>/* overlaid on
 * /etc by `ip netns exec`), then a private mount and UTS namespace in which its own configure
 * file, /var/mail and /home are bind-mounted over the shared ones and the host name is set.
 * One Exim binary serves every host; the root namespace's files are never touched.
 *
 * Each command gets a fresh mount namespace over the same directories, so it sees the same
 * files as the daemon that was started the same way. The configure file is bind-mounted as a
 * file, which pins its inode: rewrite it in place, never by rename.
 */
const VIEW_SCRIPT = [
  'set -e',
  'h=$1; conf=$2; target=$3; mail=$4; home=$5; shift 5',
  'hostname "$h"',
  'mount --bind "$conf" "$target"',
  `mount --bind "$mail" ${MAIL_SPOOL}`,
  'mount --bind "$home" /home',
  'exec "$@"',
].join('\n');

export const EXIM_BIN = `${EXIM_DEFAULTS.binDirectory}/exim`;

/** The argv that runs `command` inside a mail host's view. */
export function viewArgv(host: LabMailHostSpec, hostName: string, command: readonly string[]): string[] {
  const p = labPaths.host(host.name);
  return [
    'netns', 'exec', names.hostNs(host.name),
    'unshare', '--mount', '--uts', '--propagation', 'private', '--',
    'sh', '-c', VIEW_SCRIPT, 'labctl-view', hostName, p.configure, EXIM_DEFAULTS.configureFile, p.mail, p.home,
    ...command,
  ];
}

export function inView(host: LabMailHostSpec, hostName: string, command: readonly string[], opts?: RunOptions): Promise<RunResult> {
  return run('ip', viewArgv(host, hostName, command), opts);
}

/** Runs Exim (the one shared binary) in a host's view. */
export function eximInView(host: LabMailHostSpec, hostName: string, args: readonly string[], opts?: RunOptions): Promise<RunResult> {
  return inView(host, hostName, [EXIM_BIN, ...args], opts);
}

/** A lab host as a HostView: programs run in its view, files are read there (cat, or tail -c for a long log). */
export function hostView(host: LabMailHostSpec, hostName: string): HostView {
  return {
    run: (file, args, opts) => inView(host, hostName, [file, ...args], { ...opts, allowFailure: true }),
    readFile: async (p, opts) => {
      const r = opts?.tailBytes
        ? await inView(host, hostName, ['tail', '-c', String(opts.tailBytes), p], { allowFailure: true })
        : await inView(host, hostName, ['cat', p], { allowFailure: true });
      return r.exitCode === 0 ? r.stdout : undefined;
    },
  };
}

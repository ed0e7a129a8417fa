import { promises as fs } from 'node:fs';
import path from 'node:path';
import { run, type RunOptions, type RunResult } from './run.js';
import { readIfExists } from './files.js';

/**
 * Network namespaces, veth pairs and a bridge, through iproute2. Every call names its namespace
 * with `ip -n`, so nothing is ever created, addressed or routed in the root namespace: a veth
 * pair is made inside the switch namespace with its peer born directly in the host's namespace.
 */
export const NETNS_ETC = '/etc/netns';

export async function listNamespaces(): Promise<string[]> {
  const r = await run('ip', ['netns', 'list'], { allowFailure: true });
  if (r.exitCode !== 0) return [];
  return r.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0])
    .filter((n): n is string => Boolean(n));
}

export async function namespaceExists(name: string): Promise<boolean> {
  return (await listNamespaces()).includes(name);
}

export async function addNamespace(name: string): Promise<void> {
  await run('ip', ['netns', 'add', name]);
  await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
}

/** Removes a namespace (safe when it is already gone). Processes in it must be gone first. */
export async function deleteNamespace(name: string): Promise<void> {
  await run('ip', ['netns', 'delete', name], { allowFailure: true });
}

/**
 * Whether a link (a bridge, a veth end) exists in a namespace: undefined when ip cannot look
 * (entering a namespace needs root).
 */
export async function linkExists(ns: string, link: string): Promise<boolean | undefined> {
  const r = await run('ip', ['-n', ns, 'link', 'show', 'dev', link], { allowFailure: true });
  if (r.exitCode === 0) return true;
  return /does not exist/.test(r.stderr) ? false : undefined;
}

export async function addBridge(ns: string, bridge: string): Promise<void> {
  await run('ip', ['-n', ns, 'link', 'add', bridge, 'type', 'bridge']);
  await run('ip', ['-n', ns, 'link', 'set', bridge, 'up']);
}

/**
 * Joins `hostNs` to the bridge in `switchNs`: `switchSide` stays in the switch namespace as a
 * bridge port, `hostSide` appears in the host namespace with `cidr` (e.g. 10.203.14.14/24).
 */
export async function connectToBridge(opts: {
  switchNs: string;
  bridge: string;
  switchSide: string;
  hostNs: string;
  hostSide: string;
  cidr: string;
}): Promise<void> {
  const { switchNs, bridge, switchSide, hostNs, hostSide, cidr } = opts;
  await run('ip', ['-n', switchNs, 'link', 'add', switchSide, 'type', 'veth', 'peer', 'name', hostSide, 'netns', hostNs]);
  await run('ip', ['-n', switchNs, 'link', 'set', switchSide, 'master', bridge]);
  await run('ip', ['-n', switchNs, 'link', 'set', switchSide, 'up']);
  await run('ip', ['-n', hostNs, 'addr', 'add', cidr, 'dev', hostSide]);
  await run('ip', ['-n', hostNs, 'link', 'set', hostSide, 'up']);
}

/** Pids of every process whose network namespace is `ns`. */
export async function namespacePids(ns: string): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', ns], { allowFailure: true });
  if (r.exitCode !== 0) return [];
  return r.stdout
    .split('\n')
    .map((s) => Number.parseInt(s.trim(), 10))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** Runs a program inside a namespace (with /etc/netns/<ns>/* overlaid on /etc by iproute2). */
export function inNamespace(ns: string, file: string, args: readonly string[], opts?: RunOptions): Promise<RunResult> {
  return run('ip', ['netns', 'exec', ns, file, ...args], opts);
}

/** Writes the files `ip netns exec` overlays on /etc for this namespace (resolv.conf, passwd...). */
export async function writeNamespaceEtc(ns: string, files: Record<string, string>): Promise<void> {
  const dir = path.join(NETNS_ETC, ns);
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  for (const [name, content] of Object.entries(files)) {
    await fs.writeFile(path.join(dir, name), content, { mode: 0o644 });
  }
}

/** One file `ip netns exec` overlays on /etc for this namespace; undefined when there is none. */
export async function readNamespaceEtc(ns: string, name: string): Promise<string | undefined> {
  return readIfExists(path.join(NETNS_ETC, ns, name));
}

export async function removeNamespaceEtc(ns: string): Promise<boolean> {
  const dir = path.join(NETNS_ETC, ns);
  const had = await fs.stat(dir).then(() => true, () => false);
  await fs.rm(dir, { recursive: true, force: true });
  // Leave /etc/netns itself only if something else uses it.
  const rest = await fs.readdir(NETNS_ETC).catch(() => undefined);
  if (rest && rest.length === 0) await fs.rmdir(NETNS_ETC).catch(() => undefined);
  return had;
}

export async function listNamespaceEtc(): Promise<string[]> {
  return fs.readdir(NETNS_ETC).catch(() => [] as string[]);
}

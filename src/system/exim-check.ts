import { run, type RunResult } from './run.js';

/**
 * Exim's own checks of a configuration file: `-bV` (syntax), `-bt` (routing an address),
 * `-bP` (a parsed option value). Each runs the real binary with `-C FILE`; -C is fine for
 * these checks (it only drops privilege for deliveries, which they do not make).
 */

export interface EximCheck {
  command: string;
  exitCode: number;
  output: string;
}

/**
 * Runs exim with the given arguments: the machine's binary by default, or inside a lab host's
 * view (the lab passes a runner that enters the host's namespaces).
 */
export type EximRunner = (args: string[]) => Promise<RunResult>;

const runnerFor = (exim: string | EximRunner): EximRunner =>
  typeof exim === 'string' ? (args) => run(exim, args, { allowFailure: true, timeoutMs: 30_000 }) : exim;

const asCheck = (r: RunResult): EximCheck => ({
  command: r.command,
  exitCode: r.exitCode,
  output: [r.stdout, r.stderr].map((s) => s.trim()).filter(Boolean).join('\n'),
});

/** The lines of Exim's output that say what is wrong (configuration errors, failures). */
export function eximComplaint(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const bad = lines.filter((l) => /error|failed|undeliverable|unrouteable|cannot|not found|unknown|invalid|missing/i.test(l));
  return (bad.length ? bad : lines.slice(-2)).join(' | ');
}

export async function eximSyntaxCheck(exim: string | EximRunner, configFile: string): Promise<EximCheck> {
  return asCheck(await runnerFor(exim)(['-C', configFile, '-bV']));
}

export interface RouteStep {
  /** The final address delivered to, e.g. exim-test@st14.sne24.ru. */
  address: string;
  router?: string;
  transport?: string;
}

export interface RouteCheck extends EximCheck {
  address: string;
  routes: RouteStep[];
}

/**
 * Parses `exim -bt` output: each final address on its own line, then `<-- parent` lines, then
 * `router = R, transport = T`.
 */
export function parseRouteOutput(output: string): RouteStep[] {
  const steps: RouteStep[] = [];
  let current: RouteStep | undefined;
  for (const raw of output.split('\n')) {
    const line = raw.trimEnd();
    if (line === '') continue;
    const rt = /^\s+router = ([^,\s]+)(?:, transport = (\S+))?/.exec(line);
    if (rt && current) {
      current.router = rt[1];
      if (rt[2]) current.transport = rt[2];
      continue;
    }
    if (/^\S/.test(line) && !/ is undeliverable| cannot be resolved| -> /.test(line) && /@|^[^\s]+$/.test(line)) {
      current = { address: line.trim() };
      steps.push(current);
    }
  }
  return steps;
}

export async function eximRoute(exim: string | EximRunner, configFile: string, address: string): Promise<RouteCheck> {
  const r = await runnerFor(exim)(['-C', configFile, '-bt', address]);
  const check = asCheck(r);
  return { ...check, address, routes: parseRouteOutput(r.stdout) };
}

/** `exim -bP OPTION`: the parsed value, or undefined when unset. */
export async function eximOption(exim: string | EximRunner, configFile: string, option: string): Promise<string | undefined> {
  const r = await runnerFor(exim)(['-C', configFile, '-bP', option]);
  if (r.exitCode !== 0) return undefined;
  const m = new RegExp(`^${option} = (.*)$`, 'm').exec(r.stdout);
  return m ? m[1]!.trim() || undefined : undefined;
}

import { errorMessage, LabError } from '../../errors.js';
import { readIfExists, writeInPlace } from '../../system/files.js';
import { runSteps } from '../../steps/runner.js';
import type { ApplyOutcome, Step, StepObserver } from '../../steps/types.js';
import { reloadDaemon } from '../hosts/daemon.js';
import { prepareHost, type PreparedHost } from '../hosts/prepare.js';
import { dnsFiles, reloadDnsZones, serial, zoneSerial } from '../services/bind.js';
import { reloadWebServer } from '../services/nginx.js';
import { reloadResolver } from '../services/unbound.js';
import { labPaths, mailHostName, type LabMailHostSpec, type LabSpec } from '../topology.js';
import type { UpContext } from './context.js';
import { plannedHost, resolverInputs, trustAnchors, zonesAsLeft } from './expected.js';
import { naming } from './host.js';
import { labUpSteps } from './steps.js';

/**
 * `lab up` on a running lab of this topology whose checks found steps not as lab up would leave
 * them (./plan.ts decides which it can re-apply): those steps re-applied in place, each to its
 * running daemon, and nothing else touched. Each file is written beside its target, that copy
 * checked, then put in place (src/lab/services/install.ts; a host's configure as labctl
 * configure installs it), and the daemon told and seen to act on it: Exim re-executes itself on
 * SIGHUP (same pid) and logs its start; named serves each zone's new serial; unbound logs a new
 * start of service and validates; nginx starts new workers. A check that refuses a file leaves
 * that step's files as they were; a daemon that does not take its files gets the old bytes back
 * and is told again; and the steps re-applied before a failure are taken back, newest first (a
 * host's keys made again stay: the old ones are gone).
 */

/** A host as an earlier step of this run prepared it, else as lab up prepares it (its keys exist in a running lab). */
const hostOf = (ctx: UpContext, spec: LabSpec, h: LabMailHostSpec): PreparedHost => ctx.hosts.find((x) => x.spec.name === h.name) ?? plannedHost(spec, h);

async function reapplyDns(spec: LabSpec, ctx: UpContext): Promise<ApplyOutcome> {
  const zones = await zonesAsLeft(spec, spec.hosts.map((h) => hostOf(ctx, spec, h)));
  const now = serial();
  for (const z of zones) z.serial = Math.max(now, (zoneSerial((await readIfExists(dnsFiles().zone(z.name))) ?? '') ?? 0) + 1);
  const undo = await reloadDnsZones(spec, zones);
  ctx.trust = await trustAnchors(spec, 10_000);
  const [lo, hi] = [Math.min(...zones.map((z) => z.serial!)), Math.max(...zones.map((z) => z.serial!))];
  return { detail: `${zones.length} zones and named.conf rewritten (serial ${lo === hi ? lo : `${lo}-${hi}`}), checked, named reloaded and serving them`, undo };
}

/** A host's configure installed again (checked by Exim first), then its daemon told; the old configure back if the daemon does not restart on it. */
async function reapplyHost(spec: LabSpec, h: LabMailHostSpec, ctx: UpContext): Promise<ApplyOutcome> {
  const file = labPaths.host(h.name).configure;
  const before = await readIfExists(file);
  const host = await naming(h, () => prepareHost(spec, h));
  ctx.hosts.push(host);
  const putBack = async () => {
    if (before !== undefined) await writeInPlace(file, before);
    return reloadDaemon(h);
  };
  let pid: number;
  try {
    pid = await reloadDaemon(h);
  } catch (err) {
    const again = await putBack().then(() => 'its daemon told again', (e) => `telling its daemon again failed too: ${errorMessage(e).split('\n')[0]}`);
    throw new LabError(`${errorMessage(err).split('\n')[0]}; its old configure was put back and ${again}`, err instanceof LabError ? err.hint : undefined);
  }
  return {
    detail: `${mailHostName(h)}: configure re-rendered and checked; Exim daemon pid ${pid} re-read it`,
    undo: async () => `old configure put back, Exim daemon pid ${await putBack()} re-read it`,
  };
}

/** The steps lab up can re-apply in a running lab, to the daemon that runs (./plan.ts asks): those `reapply` below knows. */
export const reappliable = (id: string) => id === 'dns' || id === 'resolver' || id.startsWith('host-') || id.startsWith('mta-sts-');

function reapply(spec: LabSpec, id: string): Step<UpContext>['apply'] {
  if (!reappliable(id)) throw new Error(`lab up cannot re-apply step ${id} in a running lab`);
  if (id === 'dns') return (ctx) => reapplyDns(spec, ctx);
  if (id === 'resolver') {
    return async (ctx) => {
      const r = await reloadResolver(spec, resolverInputs(spec, ctx.trust ?? (await trustAnchors(spec))));
      return { detail: `unbound pid ${r.pid}: trust anchors and unbound.conf rewritten, checked, reloaded (a new start of service in its log)`, undo: r.restore };
    };
  }
  const h = spec.hosts.find((x) => id === `host-${x.name}` || id === `mta-sts-${x.name}`);
  if (!h) throw new Error(`lab up: no host for step ${id}`);
  if (id.startsWith('host-')) return (ctx) => reapplyHost(spec, h, ctx);
  return async (ctx) => {
    const p = hostOf(ctx, spec, h);
    const r = await reloadWebServer(h, p.model, p.keys);
    return { detail: `nginx pid ${r.pid}: nginx.conf and MTA-STS policy rewritten, checked, reloaded (new workers)`, undo: r.restore };
  };
}

/** Re-applies the steps `ids` of lab up in the running lab (see above); the hosts it prepared again. */
export async function reapplySteps(spec: LabSpec, ids: readonly string[], observer: StepObserver): Promise<PreparedHost[]> {
  // Each step the plan named is re-applied even if its check, run again here, finds its files
  // as lab up writes them: a host re-applied before it may have made its keys again, which
  // leaves nginx.conf the same while nginx still holds the old certificate.
  const steps = labUpSteps(spec)
    .filter((s) => ids.includes(s.id))
    .map((s): Step<UpContext> => ({ ...s, check: async (ctx) => ({ ...(await s.check(ctx)), done: false }), apply: reapply(spec, s.id) }));
  const ctx: UpContext = { spec, hosts: [] };
  try {
    await runSteps(steps, ctx, 'apply', observer, { takeBack: true });
  } catch (err) {
    // The failed step's own words and exit code; its hint, then what the take-back undid and what stays applied.
    const hint = err instanceof LabError ? err.hint : undefined;
    throw new LabError(errorMessage(err).split('\n')[0]!, [hint, 'the lab is still up; run labctl lab down, then labctl lab up for a lab as lab up makes it'].filter(Boolean).join('; '), err instanceof LabError ? err.exitCode : undefined);
  }
  return ctx.hosts;
}

import { errorMessage, LabError } from '../../errors.js';
import { readIfExists } from '../../system/files.js';
import { waitUntil } from '../../system/procs.js';
import { runSteps } from '../../steps/runner.js';
import type { Step, StepObserver } from '../../steps/types.js';
import { reloadDaemon } from '../hosts/daemon.js';
import { prepareHost, type PreparedHost } from '../hosts/prepare.js';
import { answers, dnsFiles, reloadDnsServer, serial, writeDnsServer, zoneSerial } from '../services/bind.js';
import { reloadWebServer } from '../services/nginx.js';
import { reloadResolver } from '../services/unbound.js';
import { mailHostName, type LabMailHostSpec, type LabSpec } from '../topology.js';
import type { UpContext } from './context.js';
import { plannedHost, resolverInputs, trustAnchors, zonesAsLeft } from './expected.js';
import { naming } from './host.js';
import { labUpSteps } from './steps.js';

/**
 * `lab up` on a running lab of this topology whose checks found steps not as lab up would leave
 * them (./plan.ts decides which it can re-apply): those steps re-applied in place, each to its
 * running daemon, and nothing else touched. A host's configure is re-rendered and checked by
 * Exim, then its daemon re-reads it (SIGHUP); the zones and named.conf are rewritten, each zone
 * with a serial above the one on disk, checked, and named reloaded; the resolver's files are
 * rewritten, checked, and unbound reloaded; a web server's files are rewritten, checked with
 * nginx -t, and nginx reloaded. Nothing is stopped, and a file is checked before its daemon is
 * told: a failure leaves the daemons running what they ran.
 */

/** A host as an earlier step of this run prepared it, else as lab up prepares it (its keys exist in a running lab). */
const hostOf = (ctx: UpContext, spec: LabSpec, h: LabMailHostSpec): PreparedHost => ctx.hosts.find((x) => x.spec.name === h.name) ?? plannedHost(spec, h);

async function reapplyDns(spec: LabSpec, ctx: UpContext): Promise<string> {
  const zones = await zonesAsLeft(spec, spec.hosts.map((h) => hostOf(ctx, spec, h)));
  const now = serial();
  for (const z of zones) z.serial = Math.max(now, (zoneSerial((await readIfExists(dnsFiles().zone(z.name))) ?? '') ?? 0) + 1);
  await writeDnsServer(spec, zones);
  await reloadDnsServer();
  if (!(await waitUntil(() => answers(spec), 10_000, 100))) throw new LabError(`dns: named does not answer after the reload`, `see ${dnsFiles().log}`);
  ctx.trust = await trustAnchors(spec, 10_000);
  const [lo, hi] = [Math.min(...zones.map((z) => z.serial!)), Math.max(...zones.map((z) => z.serial!))];
  return `${zones.length} zones and named.conf rewritten (serial ${lo === hi ? lo : `${lo}-${hi}`}), checked, named reloaded`;
}

function reapply(spec: LabSpec, id: string): Step<UpContext>['apply'] {
  if (id === 'dns') return async (ctx) => ({ detail: await reapplyDns(spec, ctx) });
  if (id === 'resolver') {
    return async (ctx) => {
      const pid = await reloadResolver(spec, resolverInputs(spec, ctx.trust ?? (await trustAnchors(spec))));
      return { detail: `unbound pid ${pid}: trust anchors and unbound.conf rewritten, checked, reloaded` };
    };
  }
  const h = spec.hosts.find((x) => id === `host-${x.name}` || id === `mta-sts-${x.name}`);
  if (h && id.startsWith('host-')) {
    return async (ctx) => {
      const host = await naming(h, () => prepareHost(spec, h));
      ctx.hosts.push(host);
      const pid = await reloadDaemon(h);
      return { detail: `${mailHostName(h)}: configure re-rendered and checked; Exim daemon pid ${pid} re-read it` };
    };
  }
  if (h) {
    return async (ctx) => {
      const p = hostOf(ctx, spec, h);
      const pid = await reloadWebServer(h, p.model, p.keys);
      return { detail: `nginx pid ${pid}: nginx.conf and MTA-STS policy rewritten, checked, reloaded` };
    };
  }
  throw new Error(`lab up cannot re-apply step ${id} in a running lab`);
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
    await runSteps(steps, ctx, 'apply', observer);
  } catch (err) {
    throw new LabError(errorMessage(err).split('\n')[0]!, 'the lab is still up, its daemons running what they ran; run labctl lab down, then labctl lab up');
  }
  return ctx.hosts;
}

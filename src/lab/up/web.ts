import type { Step } from '../../steps/types.js';
import { startWebServer, webServerPid } from '../services/nginx.js';
import type { LabMailHostSpec, LabSpec } from '../topology.js';
import type { UpContext } from './context.js';
import { driftOutcome, webDrift } from './expected.js';

/** A mail host's MTA-STS web server (nginx, HTTPS, with the host's certificate). */
export function webStep(spec: LabSpec, h: LabMailHostSpec): Step<UpContext> {
  return {
    id: `mta-sts-${h.name}`,
    title: `${h.name}: MTA-STS web server (nginx, HTTPS)`,
    async check() {
      const pid = await webServerPid(h);
      if (!pid) return { done: false, detail: `https://mta-sts.${h.domain}/.well-known/mta-sts.txt on ${h.address}:443` };
      return driftOutcome(`nginx pid ${pid}`, 'its nginx.conf and MTA-STS policy', 'rewrite them and reload nginx', () => webDrift(spec, h));
    },
    async apply(ctx) {
      const p = ctx.hosts.find((x) => x.spec.name === h.name)!;
      const pid = await startWebServer(h, p.model, p.keys);
      return { detail: `nginx pid ${pid}: https://mta-sts.${h.domain}/.well-known/mta-sts.txt` };
    },
  };
}

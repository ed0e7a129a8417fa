import path from 'node:path';
import type { HostModel } from '../config/model.js';
import { usageError } from '../errors.js';
import { paths } from '../paths.js';
import { loadConfigureState } from '../config/state.js';
import { rootView } from '../system/hostview.js';
import { loadServiceSettings } from '../state/service.js';
import type { VerifyTarget } from './types.js';

/** Overrides from the command line; anything unset comes from labctl's state. */
export interface TargetOverrides {
  host?: string;
  port?: number;
  domain?: string;
  user?: string;
  /** --backup-for: the domains this host backs up (5a). */
  partners?: string[];
  /** --partner: the partner's mail host. */
  partner?: string;
  dnsServer?: string;
  outsideAddress?: string;
  /** --ca FILE: the CA the TLS checks verify the server's certificate against. */
  ca?: string;
}

/** RFC 5737 TEST-NET-1: never local, never in relay_from_hosts. */
export const DEFAULT_OUTSIDE_ADDRESS = '192.0.2.25';
/** RFC 2606 reserves .example: never a local or partner domain, never resolves. */
export const DEFAULT_THIRD_PARTY = 'relay-test.example';

/** The model `labctl configure` stored (src/config/state.ts); undefined when there is none. */
export async function loadStoredModel(stateDir = paths.stateDir): Promise<HostModel | undefined> {
  return (await loadConfigureState(stateDir))?.model;
}

/**
 * The partner of a pair: --partner, else the one `labctl configure --partner` recorded. A backup
 * MX alone does not make a partner: the partner-* checks ask it for ETRN and its certificate,
 * which only a pair set up for it answers.
 */
export function partnerHost(o: Pick<TargetOverrides, 'partner'>, model: HostModel | undefined): string | undefined {
  return o.partner ?? model?.partner;
}

/** The machine's own Exim (root namespace), as `labctl verify` sees it without --lab. */
export async function localTarget(o: TargetOverrides = {}): Promise<VerifyTarget> {
  const model = await loadStoredModel();
  const eximBinary = (await loadServiceSettings()).binary;
  const fromExim = model ? undefined : await readRunningSetup(eximBinary);
  const domain = o.domain ?? model?.domain ?? fromExim?.domain;
  if (!domain) throw usageError('no domain to verify', 'run labctl configure first, or give --domain DOMAIN');
  const user = o.user ?? model?.postmaster ?? model?.users[0] ?? fromExim?.postmaster;
  if (!user) throw usageError(`no local user for ${domain}`, 'run labctl configure first, or give --user NAME');
  const port = o.port ?? 25;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw usageError(`--port ${o.port}: not a TCP port`);
  return {
    address: o.host ?? '127.0.0.1',
    smtpPort: port,
    domain,
    user,
    partnerDomains: o.partners ?? model?.backupFor.map((p) => p.domain) ?? [],
    ...(partnerHost(o, model) ? { partner: partnerHost(o, model) } : {}),
    thirdPartyDomain: DEFAULT_THIRD_PARTY,
    outsideAddress: o.outsideAddress ?? DEFAULT_OUTSIDE_ADDRESS,
    dnsServer: o.dnsServer,
    probeAddress: '127.0.0.1',
    eximBinary,
    // --domain or --user for another host than the stored model describes: drop the model.
    model: model && (!o.domain || o.domain === model.domain) ? model : undefined,
    stateDir: paths.stateDir,
    // The lab CA labctl configure signs the host's certificate with, unless --ca names another.
    caFile: o.ca ?? path.join(paths.stateDir, 'ca', 'ca.pem'),
    view: rootView,
  };
}

/**
 * Without a stored model, what the running Exim says: the first real domain in local_domains
 * and the user postmaster is aliased to.
 */
async function readRunningSetup(eximBinary: string): Promise<{ domain?: string; postmaster?: string }> {
  const r = await rootView.run(eximBinary, ['-bP', 'local_domains'], { timeoutMs: 5000 });
  const list = /local_domains\s*=\s*(.*)$/m.exec(r.stdout)?.[1] ?? '';
  const domain = list.split(':').map((d) => d.trim()).find((d) => /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(d));
  const aliases = (await rootView.readFile('/etc/aliases')) ?? '';
  const postmaster = /^postmaster\s*:\s*([a-z_][\w.-]*)\s*$/im.exec(aliases)?.[1];
  return { domain, postmaster };
}

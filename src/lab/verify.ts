import { runAttached } from '../system/run.js';
import { promises as fs } from 'node:fs';
import { paths } from '../paths.js';
import { LabError } from '../errors.js';
import { partnerHost, type TargetOverrides } from '../verify/target.js';
import type { PartnerDelivery, VerifyTarget } from '../verify/types.js';
import { tlsDrillScene } from './drills/tls-scene.js';
import { attemptLine } from './hosts/logs.js';
import { labModel } from './hosts/prepare.js';
import { loadState, type LabState } from './state.js';
import { backupTargets, mailHostName, names, partnerOf, type LabMailHostSpec } from './topology.js';
import { EXIM_BIN, hostView } from './hosts/view.js';

/**
 * `labctl verify --lab`: the verify checks against each lab host, from inside the lab. The
 * checks open SMTP connections from this process, so it must live in the client's network
 * namespace: when it does not, it runs itself again there (same arguments, terminal attached)
 * and exits with that run's status. Exim commands and file reads go through the host's view.
 */
async function netnsInode(file: string): Promise<number | undefined> {
  return (await fs.stat(file).catch(() => undefined))?.ino;
}

/** Whether this process already runs in the lab client's network namespace. */
export async function inClientNamespace(): Promise<boolean> {
  const mine = await netnsInode('/proc/self/ns/net');
  const client = await netnsInode(`/run/netns/${names.clientNs}`);
  return mine !== undefined && mine === client;
}

/** Runs this same command again inside the client's namespace (terminal attached); resolves with its exit status. */
export async function rerunInClient(): Promise<number> {
  return runAttached('ip', ['netns', 'exec', names.clientNs, process.execPath, ...process.argv.slice(1)]).catch((err: unknown) => {
    throw new LabError(`verify --lab: cannot enter ${names.clientNs}: ${err instanceof Error ? err.message : String(err)}`);
  });
}

export async function labTargets(o: TargetOverrides): Promise<VerifyTarget[]> {
  const state = await loadState();
  if (!state) return [];
  if (!(await inClientNamespace())) throw new LabError(`verify --lab must run inside ${names.clientNs}`, 'labctl verify --lab enters it by itself');
  return state.spec.hosts.map((host) => labTarget(state, host, o));
}

/**
 * One lab host as a verify target: Exim commands and file reads go through the host's view, DNS
 * is the lab's. SMTP checks connect from this process, so they need the client's namespace; the
 * TLS drill's checks (src/lab/drills/tls-checks.ts) make their connections with swaks there.
 */
export function labTarget(state: LabState, host: LabMailHostSpec, o: TargetOverrides = {}): VerifyTarget {
  const name = mailHostName(host);
  const model = labModel(state.spec, host);
  return {
    name: host.name,
    address: host.address,
    smtpPort: o.port ?? 25,
    domain: host.domain,
    user: o.user ?? model.postmaster,
    partnerDomains: backupTargets(state.spec, host).map((p) => p.domain),
    ...(partnerHost(o, model) ? { partner: partnerHost(o, model) } : {}),
    thirdPartyDomain: 'relay-test.example',
    outsideAddress: o.outsideAddress ?? '192.0.2.25',
    dnsServer: o.dnsServer ?? state.spec.dnsAddress,
    probeAddress: state.spec.clientAddress,
    localAddress: state.spec.clientAddress,
    eximBinary: EXIM_BIN,
    model,
    stateDir: paths.stateDir,
    caFile: state.caCertificate,
    view: hostView(host, name),
    lab: { resolver: state.spec.resolverAddress ?? state.spec.dnsAddress, partnerDelivery: partnerDelivery(state, host) },
  };
}

/**
 * A message from a partner host (one that backs this host up, or any other lab host) to this
 * host, through the partner's own Exim: the TLS drill's one delivery (TLS session cache cleared,
 * so the handshake is a full one). The partner's log line says how it was delivered (DS,
 * CV=dane), the delivered copy what this host found (Authentication-Results).
 */
function partnerDelivery(state: LabState, host: LabMailHostSpec): () => Promise<PartnerDelivery> {
  const partner = partnerOf(state.spec, host)?.host;
  if (!partner) return async () => ({ partner: '-', ip: '', helo: '', sender: '', error: 'the lab has no other mail host' });
  const scene = tlsDrillScene(state, host, partner);
  return async () => {
    const d = await scene.delivery();
    const logLine = attemptLine(d.peerLog, host.address, '=>');
    return {
      partner: partner.name,
      ip: partner.address,
      helo: mailHostName(partner),
      sender: scene.from,
      ...(logLine ? { logLine } : {}),
      ...(!d.sent.ok ? { error: `${partner.name} could not send: ${d.sent.error ?? 'no result'}` } : {}),
      ...(d.message ? { message: `${d.message.headers}\n\n${d.message.body}` } : d.sent.ok ? { error: `the message did not reach ${scene.to}` } : {}),
    };
  };
}

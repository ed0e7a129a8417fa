import path from 'node:path';
import type { HostModel } from '../../config/model.js';
import { LabError, errorMessage } from '../../errors.js';
import { payloadItem, type TlsDrill } from '../../evidence/payloads.js';
import { rejectlogItem, rejectlogSize } from '../hosts/logs.js';
import { saveOutcome } from '../../evidence/record.js';
import { CHECK_MARK } from '../../evidence/types.js';
import { runChecks, summarize } from '../../verify/runner.js';
import type { CheckDef } from '../../verify/types.js';
import { daemonPid, reloadDaemon } from '../hosts/daemon.js';
import { answers } from '../services/bind.js';
import { openChecks, tlsRequiredChecks } from './tls-checks.js';
import { tlsDrillScene } from './tls-scene.js';
import { eximRunnerFor, labModel, renderLabConfigure } from '../hosts/prepare.js';
import { safeInstallConfigure } from '../../config/swap.js';
import { testAddresses } from '../../config/apply.js';
import { hostKeys } from '../services/keys.js';
import type { LabState } from '../state.js';
import { drillPair, labPaths, names, type LabMailHostSpec } from '../topology.js';
import { labTarget } from '../verify.js';
import { EXIM_BIN } from '../hosts/view.js';

/**
 * Task 3 and Task 7 between the lab hosts: STARTTLS verified against the lab CA, SMTPS on 465,
 * TLS-required mode refusing plaintext (tested with swaks from the client), DKIM signed by the
 * backup host and verified by the primary, and SPF passing for the sender's address. The checks
 * are verify checks (src/lab/drills/tls-checks.ts) run by the verify runner against the primary.
 */

/** Each check may send a message and wait for its delivery, or wait for swaks' own timeouts. */
const CHECK_TIMEOUT_MS = 60_000;

/**
 * Switches a host's TLS mode: the same model with another `tls`, rendered by the same template,
 * checked by Exim (-C on a candidate file, in the host's view) before it replaces the live file
 * in place, then a HUP and a check that the daemon is still there.
 */
export async function setTlsMode(state: LabState, host: LabMailHostSpec, mode: HostModel['tls']): Promise<void> {
  await switchHost(state, host, { tls: mode });
}

/** What a drill may change on a lab host for a while; anything left out is the lab's default. */
export interface HostSwitch {
  tls?: HostModel['tls'];
  dmarcEnforce?: boolean;
  /** false: no hosts_try_dane on the host's remote transport (the wire drill's plaintext control message). */
  dane?: boolean;
}

const describeSwitch = (c: HostSwitch) =>
  [`TLS mode ${c.tls ?? 'starttls+smtps'}`, ...(c.dmarcEnforce === false ? ['DMARC not enforced'] : []), ...(c.dane === false ? ['no DANE'] : [])].join(', ');

/** The same as setTlsMode for any HostSwitch: `switchHost(state, h, {})` puts the lab's default back. */
export async function switchHost(state: LabState, host: LabMailHostSpec, change: HostSwitch): Promise<void> {
  const mode = change.tls ?? 'starttls+smtps';
  const model = labModel(state.spec, host, mode, change.dmarcEnforce === undefined ? {} : { dmarcEnforce: change.dmarcEnforce });
  const keys = await hostKeys(state.spec, host, model);
  const p = labPaths.host(host.name);
  try {
    // The same safe install as labctl configure, in place: the daemons see the file through a bind mount.
    await safeInstallConfigure({
      text: await renderLabConfigure(model, host, keys, change.dane === false ? { dane: false } : {}),
      target: p.configure,
      eximBinary: EXIM_BIN,
      exim: eximRunnerFor(host),
      testAddresses: testAddresses(model),
      inPlace: true,
      paniclog: path.join(p.log, 'paniclog'),
      reload: async () => void (await reloadDaemon(host)),
    });
  } catch (err) {
    throw new LabError(`${host.name}: switching to ${describeSwitch(change)} failed: ${errorMessage(err)}`);
  }
}

export async function tlsDrill(state: LabState, opts: { log?: (l: string) => void } = {}): Promise<TlsDrill> {
  const log = opts.log ?? (() => undefined);
  const { primary, partner: peer } = drillPair(state.spec, 'TLS');
  if (!(await answers(state.spec, names.clientNs, 2))) {
    throw new LabError(`the lab DNS server (named in ${names.dnsNs}, ${state.spec.dnsAddress}) does not answer`, 'see labctl lab status');
  }
  for (const h of [primary, peer]) if (!(await daemonPid(h))) throw new LabError(`${h.name}: the Exim daemon is not running`, 'see labctl lab status');
  const scene = tlsDrillScene(state, primary, peer);
  const target = labTarget(state, primary);
  const started = new Date().toISOString();
  const rejectOffset = await rejectlogSize(primary);
  // One at a time and in order: the later checks reuse the first one's delivery.
  const runInOrder = (defs: CheckDef[]) =>
    runChecks(target, { concurrency: 1, timeoutMs: CHECK_TIMEOUT_MS, onResult: (r) => log(`${CHECK_MARK[r.status]} ${r.id}: ${r.summary}`) }, defs);

  const open = await runInOrder(openChecks(scene));
  await setTlsMode(state, primary, 'required');
  log(`${primary.name}: switched to TLS-required mode`);
  const required = await runInOrder(tlsRequiredChecks(scene)).finally(async () => {
    await setTlsMode(state, primary, 'starttls+smtps');
    log(`${primary.name}: back to starttls+smtps`);
  });

  const drill: TlsDrill = { primary: primary.name, peer: peer.name, ...summarize([...open.checks, ...required.checks]) };
  await saveOutcome('drill', {
    id: 'tls',
    title: `TLS, DKIM and SPF drill between ${peer.name} and ${primary.name}`,
    status: drill.passed === drill.checks.length ? 'pass' : 'fail',
    summary: `${drill.passed}/${drill.checks.length} checks passed`,
    evidence: [payloadItem('tlsDrill', drill), await rejectlogItem(primary, rejectOffset)],
  }, started);
  return drill;
}

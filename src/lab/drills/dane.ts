/**
 * `labctl lab drill dane` (beyond the write-up): DANE catching a wrong certificate between the two Exims.
 * st14 gets a new key and certificate (from the same lab CA, so only DANE can tell): its TLSA
 * record is now stale, and st18, which validates DNSSEC and uses DANE, defers its delivery and logs
 * why. Then the lab's zone publishes the TLSA of the new certificate (the record `labctl dns`
 * computes; BIND re-signs it) and st18's next try delivers, with CV=dane. The JSON gives the times.
 */
import { readFile } from 'node:fs/promises';
import { daneLogFacts, digQuery, tlsaName, tlsaValue } from '../../config/tlsa.js';
import { LabError } from '../../errors.js';
import { payloadItem, type DaneDrill } from '../../evidence/payloads.js';
import { saveOutcome } from '../../evidence/record.js';
import { removePath } from '../../system/files.js';
import { waitUntil } from '../../system/procs.js';
import { run, type RunOptions } from '../../system/run.js';
import { serial, reloadDnsServer, writeZone } from '../services/bind.js';
import { reloadDaemon } from '../hosts/daemon.js';
import { labModel } from '../hosts/prepare.js';
import { hostKeys } from '../services/keys.js';
import { attemptLine, logSize, mailboxMessage, mainlogSince } from '../hosts/logs.js';
import { newRunId } from '../../drill/send.js';
import { sendFromHost } from '../hosts/send.js';
import type { LabState } from '../state.js';
import { domainZone } from '../services/zones.js';
import { drillPair, mailHostName, names, type LabMailHostSpec } from '../topology.js';
import { eximInView } from '../hosts/view.js';

export type { DaneDrill };

/** The TLSA records of the mail host as the lab's validating resolver gives them, and whether it set AD. */
async function servedTlsa(state: LabState, host: LabMailHostSpec): Promise<{ records: string[]; ad: boolean; text: string }> {
  const inClient = (file: string, args: readonly string[], o?: RunOptions) => run('ip', ['netns', 'exec', names.clientNs, file, ...args], o);
  const a = await digQuery(inClient, tlsaName(mailHostName(host)), 'TLSA', state.spec.resolverAddress);
  return { records: a.records, ad: a.flags.includes('ad'), text: a.output };
}

export async function daneDrill(state: LabState, opts: { log?: (l: string) => void } = {}): Promise<DaneDrill> {
  const log = opts.log ?? (() => {});
  const { primary, partner: peer } = drillPair(state.spec, 'DANE');
  const model = labModel(state.spec, primary);
  const user = state.hosts[primary.name]!.users[0]!;
  const to = `${user}@${primary.domain}`;
  const from = `${state.hosts[peer.name]!.users[0]!}@${peer.domain}`;
  const started = new Date().toISOString();
  const before = await servedTlsa(state, primary);
  if (!before.ad || before.records.length === 0) throw new LabError(`the lab's resolver gives no validated TLSA for ${mailHostName(primary)} (AD ${before.ad ? 'set' : 'not set'})`, 'run labctl lab down, then labctl lab up');

  // 1. A new key and certificate for st14, from the same CA: valid for PKIX, wrong for its TLSA.
  const old = await hostKeys(state.spec, primary, model);
  await removePath(old.certificate);
  await removePath(old.privateKey);
  const keys = await hostKeys(state.spec, primary, model);
  const cert = await readFile(keys.certificate, 'utf8');
  const wanted = tlsaValue(cert);
  await reloadDaemon(primary);
  const t0 = Date.now();
  const stale = await servedTlsa(state, primary);
  log(`${primary.name}: new key and certificate; DNS still says ${stale.records.join(', ')}, the new key needs ${wanted}`);

  // 2. st18 sends: with DANE it must defer, never deliver to a host its TLSA does not vouch for.
  const offset = await logSize(peer);
  const runId = newRunId();
  const sent = await sendFromHost(peer, { from, to, count: 1, runId, subject: 'dane drill' });
  if (!sent.records[0]?.ok) throw new LabError(`${peer.name} could not queue the message: ${sent.records[0]?.error}`);
  let deferLine: string | undefined;
  await waitUntil(async () => (deferLine = attemptLine(await mainlogSince(peer, offset), primary.address, '==')) !== undefined, 20_000, 100);
  const deferredAt = Date.now();
  const deliveredEarly = await mailboxMessage(primary, user, runId);
  log(`${peer.name}: ${deferLine ? `deferred: ${deferLine.replace(/^.* == /, '')}` : 'no deferral logged'}`);

  // 3. Publish the new TLSA (the record labctl dns computes), BIND re-signs, the resolver sees it.
  const zone = await domainZone({ spec: primary, model, keys, users: [] });
  await writeZone(state.spec, { ...zone, serial: serial() + 1 });
  await reloadDnsServer();
  const republished = await waitUntil(async () => {
    const now = await servedTlsa(state, primary);
    return now.ad && now.records.includes(wanted);
  }, 30_000, 250);
  const republishedAt = Date.now();
  log(`dns: ${republished ? `the validating resolver now gives ${wanted}` : 'the new TLSA did not appear within 30 s'}`);

  // 4. st18 tries again (exim -qff, as 5c) and delivers with DANE.
  await eximInView(peer, mailHostName(peer), ['-qff'], { allowFailure: true, timeoutMs: 30_000 });
  const arrived = await waitUntil(async () => (await mailboxMessage(primary, user, runId)) !== undefined, 30_000, 100);
  const deliveredAt = Date.now();
  const deliveredLine = attemptLine(await mainlogSince(peer, offset), primary.address, '=>');
  log(`${peer.name}: ${deliveredLine ? `delivered: ${deliveredLine.replace(/^.* => /, '')}` : 'no delivery logged'}`);

  const result: DaneDrill = {
    primary: primary.name,
    peer: peer.name,
    staleTlsa: { served: stale.records, wanted, stale: !stale.records.includes(wanted) },
    deferred: { ok: !!deferLine && !deliveredEarly, afterMs: deferredAt - t0, ...(deferLine ? { reason: deferLine.replace(/^.* == \S+ /, '') } : {}) },
    republished: { ok: republished, afterMs: republishedAt - deferredAt },
    delivered: { ok: arrived, afterMs: deliveredAt - republishedAt, dane: !!deliveredLine && daneLogFacts(deliveredLine).secured && daneLogFacts(deliveredLine).dane, ...(deliveredLine ? { logLine: deliveredLine } : {}) },
    ok: false,
  };
  result.ok = result.staleTlsa.stale && result.deferred.ok && result.republished.ok && result.delivered.ok && result.delivered.dane;
  await saveOutcome('drill', {
    id: 'dane',
    title: `DANE: ${primary.name}'s certificate swapped, ${peer.name} defers until the TLSA is republished`,
    status: result.ok ? 'pass' : 'fail',
    summary: `${result.deferred.ok ? `deferred after ${(result.deferred.afterMs / 1000).toFixed(1)} s` : 'NOT deferred'}; TLSA republished in ${(result.republished.afterMs / 1000).toFixed(1)} s; ${result.delivered.ok ? `delivered ${result.delivered.dane ? 'with CV=dane' : 'WITHOUT DANE'} ${(result.delivered.afterMs / 1000).toFixed(1)} s later` : 'NOT delivered'}`,
    evidence: [
      payloadItem('daneDrill', result),
      { kind: 'text', label: 'TLSA from the validating resolver right after the swap (stale)', text: stale.text },
      { kind: 'text', label: `${peer.name}'s main log`, text: (await mainlogSince(peer, offset)).split('\n').filter((l) => / (==|=>|\*\*) /.test(l)).join('\n') },
    ],
  }, started);
  return result;
}

/**
 * Task 3 (7c) on the wire, as the write-up proved it with Wireshark: a capture in st14's
 * namespace (tcpdump, lab SMTP ports only) while st18 sends st14 one message over STARTTLS and
 * one control message with TLS switched off on st14 for that delivery only (configure's safe
 * switch, and back), and the client sends one over SMTPS on 465. Each message carries its own
 * random marker in the subject and body. tshark then reads the capture: the TLS message shows
 * SMTP in the clear only up to STARTTLS / 220, TLS records after it, and its marker nowhere in the
 * capture's bytes; the control message's marker is in the clear (packet and offset); on 465 TLS
 * starts with the first byte. The drill passes only when all of that holds.
 */
import path from 'node:path';
import { analyseWire, marker, PORTS, recordWire } from '../../drill/wire-analysis.js';
import { newRunId } from '../../drill/send.js';
import { LabError } from '../../errors.js';
import type { WireDrill } from '../../evidence/payloads.js';
import { paths } from '../../paths.js';
import { ensureDir } from '../../system/files.js';
import { sleep, waitUntil } from '../../system/procs.js';
import { runInBackground, run } from '../../system/run.js';
import { setTlsMode, switchHost } from './tls.js';
import { labModel } from '../hosts/prepare.js';
import { mailboxMessage } from '../hosts/logs.js';
import { defaultSender, sendFromHost } from '../hosts/send.js';
import type { LabState } from '../state.js';
import { drillPair, names } from '../topology.js';

export type { WireDrill };

export interface WireOptions {
  log?: (line: string) => void;
  /** Sends the "TLS" message with TLS off too, to show what a failing proof looks like. */
  demoPlaintext?: boolean;
}

export async function wireDrill(state: LabState, opts: WireOptions = {}): Promise<WireDrill> {
  const log = opts.log ?? (() => {});
  const { primary, partner: peer } = drillPair(state.spec, 'wire');
  const ns = names.hostNs(primary.name);
  const user = state.hosts[primary.name]!.users[0]!;
  const to = `${user}@${primary.domain}`;
  const from = defaultSender(state, to, peer);
  const dir = path.join(paths.evidenceDir, 'drill', 'wire');
  await ensureDir(dir);
  const started = new Date().toISOString();
  const pcap = path.join(dir, `${started.replace(/[:.]/g, '-')}.pcap`);
  const markers = { tls: marker('TLS'), plain: marker('PLAIN'), smtps: marker('SMTPS') };

  const capture = runInBackground('ip', ['netns', 'exec', ns, 'tcpdump', '-i', names.hostIf, '-n', '-U', '-s', '0', '-w', pcap, PORTS]);
  try {
    if (!(await waitUntil(() => /listening on/.test(capture.output()), 10_000, 50))) {
      throw new LabError(`tcpdump did not start in ${ns}: ${capture.output().trim() || 'no output'}`, 'is tcpdump installed (apt-get install tcpdump)?');
    }
    log(`capturing ${PORTS} on ${primary.name}'s ${names.hostIf} into ${pcap}`);
    const deliver = async (what: keyof typeof markers) => {
      const runId = newRunId();
      const sent = await sendFromHost(peer, { from, to, count: 1, runId, subject: `wire drill ${markers[what]}`, body: markers[what] });
      if (!sent.records[0]!.ok) throw new LabError(`${peer.name} could not send the ${what} message: ${sent.records[0]!.error}`);
      if (!(await waitUntil(async () => (await mailboxMessage(primary, user, runId)) !== undefined, 20_000, 100))) {
        throw new LabError(`the ${what} message did not reach ${to} within 20 s`);
      }
      log(`${what}: delivered ${peer.name} -> ${primary.name} with marker ${markers[what]}`);
    };
    const mode = labModel(state.spec, primary).tls;
    if (opts.demoPlaintext) {
      await setTlsMode(state, primary, 'off');
      await switchHost(state, peer, { dane: false });
    }
    try {
      await deliver('tls');
    } finally {
      if (opts.demoPlaintext) {
        await setTlsMode(state, primary, mode);
        await switchHost(state, peer, {});
      }
    }
    // With st14's TLSA under DNSSEC, DANE makes TLS mandatory for st18: for the control message
    // only, st18's transport leaves DANE out (a one-off transport setting) while st14 offers no TLS.
    await setTlsMode(state, primary, 'off');
    await switchHost(state, peer, { dane: false });
    log(`${primary.name}: TLS off, ${peer.name}: no DANE, for the control message only`);
    try {
      await deliver('plain');
    } finally {
      await setTlsMode(state, primary, mode);
      await switchHost(state, peer, {});
      log(`${primary.name}: back to ${mode}; ${peer.name}: DANE again`);
    }
    const smtps = await run(
      'ip',
      ['netns', 'exec', names.clientNs, 'swaks', '--timeout', '10', '--server', primary.address, '--port', '465', '--tls-on-connect', '--ehlo', 'client.lab',
        '--from', from, '--to', to, '--header', `Subject: wire drill ${markers.smtps}`, '--body', markers.smtps],
      { allowFailure: true, timeoutMs: 30_000 },
    );
    if (smtps.exitCode !== 0) throw new LabError(`the SMTPS message was not accepted on ${primary.name}:465 (swaks exit ${smtps.exitCode})`);
    log(`smtps: accepted on ${primary.name}:465 with marker ${markers.smtps}`);
    // Let the last packets reach the capture file before tcpdump stops.
    await sleep(1000);
  } finally {
    await capture.stop('SIGINT');
  }

  const { result, plainHit } = await analyseWire(ns, pcap, markers);
  await recordWire(result, started, markers, plainHit, opts.demoPlaintext ? 'wire-demo-plaintext' : 'wire');
  return result;
}

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
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LabError } from '../errors.js';
import { saveEvidence, type EvidenceItem } from '../evidence/store.js';
import { payloadItem, type WireDrill } from '../evidence/payloads.js';
import { paths } from '../paths.js';
import { ensureDir } from '../system/files.js';
import { sleep, waitUntil } from '../system/procs.js';
import { run, runInBackground } from '../system/run.js';
import { setTlsMode, switchHost } from './drill-tls.js';
import { labModel } from './host.js';
import { mailboxMessage } from './logs.js';
import { defaultSender, newRunId, sendFromHost } from './send.js';
import type { LabState } from './state.js';
import { drillPair, names } from './topology.js';
import { AGGREGATOR, FRAME_FIELDS, findMarker, parseFrames, proveStream, serverHello, streamsTo, type Frame, type MarkerHit } from './wire-parse.js';

export type { WireDrill };

export interface WireOptions {
  log?: (line: string) => void;
  /** Sends the "TLS" message with TLS off too, to show what a failing proof looks like. */
  demoPlaintext?: boolean;
}

export const PORTS = 'tcp port 25 or tcp port 465';
export type WireMarkers = { tls: string; plain: string; smtps: string };
export const marker = (what: string) => `LABCTL-WIRE-${what}-${randomBytes(6).toString('hex').toUpperCase()}`;

/**
 * tshark reads a file and touches no interface: inside the capturing lab host's namespace, or on
 * this machine (ns undefined) for the drill between two real machines.
 */
const tshark = (ns: string | undefined, args: string[]) =>
  ns ? run('ip', ['netns', 'exec', ns, 'tshark', '-n', '-r', ...args], { allowFailure: true, timeoutMs: 60_000 }) : run('tshark', ['-n', '-r', ...args], { allowFailure: true, timeoutMs: 60_000 });

async function frames(ns: string | undefined, pcap: string): Promise<Frame[]> {
  const r = await tshark(ns, [pcap, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', `-E`, `aggregator=${AGGREGATOR}`, ...FRAME_FIELDS.flatMap((f) => ['-e', f])]);
  if (r.exitCode !== 0) throw new LabError(`tshark could not read ${pcap}: ${r.stderr.trim().split('\n').slice(-1)[0]}`);
  return parseFrames(r.stdout);
}

async function hello(ns: string | undefined, pcap: string, stream: number) {
  return serverHello((await tshark(ns, [pcap, '-Y', `tcp.stream == ${stream} && tls.handshake.type == 2`, '-V'])).stdout);
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

/**
 * What the capture shows, in both worlds: tshark's frames, the STARTTLS stream (SMTP in the clear
 * only up to STARTTLS, TLS records after it, its marker nowhere), the control marker in the clear,
 * and 465 in TLS from the first byte.
 */
export async function analyseWire(ns: string | undefined, pcap: string, markers: WireMarkers): Promise<{ result: WireDrill; plainHit?: MarkerHit }> {
  const all = await frames(ns, pcap);
  const raw = await readFile(pcap);
  const inRaw = (m: string) => raw.indexOf(m, 0, 'latin1') >= 0;
  const smtp25 = [...streamsTo(all, 25).values()];
  // The TLS message's stream is the one with STARTTLS and DATA after it; the control one has its marker in the clear.
  const hitOf = (m: string) => findMarker(all, m);
  const plainHit = hitOf(markers.plain);
  const tlsStreams = smtp25.map((s) => proveStream(s, 25)).filter((p) => p.startTls && p.framesAfterSwitch > 0);
  const tlsProof = tlsStreams[0];
  const tlsHit = hitOf(markers.tls);
  const tlsHello = tlsProof ? await hello(ns, pcap, tlsProof.stream) : {};
  const smtpsStream = [...streamsTo(all, 465).values()][0];
  const smtpsProof = smtpsStream ? proveStream(smtpsStream, 465) : undefined;
  const smtpsHello = smtpsProof ? await hello(ns, pcap, smtpsProof.stream) : {};

  const tls = {
    markerFound: inRaw(markers.tls) || tlsHit !== undefined,
    plainCommands: tlsProof?.plainCommands ?? [],
    ...tlsHello,
    onlyTlsAfterStartTls: !!tlsProof && tlsProof.notTlsAfterSwitch.length === 0,
    ok: false,
  };
  tls.ok = !tls.markerFound && tls.onlyTlsAfterStartTls && tls.plainCommands.some((l) => /^STARTTLS/i.test(l));
  const plain = { markerFound: inRaw(markers.plain), ...(plainHit ?? {}), ok: false };
  plain.ok = plain.markerFound && plainHit !== undefined;
  const smtps = {
    markerFound: inRaw(markers.smtps),
    plainCommands: smtpsProof?.plainCommands ?? [],
    tlsFromFirstByte: !!smtpsProof?.tlsFromFirstByte,
    ...smtpsHello,
    ok: false,
  };
  smtps.ok = !smtps.markerFound && smtps.tlsFromFirstByte && smtps.plainCommands.length === 0 && (smtpsProof?.notTlsAfterSwitch.length ?? 1) === 0;
  const summary = (await tshark(ns, [pcap])).stdout.split('\n').filter(Boolean);
  const result: WireDrill = { tls, plain, smtps, pcap, summary, ok: tls.ok && plain.ok && smtps.ok };
  return { result, plainHit };
}

/** A --demo-plaintext run is kept under its own id, so it never stands for the lab's proof. */
export async function recordWire(r: WireDrill, at: string, markers: Record<string, string>, plainHit: MarkerHit | undefined, id: string, notes: string[] = []): Promise<void> {
  const line = (ok: boolean, text: string) => `${ok ? 'pass' : 'FAIL'} ${text}`;
  const evidence: EvidenceItem[] = [
    payloadItem('wireDrill', r),
    { kind: 'text', label: 'tshark summary (one line per packet)', text: r.summary.join('\n') },
    {
      kind: 'text',
      label: 'markers',
      text: [
        line(r.tls.ok, `STARTTLS message: marker ${markers.tls} ${r.tls.markerFound ? 'FOUND' : 'not found'} in the capture; in the clear: ${r.tls.plainCommands.join(' | ')}; then ${r.tls.onlyTlsAfterStartTls ? 'only TLS records' : 'not only TLS'} (${r.tls.tlsVersion ?? '?'} ${r.tls.cipher ?? '?'})`),
        ...notes,
        line(r.plain.ok, `control message (TLS off): marker ${markers.plain} ${plainHit ? `found in the clear in packet ${plainHit.packet} at payload offset ${plainHit.offset}` : 'not found'}`),
        line(r.smtps.ok, `SMTPS on 465: marker ${markers.smtps} ${r.smtps.markerFound ? 'FOUND' : 'not found'}; TLS from the first byte: ${r.smtps.tlsFromFirstByte ? 'yes' : 'no'}; SMTP in the clear: ${r.smtps.plainCommands.length || 'none'}`),
      ].join('\n'),
    },
    { kind: 'file', label: 'capture (open in Wireshark)', text: r.pcap },
  ];
  await saveEvidence({ area: 'drill', id, title: `Task 3 (7c) on the wire: tcpdump and tshark${id === 'wire-demo-plaintext' ? ' (demo: the STARTTLS message sent in plaintext)' : ''}${notes.length ? ', between two machines' : ''}`, status: r.ok ? 'pass' : 'fail', summary: `STARTTLS marker ${r.tls.markerFound ? 'found' : 'not found'}, control marker ${r.plain.markerFound ? 'found' : 'not found'}, SMTPS marker ${r.smtps.markerFound ? 'found' : 'not found'}`, at, evidence });
}

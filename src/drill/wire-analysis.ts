/**
 * Task 3 (7c)'s proof from a capture, the same in both worlds (the namespace lab's st14, or this
 * machine toward its partner): tshark reads the pcap, the STARTTLS stream must show SMTP in the
 * clear only up to STARTTLS and TLS records after it, the control message's marker is in the
 * clear, 465 is TLS from the first byte; and the record drill/wire (or wire-demo-plaintext).
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { LabError } from '../errors.js';
import { payloadItem, type WireDrill } from '../evidence/payloads.js';
import { saveOutcome } from '../evidence/record.js';
import type { EvidenceItem } from '../evidence/types.js';
import { run } from '../system/run.js';
import { AGGREGATOR, FRAME_FIELDS, findMarker, parseFrames, proveStream, serverHello, streamsTo, type Frame, type MarkerHit } from './wire-parse.js';

export const PORTS = 'tcp port 25 or tcp port 465';
export type WireMarkers = { tls: string; plain: string; smtps: string };
export const marker = (what: string) => `LABCTL-WIRE-${what}-${randomBytes(6).toString('hex').toUpperCase()}`;
/**
 * The EHLO name that carries the control marker when the partner refuses plaintext mail: the
 * marker as it is, since the analysis looks for it byte for byte (EHLO names are not case-folded
 * on the wire).
 */
export const plainControlHelo = (plainMarker: string) => `${plainMarker}.invalid`;

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
  await saveOutcome('drill', {
    id,
    title: `Task 3 (7c) on the wire: tcpdump and tshark${id === 'wire-demo-plaintext' ? ' (demo: the STARTTLS message sent in plaintext)' : ''}${notes.length ? ', between two machines' : ''}`,
    status: r.ok ? 'pass' : 'fail',
    summary: `STARTTLS marker ${r.tls.markerFound ? 'found' : 'not found'}, control marker ${r.plain.markerFound ? 'found' : 'not found'}, SMTPS marker ${r.smtps.markerFound ? 'found' : 'not found'}`,
    evidence,
  }, at);
}

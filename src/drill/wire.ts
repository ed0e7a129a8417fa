/**
 * Task 3 (7c) between two real machines: a capture on this machine's interface toward the partner
 * (tcpdump, only the partner's address and ports 25/465), while this machine sends the partner one
 * message over STARTTLS and one over SMTPS (465), each for a user of this domain, so the partner,
 * as backup MX, passes them straight back here. A plaintext control that the same capture sees
 * proves it would have caught a marker: a message without STARTTLS where the partner takes one,
 * else (a partner that refuses plaintext) the marker in the EHLO of a plaintext session it then
 * refuses, which the drill says. tshark reads the capture exactly as in the namespace lab
 * (analyseWire): the drill needs nothing from the partner but SMTP.
 */
import path from 'node:path';
import { LabError } from '../errors.js';
import type { WireDrill } from '../evidence/payloads.js';
import { analyseWire, marker, plainControlHelo, recordWire, type WireMarkers } from './wire-analysis.js';
import { paths } from '../paths.js';
import { ensureDir } from '../system/files.js';
import { sleep, waitUntil } from '../system/procs.js';
import { run, runInBackground } from '../system/run.js';
import { smtpSession, type OutgoingMessage } from '../verify/smtp.js';
import type { MachinePair } from './machine-pair.js';

export interface MachineWireResult extends WireDrill {
  /** How the plaintext control went: a whole message, or (the partner refuses plaintext) its EHLO only. */
  control: 'message' | 'ehlo';
  notes: string[];
}

/** The interface the kernel routes the partner's address through. */
async function interfaceToward(address: string): Promise<string> {
  const r = await run('ip', ['-o', 'route', 'get', address], { allowFailure: true });
  const dev = /\bdev\s+(\S+)/.exec(r.stdout)?.[1];
  if (!dev) throw new LabError(`no route to the partner ${address}: ${r.stderr.trim() || r.stdout.trim()}`, 'check the network between the two machines');
  return dev;
}

export async function machineWireDrill(pair: MachinePair, o: { log?: (l: string) => void } = {}): Promise<MachineWireResult> {
  const log = o.log ?? (() => undefined);
  const to = `${pair.user}@${pair.domain}`;
  const from = `postmaster@${pair.domain}`;
  const markers: WireMarkers = { tls: marker('TLS'), plain: marker('PLAIN'), smtps: marker('SMTPS') };
  const dir = path.join(paths.evidenceDir, 'drill', 'wire');
  await ensureDir(dir);
  const started = new Date().toISOString();
  const pcap = path.join(dir, `${started.replace(/[:.]/g, '-')}-pair.pcap`);
  const dev = await interfaceToward(pair.partner.address);
  const filter = `host ${pair.partner.address} and (tcp port 25 or tcp port 465)`;
  const notes: string[] = [];
  let control: MachineWireResult['control'] = 'message';

  const message = (m: string): OutgoingMessage => ({
    from,
    to: [to],
    raw: [`From: ${from}`, `To: ${to}`, `Subject: wire drill ${m}`, `Message-ID: <${m.toLowerCase()}@${pair.mailHost}>`, '', m, ''].join('\r\n'),
  });
  const send = (what: string, m: string, s: { port: number; startTls?: 'require'; implicitTls?: boolean }) =>
    smtpSession({ host: pair.partner.address, helo: pair.mailHost, timeoutMs: 15_000, ...s }, message(m)).then((r) => {
      if (!r.accepted) throw new LabError(`the ${what} message was not accepted by ${pair.partner.mailHost}: ${r.error?.response ?? r.error?.message ?? 'no reply'}`);
      log(`${what}: accepted by ${pair.partner.mailHost} (${r.accepted.response})`);
      return r;
    });

  const capture = runInBackground('tcpdump', ['-i', dev, '-n', '-U', '-s', '0', '-w', pcap, filter]);
  try {
    if (!(await waitUntil(() => /listening on/.test(capture.output()), 10_000, 50))) {
      throw new LabError(`tcpdump did not start on ${dev}: ${capture.output().trim() || 'no output'}`, 'is tcpdump installed (apt-get install tcpdump)?');
    }
    log(`capturing "${filter}" on ${dev} into ${pcap}`);
    await send('STARTTLS', markers.tls, { port: 25, startTls: 'require' });
    await send('SMTPS', markers.smtps, { port: 465, implicitTls: true });
    const plain = await smtpSession({ host: pair.partner.address, port: 25, helo: pair.mailHost, timeoutMs: 15_000, startTls: 'never' }, message(markers.plain));
    if (plain.accepted) {
      log(`control: accepted in plaintext by ${pair.partner.mailHost}`);
    } else {
      // A partner that requires TLS refuses the plaintext message: the marker goes in the EHLO
      // of a plaintext session instead, which the capture sees as well.
      control = 'ehlo';
      notes.push(`note ${pair.partner.mailHost} refuses plaintext mail (${plain.error?.response ?? plain.error?.message ?? '?'}): the control marker was sent in a plaintext EHLO instead`);
      log(notes[0]!);
      await smtpSession({ host: pair.partner.address, port: 25, helo: plainControlHelo(markers.plain), timeoutMs: 15_000, startTls: 'never' });
    }
    await sleep(1000);
  } finally {
    await capture.stop('SIGINT');
  }
  const { result, plainHit } = await analyseWire(undefined, pcap, markers);
  await recordWire(result, started, markers, plainHit, 'wire', [`note capture on ${dev}, filter "${filter}", toward the partner ${pair.partner.mailHost}`, ...notes]);
  return { ...result, control, notes };
}

/**
 * Reading a capture the way the write-up read its Wireshark screenshot, from tshark's output:
 * which SMTP went in the clear on each TCP stream, where STARTTLS switched it to TLS, whether
 * anything but TLS records followed, and where a marker string shows up in the payload. Pure
 * functions over tshark's text, so recorded output can test them.
 */

/** The tshark fields (-T fields) the drill asks for, in this order. */
export const FRAME_FIELDS = [
  'frame.number',
  'tcp.stream',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.len',
  'smtp.req.command',
  'smtp.req.parameter',
  'smtp.response.code',
  'smtp.rsp.parameter',
  'tls.record.content_type',
  'tcp.payload',
] as const;

export interface Frame {
  number: number;
  stream: number;
  srcPort: number;
  dstPort: number;
  len: number;
  /** SMTP the dissector read in the clear: commands (`EHLO x`) and replies (`250 ...`). */
  smtp: string[];
  /** TLS record content types in the frame (22 handshake, 23 application data, ...). */
  tls: number[];
  payload: Buffer;
}

/** Joins several values of one field (SMTP replies contain commas, so not a comma). */
export const AGGREGATOR = '\x1e';

const list = (s: string | undefined) => (s ? s.split(AGGREGATOR).filter(Boolean) : []);

/** tshark splits an eight-letter verb: STARTTLS reads as command "STAR" with parameter "TLS". */
const verb = (cmd: string, param: string | undefined) => (cmd.toUpperCase() === 'STAR' && param?.toUpperCase() === 'TLS' ? 'STARTTLS' : [cmd, param].filter(Boolean).join(' '));

/** Parses `tshark -T fields -E separator=/t -E occurrence=a -E aggregator=AGGREGATOR` output for FRAME_FIELDS. */
export function parseFrames(text: string): Frame[] {
  const out: Frame[] = [];
  for (const line of text.split('\n')) {
    if (!/^\d/.test(line)) continue;
    const [num, stream, src, dst, len, cmd, cmdParam, code, rspParam, tls, payload] = line.split('\t');
    const params = list(cmdParam);
    const commands = list(cmd).map((c, i) => verb(c, params[i]));
    // A multi-line reply carries its code once and one parameter per line.
    const codes = list(code);
    const rsp = list(rspParam);
    const replies = rsp.length ? rsp.map((r, i) => `${codes[Math.min(i, codes.length - 1)] ?? ''} ${r}`.trim()) : codes;
    out.push({
      number: Number(num),
      stream: Number(stream),
      srcPort: Number(src),
      dstPort: Number(dst),
      len: Number(len),
      smtp: [...commands, ...replies],
      tls: list(tls).map(Number),
      payload: Buffer.from((payload ?? '').replace(/:/g, ''), 'hex'),
    });
  }
  return out;
}

export interface StreamProof {
  stream: number;
  port: number;
  /** SMTP lines seen in the clear, in order. */
  plainCommands: string[];
  /** True when the client sent STARTTLS and the server answered 220. */
  startTls: boolean;
  /** Payload frames after the switch to TLS (or all, on an SMTPS port). */
  framesAfterSwitch: number;
  /** Payload frames after the switch that were not TLS records: must be 0. */
  notTlsAfterSwitch: number[];
  /** True when the client's first payload byte is a TLS handshake record (SMTPS). */
  tlsFromFirstByte: boolean;
}

/** Splits frames by TCP stream, keeping streams to `port`. */
export function streamsTo(frames: Frame[], port: number): Map<number, Frame[]> {
  const out = new Map<number, Frame[]>();
  const ours = new Set(frames.filter((f) => f.dstPort === port).map((f) => f.stream));
  for (const f of frames) {
    if (!ours.has(f.stream)) continue;
    out.set(f.stream, [...(out.get(f.stream) ?? []), f]);
  }
  return out;
}

/** What one stream shows: the clear SMTP, the switch, and whether only TLS followed it. */
export function proveStream(frames: Frame[], port: number): StreamProof {
  const data = frames.filter((f) => f.len > 0);
  const plainCommands: string[] = [];
  let switchAt = -1;
  let sawStartTls = false;
  for (let i = 0; i < data.length; i++) {
    const f = data[i]!;
    plainCommands.push(...f.smtp);
    if (f.smtp.some((l) => /^STARTTLS\b/i.test(l))) sawStartTls = true;
    if (sawStartTls && f.smtp.some((l) => l.startsWith('220'))) {
      switchAt = i;
      break;
    }
  }
  // On an SMTPS port the switch is before the first byte; after STARTTLS, after the 220.
  const after = switchAt >= 0 ? data.slice(switchAt + 1) : port === 25 ? [] : data;
  const firstClient = data.find((f) => f.dstPort === port);
  const bad = new Set(after.filter((f) => f.smtp.length > 0).map((f) => f.number));
  for (const toServer of [true, false]) {
    const dir = after.filter((f) => (f.dstPort === port) === toServer);
    for (const n of tlsRecordWalk(dir).notTls) bad.add(n);
  }
  return {
    stream: frames[0]?.stream ?? -1,
    port,
    plainCommands,
    startTls: switchAt >= 0,
    framesAfterSwitch: after.length,
    notTlsAfterSwitch: [...bad].sort((a, b) => a - b),
    tlsFromFirstByte: firstClient?.payload[0] === 0x16,
  };
}

/**
 * Walks one direction's bytes as TLS records (type 20-24, version 3.x, a length): the proof that
 * nothing but TLS followed is that the records cover the bytes exactly. A TCP segment may carry
 * part of a record, so the walk runs over the joined payload, and a frame is named when a record
 * header that is not TLS starts in it (or the bytes end inside a record).
 */
export function tlsRecordWalk(frames: Frame[]): { records: number; notTls: number[] } {
  const bytes = Buffer.concat(frames.map((f) => f.payload));
  const frameAt = (offset: number) => {
    let end = 0;
    for (const f of frames) {
      end += f.payload.length;
      if (offset < end) return f.number;
    }
    return frames.at(-1)?.number ?? -1;
  };
  let at = 0;
  let records = 0;
  while (at < bytes.length) {
    const type = bytes[at]!;
    if (at + 5 > bytes.length || type < 20 || type > 24 || bytes[at + 1] !== 3) return { records, notTls: [frameAt(at)] };
    const len = bytes.readUInt16BE(at + 3);
    if (at + 5 + len > bytes.length) return { records, notTls: [frameAt(at)] };
    at += 5 + len;
    records++;
  }
  return { records, notTls: [] };
}

export interface MarkerHit {
  packet: number;
  offset: number;
}

/** The first frame whose TCP payload holds `marker`, and the offset in that payload. */
export function findMarker(frames: Frame[], marker: string): MarkerHit | undefined {
  for (const f of frames) {
    const at = f.payload.indexOf(marker, 0, 'latin1');
    if (at >= 0) return { packet: f.number, offset: at };
  }
  return undefined;
}

/** The negotiated version and cipher from `tshark -V` of a ServerHello. */
export function serverHello(verbose: string): { tlsVersion?: string; cipher?: string } {
  const cipher = /Cipher Suite: (\S+) \(0x[0-9a-f]+\)/i.exec(verbose)?.[1];
  const supported = /Supported Version: (TLS [\d.]+)/i.exec(verbose)?.[1];
  const legacy = /Handshake Protocol: Server Hello[\s\S]*?Version: (TLS [\d.]+)/i.exec(verbose)?.[1];
  return { tlsVersion: supported ?? legacy, cipher };
}

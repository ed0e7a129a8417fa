/** tshark's output for two real lab captures (fixtures/wire), read by the wire drill's parser. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findMarker, parseFrames, proveStream, serverHello, streamsTo, tlsRecordWalk } from '../../../src/drill/wire-parse.js';
import { marker, plainControlHelo } from '../../../src/drill/wire-analysis.js';
import type { Frame } from '../../../src/drill/wire-parse.js';

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, '../../../fixtures/wire', name), 'utf8');
const good = parseFrames(fixture('frames.tsv'));
const demo = parseFrames(fixture('frames-demo-plaintext.tsv'));
const port25 = (frames: ReturnType<typeof parseFrames>) => [...streamsTo(frames, 25).values()].map((s) => proveStream(s, 25));

describe('the wire drill reads a capture', () => {
  it('finds the STARTTLS stream: SMTP in the clear up to 220 TLS go ahead, then only TLS records', () => {
    const [tls, plain] = port25(good);
    expect(tls!.startTls).toBe(true);
    expect(tls!.plainCommands[0]).toMatch(/^220 mail\.st14\.sne24\.ru ESMTP Exim/);
    expect(tls!.plainCommands).toContain('EHLO mail.st18.sne24.ru');
    expect(tls!.plainCommands.slice(-2)).toEqual(['STARTTLS', '220 TLS go ahead']);
    expect(tls!.framesAfterSwitch).toBeGreaterThan(5);
    expect(tls!.notTlsAfterSwitch).toEqual([]);
    expect(plain!.startTls).toBe(false);
  });

  it('finds the control marker in the clear with its packet and offset, and no other marker', () => {
    const hit = findMarker(good, 'LABCTL-WIRE-PLAIN-8CCF3B73DE20');
    expect(hit).toEqual({ packet: expect.any(Number), offset: expect.any(Number) });
    const frame = good.find((f) => f.number === hit!.packet)!;
    expect(frame.payload.toString('latin1', hit!.offset, hit!.offset + 30)).toBe('LABCTL-WIRE-PLAIN-8CCF3B73DE20');
    expect(findMarker(good, 'LABCTL-WIRE-TLS-')).toBeUndefined();
    expect(findMarker(good, 'LABCTL-WIRE-SMTPS-')).toBeUndefined();
  });

  it('sees SMTPS on 465 as TLS from the first byte, with no SMTP in the clear', () => {
    const [smtps] = [...streamsTo(good, 465).values()].map((s) => proveStream(s, 465));
    expect(smtps!.tlsFromFirstByte).toBe(true);
    expect(smtps!.plainCommands).toEqual([]);
    expect(smtps!.notTlsAfterSwitch).toEqual([]);
  });

  it('reads the negotiated version and cipher from the ServerHello', () => {
    expect(serverHello(fixture('server-hello.txt'))).toEqual({ tlsVersion: 'TLS 1.3', cipher: 'TLS_AES_256_GCM_SHA384' });
  });

  it('fails the proof when the "TLS" message went in plaintext (--demo-plaintext)', () => {
    // Both messages went to port 25 in plaintext: two SMTP streams, neither with STARTTLS.
    const streams = port25(demo);
    expect(streams).toHaveLength(2);
    expect(streams.map((s) => s.startTls)).toEqual([false, false]);
    for (const s of streams) expect(s.plainCommands).toContain('250 Accepted'); // RCPT accepted, the message sent in the clear (BDAT)
    const hit = findMarker(demo, 'LABCTL-WIRE-TLS-44D1CF777B2D');
    expect(hit).toEqual({ packet: expect.any(Number), offset: expect.any(Number) });
    const frame = demo.find((f) => f.number === hit!.packet)!;
    expect(frame.payload.toString('latin1', hit!.offset, hit!.offset + 28)).toBe('LABCTL-WIRE-TLS-44D1CF777B2D');
  });

  it('names the frame where bytes after the switch stop being TLS records', () => {
    const [tls] = [...streamsTo(good, 25).values()];
    const after = tls!.filter((f) => f.len > 0 && f.dstPort === 25).slice(-2);
    expect(tlsRecordWalk(after).notTls).toEqual([]);
    const forged = [{ ...after[0]!, payload: Buffer.from('MAIL FROM:<x@y>\r\n') }];
    expect(tlsRecordWalk(forged).notTls).toEqual([after[0]!.number]);
  });
});

describe('the control marker in a plaintext EHLO (a partner that refuses plaintext mail)', () => {
  it('is sent as the analysis searches for it, byte for byte', () => {
    const m = marker('PLAIN');
    const frame = { number: 7, payload: Buffer.from(`EHLO ${plainControlHelo(m)}\r\n`, 'latin1') } as Frame;
    expect(findMarker([frame], m)).toEqual({ packet: 7, offset: 5 });
  });
});

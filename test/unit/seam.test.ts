/**
 * src/system is the seam: it is the only code that writes files, spawns processes, sends signals,
 * opens sockets or requests, or extracts archives. Everything else computes what to do and hands
 * it there. The lint reads each file with the TypeScript compiler (test/lint/seam.ts): what it
 * imports from which module and what it calls on it; the fixtures under test/fixtures/lint/ prove
 * it catches what it claims.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sourceFiles } from '../lint/imports.js';
import { seamOffences } from '../lint/seam.js';

const SRC = path.resolve(import.meta.dirname, '../../src');
const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/lint/src');

/**
 * The one allow-list: an OS touch outside src/system that is there on purpose, as
 * `<file relative to src>:<what>` with the reason. Empty today: every touch found by the lint was
 * moved behind src/system (system/net.ts, system/archive.ts, system/test-hooks.ts).
 */
const ALLOWED: Record<string, string> = {};

/** Every offence under root outside its system/ folder. */
const found = (root: string) =>
  sourceFiles(root)
    .map((f) => path.relative(root, f))
    .filter((rel) => !rel.startsWith(`system${path.sep}`))
    .flatMap((rel) => seamOffences(path.join(root, rel)).map((o) => ({ rel, ...o })));

/** As `file:line what: code`, less the allowed ones. */
const offences = (all: ReturnType<typeof found>) =>
  all.filter((o) => !(`${o.rel}:${o.what}` in ALLOWED)).map((o) => `${o.rel}:${o.line} ${o.what}: ${o.code}`);

const inSrc = found(SRC);

describe('the src/system seam', () => {
  it('holds: no file outside src/system writes, spawns, signals, opens a socket or extracts an archive', () => {
    const list = offences(inSrc);
    expect(list, list.join('\n')).toEqual([]);
  });

  it('every allow-list entry names an offence that is still there', () => {
    const all = inSrc.map((o) => `${o.rel}:${o.what}`);
    expect(Object.keys(ALLOWED).filter((k) => !all.includes(k))).toEqual([]);
  });

  it('catches the planted tar.x, net.connect, process.kill, fs write and execa in its fixtures, and nothing in clean code or src/system', () => {
    expect(offences(found(FIXTURE))).toEqual([
      'lab/planted.ts:4 spawn: import { execa } from \'execa\';',
      'lab/planted.ts:7 socket: net.connect',
      'lab/planted.ts:11 signal: process.kill',
      'lab/planted.ts:14 write: fsp.writeFile',
      'source/unpack.ts:4 archive: tar.x',
    ]);
  });

  it('reads code, not text: comments, strings and type-only imports are no offence', () => {
    const at = (code: string) => seamOffences('/x/src/lab/t.ts', code).map((o) => `${o.what}: ${o.code}`);
    expect(at("// process.kill(1)\nconst s = 'tar.x(net.connect())';\nimport type { Socket } from 'node:net';")).toEqual([]);
    expect(at("import * as fs from 'node:fs';\nfs.promises.rm('/x');\nfs.readFileSync('/y');")).toEqual(['write: fs.promises.rm']);
    expect(at("import { open } from 'node:fs/promises';\nawait open(p, 'a');\nawait open(p, 'r');")).toEqual(["write: open(p, 'a')"]);
    expect(at("import { x as untar } from 'tar';\nimport dgram from 'node:dgram';\ndgram.createSocket('udp4');")).toEqual(['archive: x as untar', 'socket: dgram.createSocket']);
    expect(at("const cp = await import('node:child_process');\nawait fetch('http://x');")).toEqual(["spawn: import('node:child_process')", "socket: fetch('http://x')"]);
  });
});

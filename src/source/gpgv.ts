/**
 * A second opinion on a release's signature: GnuPG's `gpgv`, run where it is installed (it is on
 * every Debian, apt uses it) with exactly the keys OpenPGP.js verified against, written as a
 * binary keyring (gpgv reads no armor) in a scratch GNUPGHOME. Its transcript is what the
 * write-up's 1c showed with `gpg --verify`; when its verdict differs from OpenPGP.js's, the
 * install stops (src/source/fetch.ts).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type * as openpgp from 'openpgp';
import { makeTempDir, removePath, writeAtomic } from '../system/files.js';
import { run, which } from '../system/run.js';

/** A key for gpgv's keyring: an OpenPGP.js key, or a shipped key's own bytes. */
export type GpgvKey = openpgp.Key | { fingerprint: string; bytes: Uint8Array };
const fingerprintOf = (k: GpgvKey) => ('bytes' in k ? k.fingerprint : k.getFingerprint().toUpperCase());
const bytesOf = (k: GpgvKey) => ('bytes' in k ? k.bytes : k.write());

export interface GpgvRecord {
  /** The command as run (paths of the scratch keyring included). */
  command: string;
  exitCode: number;
  /** What gpgv printed for a person (stderr): "Signature made ...", "Good signature from ...". */
  transcript: string;
  /** Its machine-readable status lines (--status-fd 1). */
  status: string[];
  /** good: a VALIDSIG line; its primary key's fingerprint. */
  verdict: 'good' | 'bad';
  primaryFingerprint?: string;
  /** For a bad verdict: gpgv's own reason (BADSIG, NO_PUBKEY <id>, ERRSIG ...). */
  reason?: string;
}

/** Reads gpgv's status lines into a verdict. */
export function gpgvVerdict(statusText: string): Pick<GpgvRecord, 'status' | 'verdict' | 'primaryFingerprint' | 'reason'> {
  const status = statusText.split('\n').filter((l) => l.startsWith('[GNUPG:] ')).map((l) => l.slice(9).trim());
  const valid = status.find((l) => l.startsWith('VALIDSIG '))?.split(/\s+/);
  // VALIDSIG <fpr> <date> <ts> <expire> <version> <reserved> <pk-algo> <hash-algo> <class> <primary-fpr>
  if (valid && !status.some((l) => /^(BADSIG|ERRSIG|REVKEYSIG) /.test(l))) {
    return { status, verdict: 'good', primaryFingerprint: (valid[10] ?? valid[1]).toUpperCase() };
  }
  const bad = ['BADSIG', 'NO_PUBKEY', 'REVKEYSIG', 'ERRSIG', 'NODATA', 'BADARMOR'].map((w) => status.find((l) => l === w || l.startsWith(`${w} `))).find(Boolean);
  return { status, verdict: 'bad', reason: bad ?? (status.length ? status.join('; ') : 'no status lines') };
}

/** gpgv's keyring: the keys' bytes one after another, without those `leaveOut` names by primary fingerprint. */
export function gpgvKeyring(keys: readonly GpgvKey[], leaveOut?: readonly string[]): Buffer {
  return Buffer.concat(keys.filter((k) => !leaveOut?.includes(fingerprintOf(k))).map((k) => Buffer.from(bytesOf(k))));
}

/** Where gpgv is installed, and which one it is (its real path, size and modification time); undefined where it is not. */
export async function findGpgv(): Promise<{ file: string; identity: string } | undefined> {
  const file = await which('gpgv');
  if (!file) return undefined;
  const real = await fs.realpath(file);
  const st = await fs.stat(real);
  return { file, identity: `${real}:${st.size}:${Math.trunc(st.mtimeMs)}` };
}

/**
 * Runs gpgv on a detached signature with these keys; undefined where gpgv is not installed.
 * `leaveOut` drops keys by primary fingerprint from gpgv's keyring (tests: a keyring where gpgv
 * lacks the signer, to see the install stop when the two disagree). `gpgv`: the program, as
 * findGpgv found it (default: looked up on PATH).
 */
export async function runGpgv(opts: { tarballPath: string; ascPath: string; keys: readonly GpgvKey[]; leaveOut?: readonly string[]; gpgv?: string }): Promise<GpgvRecord | undefined> {
  const gpgv = opts.gpgv ?? (await which('gpgv'));
  if (!gpgv) return undefined;
  const home = await makeTempDir('labctl-gpgv-');
  try {
    const keyring = path.join(home, 'exim-maintainers.gpg');
    await writeAtomic(keyring, gpgvKeyring(opts.keys, opts.leaveOut), { mode: 0o600 });
    const r = await run(gpgv, ['--homedir', home, '--status-fd', '1', '--keyring', keyring, opts.ascPath, opts.tarballPath], { allowFailure: true, timeoutMs: 60_000 });
    return { command: r.command, exitCode: r.exitCode, transcript: r.stderr.trim(), ...gpgvVerdict(r.stdout) };
  } finally {
    await removePath(home);
  }
}

/** One line: gpgv's verdict, for messages and the step's detail. */
export function describeGpgv(g: GpgvRecord): string {
  return g.verdict === 'good' ? `gpgv: good signature, key ${g.primaryFingerprint}` : `gpgv: refused (${g.reason})`;
}

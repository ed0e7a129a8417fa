/** Shared by the source tests: scratch directories, a local HTTP server, OpenPGP keys and signatures. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as openpgp from 'openpgp';

export async function scratch(tag: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `labctl-${tag}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** An HTTP server on 127.0.0.1 with a random port. */
export async function serve(handler: Handler): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const at = (iso: string) => new Date(iso);

export interface TestKey {
  privateKey: openpgp.PrivateKey;
  publicArmored: string;
  fingerprint: string;
}

export async function makeKey(
  name: string,
  opts: { date?: Date; keyExpirationTime?: number; signingSubkey?: boolean } = {},
): Promise<TestKey> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name, email: `${name.toLowerCase().replace(/\s+/g, '.')}@example.org` }],
    date: opts.date ?? at('2020-01-01T00:00:00Z'),
    keyExpirationTime: opts.keyExpirationTime,
    subkeys: opts.signingSubkey ? [{}, { sign: true }] : [{}],
    format: 'object',
  });
  return { privateKey, publicArmored: publicKey.armor(), fingerprint: privateKey.getFingerprint().toUpperCase() };
}

export async function signDetached(
  data: Uint8Array,
  key: openpgp.PrivateKey,
  date: Date,
  signingKeyID?: openpgp.KeyID,
): Promise<string> {
  return openpgp.sign({
    message: await openpgp.createMessage({ binary: data }),
    signingKeys: key,
    signingKeyIDs: signingKeyID ? [signingKeyID] : undefined,
    detached: true,
    date,
    format: 'armored',
  });
}

// Where labctl's signature check spends its time, in a fresh process as in an install.
// Usage: node bench/signature.mjs TARBALL KEYRING        prints one JSON line (ms):
//   first   the whole check (src/source/signature.ts verifySignature), its first call;
//   second  the same check again in the same process, without the first call's set-up;
//   firstCpu, secondCpu  the CPU time (all threads) of each, which a busy machine does not inflate;
//   hash    SHA-256 of the tarball with node:crypto, the floor for the digest.
// node bench/signature.mjs --keys TARBALL KEYRING         prints {"keys": ms}: reading the
//   signature and parsing the issuer's key out of the keyring, a first call in its own process.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const keysOnly = process.argv[2] === '--keys';
const [tarball, keyring] = process.argv.slice(keysOnly ? 3 : 2);
const [data, sig, keys] = [tarball, `${tarball}.asc`, keyring].map((f) => readFileSync(f));
const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
let lastCpu = 0;
const time = async (fn) => {
  const [t, c] = [performance.now(), cpuMs()];
  await fn();
  lastCpu = +(cpuMs() - c).toFixed(1);
  return +(performance.now() - t).toFixed(1);
};

if (keysOnly) {
  const openpgp = await import('openpgp');
  const { indexKeyring, keysFor } = await import('../dist/source/keyring.js');
  const ms = await time(async () => {
    const signature = await openpgp.readSignature({ armoredSignature: sig.toString() });
    const p = signature.packets[0];
    const issuer = p.issuerFingerprint ? Buffer.from(p.issuerFingerprint).toString('hex') : p.issuerKeyID.toHex();
    const index = await indexKeyring(keys.toString());
    await openpgp.readKeys({ binaryKeys: keysFor(index, issuer)[0].bytes });
  });
  console.log(JSON.stringify({ keys: ms }));
} else {
  const { verifySignature } = await import('../dist/source/signature.js');
  const { trustedFingerprints } = await import('../dist/source/pinned.js');
  const check = () => verifySignature({ data, signatureArmored: sig.toString(), keyringArmored: keys.toString(), trusted: trustedFingerprints() });
  const first = await time(check);
  const firstCpu = lastCpu;
  const second = await time(check);
  const secondCpu = lastCpu;
  const hash = await time(() => createHash('sha256').update(data).digest());
  console.log(JSON.stringify({ first, firstCpu, second, secondCpu, hash }));
}

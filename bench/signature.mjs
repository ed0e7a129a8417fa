// Where labctl's signature check spends its time, in a fresh process as in an install.
// Usage: node bench/signature.mjs [--openpgp] TARBALL KEYRING     prints one JSON line (ms):
//   first   the whole check as `labctl install` runs it (src/source/release-keys.ts, imported as
//           install imports it, from dist/source/release-check.js): loading its modules, the keys
//           (the shipped table, with KEYRING as the mirror's keyring), reading who signed,
//           and verifying; its first call in this process;
//   load, keys, check   the parts of first: module loading, the keys, inspecting and verifying;
//   second  the same check again in the same process, without the first call's set-up;
//   firstCpu, secondCpu  the CPU time (all threads) of each, which a busy machine does not inflate;
//   hash    SHA-256 of the tarball with node:crypto, the floor for the digest;
//   path    which verifier decided: "node:crypto" (the pinned table) or "openpgp";
//   gpgv    with --gpgv GPGKEYRING first: gpgv's wall time on the same files with that keyring, run
//           right after the check (after one warm-up run), so both see the machine's same load.
// --openpgp: the same with OpenPGP.js only, as every check ran before the pinned table
//   (src/source/trust.ts trustedKeys, inspectSignature, src/source/signature.ts verifySignature).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const gpgvKeyring = argv[0] === '--gpgv' ? argv.splice(0, 2)[1] : undefined;
const openpgpOnly = argv[0] === '--openpgp';
const [tarball, keyring] = argv.slice(openpgpOnly ? 1 : 0);
const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const now = () => [performance.now(), cpuMs()];
const since = ([t, c]) => [+(performance.now() - t).toFixed(1), +(cpuMs() - c).toFixed(1)];

const started = now();
const extra = { text: readFileSync(keyring, 'utf8'), name: keyring };
const asc = readFileSync(`${tarball}.asc`, 'utf8');
let check;
const t0 = now();
// The pinned fingerprints, as install's action reads them (src/source/pinned.ts), in both ways.
const { trustedFingerprints } = await import('../dist/source/pinned.js');
if (openpgpOnly) {
  const { trustedKeys, inspectSignature, shippedKeyring } = await import('../dist/source/trust.js');
  const { verifySignature } = await import('../dist/source/signature.js');
  var load = since(t0);
  const t1 = now();
  const trusted = trustedFingerprints();
  const trust = await trustedKeys({ shipped: shippedKeyring(), extra, trusted });
  var keys = since(t1);
  check = async () => {
    await inspectSignature(asc, trust.keys, 'asc');
    return verifySignature({ data: tarball, signatureArmored: asc, keyringArmored: trust.armored, trusted });
  };
} else {
  // The one module src/source/fetch.ts imports them from (bundled by `npm run build`).
  const { releaseKeys, inspectRelease, verifyRelease, shippedKeyring } = await import('../dist/source/release-check.js');
  var load = since(t0);
  const t1 = now();
  const trusted = trustedFingerprints();
  const trust = await releaseKeys({ shipped: shippedKeyring(), extra, trusted });
  var keys = since(t1);
  check = async () => {
    await inspectRelease(trust, asc, 'asc');
    return verifyRelease(trust, { data: tarball, signatureArmored: asc, trusted });
  };
  var path = trust.pinned ? 'node:crypto' : 'openpgp';
}
const t2 = now();
const record = await check();
const [checkMs] = since(t2);
const [first, firstCpu] = since(started);
const t3 = now();
await check();
const [second, secondCpu] = since(t3);
const t4 = now();
createHash('sha256').update(readFileSync(tarball)).digest();
const [hash] = since(t4);
if (!record?.primaryFingerprint) throw new Error('no signature record');
let gpgv;
if (gpgvKeyring) {
  const { spawnSync } = await import('node:child_process');
  const once = () => {
    const t = performance.now();
    const r = spawnSync('gpgv', ['--keyring', gpgvKeyring, `${tarball}.asc`, tarball], { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`gpgv exited ${r.status}`);
    return +(performance.now() - t).toFixed(1);
  };
  once();
  gpgv = once();
}
console.log(JSON.stringify({ first, firstCpu, load: load[0], keys: keys[0], check: checkMs, second, secondCpu, hash, path: openpgpOnly ? 'openpgp' : path, ...(gpgv === undefined ? {} : { gpgv }) }));

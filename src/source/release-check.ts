/**
 * What `labctl install` needs to check a release's signature, from one module: the keys and
 * checks (./release-keys.ts, with the trusted fingerprints of ./pinned.ts) and the shipped keyring
 * (./pinned-keys.ts). `npm run build` bundles this file with the modules it reaches
 * into one (scripts/bundle.mjs): in a fresh process, loading seven small modules one by one cost
 * more than the check itself (bench/signature.mjs). OpenPGP.js (./trust.ts, ./signature.ts) and
 * LabError (../errors.ts) stay separate modules, loaded as before. Without the bundle (tsc
 * alone) this file is a plain re-export: the same code, only slower to load.
 */
export { gpgvKeys, inspectRelease, releaseKeys, verifyRelease, type ReleaseKeys } from './release-keys.js';
export { shippedKeyring } from './pinned-keys.js';

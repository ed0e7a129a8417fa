/** 1c: the signature the source step verified, recorded as its own step (the write-up's 1c). */
import { payloadItem } from '../../evidence/payloads.js';
import type { EvidenceItem } from '../../evidence/store.js';
import type { FetchedSource } from '../../source/fetch.js';
import { unknownOutcome, type Step } from '../../steps/types.js';
import { releaseOf, type InstallContext } from '../context.js';

const gpgvSaid = ({ gpgv, gpgvReused, gpgvAgreement }: FetchedSource) =>
  !gpgv ? 'gpgv not installed' : gpgvReused && gpgvAgreement ? `gpgv agrees (its verdict of ${gpgvAgreement.at} on these same files and keys)` : 'gpgv agrees';
const described = (r: FetchedSource) => `good signature by ${r.signature.signer}, ${r.signature.primaryFingerprint}, made ${r.signature.created}; ${gpgvSaid(r)}`;

export const signature: Step<InstallContext> = {
  id: '1c-signature',
  title: 'verify PGP signature',
  async check(ctx) {
    // A plan's source check verified the cached release already; a real run records it in apply.
    if (ctx.planning && ctx.release) return { done: true, detail: described(ctx.release) };
    if (ctx.planning && ctx.pending) return { done: false, detail: `Exim ${ctx.pending.version}'s .asc against labctl's pinned keys, once downloaded` };
    if (ctx.planning) return unknownOutcome('the source step could not tell which release the run would install');
    return { done: false };
  },
  async apply(ctx) {
    const r = releaseOf(ctx);
    const s = r.signature;
    // gpgv's transcript, as the write-up's 1c showed gpg --verify's (the source step stopped if it disagreed).
    const gpgv: EvidenceItem = r.gpgv
      ? { kind: 'command', label: `gpgv, the second opinion (same pinned keys)${r.gpgvReused && r.gpgvAgreement ? `, as run at ${r.gpgvAgreement.at} on these same files and keys` : ''}`, command: r.gpgv.command, exitCode: r.gpgv.exitCode, text: [r.gpgv.transcript, ...r.gpgv.status.map((l) => `[GNUPG:] ${l}`)].join('\n') }
      : { kind: 'text', label: 'gpgv, the second opinion', text: 'gpgv is not installed here: only OpenPGP.js checked the signature' };
    return {
      status: r.cached ? 'ok' : 'changed',
      detail: described(r),
      ms: r.verifyMs,
      evidence: [payloadItem('signature', s), gpgv],
    };
  },
};

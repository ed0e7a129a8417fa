/** 1c: the signature the source step verified, recorded as its own step (the write-up's 1c). */
import { payloadItem } from '../../evidence/payloads.js';
import type { Step } from '../../steps/types.js';
import { releaseOf, type InstallContext } from '../context.js';

export const signature: Step<InstallContext> = {
  id: '1c-signature',
  title: 'verify PGP signature',
  async check(ctx) {
    if (!ctx.release) return { done: false, detail: `each .asc, newest release first, against labctl's pinned keys (${ctx.o.trusted.length} fingerprints)` };
    return { done: false };
  },
  async apply(ctx) {
    const r = releaseOf(ctx);
    const s = r.signature;
    return {
      status: r.cached ? 'ok' : 'changed',
      detail: `good signature by ${s.signer}, ${s.primaryFingerprint}, made ${s.created}`,
      ms: r.verifyMs,
      evidence: [payloadItem('signature', s)],
    };
  },
};

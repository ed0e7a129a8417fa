/** Task 3: the host's certificate, signed by the lab CA (or the user's own, given with --tls-cert). */
import { EXIM_DEFAULTS } from '../../paths.js';
import { exists, removePath } from '../../system/files.js';
import { ensureHostCertificate, hostCertificateReady, type HostCertificateOptions } from '../../system/openssl.js';
import type { Step } from '../../steps/types.js';
import type { ConfigureContext } from './context.js';

const wanted = ({ o, layout }: ConfigureContext): HostCertificateOptions => ({ caDir: layout.caDir, hostName: o.model.mailHost, outDir: layout.tlsDir, group: EXIM_DEFAULTS.group });

export const certificate: Step<ConfigureContext> = {
  id: 'tls',
  title: 'TLS certificate',
  async check(c) {
    const { o, files, layout } = c;
    if (o.model.tls === 'off') return { done: true, skipped: true, detail: '--tls off' };
    if (o.tlsCert) return { done: true, detail: `using ${o.tlsCert}` };
    // Without root the keys cannot be read, so whether they are still good cannot be told.
    const ready = await hostCertificateReady(wanted(c)).catch(() => undefined);
    if (ready) return { done: true, detail: files.tlsCertificate };
    const there = (await exists(files.tlsCertificate!)) && (await exists(files.tlsPrivateKey!));
    if (!there) return { done: false, detail: `certificate for ${o.model.mailHost} signed by the lab CA in ${layout.caDir} -> ${files.tlsCertificate}` };
    return { done: false, detail: ready === undefined ? `${files.tlsCertificate}: kept if still good (only root can read the keys to tell)` : `${files.tlsCertificate}: not as labctl leaves it (signed by the lab CA in ${layout.caDir}, root:${EXIM_DEFAULTS.group}): renew or fix it` };
  },
  async apply(c) {
    const created = !(await exists(c.files.tlsCertificate!)) && !(await exists(c.files.tlsPrivateKey!));
    const r = await ensureHostCertificate(wanted(c));
    // A certificate this run made for a refused configuration goes again (the lab CA stays).
    const undo = created
      ? async () => {
          await Promise.all([r.certificate, r.privateKey].map(removePath));
          return `removed ${r.certificate} and its key, which this run created`;
        }
      : undefined;
    return { status: r.changed ? 'changed' : 'ok', detail: r.certificate, undo };
  },
};

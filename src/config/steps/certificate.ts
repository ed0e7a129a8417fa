/** Task 3: the host's certificate, signed by the lab CA (or the user's own, given with --tls-cert). */
import { EXIM_DEFAULTS } from '../../paths.js';
import { exists } from '../../system/files.js';
import { ensureHostCertificate } from '../../system/openssl.js';
import type { Step } from '../../steps/types.js';
import type { ConfigureContext } from './context.js';

export const certificate: Step<ConfigureContext> = {
  id: 'tls',
  title: 'TLS certificate',
  async check({ o, files, layout }) {
    if (o.model.tls === 'off') return { done: true, skipped: true, detail: '--tls off' };
    if (o.tlsCert) return { done: true, detail: `using ${o.tlsCert}` };
    const there = (await exists(files.tlsCertificate!)) && (await exists(files.tlsPrivateKey!));
    return { done: false, detail: there ? files.tlsCertificate : `certificate for ${o.model.mailHost} signed by the lab CA in ${layout.caDir} -> ${files.tlsCertificate}` };
  },
  async apply({ o, layout }) {
    const c = await ensureHostCertificate({ caDir: layout.caDir, hostName: o.model.mailHost, outDir: layout.tlsDir, group: EXIM_DEFAULTS.group });
    return { status: c.changed ? 'changed' : 'ok', detail: c.certificate };
  },
};

/** Task 7: the DKIM signing key (root:exim 0640); labctl dns prints its public half. */
import { EXIM_DEFAULTS } from '../../paths.js';
import { exists, removePath } from '../../system/files.js';
import { ensureDkimKey } from '../../system/dkim-key.js';
import type { Step } from '../../steps/types.js';
import type { ConfigureContext } from './context.js';

export const dkim: Step<ConfigureContext> = {
  id: 'dkim',
  title: 'DKIM key',
  async check({ files }) {
    return (await exists(files.dkimPrivateKey!)) ? { done: true, detail: files.dkimPrivateKey } : { done: false, detail: `2048-bit RSA key ${files.dkimPrivateKey} (root:exim 0640)` };
  },
  async apply({ files }) {
    const file = files.dkimPrivateKey!;
    const created = !(await exists(file));
    const k = await ensureDkimKey(file, EXIM_DEFAULTS.group);
    // A key this run created for a configuration that was then refused names a domain nothing serves.
    const undo = created
      ? async () => {
          await removePath(file);
          return `removed ${file}, which this run created`;
        }
      : undefined;
    return { status: k.changed ? 'changed' : 'ok', detail: k.privateKey, evidence: [{ kind: 'text', label: 'DKIM public key', text: k.publicKeyPem }], undo };
  },
};

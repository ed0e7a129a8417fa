import { HOST_PREPARATION_STEPS } from '../../config/apply.js';
import { errorMessage } from '../../errors.js';
import { readIfExists } from '../../system/files.js';
import { readNamespaceEtc } from '../../system/netns.js';
import { QUIET, runSteps } from '../../steps/runner.js';
import { unknownOutcome, type CheckOutcome } from '../../steps/types.js';
import { unifiedDiff } from '../../ui/diff.js';
import { hostKeyPaths, hostKeysReady } from '../services/keys.js';
import { labPaths, mailHostName, names, type LabMailHostSpec, type LabSpec } from '../topology.js';
import { hostPrepContext, labModel, labPublicSuffixes, renderLabConfigure, viewEtcFiles } from './prepare.js';


/**
 * Read-only: what prepareHost (./prepare.ts) would change on this host. configure's own
 * host-preparation steps check the host's view (users, mail spool, postmaster alias); then the
 * view's /etc files, the keys, the public suffix list, and the configure file against the text
 * configure's template renders for the host, as configure's own check compares it. A file the
 * check cannot read (not root) makes the outcome `unknown`.
 */
export async function checkHost(spec: LabSpec, host: LabMailHostSpec): Promise<CheckOutcome> {
  const p = labPaths.host(host.name);
  const model = labModel(spec, host);
  const pending: string[] = [];
  let diff = '';
  try {
    const prep = await runSteps(HOST_PREPARATION_STEPS, hostPrepContext(spec, host, model), 'check', QUIET);
    const unknown = prep.find((r) => r.status === 'unknown');
    if (unknown) return unknownOutcome(`${host.name}: ${unknown.title}: ${unknown.detail ?? 'cannot tell'}`);
    pending.push(...prep.filter((r) => r.status === 'changed').map((r) => r.title));
    for (const [name, text] of Object.entries(viewEtcFiles(spec, host))) {
      if ((await readNamespaceEtc(names.hostNs(host.name), name)) !== text) pending.push(`/etc/${name} of the view`);
    }
    if (!(await hostKeysReady(host, model))) pending.push('TLS certificate and DKIM key');
    if ((await readIfExists(p.publicSuffixes)) !== labPublicSuffixes(spec)) pending.push('public suffix list');
    const installed = await readIfExists(p.configure);
    const rendered = await renderLabConfigure(model, host, hostKeyPaths(host, model));
    diff = unifiedDiff(installed ?? '', rendered, { before: `${p.configure} (installed)`, after: `${p.configure} (rendered)` });
    if (diff !== '') pending.push('Exim configuration');
  } catch (err) {
    return unknownOutcome(`${host.name}: cannot read its files to tell (${errorMessage(err).split('\n')[0]}); run as root`);
  }
  const who = `${mailHostName(host)} ${host.address}`;
  if (!pending.length) return { done: true, detail: `${who}: users, spool, aliases, keys and configure as configure renders them` };
  return { done: false, detail: `${who}: would make ${pending.join(', ')}`, ...(diff ? { diff } : {}) };
}

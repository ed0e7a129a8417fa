import { EXIT, LabError } from '../../errors.js';
import { checkGivenCertificate, configureHost, installedExim, planConfigure, type ConfigureOptions } from '../../config/apply.js';
import type { ModelFlags } from '../../config/model-flags.js';
import { resolveModel } from '../../config/options.js';
import { resolvePartnerAddresses } from '../../config/partners.js';
import { checkConfigPath } from '../../config/validate.js';
import { StepLines } from '../../ui/steps.js';
import { locked } from '../locked.js';

export interface ConfigureFlags extends ModelFlags {
  configureFile?: string;
  exim?: string;
  diff?: boolean;
  dryRun?: boolean;
}

/** The flags and the model they give, checked before the lock is asked for (a bad one exits 2). */
async function parseFlags(flags: ConfigureFlags) {
  const resolved = await resolveModel(flags);
  const { tlsCert, tlsKey, configFile } = resolved;
  if (configFile) console.error(`settings from ${configFile}`);
  // The partners' addresses, resolved now and recorded in the model (ETRN ACL, backup MX exemption).
  const { model, notes } = await resolvePartnerAddresses(resolved.model);
  for (const note of notes) console.error(`note: ${note}`);
  if (flags.configureFile !== undefined) checkConfigPath('--configure-file', flags.configureFile);
  if (flags.exim !== undefined) checkConfigPath('--exim', flags.exim);
  await checkGivenCertificate({ model, tlsCert, tlsKey });
  return { flags, model, tlsCert, tlsKey };
}

/** `labctl configure`: the model from the flags, then its plan, its diff or the install of the configuration. */
export const configureAction = locked((f: ConfigureFlags) => (f.diff || f.dryRun ? 'shared' : 'exclusive'), parseFlags, async ({ flags, model, tlsCert, tlsKey }) => {
  const exim = await installedExim();
  const o: ConfigureOptions = {
    model,
    tlsCert,
    tlsKey,
    configureFile: checkConfigPath('--configure-file', flags.configureFile ?? exim.configureFile),
    eximBinary: checkConfigPath('--exim', flags.exim ?? exim.binary),
  };

  const steps = () => lines.records.map(({ id, title, status, detail, ms, undone }) => ({ id, title, status, detail, ms: Math.round(ms), ...(undone ? { undone } : {}) }));
  const lines = new StepLines(flags.diff || flags.dryRun ? 'check' : 'apply', !!flags.json || !!flags.diff);
  if (flags.diff || flags.dryRun) {
    const { changed, rendered, diff } = await planConfigure(o, lines);
    if (flags.json) console.log(JSON.stringify({ dryRun: true, model, steps: steps(), changed, diff, rendered: flags.dryRun ? rendered : undefined }, null, 2));
    else if (flags.diff) process.stdout.write(diff === '' ? `${o.configureFile} is already as rendered: nothing to change.\n` : diff);
    else console.log(diff === '' ? '(the installed configuration is already as rendered)' : '(run with --diff to see the change to the configuration)');
    return;
  }

  if (process.getuid?.() !== 0) throw new LabError('labctl configure needs root (it writes /usr/exim/configure, /etc/aliases and keys)', 'run it with sudo, or use --dry-run or --diff', EXIT.preflight);
  try {
    const r = await configureHost(o, lines);
    if (flags.json) {
      console.log(JSON.stringify({ ok: true, changed: r.changed, configureFile: r.configureFile, backup: r.install?.backup, model, steps: steps() }, null, 2));
    } else {
      console.log(r.changed ? `Exim is configured for ${model.domain}.` : `Nothing changed: Exim was already configured for ${model.domain}.`);
    }
  } catch (err) {
    if (flags.json) console.log(JSON.stringify({ ok: false, error: err instanceof Error ? err.message : String(err), steps: steps() }, null, 2));
    throw err;
  }
});

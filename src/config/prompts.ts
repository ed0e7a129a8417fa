import { input, select } from '@inquirer/prompts';
import { MODEL_DEFAULTS, TLS_MODES, defaultMailHost, type TlsMode } from './model.js';
import type { ConfigFileValues } from './source.js';
import { checkDnsName, checkUserName } from './validate.js';
import { errorMessage } from '../errors.js';

/** Asks for what neither flags nor the config file gave; each answer is checked as typed. */
const validator = (check: (v: string) => unknown) => (v: string) => {
  try {
    check(v);
    return true;
  } catch (err) {
    return errorMessage(err);
  }
};

export async function promptMissing(values: ConfigFileValues): Promise<ConfigFileValues> {
  const out: ConfigFileValues = { ...values };
  if (out.domain === undefined) {
    out.domain = await input({ message: 'Mail domain (e.g. st14.sne24.ru):', validate: validator((v) => checkDnsName('domain', v, 2)) });
  }
  if (out.mailHost === undefined) {
    out.mailHost = await input({
      message: 'Mail host name:',
      default: defaultMailHost(out.domain.trim().toLowerCase()),
      validate: validator((v) => checkDnsName('mailHost', v, 2)),
    });
  }
  if (out.users === undefined) {
    const answer = await input({
      message: 'Local users, separated by spaces:',
      default: MODEL_DEFAULTS.users.join(' '),
      validate: validator((v) => v.trim().split(/\s+/).forEach((u, i) => checkUserName(`users[${i}]`, u))),
    });
    out.users = answer.trim().split(/\s+/);
  }
  if (out.tls === undefined) {
    out.tls = await select<TlsMode>({
      message: 'Transport encryption:',
      default: MODEL_DEFAULTS.tls,
      choices: TLS_MODES.map((m) => ({ value: m, name: m })),
    });
  }
  return out;
}

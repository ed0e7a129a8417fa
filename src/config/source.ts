import path from 'node:path';
import YAML from 'yaml';
import { LabError, usageError } from '../errors.js';
import { ancestorsOf, ownership, readIfExists, readJudged } from '../system/files.js';
import { groupId } from '../system/accounts.js';
import type { ModelInput } from './model.js';

/**
 * Where the model's values come from, in order: flags, else a config file (`--config FILE`,
 * JSON or YAML; `labctl.yaml` in the current directory when present), else prompts.
 */

/** What a config file may hold: the model's settings and the two certificate paths. */
export interface ConfigFileValues extends ModelInput {
  tlsCert?: string;
  tlsKey?: string;
}

export const DEFAULT_CONFIG_FILE = 'labctl.yaml';

const FILE_ONLY_KEYS = ['tlsCert', 'tlsKey'] as const;

/**
 * Reads a config file. The settings sit at the top level, or under `configure:` when the file
 * also holds other commands' settings. Returns undefined when the default file is absent.
 */
export async function loadConfigFile(file: string | undefined, cwd = process.cwd()): Promise<{ file: string; values: ConfigFileValues } | undefined> {
  const explicit = file !== undefined;
  const full = path.resolve(cwd, file ?? DEFAULT_CONFIG_FILE);
  const text = await (explicit ? readIfExists(full) : readImplicitFile(full)).catch((err: Error) => {
    if (err instanceof LabError) throw err;
    throw usageError(`--config ${full}: cannot read it (${err.message})`);
  });
  if (text === undefined) {
    if (explicit) throw usageError(`--config ${full}: no such file`, 'give an existing JSON or YAML file');
    return undefined;
  }
  let data: unknown;
  try {
    data = full.endsWith('.json') ? JSON.parse(text) : YAML.parse(text, { prettyErrors: true });
  } catch (err) {
    const first = (err as Error).message.split('\n')[0];
    throw usageError(`${full}: not valid ${full.endsWith('.json') ? 'JSON' : 'YAML'}: ${first}`);
  }
  if (data === null || data === undefined) return { file: full, values: {} };
  if (typeof data !== 'object' || Array.isArray(data)) throw usageError(`${full}: must hold a mapping of settings (domain: ..., users: [...])`);
  let values = data as Record<string, unknown>;
  if ('configure' in values) {
    const section = values.configure;
    if (typeof section !== 'object' || section === null || Array.isArray(section)) throw usageError(`${full}: configure: must be a mapping of settings`);
    values = section as Record<string, unknown>;
  }
  for (const key of FILE_ONLY_KEYS) {
    if (values[key] !== undefined && typeof values[key] !== 'string') throw usageError(`${full}: ${key} must be a file path`);
  }
  return { file: full, values: values as ConfigFileValues };
}

/**
 * labctl runs as root; a ./labctl.yaml it was not told about is applied only when nobody else
 * could have put it there or changed it: the file is opened once, not through a symlink
 * (O_NOFOLLOW), and that open file must belong to root and not be writable by group or others;
 * every directory from it up to / must belong to root and not be writable by group or others
 * (a sticky directory such as /tmp excepted: nobody else can rename what root put there). Only
 * then is it read, from the same descriptor. Anything else stops with a line saying how to use
 * it on purpose.
 */
async function readImplicitFile(file: string): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return readIfExists(file);
  const refuse = (why: string) =>
    usageError(`${file} is not applied: ${why}`, `labctl runs as root; if you trust that file, pass it with --config ${file}`);
  return readJudged(file, async (st) => {
    if (!st.isFile()) throw refuse('it is not a regular file');
    if (st.uid !== 0) throw refuse(`it belongs to uid ${st.uid}, not root`);
    if (st.mode & 0o022) throw refuse('it is writable by group or others');
    for (const { path: dir, st: d } of await ancestorsOf(path.dirname(file))) {
      if (d.uid !== 0) throw refuse(`${dir} belongs to uid ${d.uid}, not root`);
      if (d.mode & 0o022 && !(d.mode & 0o1000)) throw refuse(`${dir} is writable by group or others`);
    }
  }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ELOOP') throw refuse('it is a symbolic link');
    throw err;
  });
}

/**
 * TLS files a user names (--tls-cert/--tls-key or tlsCert/tlsKey in a config file) must belong to
 * root or to Exim's group, and the key must not be readable by others; Exim would otherwise run
 * with a key someone else controls or can read.
 */
export async function checkUserTlsFiles(cert: string | undefined, key: string | undefined, eximGroup = 'exim'): Promise<void> {
  const gid = await groupId(eximGroup);
  for (const [what, p] of [['certificate', cert], ['key', key]] as const) {
    if (!p) continue;
    const o = await ownership(p);
    if (!o) continue; // a missing file is reported, with its flag, where the pair is checked
    if (o.uid !== 0 && o.gid !== gid) throw usageError(`TLS ${what} ${p} belongs to uid ${o.uid}, gid ${o.gid}: it must belong to root or to group ${eximGroup}`, `chown root:${eximGroup} ${p}`);
    if (what === 'key' && o.mode & 0o004) throw usageError(`TLS key ${p} is readable by everyone (mode ${o.mode.toString(8)})`, `chmod 640 ${p}`);
  }
}

/** Flags win over the file, key by key; undefined flags leave the file's value. */
export function mergeInputs(file: ConfigFileValues | undefined, flags: ConfigFileValues): ConfigFileValues {
  const out: Record<string, unknown> = { ...(file ?? {}) };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) out[k] = v;
  return out as ConfigFileValues;
}

/** Splits the file-only settings off the model's. */
export function splitFileSettings(values: ConfigFileValues): { model: ModelInput; tlsCert?: string; tlsKey?: string } {
  const { tlsCert, tlsKey, ...model } = values;
  return { model, tlsCert, tlsKey };
}

/** `--backup-for DOMAIN[,MAILHOST[,ADDRESS]]`: commas never occur in names or addresses. */
export function parseBackupFor(value: string): { domain: string; mailHost?: string; address?: string } {
  const [domain, mailHost, address, ...rest] = value.split(',').map((s) => s.trim());
  if (rest.length > 0 || !domain) throw usageError(`--backup-for ${JSON.stringify(value)}: use DOMAIN[,MAILHOST[,ADDRESS]]`, 'e.g. --backup-for st18.sne24.ru,mail.st18.sne24.ru,192.168.122.119');
  const out: { domain: string; mailHost?: string; address?: string } = { domain };
  if (mailHost) out.mailHost = mailHost;
  if (address) out.address = address;
  return out;
}

import { LabError, usageError } from '../errors.js';
import { EXIM_DEFAULTS } from '../paths.js';

/**
 * The submission password file (authenticated submission on 587 and 465): one line per user,
 * `name: {crypt}$6$salt$hash`, read by Exim's lsearch in the plaintext authenticators of
 * templates/configure.ejs and checked with ${crypteq}. Root owns it; group exim reads it (the
 * SMTP receiving process runs as exim). Pure text here; `labctl user` writes it.
 */
export const DEFAULT_PASSWD_FILE = `${EXIM_DEFAULTS.configureFile.replace(/\/[^/]+$/, '')}/passwd`;

/** A name a mail client logs in with: letters, digits, ".", "_", "-", optionally @domain; no ":" or spaces (lsearch keys). */
const LOGIN_NAME = /^[a-z0-9][a-z0-9._-]{0,63}(@[a-z0-9][a-z0-9.-]{0,252})?$/;

export function checkLoginName(name: string): string {
  if (!LOGIN_NAME.test(name)) throw usageError(`"${name}" is not a login name`, 'use lower-case letters, digits, ".", "_" and "-" (optionally @domain), at most 64 before the @');
  return name;
}

/** Refuses a password a line of the file could not carry, or one too short to be worth a login. */
export function checkPassword(password: string): string {
  if (/[\r\n\0]/.test(password)) throw usageError('the password contains a line break or NUL', 'give a password on one line');
  if (password.length < 8) throw usageError('the password is shorter than 8 characters', 'choose a longer one');
  return password;
}

export interface PasswdLine {
  name: string;
  hash: string;
}

export function parsePasswd(text: string): PasswdLine[] {
  const out: PasswdLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([^:\s]+):\s*(?:\{crypt\})?(\S+)$/.exec(line);
    if (!m) throw new LabError(`the password file has a line labctl cannot read: ${line.slice(0, 60)}`, 'fix or remove that line by hand');
    out.push({ name: m[1], hash: m[2] });
  }
  return out;
}

export function formatPasswd(lines: PasswdLine[]): string {
  return (
    '# Submission logins (labctl user add NAME, labctl user passwd NAME): name: {crypt}SHA-512 crypt hash.\n' +
    '# Read by the plaintext authenticators in Exim\'s configure; written by labctl.\n' +
    lines.map((l) => `${l.name}: {crypt}${l.hash}\n`).join('')
  );
}

/** The file with `name` set to `hash`: added (mode add), changed (mode passwd). */
export function setPassword(text: string, name: string, hash: string, mode: 'add' | 'passwd'): string {
  const lines = parsePasswd(text);
  const at = lines.findIndex((l) => l.name === name);
  if (mode === 'add' && at >= 0) throw usageError(`user ${name} already has a login`, `change the password with labctl user passwd ${name}`);
  if (mode === 'passwd' && at < 0) throw usageError(`user ${name} has no login`, `add it with labctl user add ${name}`);
  if (at >= 0) lines[at] = { name, hash };
  else lines.push({ name, hash });
  return formatPasswd(lines);
}

export function removeLogin(text: string, name: string): string {
  return formatPasswd(parsePasswd(text).filter((l) => l.name !== name));
}

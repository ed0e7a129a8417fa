/**
 * Paths and user names that go unescaped into a systemd unit or a Makefile (EJS `<%-`), checked in
 * one place. Only an absolute path of letters, digits, `.`, `_`, `-` and `/` gets there. Anything else (a space, a quote, `$`, `;`, a
 * newline that would start a new unit line or Makefile rule) is refused before rendering.
 */
import { EXIT, LabError } from './errors.js';

const SAFE_PATH = /^\/[A-Za-z0-9._/-]+$/;

export function safePath(what: string, value: string): string {
  if (!SAFE_PATH.test(value) || value.split('/').includes('..')) {
    throw new LabError(`${what} ${JSON.stringify(value)} is not a plain absolute path`, 'use only letters, digits, ".", "_", "-" and "/" (no "..")', EXIT.usage);
  }
  return value;
}

/**
 * A system user name as EXIM_USER, the unit and useradd take it (POSIX portable, lower case, at
 * most 32 characters); configure's user names (config/validate.ts) are held to the same rule.
 */
export const SAFE_USER = /^[a-z_][a-z0-9_-]{0,31}$/;

export function safeUserName(what: string, value: string): string {
  if (!SAFE_USER.test(value)) throw new LabError(`${what} ${JSON.stringify(value)} is not a valid user name`, 'use lower-case letters, digits, "_" and "-", starting with a letter or "_" (at most 32)', EXIT.usage);
  return value;
}

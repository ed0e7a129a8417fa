import { LabError } from '../errors.js';
import { run } from './run.js';

/**
 * A SHA-512 crypt hash ("$6$salt$hash", glibc crypt's format, which Exim's ${crypteq} checks
 * through crypt()) made by `openssl passwd -6`; the password goes in on standard input, never on
 * the command line.
 */
export async function sha512Crypt(password: string): Promise<string> {
  const r = await run('openssl', ['passwd', '-6', '-stdin'], { input: `${password}\n`, timeoutMs: 10_000 });
  const hash = r.stdout.trim();
  if (!/^\$6\$[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{86}$/.test(hash)) throw new LabError(`openssl passwd -6 printed no SHA-512 crypt hash: ${hash.slice(0, 40)}`);
  return hash;
}

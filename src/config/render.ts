import { promises as fs } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ejs from 'ejs';
import { usageError } from '../errors.js';
import { EXIM_BINARY, PORTS } from '../paths.js';
import { backupMxHosts, type HostModel, type TlsMode } from './model.js';
import { checkConfigPath } from './validate.js';
import { DEFAULT_PASSWD_FILE } from './passwd.js';

/** Files the configuration refers to; each is an absolute path, checked before rendering. */
export interface ConfigureFiles {
  tlsCertificate?: string;
  tlsPrivateKey?: string;
  dkimPrivateKey?: string;
  /** CA bundle used to verify the peer on outgoing TLS (the lab CA). */
  tlsVerifyCertificates?: string;
  /** Default /etc/aliases. */
  aliasesFile?: string;
  /** Only when a host keeps its spool elsewhere than the compiled-in default. */
  spoolDirectory?: string;
  /** Exim's log_file_path, e.g. /var/log/exim/%slog. */
  logFilePath?: string;
  /** DMARC's public suffix list (Exim built with DMARC, the default); default Debian's publicsuffix. */
  dmarcTldFile?: string;
  /** The Exim binary an accepted ETRN runs (`-R @domain`); default what labctl install installs. */
  eximBinary?: string;
  /** Submission logins (labctl user add): default /usr/exim/passwd. */
  passwdFile?: string;
}

export const DEFAULT_ALIASES_FILE = '/etc/aliases';
export const DEFAULT_DMARC_TLD_FILE = '/usr/share/publicsuffix/public_suffix_list.dat';

/** templates/ sits two levels above both src/config and dist/config. */
export const templatePath = (name: string) => fileURLToPath(new URL(`../../templates/${name}`, import.meta.url));

export interface TlsPlan {
  on: boolean;
  smtps: boolean;
  required: boolean;
  /** Outgoing: hosts_require_dane = * (TLS mode dane); otherwise hosts_try_dane = *. */
  requireDane: boolean;
  ports: number[];
}

/** What each TLS mode means for ports and ACLs. */
export function tlsPlan(mode: TlsMode): TlsPlan {
  const smtps = mode === 'starttls+smtps' || mode === 'required' || mode === 'dane';
  return {
    on: mode !== 'off',
    smtps,
    required: mode === 'required',
    requireDane: mode === 'dane',
    ports: smtps ? [PORTS.smtp, PORTS.smtps, PORTS.submission] : [PORTS.smtp, PORTS.submission],
  };
}

function checkFiles(files: ConfigureFiles): Required<Pick<ConfigureFiles, 'aliasesFile' | 'dmarcTldFile' | 'eximBinary' | 'passwdFile'>> & ConfigureFiles {
  const out: ConfigureFiles = {};
  for (const [key, value] of Object.entries(files) as Array<[keyof ConfigureFiles, string | undefined]>) {
    if (value !== undefined) out[key] = checkConfigPath(key, value);
  }
  if ((out.tlsCertificate === undefined) !== (out.tlsPrivateKey === undefined)) {
    throw usageError('tlsCertificate and tlsPrivateKey go together: give both or neither');
  }
  if (out.logFilePath !== undefined && !out.logFilePath.includes('%s') && out.logFilePath !== 'syslog') {
    throw usageError(`logFilePath: ${JSON.stringify(out.logFilePath)} must contain %s (Exim puts main, reject or panic there)`);
  }
  return { ...out, aliasesFile: out.aliasesFile ?? DEFAULT_ALIASES_FILE, dmarcTldFile: out.dmarcTldFile ?? DEFAULT_DMARC_TLD_FILE, eximBinary: out.eximBinary ?? EXIM_BINARY, passwdFile: out.passwdFile ?? DEFAULT_PASSWD_FILE };
}

/**
 * Renders templates/configure.ejs for one host. Pure apart from reading the template: the same
 * model and files always give the same text, which is what makes a second run a no-op.
 */
export interface RenderOptions {
  /**
   * false: no hosts_try_dane on the remote transport. Only the lab's wire drill uses it, for its
   * one plaintext control message from a partner whose TLSA would otherwise make TLS mandatory.
   */
  dane?: boolean;
  /**
   * How local_delivery locks a mailbox. 'lockfile' (the default, as the write-up's /var/mail has
   * it): a lock file beside the mailbox, then fcntl; a delivery that finds either taken retries
   * every lock_interval (3 s). 'fcntl': a blocking fcntl lock only, so a burst of deliveries to
   * one mailbox queues on the lock instead of sleeping. The lab uses it: its mailboxes are read
   * by labctl alone, which takes no lock file.
   */
  mailboxLock?: 'lockfile' | 'fcntl';
}

export async function renderConfigure(model: HostModel, files: ConfigureFiles = {}, opts: RenderOptions = {}): Promise<string> {
  const f = checkFiles(files);
  const template = await fs.readFile(templatePath('configure.ejs'), 'utf8');
  const firstItem = model.retryRule.split(';')[0]!.split(',');
  return ejs.render(
    template,
    { m: model, f, backups: backupMxHosts(model), tls: tlsPlan(model.tls), dane: opts.dane ?? true, mailboxLock: opts.mailboxLock ?? 'lockfile', retryFirst: firstItem[2] ?? model.queueInterval },
    { async: false, strict: false, rmWhitespace: false, filename: templatePath('configure.ejs') },
  );
}

/**
 * The parts of a rendered configuration a report needs (main options, the TLS and relay
 * settings, the local_delivery transport, the retry rule), without comments.
 */
export function configureKeyParts(text: string): string {
  const lines = text.split('\n');
  const keep: string[] = [];
  const mainKeys =
    /^(primary_hostname|qualify_domain|keep_environment|domainlist|hostlist|daemon_smtp_ports|tls_on_connect_ports|tls_advertise_hosts|tls_certificate|tls_privatekey|spool_directory|log_file_path)\b/;
  let section = 'main';
  let block = '';
  for (const line of lines) {
    const begin = /^begin (\w+)/.exec(line);
    if (begin) {
      section = begin[1]!;
      continue;
    }
    if (/^\s*#/.test(line) || line.trim() === '') continue;
    if (/^\S.*:$/.test(line)) block = line.slice(0, -1);
    if (section === 'main' && mainKeys.test(line)) keep.push(line);
    else if (section === 'acl' && /encrypted = \*|TLS required/.test(line)) keep.push(`[acl ${block}] ${line.trim()}`);
    else if (section === 'routers' && block === 'backup_mx' && !/:$/.test(line)) keep.push(`[router backup_mx] ${line.trim()}`);
    else if (section === 'transports' && (block === 'local_delivery' || (block === 'remote_smtp' && /dkim_|tls_|hosts_require_tls/.test(line)))) {
      if (!/:$/.test(line)) keep.push(`[transport ${block}] ${line.trim()}`);
    } else if (section === 'retry') keep.push(`[retry] ${line.trim()}`);
  }
  return keep.join('\n');
}

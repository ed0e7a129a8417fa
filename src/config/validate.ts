import { isIP } from 'node:net';
import { usageError } from '../errors.js';
import { SAFE_USER } from '../safe-names.js';
import {
  DMARC_ALIGNMENTS,
  DMARC_POLICIES,
  MODEL_DEFAULTS,
  TLS_MODES,
  defaultMailHost,
  type DmarcAlignment,
  type DmarcPolicy,
  type HostModel,
  type ModelInput,
  type Partner,
  type TlsMode,
} from './model.js';

/**
 * Validation of the lab model before anything is rendered. Every value ends up inside Exim's
 * configuration or a zone file, so each is checked against its own format and, first of all,
 * against the characters that would change the meaning of the file around it.
 */

/** Where a field can be set, for the hint under a refusal. */
const FIELD_SOURCE: Record<string, string> = {
  domain: '--domain',
  mailHost: '--mail-host',
  address: '--address',
  users: '--user',
  postmaster: '--postmaster',
  backupFor: '--backup-for',
  backupMx: '--backup-mx',
  partner: '--partner',
  backupMxAddresses: '--backup-mx (its addresses are resolved by labctl configure)',
  tls: '--tls',
  dkimSelector: '--dkim-selector',
  spfPolicy: '--spf',
  queueInterval: '--queue-interval',
  retryRule: '--retry',
  dmarcPolicy: '--dmarc',
  dmarcAdkim: '--dmarc-adkim',
  dmarcAspf: '--dmarc-aspf',
  dmarcEnforce: '--dmarc-enforce',
};

function refuse(field: string, rule: string): never {
  const top = field.replace(/[[.].*$/, '');
  const flag = FIELD_SOURCE[top];
  throw usageError(`${field}: ${rule}`, flag ? `fix ${flag} (or ${top}: in the config file)` : undefined);
}

const show = (v: string) => JSON.stringify(v);

/**
 * Characters that would inject text into Exim's configuration: line breaks end the option,
 * `$` and braces start expansions, quotes and backslashes change string parsing, and `:` or `;`
 * split a single item into a list.
 */
const INJECTION: Array<[RegExp, string]> = [
  [/[\r\n]/, 'must be on one line (a line break would start a new Exim option)'],
  [/\$/, 'must not contain "$" (Exim would expand it)'],
  [/[{}]/, 'must not contain braces (Exim expansion syntax)'],
  [/["'`\\]/, 'must not contain quotes or backslashes'],
  [/[\0-\x1f\x7f]/, 'must not contain control characters'],
];

function noInjection(field: string, value: string, allowListSeparators = false): void {
  for (const [re, rule] of INJECTION) if (re.test(value)) refuse(field, rule);
  if (!allowListSeparators && /[:;,]/.test(value)) refuse(field, `${show(value)} must be a single item (no ":", ";" or ",")`);
}

function asString(field: string, value: unknown): string {
  if (typeof value !== 'string') refuse(field, `must be a string, got ${Array.isArray(value) ? 'a list' : typeof value}`);
  return value;
}

/** RFC 1035/1123 host name rules; returns the name in lower case without a trailing dot. */
export function checkDnsName(field: string, raw: unknown, minLabels = 1): string {
  const value = asString(field, raw).trim();
  if (value === '') refuse(field, 'must not be empty');
  noInjection(field, value);
  if (/\s/.test(value)) refuse(field, `${show(value)} must not contain spaces`);
  const name = value.replace(/\.$/, '').toLowerCase();
  if (name.length > 253) refuse(field, `${show(value)} is longer than 253 characters`);
  const labels = name.split('.');
  for (const label of labels) {
    if (label === '') refuse(field, `${show(value)} has an empty label (two dots in a row, or a leading dot)`);
    if (label.length > 63) refuse(field, `${show(value)} has a label longer than 63 characters`);
    if (!/^[a-z0-9-]+$/.test(label)) refuse(field, `${show(value)}: labels may hold only letters, digits and "-"`);
    if (label.startsWith('-') || label.endsWith('-')) refuse(field, `${show(value)}: a label must not start or end with "-"`);
  }
  if (labels.length < minLabels) refuse(field, `${show(value)} must have at least ${minLabels} labels (e.g. st14.sne24.ru)`);
  if (labels.length > 1 && /^[0-9]+$/.test(labels[labels.length - 1]!)) refuse(field, `${show(value)} looks like an address, not a DNS name`);
  return name;
}

/** A single DNS label, e.g. the DKIM selector. */
export function checkDnsLabel(field: string, raw: unknown): string {
  const value = asString(field, raw).trim();
  if (value === '') refuse(field, 'must not be empty');
  noInjection(field, value);
  if (value.includes('.')) refuse(field, `${show(value)} must be a single DNS label (no dots)`);
  if (value.length > 63) refuse(field, `${show(value)} is longer than 63 characters`);
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/.test(value)) {
    refuse(field, `${show(value)} must be letters, digits and inner "-" only`);
  }
  return value.toLowerCase();
}

/** POSIX portable user names as useradd accepts them (lower case, at most 32 characters). */
export function checkUserName(field: string, raw: unknown): string {
  const value = asString(field, raw).trim();
  if (value === '') refuse(field, 'must not be empty');
  noInjection(field, value);
  if (value.length > 32) refuse(field, `${show(value)} is longer than 32 characters`);
  if (!SAFE_USER.test(value)) {
    refuse(field, `${show(value)} is not a POSIX user name (lower-case letter or "_" first, then letters, digits, "_" or "-")`);
  }
  if (value === 'root') refuse(field, '"root" cannot receive mail here (Exim runs with never_users = root); name another user');
  return value;
}

export function checkAddress(field: string, raw: unknown): string {
  const value = asString(field, raw).trim();
  noInjection(field, value, true);
  if (isIP(value) === 0) refuse(field, `${show(value)} is not an IPv4 or IPv6 address`);
  return value;
}

/** An Exim time value such as 30s, 1m, 1h30m. */
export function checkEximTime(field: string, raw: unknown): string {
  const value = asString(field, raw).trim();
  noInjection(field, value, true);
  if (!/^(?:\d+[smhdw])+$/.test(value)) refuse(field, `${show(value)} is not an Exim time (digits and a unit s, m, h, d or w, e.g. 1m or 1h30m)`);
  if (!/[1-9]/.test(value)) refuse(field, `${show(value)} must be longer than zero`);
  return value;
}

/** The timing part of a retry rule: `F,1h,1m; G,16h,1h,1.5; F,4d,6h`. */
export function checkRetryRule(field: string, raw: unknown): string {
  const value = asString(field, raw).trim();
  noInjection(field, value, true);
  const time = /^(?:\d+[smhdw])+$/;
  const items = value.split(';').map((s) => s.trim());
  if (items.length === 0 || items.some((s) => s === '')) refuse(field, `${show(value)} has an empty item (items are separated by ";")`);
  for (const item of items) {
    const parts = item.split(',').map((s) => s.trim());
    const [kind, cutoff, interval, factor] = parts;
    const bad = () => refuse(field, `${show(item)} is not a retry item (F,<cutoff>,<interval> or G|H,<cutoff>,<interval>,<factor>, e.g. F,1h,1m)`);
    if (kind === 'F') {
      if (parts.length !== 3) bad();
    } else if (kind === 'G' || kind === 'H') {
      if (parts.length !== 4 || !/^\d+(?:\.\d+)?$/.test(factor!)) bad();
    } else bad();
    if (!time.test(cutoff!) || !time.test(interval!)) bad();
  }
  return items.map((s) => s.split(',').map((p) => p.trim()).join(',')).join('; ');
}

export function checkSpfPolicy(field: string, raw: unknown): string {
  const value = asString(field, raw).trim();
  noInjection(field, value, true);
  if (!/^v=spf1(?: |$)/.test(value)) refuse(field, `${show(value)} must start with "v=spf1"`);
  if (!/^[\x20-\x7e]+$/.test(value)) refuse(field, `${show(value)} must be printable ASCII`);
  if (/\s{2,}/.test(value)) refuse(field, `${show(value)} must separate terms with single spaces`);
  if (!/[-~?+]?all$|redirect=\S+$/.test(value)) refuse(field, `${show(value)} must end with an "all" term (e.g. -all) or redirect=`);
  return value;
}

function checkEnum<T extends string>(field: string, raw: unknown, allowed: readonly T[]): T {
  const value = asString(field, raw).trim();
  if (!allowed.includes(value as T)) refuse(field, `${show(value)} is not one of ${allowed.join(', ')}`);
  return value as T;
}

function asList(field: string, raw: unknown): unknown[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) refuse(field, 'must be a list');
  return raw;
}

function noDuplicates(field: string, values: string[]): void {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) refuse(field, `${show(v)} is listed twice`);
    seen.add(v);
  }
}

function checkPartner(field: string, raw: unknown, ownDomain: string): Partner {
  if (typeof raw === 'string') raw = { domain: raw };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) refuse(field, 'must be a partner domain or {domain, mailHost, address}');
  const p = raw as Record<string, unknown>;
  for (const key of Object.keys(p)) {
    if (!['domain', 'mailHost', 'address'].includes(key)) refuse(`${field}.${key}`, 'unknown key (use domain, mailHost, address)');
  }
  if (p.domain === undefined) refuse(`${field}.domain`, 'is required');
  const domain = checkDnsName(`${field}.domain`, p.domain, 2);
  if (domain === ownDomain) refuse(`${field}.domain`, `${show(domain)} is this host's own domain; a host cannot be its own backup MX`);
  const mailHost = p.mailHost === undefined ? defaultMailHost(domain) : checkDnsName(`${field}.mailHost`, p.mailHost, 2);
  const out: Partner = { domain, mailHost };
  if (p.address !== undefined) out.address = checkAddress(`${field}.address`, p.address);
  return out;
}

const MODEL_KEYS = new Set<string>([
  'domain', 'mailHost', 'address', 'users', 'postmaster', 'backupFor', 'backupMx', 'tls',
  'dkimSelector', 'spfPolicy', 'queueInterval', 'retryRule', 'dmarcPolicy', 'dmarcAdkim', 'dmarcAspf', 'dmarcEnforce',
  'partner', 'backupMxAddresses',
]);

/**
 * Applies defaults and checks every field. Throws a usage error naming the field and the rule;
 * returns a complete model otherwise. The input is never modified.
 */
export function validateModel(input: ModelInput): HostModel {
  for (const key of Object.keys(input)) {
    if (!MODEL_KEYS.has(key)) refuse(key, `unknown setting (known: ${[...MODEL_KEYS].join(', ')})`);
  }
  const get = <K extends keyof ModelInput>(k: K) => (input[k] === null ? undefined : input[k]);

  if (get('domain') === undefined) refuse('domain', 'is required (the mail domain, e.g. st14.sne24.ru)');
  const domain = checkDnsName('domain', get('domain'), 2);
  const mailHost = get('mailHost') === undefined ? defaultMailHost(domain) : checkDnsName('mailHost', get('mailHost'), 2);

  const usersRaw = get('users') === undefined ? [...MODEL_DEFAULTS.users] : asList('users', get('users'));
  if (usersRaw.length === 0) refuse('users', 'must name at least one local user');
  const users = usersRaw.map((u, i) => checkUserName(`users[${i}]`, u));
  noDuplicates('users', users);

  const postmaster = get('postmaster') === undefined ? users[0]! : checkUserName('postmaster', get('postmaster'));
  if (!users.includes(postmaster)) refuse('postmaster', `${show(postmaster)} must be one of the local users (${users.join(', ')})`);

  const backupFor = asList('backupFor', get('backupFor')).map((p, i) => checkPartner(`backupFor[${i}]`, p, domain));
  noDuplicates('backupFor', backupFor.map((p) => p.domain));

  const backupMx = asList('backupMx', get('backupMx')).map((h, i) => checkDnsName(`backupMx[${i}]`, h, 2));
  noDuplicates('backupMx', backupMx);
  if (backupMx.includes(mailHost)) refuse('backupMx', `${show(mailHost)} is this host itself; name the partner's mail host`);
  const partner = get('partner') === undefined ? undefined : checkDnsName('partner', get('partner'), 2);
  if (partner === mailHost) refuse('partner', `${show(partner)} is this host itself; name the partner's mail host`);
  const backupMxAddresses = asList('backupMxAddresses', get('backupMxAddresses')).map((a, i) => checkAddress(`backupMxAddresses[${i}]`, a));
  noDuplicates('backupMxAddresses', backupMxAddresses);

  const model: HostModel = {
    domain,
    mailHost,
    users,
    postmaster,
    backupFor,
    backupMx,
    tls: get('tls') === undefined ? MODEL_DEFAULTS.tls : checkEnum<TlsMode>('tls', get('tls'), TLS_MODES),
    dkimSelector: get('dkimSelector') === undefined ? MODEL_DEFAULTS.dkimSelector : checkDnsLabel('dkimSelector', get('dkimSelector')),
    spfPolicy: get('spfPolicy') === undefined ? MODEL_DEFAULTS.spfPolicy : checkSpfPolicy('spfPolicy', get('spfPolicy')),
    queueInterval: get('queueInterval') === undefined ? MODEL_DEFAULTS.queueInterval : checkEximTime('queueInterval', get('queueInterval')),
    retryRule: get('retryRule') === undefined ? MODEL_DEFAULTS.retryRule : checkRetryRule('retryRule', get('retryRule')),
  };
  if (get('address') !== undefined) model.address = checkAddress('address', get('address'));
  if (partner !== undefined) model.partner = partner;
  if (backupMxAddresses.length) model.backupMxAddresses = backupMxAddresses;
  if (get('dmarcPolicy') !== undefined) model.dmarcPolicy = checkEnum<DmarcPolicy>('dmarcPolicy', get('dmarcPolicy'), DMARC_POLICIES);
  if (get('dmarcAdkim') !== undefined) model.dmarcAdkim = checkEnum<DmarcAlignment>('dmarcAdkim', get('dmarcAdkim'), DMARC_ALIGNMENTS);
  if (get('dmarcAspf') !== undefined) model.dmarcAspf = checkEnum<DmarcAlignment>('dmarcAspf', get('dmarcAspf'), DMARC_ALIGNMENTS);
  if (get('dmarcEnforce') !== undefined) model.dmarcEnforce = checkOnOff('dmarcEnforce', get('dmarcEnforce'));
  return model;
}

/** true/false, or on/off as the command line spells it. */
function checkOnOff(field: string, raw: unknown): boolean {
  if (raw === true || raw === 'on') return true;
  if (raw === false || raw === 'off') return false;
  return refuse(field, `${JSON.stringify(raw)} is not on or off`);
}

/**
 * A file path that goes into the configuration (certificate, key, aliases): absolute, one line,
 * nothing Exim would expand or split.
 */
export function checkConfigPath(field: string, raw: unknown): string {
  const value = asString(field, raw);
  if (!value.startsWith('/')) refuse(field, `${show(value)} must be an absolute path`);
  noInjection(field, value);
  if (/\s/.test(value)) refuse(field, `${show(value)} must not contain spaces`);
  return value;
}

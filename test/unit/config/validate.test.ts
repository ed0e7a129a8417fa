import { describe, expect, it } from 'vitest';
import { validateModel } from '../../../src/config/validate.js';
import type { ModelInput } from '../../../src/config/model.js';
import { LabError, EXIT } from '../../../src/errors.js';

const base = { domain: 'st14.sne24.ru' };

/** Each bad input and the message it must be refused with (field: rule). */
const BAD: Array<[string, ModelInput | Record<string, unknown>, RegExp]> = [
  ['missing domain', {}, /^domain: is required/],
  ['domain with one label', { domain: 'localhost' }, /^domain: "localhost" must have at least 2 labels/],
  ['domain with empty label', { domain: 'st14..sne24.ru' }, /^domain: .* has an empty label/],
  ['domain with a leading dot', { domain: '.st14.sne24.ru' }, /^domain: .* has an empty label/],
  ['domain with underscore', { domain: 'st_14.sne24.ru' }, /^domain: .*labels may hold only letters, digits and "-"/],
  ['domain label starting with -', { domain: '-st14.sne24.ru' }, /^domain: .*must not start or end with "-"/],
  ['domain label of 64 characters', { domain: `${'a'.repeat(64)}.ru` }, /^domain: .*label longer than 63/],
  ['domain longer than 253', { domain: Array(50).fill('abcde').join('.') + '.ru' }, /^domain: .*longer than 253/],
  ['domain with a newline (injection)', { domain: 'st14.sne24.ru\nprimary_hostname = evil' }, /^domain: must be on one line/],
  ['domain with $ (expansion)', { domain: '${run{/bin/sh}}.ru' }, /^domain: must not contain "\$"/],
  ['domain with a list separator', { domain: 'st14.sne24.ru : evil.ru' }, /^domain: .*must be a single item/],
  ['domain that is an address', { domain: '192.168.1.1' }, /^domain: .*looks like an address/],
  ['mail host with braces', { ...base, mailHost: 'mail.{x}.ru' }, /^mailHost: must not contain braces/],
  ['address not an IP', { ...base, address: '300.1.1.1' }, /^address: "300.1.1.1" is not an IPv4 or IPv6 address/],
  ['address with a newline', { ...base, address: '10.0.0.1\n' + 'x' }, /^address: must be on one line/],
  ['user with upper case', { ...base, users: ['Ahmed'] }, /^users\[0\]: "Ahmed" is not a POSIX user name/],
  ['user starting with a digit', { ...base, users: ['1ahmed'] }, /^users\[0\]: .*not a POSIX user name/],
  ['user root', { ...base, users: ['root'] }, /^users\[0\]: "root" cannot receive mail/],
  ['user with a quote', { ...base, users: ['ah"med'] }, /^users\[0\]: must not contain quotes/],
  ['user name too long', { ...base, users: ['a'.repeat(33)] }, /^users\[0\]: .*longer than 32/],
  ['no users', { ...base, users: [] }, /^users: must name at least one local user/],
  ['users twice', { ...base, users: ['ahmed', 'ahmed'] }, /^users: "ahmed" is listed twice/],
  ['users not a list', { ...base, users: 'ahmed' }, /^users: must be a list/],
  ['postmaster not a local user', { ...base, users: ['ahmed'], postmaster: 'mohamed' }, /^postmaster: "mohamed" must be one of the local users/],
  ['backup for own domain', { ...base, backupFor: [{ domain: 'st14.sne24.ru' }] }, /^backupFor\[0\]\.domain: .*own domain/],
  ['backup for with a bad address', { ...base, backupFor: [{ domain: 'st18.sne24.ru', address: 'mail' }] }, /^backupFor\[0\]\.address: "mail" is not an IPv4/],
  ['backup for with an unknown key', { ...base, backupFor: [{ domain: 'st18.sne24.ru', host: 'x' }] }, /^backupFor\[0\]\.host: unknown key/],
  ['backup MX is this host', { ...base, backupMx: ['mail.st14.sne24.ru'] }, /^backupMx: .*this host itself/],
  ['partner is this host', { ...base, partner: 'mail.st14.sne24.ru' }, /^partner: .*this host itself/],
  ['partner with an expansion', { ...base, partner: 'mail.${x}.ru' }, /^partner: must not contain "\$"/],
  ['backup MX address not an IP', { ...base, backupMxAddresses: ['mail.st18.sne24.ru'] }, /^backupMxAddresses\[0\]: "mail.st18.sne24.ru" is not an IPv4/],
  ['unknown TLS mode', { ...base, tls: 'smtps' }, /^tls: "smtps" is not one of off, starttls, starttls\+smtps, required/],
  ['selector with a dot', { ...base, dkimSelector: 'lab.x' }, /^dkimSelector: .*single DNS label/],
  ['selector with an underscore', { ...base, dkimSelector: 'lab_1' }, /^dkimSelector: .*letters, digits and inner "-"/],
  ['SPF without v=spf1', { ...base, spfPolicy: 'mx -all' }, /^spfPolicy: .*must start with "v=spf1"/],
  ['SPF with a quote', { ...base, spfPolicy: 'v=spf1 "mx" -all' }, /^spfPolicy: must not contain quotes/],
  ['SPF without all', { ...base, spfPolicy: 'v=spf1 mx' }, /^spfPolicy: .*must end with an "all" term/],
  ['queue interval without unit', { ...base, queueInterval: '60' }, /^queueInterval: "60" is not an Exim time/],
  ['queue interval zero', { ...base, queueInterval: '0m' }, /^queueInterval: "0m" must be longer than zero/],
  ['retry rule of unknown kind', { ...base, retryRule: 'X,1h,1m' }, /^retryRule: "X,1h,1m" is not a retry item/],
  ['retry rule G without factor', { ...base, retryRule: 'F,1h,1m; G,16h,1h' }, /^retryRule: "G,16h,1h" is not a retry item/],
  ['retry rule with an empty item', { ...base, retryRule: 'F,1h,1m;' }, /^retryRule: .*empty item/],
  ['retry rule with a newline', { ...base, retryRule: 'F,1h,1m\n* * F,1s,1s' }, /^retryRule: must be on one line/],
  ['unknown DMARC policy', { ...base, dmarcPolicy: 'strict' }, /^dmarcPolicy: "strict" is not one of none, quarantine, reject/],
  ['unknown DKIM alignment', { ...base, dmarcAdkim: 'strict' }, /^dmarcAdkim: "strict" is not one of /],
  ['unknown SPF alignment', { ...base, dmarcAspf: 'x' }, /^dmarcAspf: "x" is not one of /],
  ['DMARC enforcement neither on nor off', { ...base, dmarcEnforce: 'maybe' as unknown as boolean }, /^dmarcEnforce: "maybe" is not on or off/],
  ['unknown setting', { ...base, mailhost: 'x' }, /^mailhost: unknown setting/],
];

describe('validateModel refuses bad input', () => {
  it('has a refusal case for every setting the validator knows (as its own "unknown setting" message lists them)', () => {
    let refusal = '';
    try {
      validateModel({ ...base, zzz: 1 } as ModelInput);
    } catch (err) {
      refusal = (err as Error).message;
    }
    const known = /\(known: ([^)]*)\)/.exec(refusal)?.[1]?.split(', ') ?? [];
    expect(known.length, `validateModel names its settings when it refuses an unknown one: ${refusal}`).toBeGreaterThan(0);
    const covered = new Set(BAD.map(([, , message]) => /^\^(\w+)/.exec(message.source)?.[1]));
    expect(known.filter((key) => !covered.has(key)), 'settings without a refusal case').toEqual([]);
  });

  it.each(BAD)('%s', (_name, input, message) => {
    let caught: unknown;
    try {
      validateModel(input as ModelInput);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(LabError);
    const err = caught as LabError;
    expect(err.exitCode).toBe(EXIT.usage);
    expect(err.message).toMatch(message);
    // One clear line.
    expect(err.message).not.toContain('\n');
  });
});

describe('validateModel defaults', () => {
  it('fills in the lab defaults', () => {
    expect(validateModel({ domain: 'ST14.sne24.ru.' })).toEqual({
      domain: 'st14.sne24.ru',
      mailHost: 'mail.st14.sne24.ru',
      users: ['exim-test'],
      postmaster: 'exim-test',
      backupFor: [],
      backupMx: [],
      tls: 'starttls+smtps',
      dkimSelector: 'lab',
      spfPolicy: 'v=spf1 mx -all',
      queueInterval: '1m',
      retryRule: 'F,1h,5s; G,16h,1h,1.5; F,4d,6h',
    });
  });

  it('gives a partner its default mail host and keeps its address', () => {
    const m = validateModel({ domain: 'st14.sne24.ru', backupFor: [{ domain: 'st18.sne24.ru', address: '2001:db8::18' }] });
    expect(m.backupFor).toEqual([{ domain: 'st18.sne24.ru', mailHost: 'mail.st18.sne24.ru', address: '2001:db8::18' }]);
  });

  it('names the flag in the hint', () => {
    try {
      validateModel({ domain: 'bad_domain.ru' });
    } catch (err) {
      expect((err as LabError).hint).toBe('fix --domain (or domain: in the config file)');
    }
    expect.assertions(1);
  });
});

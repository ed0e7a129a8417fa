/** Reading swaks transcripts of Exim 4.98.2's submission port (recorded here, AUTH_PLAINTEXT build), and the password file. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lastEhloAuth, redactAuth, refusalText, throwawayPassword } from '../../../src/verify/checks/submission.js';
import { checkLoginName, checkPassword, parsePasswd, removeLogin, setPassword } from '../../../src/config/passwd.js';

const LOGIN = readFileSync(path.join(import.meta.dirname, 'swaks-auth-login.txt'), 'utf8');
const PLAIN_EHLO = [
  '=== Trying 127.0.0.1:2587...',
  '<-  220 mail.st14.sne24.ru ESMTP Exim 4.98.2',
  ' -> EHLO vm',
  '<-  250-mail.st14.sne24.ru Hello vm [127.0.0.1]',
  '<-  250-SIZE 52428800',
  '<-  250-STARTTLS',
  '<-  250 HELP',
  ' -> QUIT',
].join('\n');

describe('submission transcripts', () => {
  it('reads a multi-line 5xx refusal whole, its code once', () => {
    const t = [' -> RCPT TO:<labctl-verify@example.org>', '<** 550-Relaying through port 587 needs a login:', '<** 550 use STARTTLS (587) or TLS (465), then AUTH PLAIN or LOGIN', ' -> QUIT'].join('\n');
    expect(refusalText(t)).toBe('550 Relaying through port 587 needs a login: use STARTTLS (587) or TLS (465), then AUTH PLAIN or LOGIN');
    expect(refusalText('<** 550 relay not permitted')).toBe('550 relay not permitted');
    expect(refusalText('<-  250 OK')).toBeUndefined();
  });

  it('finds AUTH in the last EHLO only: none before TLS, PLAIN and LOGIN after', () => {
    expect(lastEhloAuth(PLAIN_EHLO)).toEqual([]);
    expect(lastEhloAuth(LOGIN)).toEqual(['PLAIN', 'LOGIN']);
    expect(lastEhloAuth('=== Connection refused')).toBeUndefined();
    expect(lastEhloAuth(PLAIN_EHLO.replace('250-SIZE 52428800', '250-AUTH PLAIN LOGIN'))).toEqual(['PLAIN', 'LOGIN']);
  });

  it('hides what a login sends (PLAIN in one line, LOGIN after each 334 challenge)', () => {
    const plain = redactAuth(' ~> AUTH PLAIN AHRlc3RlcgB3cm9uZy1wYXNz\n<~* 535 Incorrect authentication data');
    expect(plain).toBe(' ~> AUTH PLAIN ****\n<~* 535 Incorrect authentication data');
    const login = redactAuth(LOGIN);
    expect(login).toContain('<~  334 VXNlcm5hbWU6');
    expect(login).toContain('<~  235 Authentication succeeded');
    const sentAfterChallenge = login.split('\n').filter((l, i, all) => /^\s*~> /.test(l) && /334/.test(all[i - 1] ?? ''));
    expect(sentAfterChallenge).toEqual([' ~> ****', ' ~> ****']);
    expect(login).not.toContain('dGVzdGVy'); // "tester" in base64
  });
});

describe('the password file', () => {
  const hash = '$6$1ju4TxPUbj51jLli$K4ZB9NeO5QiwJZ1tPAln3tipEQAjAzrMLCjrraI/MpweL9MmcayHmcrIv1hUOEgkABe6O60cUt.ZHsjInjBsb1';
  it('adds, changes and removes logins; refuses a second add and a passwd of nobody', () => {
    const one = setPassword('', 'tester', hash, 'add');
    expect(one).toContain(`\ntester: {crypt}${hash}\n`);
    expect(parsePasswd(one)).toEqual([{ name: 'tester', hash }]);
    expect(() => setPassword(one, 'tester', hash, 'add')).toThrow(/already has a login/);
    expect(() => setPassword(one, 'other', hash, 'passwd')).toThrow(/has no login/);
    const changed = setPassword(one, 'tester', hash.replace('b1', 'c2'), 'passwd');
    expect(parsePasswd(changed)[0].hash.endsWith('c2')).toBe(true);
    expect(parsePasswd(removeLogin(changed, 'tester'))).toEqual([]);
  });
  it('refuses names lsearch could misread and passwords a line cannot carry', () => {
    for (const bad of ['a:b', 'a b', '', 'Root', '-x']) expect(() => checkLoginName(bad)).toThrow(/not a login name/);
    expect(checkLoginName('exim-test')).toBe('exim-test');
    expect(checkLoginName('exim-test@st14.sne24.ru')).toBe('exim-test@st14.sne24.ru');
    expect(() => checkPassword('short')).toThrow(/shorter than 8/);
    expect(() => checkPassword('long enough\nsecond line')).toThrow(/line break/);
  });
});

describe("submission-login's throwaway password", () => {
  it('never starts with "-", which swaks would take for an option (exit 1)', () => {
    const samples = Array.from({ length: 2000 }, throwawayPassword);
    expect(samples.filter((p) => p.startsWith('-'))).toEqual([]);
    expect(new Set(samples).size).toBe(samples.length);
    expect(samples.every((p) => p.length >= 16)).toBe(true);
  });
});

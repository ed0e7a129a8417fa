import { describe, expect, it } from 'vitest';
import { appendFile, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MailboxFollower } from '../../../src/drill/mailbox-follower.js';
import { attemptLine } from '../../../src/lab/hosts/logs.js';
import { daneLogFacts } from '../../../src/config/tlsa.js';
import { readAuthResults, readSpoofLog } from '../../../src/lab/drills/spoof.js';

// Lines recorded from the lab's main logs (Exim 4.98.2 --with dmarc, log_selector +dnssec).
const ST14_REFUSED = [
  '2026-11-28 10:13:31.892 SPF fail for st18.sne24.ru from 10.203.14.100',
  "2026-11-28 10:13:31.919 1xXFQx-0000000010d-3omb DMARC results: spf_domain=st18.sne24.ru dmarc_domain=st18.sne24.ru spf_align=no dkim_align=no enforcement='Reject'",
  '2026-11-28 10:13:31.921 1xXFQx-0000000010d-3omb H=(client.lab) [10.203.14.100] F=<mohamed@st18.sne24.ru> rejected after DATA: Rejected by the DMARC policy of st18.sne24.ru (reject): neither SPF nor DKIM vouches for this message (Reject)',
].join('\n');
const ST18_DANE = [
  '2026-11-28 10:31:02.100 1xXFl3-000000008OX-0lYu == ahmed@st14.sne24.ru R=backup_mx T=remote_smtp defer (-37) H=mail.st14.sne24.ru DS [10.203.14.14]: TLS session: (SSL_connect): error:0A000086:SSL routines::certificate verify failed',
  '2026-11-28 10:31:06.200 1xXFl3-000000008OX-0lYu => ahmed@st14.sne24.ru R=backup_mx T=remote_smtp H=mail.st14.sne24.ru DS [10.203.14.14] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=dane DN="/CN=mail.st14.sne24.ru" K',
].join('\n');

describe('spoof drill: reading what st14 said', () => {
  it('SPF, DMARC and the refusal from the main log', () => {
    expect(readSpoofLog(ST14_REFUSED, 'st18.sne24.ru', '10.203.14.100')).toEqual({
      spf: 'fail',
      dmarc: 'fail',
      refusal: 'Rejected by the DMARC policy of st18.sne24.ru (reject): neither SPF nor DKIM vouches for this message (Reject)',
    });
  });
  it('an aligned result is a pass; another client address is not this spoof', () => {
    const aligned = ST14_REFUSED.replace('dkim_align=no', 'dkim_align=yes');
    expect(readSpoofLog(aligned, 'st18.sne24.ru', '10.203.14.100').dmarc).toBe('pass');
    expect(readSpoofLog(ST14_REFUSED, 'st18.sne24.ru', '10.203.14.18').spf).toBeUndefined();
  });
  it("Exim's Authentication-Results header, folded as delivered", () => {
    expect(readAuthResults('mail.st14.sne24.ru;\n\tspf=fail smtp.mailfrom=st18.sne24.ru;\n\tdmarc=fail header.from=st18.sne24.ru')).toEqual({ spf: 'fail', dmarc: 'fail' });
    expect(readAuthResults(undefined)).toEqual({});
  });
});

describe('dane drill: the partner\'s delivery attempts', () => {
  it('the deferral and the delivery to the host address', () => {
    expect(attemptLine(ST18_DANE, '10.203.14.14', '==')).toMatch(/certificate verify failed$/);
    expect(attemptLine(ST18_DANE, '10.203.14.14', '=>')).toMatch(/ DS \[10\.203\.14\.14\] .* CV=dane /);
    expect(attemptLine(ST18_DANE, '10.203.14.18', '=>')).toBeUndefined();
    expect(daneLogFacts(attemptLine(ST18_DANE, '10.203.14.14', '=>')!)).toEqual({ secured: true, dane: true });
    // A later message on the same connection: '*' after the address, CV=no.
    expect(daneLogFacts(ST18_DANE.replace('] X=', ']* X=').replace('CV=dane', 'CV=no'))).toEqual({ secured: true, dane: false });
  });
});

describe('following a mailbox during a drill', () => {
  const message = (id: string, body = 'hello\n') => `From mohamed@st18.sne24.ru Sat Nov 28 13:00:00 2026\nMessage-ID: <${id}>\nSubject: backup-mx drill\n\n${body}\n`;
  it('reads only what was appended, counts a message being written, and never twice', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'labctl-mbox-'));
    const file = path.join(dir, 'ahmed');
    try {
      // Mail from before the drill, under the drill's own prefix: only the start offset keeps it out.
      await writeFile(file, message('labrun-new-0@client.lab') + message('labrun-old-2@client.lab'));
      const f = await MailboxFollower.fromEndOf(file, 'labrun-new');
      expect(await f.ids()).toEqual([]);
      // One complete message, another other run's, and one whose headers are written but not its body.
      const partial = message('labrun-new-2@client.lab', 'a long body\n');
      await appendFile(file, message('labrun-new-1@client.lab') + message('other-1@client.lab') + partial.slice(0, partial.indexOf('\n\n') + 1));
      expect(await f.ids()).toEqual(['labrun-new-1@client.lab', 'labrun-new-2@client.lab']);
      // What a poll has counted complete is not read again: changing those bytes changes nothing.
      const text = await readFile(file, 'utf8');
      const fh = await open(file, 'r+');
      await fh.write('LABRUN-NEW-1', Buffer.byteLength(text.slice(0, text.indexOf('labrun-new-1'))));
      await fh.close();
      expect(await f.ids()).toEqual(['labrun-new-1@client.lab', 'labrun-new-2@client.lab']);
      await appendFile(file, partial.slice(partial.indexOf('\n\n') + 1) + message('labrun-new-3@client.lab'));
      expect(await f.ids()).toEqual(['labrun-new-1@client.lab', 'labrun-new-2@client.lab', 'labrun-new-3@client.lab']);
      expect(await f.ids()).toEqual(['labrun-new-1@client.lab', 'labrun-new-2@client.lab', 'labrun-new-3@client.lab']);
      // A duplicate delivery shows as a repeat.
      await appendFile(file, message('labrun-new-1@client.lab'));
      expect(await f.ids()).toHaveLength(4);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

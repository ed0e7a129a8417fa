import { describe, expect, it } from 'vitest';
import { formatTranscript, splitReplies, Transcript } from '../../../src/verify/transcript.js';
import { pairReplies } from '../../../src/verify/host-check.js';

describe('transcript formatting (swaks markers)', () => {
  it('marks direction and TLS the way swaks does', () => {
    const t = new Transcript();
    t.info('Connected to 127.0.0.1.');
    t.recv('220 mail.st14.sne24.ru ESMTP Exim 4.96', false);
    t.send('EHLO client.invalid', false);
    t.recv('250-mail.st14.sne24.ru Hello\n250-STARTTLS\n250 HELP', false);
    t.send('STARTTLS', false);
    t.recv('220 TLS go ahead', false);
    t.info('TLS started with cipher TLSv1.3:TLS_AES_256_GCM_SHA384');
    t.send('EHLO client.invalid', true);
    t.recv('250 HELP', true);
    t.error('Connection closed unexpectedly');
    expect(t.toString()).toBe(
      [
        '=== Connected to 127.0.0.1.',
        ' <- 220 mail.st14.sne24.ru ESMTP Exim 4.96',
        ' -> EHLO client.invalid',
        ' <- 250-mail.st14.sne24.ru Hello',
        ' <- 250-STARTTLS',
        ' <- 250 HELP',
        ' -> STARTTLS',
        ' <- 220 TLS go ahead',
        '=== TLS started with cipher TLSv1.3:TLS_AES_256_GCM_SHA384',
        ' ~> EHLO client.invalid',
        ' <~ 250 HELP',
        '*** Connection closed unexpectedly',
      ].join('\n'),
    );
  });

  it('strips CR, keeps empty body lines without trailing blanks', () => {
    expect(formatTranscript([{ kind: 'send', tls: true, text: 'Subject: x\r\n\r\nbody\r\n' }])).toBe(' ~> Subject: x\n ~>\n ~> body');
  });

  it('splits raw server output into multi-line replies by the final line', () => {
    const replies = splitReplies('220 hi\r\n250-a\r\n250-b\r\n250 c\r\n550 relay not permitted\r\n');
    expect(replies.map((r) => r.code)).toEqual([220, 250, 550]);
    expect(replies[1].text).toBe('250-a\n250-b\n250 c');
  });

  it('pairs exim -bh replies with the commands that caused them', () => {
    const out = '\n**** SMTP testing session\n\n220 vm ESMTP\n250-vm Hello\n250 HELP\n250 OK\n550 relay not permitted\n221 bye\n';
    const { greeting, replies } = pairReplies(['EHLO x', 'MAIL FROM:<a@b>', 'RCPT TO:<c@d>', 'QUIT'], out);
    expect(greeting?.code).toBe(220);
    expect(replies.map((r) => [r.command, r.reply?.code])).toEqual([
      ['EHLO x', 250],
      ['MAIL FROM:<a@b>', 250],
      ['RCPT TO:<c@d>', 550],
      ['QUIT', 221],
    ]);
  });
});

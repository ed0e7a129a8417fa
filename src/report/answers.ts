/**
 * The text labctl writes around the evidence: the write-up's questions (6a, 6b, 15) answered,
 * and short explanations where the write-up went wrong (SMTPS is 465; STARTTLS upgrades the
 * same connection on 25 or 587; a connect-time ACL cannot test for TLS; the sender, not the DNS
 * server, walks the MX list).
 */

export const ANSWER_6A = [
  'SMTPS (implicit TLS) starts TLS the moment the TCP connection opens, on port 465, before any SMTP is spoken. ' +
    'STARTTLS starts as plaintext SMTP on port 25 (mail between servers) or 587 (submission by mail clients); the server offers STARTTLS in its EHLO reply, ' +
    'the client sends STARTTLS, and that same connection is upgraded to TLS, after which the client says EHLO again.',
  'Once TLS is up both are equally strong: same protocol versions, ciphers and certificates. The difference is the plaintext start of STARTTLS: ' +
    'someone on the path can remove the STARTTLS offer or make the command fail, and a client that does not insist on TLS then carries on in clear (a downgrade). ' +
    'Implicit TLS has no such step, so for submission SMTPS on 465 is the better choice (RFC 8314 recommends it over STARTTLS on 587). ' +
    'Between mail servers there is no implicit-TLS port: MX delivery always uses port 25, so STARTTLS is the only choice there, ' +
    'and it is protected against downgrade by requiring TLS for known peers, or by MTA-STS or DANE.',
];

export const ANSWER_6B =
  'Between mail servers, which is what this lab does when one host relays to the other, STARTTLS on port 25 is used. ' +
  'The transcript below shows it: the server lists STARTTLS in its EHLO reply, the client sends STARTTLS, and the rest of the session ' +
  '(lines marked ~> and <~) runs inside TLS on the same connection. SMTPS on 465 is used only by clients submitting mail (check 7a-smtps).';

export const ANSWER_15 = [
  'SPF publishes in a DNS TXT record which addresses may send mail for the domain named in the envelope sender (MAIL FROM, or HELO). ' +
    'It is simple (one record, no change to outgoing mail) and lets a receiver refuse a forged sender before the message is even sent. ' +
    'But it checks only the envelope sender, not the From: header people read; it fails when mail is forwarded, because the forwarder is not in the record; ' +
    'and a record may use at most 10 DNS lookups.',
  'DKIM signs chosen headers (always From:) and the body with a private key whose public half is published in DNS. ' +
    'The signature survives forwarding and proves the message was not changed on the way. ' +
    'But it needs key management on the sending server (generating, protecting and rotating keys), mailing lists that edit the subject or body break it, ' +
    'and a valid signature does not say which servers may send for the domain nor stop a signed message from being replayed.',
  'At first glance I would choose DKIM: it survives forwarding and protects the content. In practice the two complement each other and are deployed together, ' +
    'with DMARC on top to tie them to the From: domain the reader sees.',
];

export const MX_ORDER = [
  'Each domain publishes two MX records: its own mail host at preference 10 and the partner\'s at preference 20. ' +
    'The DNS server returns both every time; it is the sending server that tries them in order, lowest preference first, ' +
    'and moves to the preference-20 host only when the preference-10 host does not answer.',
  'The backup accepts mail for its partner\'s domain only because that domain is in its relay_to_domains (check 5a-backup-relay), ' +
    'while a third party\'s domain is still refused (check relay-refused). It cannot deliver the mail itself: its dnslookup router drops MX records at or below ' +
    'its own preference, so it keeps the message in its queue and retries the preference-10 host by its retry rules until that host is back.',
];

export const ANSWER_4C =
  'Nothing happens at once, and that is by design: the backup tries the primary again only when the retry rule allows it (the retry time in its hints) and a queue runner starts (the daemon\'s -q interval). ' +
  'Bringing the primary back does not tell the backup anything; the message arrives at the first queue run after the retry time, or at once with a forced run (exim -qff, labctl queue flush). ' +
  'labctl queue why ID on the backup says which rule applies and when the next try is.';

export const DRILL_EXPLAINED =
  'The drill repeats 4b, 4c, 5b and 5c: the primary\'s daemon is stopped, messages are sent to its domain through an MX lookup, they land on the backup (queue listing and log lines below), ' +
  'the primary is started again and the backup delivers them, either at its next retry (4c) or at once with a forced queue run, exim -qff (5c; -qff also forces frozen messages and ignores retry times). ' +
  'The primary\'s mailbox is then counted by unique Message-ID: none lost, none duplicated.';

export const TLS_SETUP =
  'STARTTLS needs a certificate and key (tls_certificate, tls_privatekey) and tls_advertise_hosts; SMTPS additionally needs port 465 both in daemon_smtp_ports and in tls_on_connect_ports ' +
  '(the second alone opens nothing).';

export const TLS_REQUIRED = [
  'Closing port 25 is not a way to refuse plaintext: other mail servers deliver only to port 25, and SMTPS is port 465 (not 456). ' +
    'A connect-time ACL cannot test for TLS either: on port 25 or 587 STARTTLS only comes after EHLO, so at connect time no TLS has been negotiated and $tls_cipher is always empty there.',
  'Exim refuses plaintext in the MAIL (or RCPT) ACL, after STARTTLS has had its chance (acl_smtp_mail = acl_check_mail, below). ' +
    'The check below sends MAIL FROM on a plaintext session (refused with a 5xx reply) and the same transaction after STARTTLS (accepted).',
];

/** A modifier's value runs to the end of its line, so the condition needs a line of its own. */
export const TLS_REQUIRED_ACL = [
  'acl_check_mail:',
  '  deny    message = Encryption required: use STARTTLS',
  '          ! encrypted = *',
  '  accept',
].join('\n');

export const RECEIVED_EXPLAINED =
  'The Received header the receiving server added records the encryption: "with ESMTPS" (ESMTP over TLS) and the protocol and cipher in the tls= part.';

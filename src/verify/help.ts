/**
 * What `labctl verify --help` shows at startup, without loading the checks: their ids, in the
 * catalogue's order (test/unit/verify/report.test.ts holds catalogue.ts to this list), and the
 * default time limit per check.
 */
export const CHECK_IDS = [
  '1a-no-other-mta', '1b-current-release', '1c-signature', '1d-build-options', 'install-version', 'sendmail-link', 'daemon-listening',
  '3a-route-local', '3b-local-delivery', '3c-postmaster', '4a-dns-mx', '5a-backup-relay', 'relay-refused',
  // One side of a real pair: the partner, as DNS and its SMTP show it.
  'partner-mx', 'partner-rcpt', 'partner-starttls', 'partner-etrn',
  '6-starttls', '7a-smtps', '7b-tls-required', 'tls-policy', 'submission-auth-tls', 'submission-login', 'submission-relay-refused',
  'spf-record', 'dkim-signature', 'queue', 'paniclog-empty',
  // Beyond the write-up: the records receivers and senders check a mail domain by.
  'dmarc-record', 'dmarc-result', 'tls-rpt', 'mta-sts', 'ptr', 'dkim-key-match', 'dane-tlsa',
] as const;

export const DEFAULT_TIMEOUT_MS = 10_000;

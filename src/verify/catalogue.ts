import { buildOptions, currentRelease, daemonListening, installVersion, noOtherMta, sendmailLink, signature } from './checks/install.js';
import { dnsMx } from './checks/dns.js';
import { queue } from './checks/queue.js';
import { paniclogEmpty } from './checks/logs.js';
import { submissionAuthTls, submissionLogin, submissionRelayRefused } from './checks/submission.js';
import { backupRelay, relayRefused } from './checks/relay.js';
import { localDelivery, postmaster, routeLocal } from './checks/routing.js';
import { dkimSignature, spfRecord } from './checks/spf-dkim.js';
import { smtps, startTls, tlsRequired } from './checks/tls.js';
import { tlsPolicy } from './checks/tls-policy.js';
import { daneTlsa } from './checks/dane.js';
import { dkimKeyMatch } from './checks/dkim-key.js';
import { dmarcRecord, mtaSts, tlsRpt } from './checks/policy-records.js';
import { ptr } from './checks/ptr.js';
import { dmarcResult } from './checks/dmarc-result.js';
import { partnerEtrn, partnerMx, partnerRcpt, partnerStartTls } from './checks/partner.js';
import type { CheckDef } from './types.js';

/** Every check, in the order of the lab's tasks; ids name the task they prove. */
export const CATALOGUE: readonly CheckDef[] = [
  noOtherMta,
  currentRelease,
  signature,
  buildOptions,
  installVersion,
  sendmailLink,
  daemonListening,
  routeLocal,
  localDelivery,
  postmaster,
  dnsMx,
  backupRelay,
  relayRefused,
  // One side of a real pair: the partner, as DNS and its SMTP show it.
  partnerMx,
  partnerRcpt,
  partnerStartTls,
  partnerEtrn,
  startTls,
  smtps,
  tlsRequired,
  tlsPolicy,
  submissionAuthTls,
  submissionLogin,
  submissionRelayRefused,
  spfRecord,
  dkimSignature,
  queue,
  paniclogEmpty,
  // Beyond the write-up: the records receivers and senders check a mail domain by.
  dmarcRecord,
  dmarcResult,
  tlsRpt,
  mtaSts,
  ptr,
  dkimKeyMatch,
  daneTlsa,
];

export { CHECK_IDS } from './help.js';

/**
 * The host under test, as every check and the facts cache see it. Kept apart from the check
 * contract (types.ts), which needs the facts cache, which needs this.
 */
import type { HostModel } from '../config/model.js';
import type { HostView } from '../system/hostview.js';

/** Everything the checks need to know about the host under test. */
export interface VerifyTarget {
  /** Lab host name (st14); undefined for the machine itself. Names the evidence records. */
  name?: string;
  /** Address the SMTP checks connect to. */
  address: string;
  /** Port for plain SMTP and STARTTLS; SMTPS and submission come from Exim's own settings. */
  smtpPort: number;
  /** Overrides the SMTPS port found in Exim's tls_on_connect_ports. */
  smtpsPort?: number;
  domain: string;
  /** Local user whose mailbox receives the test messages and postmaster's mail. */
  user: string;
  /** Domains this host is backup MX for (5a). */
  partnerDomains: string[];
  /**
   * The partner's mail host in a pair (`--partner HOST`, else the model's partner; a backup MX
   * alone does not make one): the partner-* checks ask it over DNS and SMTP. Undefined: they skip.
   */
  partner?: string;
  /** A domain that is neither local nor a partner's, for the open-relay test. */
  thirdPartyDomain: string;
  /** A client address outside relay_from_hosts, for `exim -bh` (5a, relay-refused). */
  outsideAddress: string;
  /** DNS server to query (4a, SPF, DKIM); undefined = the system resolver. */
  dnsServer?: string;
  /** Address the host's Exim can reach this process at (the DKIM check's receiving end). */
  probeAddress: string;
  /** Local address to bind SMTP clients to, when the lab needs one. */
  localAddress?: string;
  /** Exim binary path inside the view. */
  eximBinary: string;
  /** The lab model of this host, when labctl configure stored one. */
  model?: HostModel;
  /** Where labctl's state lives (install.json), as this process sees it. */
  stateDir: string;
  /** A CA certificate (PEM file) the TLS checks trust besides the system store: the lab CA, or --ca FILE. */
  caFile?: string;
  view: HostView;
  /** What only the two-host lab can give (beyond the write-up): a validating resolver and a partner that sends; undefined off the lab. */
  lab?: LabSide;
}

/** A message a partner host sent to this one, as the partner logged it and as this host delivered it. */
export interface PartnerDelivery {
  partner: string;
  /** The partner's address and HELO name, and the envelope sender: what SPF is judged on. */
  ip: string;
  helo: string;
  sender: string;
  /** The partner's main log line for the delivery (=> ... H=... [address]:25 ... CV=...). */
  logLine?: string;
  /** The message as delivered into the mailbox (headers, blank line, body). */
  message?: string;
  error?: string;
}

export interface LabSide {
  /** The lab's validating resolver (sets AD on validated answers). */
  resolver: string;
  /** One message from the partner to this host, sent once per target and shared by the checks that need it. */
  partnerDelivery(): Promise<PartnerDelivery>;
}

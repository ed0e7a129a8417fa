/**
 * The typed payloads: structured data a producer saves in a record's `data` item and the report
 * reads. Each has one slot (record area/id and item label); the producer writes it with
 * `payloadItem`, the report reads it with `readPayload`, and both import the type from here.
 * A stored payload of another shape (a damaged file, an older labctl) reads as undefined, and
 * the report then shows the record's items as recorded.
 */
import type { LabSpec, LabState } from '../state/lab.js';
import type { SignatureRecord } from '../source/signature.js';
import { CHECK_STATUSES, type CheckResult, type EvidenceArea, type EvidenceItem, type EvidenceRecord } from './types.js';

/** install/1c-signature: the verified signature, exactly as install keeps it in install.json. */
export type Signature = SignatureRecord;

/** lab/topology: the lab `lab up` built. */
export interface Topology {
  spec: LabSpec;
  /** Per mail host, the model's values: mail host name, domain, users, postmaster, DKIM selector. */
  hosts: LabState['hosts'];
  /** The network namespaces it made. */
  namespaces: string[];
}

/** Exactly what `lab drill backup-mx --json` prints. */
export interface BackupDrillFigures {
  sent: number;
  heldOnBackup: number;
  delivered: number;
  lost: number;
  duplicates: number;
  /**
   * Seconds the mail waited on the backup: in the namespace lab from the first acceptance to the
   * primary's return; between two machines the longest wait read from the messages' own Received:
   * headers (heldPerMessage has each).
   */
  heldSeconds: number;
  recoverySeconds: number;
}

export interface BackupDrillMessage {
  messageId: string;
  /** Epoch ms: accepted from the client (by whichever MX took it). */
  sent?: number;
  acceptedBy?: string;
  /** Epoch ms (from the backup's log, +millisec): received and held on the backup. */
  held?: number;
  /** Epoch ms (from the primary's log, +millisec): received by the primary. */
  delivered?: number;
}

/**
 * Where a forced backup-MX delivery spends its time, read from the two main
 * logs after the primary's return: the backup sending (its `=>` lines to the primary), the primary
 * accepting (`<=` lines of the drill's messages) and the primary delivering locally (`=>` lines of
 * local_delivery). Each phase: how many lines, first and last time, and the rate between them.
 */
export interface LogPhase {
  count: number;
  /** Seconds from the first to the last line of the phase. */
  seconds: number;
  /** Messages per second over the phase (count / seconds; count when seconds is 0). */
  rate: number;
  /** Epoch ms of the first and last line. */
  first: number;
  last: number;
}

export interface LogPhases {
  backupSend?: LogPhase;
  primaryAccept?: LogPhase;
  primaryDeliver?: LogPhase;
  /** From the backup's first send to the primary's last local delivery: the drill's end-to-end rate. */
  endToEnd?: LogPhase;
}


/**
 * The machine's ceiling for the forced delivery: the CPU one message cost (both hosts' Exims, the
 * resolver, and the drill's own polling of the mailbox, all on this one machine), and the rate
 * that cost allows with every core busy. An end-to-end rate near the ceiling is CPU-bound: only
 * less work per message raises it, not more runners.
 */
export interface CpuCeiling {
  cpuMsPerMessage: number;
  /** Share of all cores that was busy during the forced delivery (0-1). */
  busyShare: number;
  cores: number;
  /** Messages per second at 100% of every core: cores / CPU per message. */
  ceiling: number;
}

/** drill/backup-mx: two data items, the figures and the timeline. */
export interface BackupDrill {
  figures: BackupDrillFigures & {
    /** Seconds each phase took: stopPrimary, send, held, startPrimary, forcedDelivery or retryDelivery. */
    phases: Record<string, number>;
    /** Messages per second the backup accepted during the outage. */
    acceptRate: number;
    forced: boolean;
    primary: string;
    backup: string;
    /** Per phase from the main logs: the backup sending, the primary accepting and delivering. */
    logPhases?: LogPhases;
    /** Forced delivery: CPU per message and the machine's ceiling. */
    cpu?: CpuCeiling;
    /** Where it ran: the namespace lab (labctl controls both hosts) or two real machines (labctl drill). */
    world?: 'namespace' | 'machines';
    /** How the backup was made to deliver: its queue runner and retry rule (4c), exim -qff, or ETRN from the primary (5c). */
    flush?: 'retry' | 'qff' | 'etrn';
    /** Per message, the seconds it waited on the backup, from its own Received: headers (real machines). */
    heldPerMessage?: number[];
  };
  timeline: {
    runId: string;
    /** Epoch ms: the primary's daemon stopped, and started again. */
    downAt: number;
    returnedAt: number;
    messages: BackupDrillMessage[];
  };
}

/** drill/tls: the drill's checks as the verify runner returned them, and the hosts they ran between. */
export interface TlsDrill {
  /** The host the mail goes to (and that is switched to TLS-required mode). */
  primary: string;
  /** The host that sends to it (and signs with DKIM). */
  peer: string;
  checks: CheckResult[];
  passed: number;
  failed: number;
  warned: number;
  skipped: number;
}

/** drill/wire: what the capture showed for each of the three messages (src/drill/wire-analysis.ts). */
export interface WireDrill {
  tls: { markerFound: boolean; plainCommands: string[]; tlsVersion?: string; cipher?: string; onlyTlsAfterStartTls: boolean; ok: boolean };
  plain: { markerFound: boolean; packet?: number; offset?: number; ok: boolean };
  smtps: { markerFound: boolean; plainCommands: string[]; tlsFromFirstByte: boolean; tlsVersion?: string; cipher?: string; ok: boolean };
  pcap: string;
  /** tshark's one line per packet: the write-up's screenshot, as text. */
  summary: string[];
  ok: boolean;
}

/** drill/spoof and drill/spoof-monitor: exactly what `lab drill spoof --json` prints (src/lab/drills/spoof.ts). */
export interface SpoofDrill {
  sent: number;
  refused: number;
  delivered: number;
  spf: string;
  dkim: string;
  dmarc: string;
  enforced: boolean;
  /** Exim's refusal, from the main log. */
  reason?: string;
  ok: boolean;
}

/** drill/dane: the certificate swap, the deferral it causes, the republished TLSA and the delivery after it (src/lab/drills/dane.ts). */
export interface DaneDrill {
  primary: string;
  peer: string;
  /** TLSA served before the republish, and the one the new certificate needs. */
  staleTlsa: { served: string[]; wanted: string; stale: boolean };
  deferred: { ok: boolean; afterMs: number; reason?: string };
  republished: { ok: boolean; afterMs: number };
  delivered: { ok: boolean; afterMs: number; dane: boolean; logLine?: string };
  ok: boolean;
}

export interface Payloads {
  spoofDrill: SpoofDrill;
  spoofMonitorDrill: SpoofDrill;
  daneDrill: DaneDrill;
  wireDrill: WireDrill;
  signature: Signature;
  topology: Topology;
  backupFigures: BackupDrill['figures'];
  backupTimeline: BackupDrill['timeline'];
  tlsDrill: TlsDrill;
}

export type PayloadName = keyof Payloads;

/**
 * Where each payload lives: its record and the label of its data item. `alsoIn`: other records
 * that carry the same payload (the backup drill's 4c run is kept beside its 5c run, not over it).
 */
export const PAYLOAD_SLOTS: Record<PayloadName, { area: EvidenceArea; id: string; label: string; alsoIn?: readonly string[] }> = {
  signature: { area: 'install', id: '1c-signature', label: 'signature' },
  topology: { area: 'lab', id: 'topology', label: 'topology' },
  backupFigures: { area: 'drill', id: 'backup-mx', label: 'figures', alsoIn: ['backup-mx-retry'] },
  backupTimeline: { area: 'drill', id: 'backup-mx', label: 'timeline', alsoIn: ['backup-mx-retry'] },
  tlsDrill: { area: 'drill', id: 'tls', label: 'checks' },
  wireDrill: { area: 'drill', id: 'wire', label: 'wire drill' },
  spoofDrill: { area: 'drill', id: 'spoof', label: 'spoof drill' },
  spoofMonitorDrill: { area: 'drill', id: 'spoof-monitor', label: 'spoof drill' },
  daneDrill: { area: 'drill', id: 'dane', label: 'dane drill' },
};

// ---- shape checks: what a stored payload must hold to be read as its type ----

type Test = (v: unknown) => boolean;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str: Test = (v) => typeof v === 'string';
const num: Test = (v) => typeof v === 'number' && Number.isFinite(v);
const bool: Test = (v) => typeof v === 'boolean';
const optional = (t: Test): Test => (v) => v === undefined || t(v);
const arrayOf = (t: Test): Test => (v) => Array.isArray(v) && v.every(t);
const recordOf = (t: Test): Test => (v) => isObj(v) && Object.values(v).every(t);
const shape = (fields: Record<string, Test>): Test => (v) => isObj(v) && Object.entries(fields).every(([k, t]) => t(v[k]));

const item: Test = shape({ kind: str, label: str, command: optional(str), exitCode: optional(num), text: optional(str) });

const spoofShape = shape({ sent: num, refused: num, delivered: num, spf: str, dkim: str, dmarc: str, enforced: bool, reason: optional(str), ok: bool });

const SHAPES: Record<PayloadName, Test> = {
  spoofDrill: spoofShape,
  spoofMonitorDrill: spoofShape,
  daneDrill: shape({
    primary: str, peer: str,
    staleTlsa: shape({ served: arrayOf(str), wanted: str, stale: bool }),
    deferred: shape({ ok: bool, afterMs: num, reason: optional(str) }),
    republished: shape({ ok: bool, afterMs: num }),
    delivered: shape({ ok: bool, afterMs: num, dane: bool, logLine: optional(str) }),
    ok: bool,
  }),
  wireDrill: shape({
    tls: shape({ markerFound: bool, plainCommands: arrayOf(str), tlsVersion: optional(str), cipher: optional(str), onlyTlsAfterStartTls: bool, ok: bool }),
    plain: shape({ markerFound: bool, packet: optional(num), offset: optional(num), ok: bool }),
    smtps: shape({ markerFound: bool, plainCommands: arrayOf(str), tlsFromFirstByte: bool, tlsVersion: optional(str), cipher: optional(str), ok: bool }),
    pcap: str, summary: arrayOf(str), ok: bool,
  }),
  signature: shape({
    signer: str, primaryFingerprint: str, signingKeyFingerprint: str, bySubkey: bool, created: str, trustedAs: str, keyringFingerprints: arrayOf(str),
  }),
  topology: shape({
    spec: shape({
      subnet: str, dnsAddress: str, resolverAddress: optional(str), clientAddress: str, queueInterval: str, retryRule: str,
      hosts: arrayOf(shape({ name: str, domain: str, address: str, users: arrayOf(str), mailHost: optional(str), backupFor: optional(arrayOf(str)) })),
    }),
    hosts: recordOf(shape({ mailHost: str, domain: str, users: arrayOf(str), postmaster: str, dkimSelector: str })),
    namespaces: arrayOf(str),
  }),
  backupFigures: shape({
    sent: num, heldOnBackup: num, delivered: num, lost: num, duplicates: num, heldSeconds: num, recoverySeconds: num,
    phases: recordOf(num), acceptRate: num, forced: bool, primary: str, backup: str,
  }),
  backupTimeline: shape({
    runId: str, downAt: num, returnedAt: num,
    messages: arrayOf(shape({ messageId: str, sent: optional(num), acceptedBy: optional(str), held: optional(num), delivered: optional(num) })),
  }),
  tlsDrill: shape({
    primary: str, peer: str, passed: num, failed: num, warned: num, skipped: num,
    checks: arrayOf(shape({ id: str, title: str, status: (s) => (CHECK_STATUSES as readonly unknown[]).includes(s), summary: str, ms: num, evidence: arrayOf(item) })),
  }),
};

/** Whether data has the shape of the named payload (what readPayload would accept). */
export function payloadFits(name: PayloadName, data: unknown): boolean {
  return SHAPES[name](data);
}

/** The data item a producer saves a payload as. */
export function payloadItem<N extends PayloadName>(name: N, data: Payloads[N]): EvidenceItem {
  return { kind: 'data', label: PAYLOAD_SLOTS[name].label, data };
}

/** Whether an item of a record is where the named payload lives (whatever it holds). */
export function isPayloadSlot(record: EvidenceRecord, item: EvidenceItem, name: PayloadName): boolean {
  const slot = PAYLOAD_SLOTS[name];
  return record.area === slot.area && (record.id === slot.id || !!slot.alsoIn?.includes(record.id)) && item.kind === 'data' && item.label === slot.label;
}

/** A record's payload; undefined when the record has none or it has another shape. */
export function readPayload<N extends PayloadName>(record: EvidenceRecord | undefined, name: N): Payloads[N] | undefined {
  if (!record) return undefined;
  const found = (record.evidence ?? []).find((i) => isPayloadSlot(record, i, name));
  return found && payloadFits(name, found.data) ? (found.data as Payloads[N]) : undefined;
}

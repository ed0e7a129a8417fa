/**
 * The TLS drill's scene: which host receives, which sends, the addresses and run id, and the one
 * message the peer sends the primary over the lab (TLS session cache cleared first, so the
 * handshake is a full, verified one), with the log lines and mailbox copy it left. Several of
 * the drill's checks (src/lab/drills/tls-checks.ts) read that one delivery; tests give the scene
 * a delivery of their own.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { removePath } from '../../system/files.js';
import { waitUntil } from '../../system/procs.js';
import { logSize, mailboxMessage, mainlogSince } from '../hosts/logs.js';
import { newRunId } from '../../drill/send.js';
import { sendFromHost, type SendOutcome } from '../hosts/send.js';
import type { LabState } from '../state.js';
import { labPaths, type LabMailHostSpec } from '../topology.js';

/** The peer's message to the primary, sent once for the checks that read it. */
export interface Delivery {
  sent: SendOutcome['records'][number];
  message?: { headers: string; body: string };
  peerLog: string;
  primaryLog: string;
}

/** What the drill's checks share. */
export interface TlsDrillScene {
  state: LabState;
  /** Receives the mail, and is switched to TLS-required mode. */
  primary: LabMailHostSpec;
  /** Sends to it, signing with DKIM. */
  peer: LabMailHostSpec;
  from: string;
  to: string;
  runId: string;
  delivery: () => Promise<Delivery>;
}

type Deliver = (s: Omit<TlsDrillScene, 'delivery'>) => Promise<Delivery>;

/** The scene of one drill run; `deliver` (the real peer -> primary send by default) runs at most once. */
export function tlsDrillScene(state: LabState, primary: LabMailHostSpec, peer: LabMailHostSpec, deliver: Deliver = deliverOverLab): TlsDrillScene {
  const user = state.hosts[primary.name]!.users[0]!;
  const scene = {
    state,
    primary,
    peer,
    to: `${user}@${primary.domain}`,
    from: `${state.hosts[peer.name]!.users[0]}@${peer.domain}`,
    runId: newRunId(),
  };
  let delivered: Promise<Delivery> | undefined;
  return { ...scene, delivery: () => (delivered ??= deliver(scene)) };
}

/** Removes the TLS session cache so the next connection does a full, verified handshake. */
async function clearTlsCache(host: LabMailHostSpec): Promise<void> {
  const db = path.join(labPaths.host(host.name).spool, 'db');
  for (const f of await fs.readdir(db).catch(() => [] as string[])) if (f.startsWith('tls')) await removePath(path.join(db, f));
}

async function deliverOverLab(s: Omit<TlsDrillScene, 'delivery'>): Promise<Delivery> {
  const user = s.to.split('@')[0]!;
  await clearTlsCache(s.peer);
  const peerLog0 = await logSize(s.peer);
  const primaryLog0 = await logSize(s.primary);
  const sent = await sendFromHost(s.peer, { from: s.from, to: s.to, count: 1, runId: s.runId, subject: 'tls drill' });
  await waitUntil(async () => (await mailboxMessage(s.primary, user, s.runId)) !== undefined, 15000, 100);
  return {
    sent: sent.records[0]!,
    message: await mailboxMessage(s.primary, user, s.runId),
    peerLog: await mainlogSince(s.peer, peerLog0),
    primaryLog: await mainlogSince(s.primary, primaryLog0),
  };
}

import chalk from 'chalk';
import { namespaceExists } from '../system/netns.js';
import { daemonPid, listeningPorts, queueCount } from './hosts/daemon.js';
import { answers, dnsServerPid } from './services/bind.js';
import type { LabState } from './state.js';
import { members, mailHostName } from './topology.js';

/** `labctl lab status`: what runs where, as data (for --json) and as a table. */
export interface MemberStatus {
  name: string;
  namespace: string;
  address: string;
  kind: string;
  namespaceUp: boolean;
  hostName?: string;
  daemon?: { pid?: number; ports: number[] };
  queue?: number;
  dnsAnswers?: boolean;
}

export interface LabStatus {
  up: true;
  upAt: string;
  healthy: boolean;
  members: MemberStatus[];
}

export async function labStatus(state: LabState): Promise<LabStatus> {
  const out: MemberStatus[] = [];
  for (const m of members(state.spec)) {
    const s: MemberStatus = { name: m.name, namespace: m.ns, address: m.address, kind: m.kind, namespaceUp: await namespaceExists(m.ns) };
    const host = state.spec.hosts.find((h) => h.name === m.name);
    if (host && s.namespaceUp) {
      s.hostName = mailHostName(host);
      s.daemon = { pid: await daemonPid(host), ports: await listeningPorts(host) };
      s.queue = await queueCount(host);
    }
    if (m.kind === 'dns') {
      s.daemon = { pid: await dnsServerPid(), ports: [] };
      s.dnsAnswers = s.namespaceUp && (await answers(state.spec));
      if (s.dnsAnswers) s.daemon.ports = [53];
    }
    out.push(s);
  }
  const healthy = out.every((m) => m.namespaceUp && (m.kind === 'client' || Boolean(m.daemon?.pid)) && m.dnsAnswers !== false);
  return { up: true, upAt: state.upAt, healthy, members: out };
}

export function printStatus(st: LabStatus): void {
  console.log(`lab: up since ${st.upAt}${st.healthy ? '' : chalk.red(' (not healthy)')}`);
  console.log(`${'host'.padEnd(8)} ${'address'.padEnd(15)} ${'name'.padEnd(22)} ${'daemon'.padEnd(22)} queue`);
  for (const m of st.members) {
    const daemon =
      m.kind === 'client' ? '-' : m.daemon?.pid ? chalk.green(`pid ${m.daemon.pid} :${m.daemon.ports.join(',')}`) : chalk.red('not running');
    const name = m.hostName ?? (m.kind === 'dns' ? `named${m.dnsAnswers ? '' : chalk.red(' (no answer)')}` : m.kind);
    console.log(`${m.name.padEnd(8)} ${m.address.padEnd(15)} ${name.padEnd(22)} ${daemon.padEnd(22)} ${m.queue ?? '-'}`);
  }
}

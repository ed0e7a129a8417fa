/**
 * The two pictures as Mermaid diagrams for the Markdown report (rendered by the Markdown viewer,
 * e.g. a forge's file view): the topology as a flowchart, the drill as a Gantt chart.
 */
import type { TopologyView } from './topology.js';
import { ordered } from './svg-topology.js';
import { heldFrom, type DrillTimeline } from './timeline.js';

/** Mermaid node ids: letters, digits and underscores only. */
const nodeId = (s: string) => `n_${s.replace(/[^A-Za-z0-9]/g, '_')}`;
/** Text inside a quoted Mermaid label. */
const label = (s: string) => s.replace(/"/g, '#quot;').replace(/[<>]/g, (c) => (c === '<' ? '#lt;' : '#gt;'));

const ROLE_LABEL = { dns: 'DNS server (BIND)', client: 'third-party client', mail: 'Exim mail host' } as const;

export function topologyMermaid(topo: TopologyView): string {
  const out = ['flowchart TB'];
  const bus = ['lab bridge', topo.subnet].filter(Boolean).join(' · ');
  out.push(`  subgraph lab["${label(bus)}"]`);
  for (const h of ordered(topo.hosts)) {
    const parts = [h.name, h.address, h.mailHost ?? h.domain, h.users.length ? `users: ${h.users.join(', ')}` : ROLE_LABEL[h.role]].filter(Boolean) as string[];
    out.push(`    ${nodeId(h.name)}["${parts.map(label).join('<br/>')}"]`);
  }
  out.push('  end');
  const domains = [...new Set(topo.mx.map((m) => m.domain))];
  for (const d of domains) out.push(`  ${nodeId(`zone_${d}`)}(["zone ${label(d)}"])`);
  for (const m of topo.mx) {
    if (!m.host) continue;
    const best = Math.min(...topo.mx.filter((x) => x.domain === m.domain).map((x) => x.preference));
    const arrow = m.preference === best ? '-->' : '-.->';
    out.push(`  ${nodeId(`zone_${m.domain}`)} ${arrow}|"MX ${m.preference}"| ${nodeId(m.host)}`);
  }
  return out.join('\n');
}

export function timelineMermaid(tl: DrillTimeline): string {
  const times = (pick: (m: DrillTimeline['messages'][number]) => number | undefined) =>
    tl.messages.map(pick).filter((t): t is number => t !== undefined);
  // A span is drawn at least minMs wide, so a burst within a few milliseconds stays visible.
  const span = (name: string, tag: string, from: number[], to: number[], minMs: number) => {
    if (!from.length || !to.length) return [];
    const a = Math.min(...from), b = Math.max(...to);
    return [`    ${name} :${tag ? `${tag}, ` : ''}${a}, ${Math.max(b, a + minMs)}`];
  };
  const sent = times((m) => m.sent);
  const held = times(heldFrom);
  const delivered = times((m) => m.delivered);
  const out = [
    'gantt',
    `  title Backup-MX drill: ${tl.messages.length} messages`,
    '  dateFormat x',
    '  axisFormat %H:%M:%S',
  ];
  if (tl.outage) {
    out.push('  section Primary');
    out.push(`    primary down :crit, ${tl.outage.from}, ${Math.max(tl.outage.to ?? tl.end, tl.outage.from + 1)}`);
  }
  out.push('  section Messages');
  out.push(...span(`sent (${sent.length})`, '', sent, sent, 100));
  out.push(...span(`held on the backup (${held.length})`, 'active', held, delivered.length ? delivered : held, 1000));
  out.push(...span(`delivered (${delivered.length})`, 'done', delivered, delivered, 1000));
  if (tl.events.length) {
    out.push('  section Events');
    for (const e of tl.events) out.push(`    ${e.label.replace(/[:#;]/g, ' ')} :milestone, ${e.at}, ${e.at + 1}`);
  }
  return out.join('\n');
}

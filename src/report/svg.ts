/**
 * The two pictures as inline SVG, drawn by labctl so the HTML report needs nothing from the
 * network: the lab topology (hosts on the bridge, zones and their MX preferences) and the
 * backup-MX drill's timeline (messages sent, held on the backup, delivered, over time).
 */
import type { TopologyHost, TopologyView } from './topology.js';
import { countSeries, type DrillTimeline } from './timeline.js';

export const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const r1 = (n: number) => Math.round(n * 10) / 10;

const COLORS = {
  ink: '#1f2933',
  muted: '#52606d',
  line: '#9aa5b1',
  mail: '#e6f0fb',
  mailStroke: '#2f6fb2',
  dns: '#eef7ec',
  dnsStroke: '#3f8f3a',
  client: '#f5f0fa',
  clientStroke: '#7a4fa3',
  sent: '#2f6fb2',
  held: '#d9822b',
  delivered: '#2e8540',
  outage: '#f9e0e0',
};

function hostStyle(h: TopologyHost): { fill: string; stroke: string; label: string } {
  switch (h.role) {
    case 'dns':
      return { fill: COLORS.dns, stroke: COLORS.dnsStroke, label: 'DNS server (BIND)' };
    case 'client':
      return { fill: COLORS.client, stroke: COLORS.clientStroke, label: 'third-party client' };
    case 'mail':
      return { fill: COLORS.mail, stroke: COLORS.mailStroke, label: 'Exim mail host' };
    default:
      return { fill: '#f5f7fa', stroke: COLORS.line, label: '' };
  }
}

/** Hosts left to right: DNS server, mail hosts (adjacent, so MX arrows stay short), client, rest. */
export function ordered(hosts: TopologyHost[]): TopologyHost[] {
  const rank = { dns: 0, mail: 1, client: 2 } as const;
  return [...hosts].sort((a, b) => rank[a.role] - rank[b.role] || a.name.localeCompare(b.name));
}

export function topologySvg(topo: TopologyView, id = 'topology-svg'): string {
  const hosts = ordered(topo.hosts);
  const width = 860;
  const n = Math.max(hosts.length, 1);
  const gap = 24;
  const boxW = Math.min(200, (width - 40 - gap * (n - 1)) / n);
  const boxH = 92;
  const rowW = n * boxW + (n - 1) * gap;
  const x0 = (width - rowW) / 2;
  const zoneY = 18, zoneH = 30;
  const hostY = 130;
  const busY = hostY + boxH + 46;
  const height = busY + 48;
  const cx = (i: number) => x0 + i * (boxW + gap) + boxW / 2;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" id="${esc(id)}" class="picture" role="img" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="system-ui, sans-serif" font-size="13">`,
    `<title>Lab topology: hosts, addresses and MX preferences</title>`,
    `<defs><marker id="${esc(id)}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${COLORS.mailStroke}"/></marker></defs>`,
  );

  // The bridge every host hangs on.
  out.push(`<line x1="${r1(x0 - 10)}" y1="${busY}" x2="${r1(x0 + rowW + 10)}" y2="${busY}" stroke="${COLORS.ink}" stroke-width="4" stroke-linecap="round"/>`);
  const busLabel = ['lab bridge', topo.subnet].filter(Boolean).join(' · ');
  out.push(`<text x="${width / 2}" y="${busY + 24}" text-anchor="middle" fill="${COLORS.muted}">${esc(busLabel)} (no route out of the lab)</text>`);

  hosts.forEach((h, i) => {
    const x = x0 + i * (boxW + gap);
    const st = hostStyle(h);
    out.push(`<line x1="${r1(cx(i))}" y1="${hostY + boxH}" x2="${r1(cx(i))}" y2="${busY}" stroke="${COLORS.line}" stroke-width="2"/>`);
    out.push(`<rect x="${r1(x)}" y="${hostY}" width="${r1(boxW)}" height="${boxH}" rx="8" fill="${st.fill}" stroke="${st.stroke}" stroke-width="1.5"/>`);
    const lines = [
      { t: h.name, bold: true },
      { t: h.address ?? '', bold: false },
      { t: h.mailHost ?? h.domain ?? '', bold: false },
      { t: h.users.length ? `users: ${h.users.join(', ')}` : st.label, bold: false },
    ].filter((l) => l.t);
    lines.forEach((l, k) => {
      out.push(
        `<text x="${r1(cx(i))}" y="${hostY + 24 + k * 19}" text-anchor="middle" fill="${COLORS.ink}"${l.bold ? ' font-weight="bold" font-size="15"' : ''}>${esc(fit(l.t, boxW))}</text>`,
      );
    });
  });

  // Zones above their preference-10 host, arrows to each MX with its preference.
  const domains = [...new Set(topo.mx.map((m) => m.domain))];
  const indexOf = (name: string | undefined) => hosts.findIndex((h) => h.name === name);
  domains.forEach((domain, d) => {
    const recs = topo.mx.filter((m) => m.domain === domain).sort((a, b) => a.preference - b.preference);
    const primary = indexOf(recs[0]?.host);
    const zx = primary >= 0 ? cx(primary) : x0 + (d + 0.5) * (rowW / Math.max(domains.length, 1));
    const zw = Math.min(boxW + 10, 210);
    out.push(`<rect x="${r1(zx - zw / 2)}" y="${zoneY}" width="${r1(zw)}" height="${zoneH}" rx="15" fill="#fff" stroke="${COLORS.mailStroke}" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${r1(zx)}" y="${zoneY + 20}" text-anchor="middle" fill="${COLORS.ink}">${esc(fit(`zone ${domain}`, zw))}</text>`);
    for (const rec of recs) {
      const target = indexOf(rec.host);
      if (target < 0) continue;
      const tx = cx(target) + (target === primary ? 0 : (target > primary ? -boxW / 4 : boxW / 4));
      const sx = zx + (target === primary ? 0 : (target > primary ? zw / 4 : -zw / 4));
      const backup = target !== primary;
      out.push(
        `<line x1="${r1(sx)}" y1="${zoneY + zoneH}" x2="${r1(tx)}" y2="${hostY - 2}" stroke="${COLORS.mailStroke}" stroke-width="${backup ? 1.5 : 2.5}"${backup ? ' stroke-dasharray="6 4"' : ''} marker-end="url(#${esc(id)}-arrow)"/>`,
      );
      // Backup labels sit near the arrow's end, away from where the two backup arrows cross.
      const lx = sx + (tx - sx) * (backup ? 0.72 : 0.5);
      const ly = zoneY + zoneH + (hostY - zoneY - zoneH) * (backup ? 0.72 : 0.5);
      out.push(
        `<text x="${r1(lx + (backup ? 0 : 8))}" y="${r1(ly + 4)}" text-anchor="${backup ? 'middle' : 'start'}" fill="${COLORS.mailStroke}" font-weight="bold" paint-order="stroke" stroke="#fff" stroke-width="4">MX ${rec.preference}</text>`,
      );
    }
  });
  out.push('</svg>');
  return out.join('\n');
}

/** Shortens text that would overflow a box of `width` pixels (about 7 px per character). */
function fit(text: string, width: number): string {
  const max = Math.max(6, Math.floor((width - 12) / 7));
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function niceStep(range: number, target: number): number {
  const raw = range / Math.max(target, 1);
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

export function timelineSvg(tl: DrillTimeline, id = 'timeline-svg'): string {
  const width = 860, height = 360;
  const left = 56, right = 24, top = 48, bottom = 64;
  const plotW = width - left - right, plotH = height - top - bottom;
  const series = countSeries(tl);
  const spanMs = Math.max(tl.end - tl.start, 1000);
  const maxCount = Math.max(1, tl.messages.length, ...series.map((p) => Math.max(p.sent, p.held, p.delivered)));
  const x = (ms: number) => left + (ms / spanMs) * plotW;
  const y = (c: number) => top + plotH - (c / maxCount) * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" id="${esc(id)}" class="picture" role="img" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<title>Backup-MX drill: messages sent, held on the backup and delivered over time</title>`,
  );
  // The primary's outage.
  if (tl.outage) {
    const from = x(Math.max(0, tl.outage.from - tl.start));
    const to = x(Math.min(spanMs, (tl.outage.to ?? tl.end) - tl.start));
    out.push(`<rect x="${r1(from)}" y="${top}" width="${r1(Math.max(to - from, 1))}" height="${plotH}" fill="${COLORS.outage}"/>`);
    out.push(`<text x="${r1((from + to) / 2)}" y="${top + 16}" text-anchor="middle" fill="#9b2c2c">primary down</text>`);
  }
  // Axes and grid.
  const yStep = niceStep(maxCount, 5);
  for (let c = 0; c <= maxCount + 1e-9; c += yStep) {
    out.push(`<line x1="${left}" y1="${r1(y(c))}" x2="${left + plotW}" y2="${r1(y(c))}" stroke="#e4e7eb"/>`);
    out.push(`<text x="${left - 8}" y="${r1(y(c) + 4)}" text-anchor="end" fill="${COLORS.muted}">${Math.round(c)}</text>`);
  }
  const spanS = spanMs / 1000;
  const xStep = niceStep(spanS, 8);
  for (let s = 0; s <= spanS + 1e-9; s += xStep) {
    out.push(`<line x1="${r1(x(s * 1000))}" y1="${top + plotH}" x2="${r1(x(s * 1000))}" y2="${top + plotH + 5}" stroke="${COLORS.muted}"/>`);
    out.push(`<text x="${r1(x(s * 1000))}" y="${top + plotH + 18}" text-anchor="middle" fill="${COLORS.muted}">${xStep < 1 ? s.toFixed(1) : Math.round(s)}</text>`);
  }
  out.push(`<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="${COLORS.ink}"/>`);
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="${COLORS.ink}"/>`);
  out.push(`<text x="${left + plotW / 2}" y="${height - 26}" text-anchor="middle" fill="${COLORS.ink}">seconds since the drill started (${esc(new Date(tl.start).toISOString().replace('T', ' ').slice(0, 19))} UTC)</text>`);
  out.push(`<text x="14" y="${top + plotH / 2}" text-anchor="middle" fill="${COLORS.ink}" transform="rotate(-90 14 ${top + plotH / 2})">messages</text>`);
  // Events as dashed verticals, labels staggered so neighbours do not overlap.
  tl.events.forEach((e, i) => {
    const ex = x(e.at - tl.start);
    out.push(`<line x1="${r1(ex)}" y1="${top}" x2="${r1(ex)}" y2="${top + plotH}" stroke="${COLORS.muted}" stroke-dasharray="3 3"/>`);
    // Labels near a side of the plot are anchored to that side so they stay inside the picture.
    const anchor = ex > left + plotW * 0.85 ? 'end' : ex < left + plotW * 0.15 ? 'start' : 'middle';
    out.push(`<text x="${r1(ex)}" y="${top - 8 - (i % 2) * 14}" text-anchor="${anchor}" fill="${COLORS.muted}">${esc(e.label)}</text>`);
  });
  // The three step lines.
  const step = (key: 'sent' | 'held' | 'delivered') => {
    let d = '';
    series.forEach((p, i) => {
      const px = r1(x(p.t)), py = r1(y(p[key]));
      d += i === 0 ? `M${px},${py}` : ` H${px} V${py}`;
    });
    d += ` H${r1(left + plotW)}`;
    return d;
  };
  const lines: ['sent' | 'held' | 'delivered', string, string][] = [
    ['sent', COLORS.sent, 'sent'],
    ['held', COLORS.held, 'held on the backup'],
    ['delivered', COLORS.delivered, 'delivered to the primary'],
  ];
  // Sent is drawn wide and pale underneath: while the primary is down it runs along "held".
  for (const [key, color] of lines) {
    const wide = key === 'sent';
    out.push(`<path d="${step(key)}" fill="none" stroke="${color}" stroke-width="${wide ? 6 : 2.5}"${wide ? ' stroke-opacity="0.45"' : ''} stroke-linejoin="round" data-series="${key}"/>`);
  }
  // Legend.
  lines.forEach(([, color, label], i) => {
    const lx = left + i * 200;
    out.push(`<line x1="${lx}" y1="${height - 8}" x2="${lx + 24}" y2="${height - 8}" stroke="${color}" stroke-width="${i === 0 ? 6 : 3}"${i === 0 ? ' stroke-opacity="0.45"' : ''}/>`);
    out.push(`<text x="${lx + 30}" y="${height - 4}" fill="${COLORS.ink}">${esc(label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

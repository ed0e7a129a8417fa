/** The lab topology as inline SVG: hosts on the bridge, zones and their MX preferences. */
import { COLORS, esc, fit, r1 } from './svg.js';
import type { TopologyHost, TopologyView } from './topology.js';

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

/** The backup-MX drill's timeline as inline SVG: messages sent, held on the backup, delivered, over time. */
import { COLORS, esc, r1 } from './svg.js';
import { countSeries, type DrillTimeline } from './timeline.js';

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

/**
 * What the report's two inline SVG pictures share (src/report/svg-topology.ts, the lab topology,
 * and src/report/svg-timeline.ts, the backup-MX drill's timeline): escaping, rounding, the
 * palette and text fitting. labctl draws them itself so the HTML report needs nothing from the
 * network.
 */
export const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export const r1 = (n: number) => Math.round(n * 10) / 10;

export const COLORS = {
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

/** Shortens text that would overflow a box of `width` pixels (about 7 px per character). */
export function fit(text: string, width: number): string {
  const max = Math.max(6, Math.floor((width - 12) / 7));
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

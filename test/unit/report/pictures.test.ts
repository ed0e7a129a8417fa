import { beforeAll, describe, expect, it } from 'vitest';
import { payloadItem, type Topology } from '../../../src/evidence/payloads.js';
import type { EvidenceRecord } from '../../../src/evidence/store.js';
import { countSeries, timelineFrom } from '../../../src/report/timeline.js';
import { topologyFrom } from '../../../src/report/topology.js';
import { timelineSvg } from '../../../src/report/svg-timeline.js';
import { topologySvg } from '../../../src/report/svg-topology.js';
import { timelineMermaid, topologyMermaid } from '../../../src/report/mermaid.js';
import { fixtureRecords, DRILL_MESSAGE_ID } from './fixture-store.js';

let records: EvidenceRecord[];
beforeAll(async () => {
  records = await fixtureRecords();
});
const rec = (area: string, id: string) => records.find((r) => r.area === area && r.id === id && !r.host)!;

describe('topology', () => {
  it('reads hosts, addresses and MX preferences from the lab record as lab up stores it', () => {
    const t = topologyFrom(rec('lab', 'topology'))!;
    expect(t.subnet).toBe('10.203.14.0/24');
    expect(t.hosts.map((h) => [h.name, h.role, h.address])).toEqual([
      ['st14', 'mail', '10.203.14.14'],
      ['st18', 'mail', '10.203.14.18'],
      ['dns', 'dns', '10.203.14.53'],
      ['client', 'client', '10.203.14.100'],
    ]);
    expect(t.hosts[0]!.mailHost).toBe('mail.st14.sne24.ru');
    expect(t.hosts[0]!.users).toEqual(['ahmed']);
    expect(t.mx.map((m) => `${m.domain} ${m.preference} ${m.exchange} ${m.host}`)).toEqual([
      'st14.sne24.ru 10 mail.st14.sne24.ru st14',
      'st14.sne24.ru 20 mail.st18.sne24.ru st18',
      'st18.sne24.ru 10 mail.st18.sne24.ru st18',
      'st18.sne24.ru 20 mail.st14.sne24.ru st14',
    ]);
  });

  it('honours backupFor', () => {
    const payload: Topology = {
      spec: {
        subnet: '10.0.0.0/24', dnsAddress: '10.0.0.53', clientAddress: '10.0.0.100', queueInterval: '1m', retryRule: 'F,1h,5s',
        hosts: [
          { name: 'a', domain: 'a.test', address: '10.0.0.1', users: [], backupFor: [] },
          { name: 'b', domain: 'b.test', address: '10.0.0.2', users: [], backupFor: ['a'] },
        ],
      },
      hosts: {},
      namespaces: [],
    };
    const oneWay = topologyFrom({ area: 'lab', id: 'topology', title: 't', status: 'changed', at: '2025-01-01T00:00:00Z', evidence: [payloadItem('topology', payload)] })!;
    expect(oneWay.mx.map((m) => `${m.domain} ${m.preference} ${m.host}`)).toEqual(['a.test 10 a', 'a.test 20 b', 'b.test 10 b']);
  });

  it('is undefined for a record without hosts', () => {
    expect(topologyFrom(undefined)).toBeUndefined();
    expect(topologyFrom({ area: 'lab', id: 'topology', title: '', status: 'changed', at: '', evidence: [{ kind: 'text', label: 'x', text: 'y' }] })).toBeUndefined();
  });

  it('draws an SVG with every host, address and MX preference, escaped', () => {
    const t = topologyFrom(rec('lab', 'topology'))!;
    const svg = topologySvg(t);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" id="topology-svg"[^>]* viewBox="0 0 860 \d+" width="860" height="\d+"/);
    for (const text of ['st14', '10.203.14.14', 'mail.st18.sne24.ru', '10.203.14.53', '10.203.14.100', 'zone st14.sne24.ru']) expect(svg).toContain(text);
    expect(svg.match(/>MX 10</g)).toHaveLength(2);
    expect(svg.match(/>MX 20</g)).toHaveLength(2);
    expect(svg.match(/stroke-dasharray="6 4"/g)).toHaveLength(2);
    const hostile = topologySvg({ hosts: [{ name: 'a<b>&"', role: 'mail', users: [] }], mx: [] });
    expect(hostile).toContain('a&lt;b&gt;&amp;&quot;');
    expect(hostile).not.toContain('a<b>');
  });

  it('writes a Mermaid flowchart with solid MX 10 and dashed MX 20 edges', () => {
    const m = topologyMermaid(topologyFrom(rec('lab', 'topology'))!);
    expect(m.split('\n')[0]).toBe('flowchart TB');
    expect(m).toContain('n_zone_st14_sne24_ru -->|"MX 10"| n_st14');
    expect(m).toContain('n_zone_st14_sne24_ru -.->|"MX 20"| n_st18');
    expect(m).toContain('n_st14["st14<br/>10.203.14.14<br/>mail.st14.sne24.ru<br/>users: ahmed"]');
  });
});

describe('drill timeline', () => {
  it('reads figures, messages and events', () => {
    const tl = timelineFrom(rec('drill', 'backup-mx'))!;
    expect(tl.figures).toEqual({ sent: 20, heldOnBackup: 20, delivered: 20, lost: 0, duplicates: 0, heldSeconds: 12, recoverySeconds: 1.3 });
    expect(tl.messages).toHaveLength(20);
    expect(tl.messages[0]!.messageId).toBe(DRILL_MESSAGE_ID);
    expect(tl.events.map((e) => e.label)).toEqual(['st14 stopped', 'st14 started again']);
    expect(tl.outage!.to! - tl.outage!.from).toBe(12_500);
  });

  it('counts sent, held and delivered over time', () => {
    const series = countSeries(timelineFrom(rec('drill', 'backup-mx'))!);
    expect(series[0]).toEqual({ t: 0, sent: 0, held: 0, delivered: 0 });
    expect(Math.max(...series.map((p) => p.held))).toBe(20);
    expect(series.at(-1)).toMatchObject({ sent: 20, held: 0, delivered: 20 });
    for (let i = 1; i < series.length; i++) {
      expect(series[i]!.t).toBeGreaterThanOrEqual(series[i - 1]!.t);
      expect(series[i]!.delivered).toBeGreaterThanOrEqual(series[i - 1]!.delivered);
    }
  });

  it('reads the typed timeline: times in epoch ms, a time not logged left out', () => {
    const base = { area: 'drill' as const, id: 'backup-mx', title: '', status: 'pass' as const, at: '2025-11-27T20:00:00.000Z' };
    const t0 = Date.parse('2025-11-27T20:00:00.000Z');
    const tl = timelineFrom({
      ...base,
      evidence: [payloadItem('backupTimeline', { runId: 'r', downAt: t0, returnedAt: t0 + 5000, messages: [
        { messageId: 'a@x', sent: t0 + 1000, held: t0 + 1500, delivered: t0 + 9000 },
        { messageId: 'b@x', sent: t0 + 1100 },
      ] })],
    })!;
    expect(tl.messages).toEqual([
      { messageId: 'a@x', sent: t0 + 1000, held: t0 + 1500, delivered: t0 + 9000 },
      { messageId: 'b@x', sent: t0 + 1100, held: undefined, delivered: undefined },
    ]);
    expect(tl.events.map((e) => e.label)).toEqual(['primary stopped', 'primary started again']);
    expect(tl.outage).toEqual({ from: t0, to: t0 + 5000 });
    expect(timelineFrom({ ...base, evidence: [{ kind: 'data', label: 'figures', data: { sent: 3 } }] })).toBeUndefined();
  });

  it('draws an SVG with the outage, three series and a legend', () => {
    const svg = timelineSvg(timelineFrom(rec('drill', 'backup-mx'))!);
    expect(svg).toMatch(/^<svg [^>]*id="timeline-svg"[^>]* width="860" height="360"/);
    for (const s of ['sent', 'held', 'delivered']) expect(svg).toContain(`data-series="${s}"`);
    expect(svg).toContain('>primary down<');
    expect(svg).toContain('>st14 started again<');
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
  });

  it('writes a Mermaid Gantt chart with the outage and the message spans', () => {
    const m = timelineMermaid(timelineFrom(rec('drill', 'backup-mx'))!);
    expect(m).toMatch(/^gantt\n/);
    expect(m).toContain('dateFormat x');
    expect(m).toMatch(/primary down :crit, \d{13}, \d{13}/);
    expect(m).toMatch(/held on the backup \(20\) :active, \d{13}, \d{13}/);
    expect(m).toMatch(/delivered \(20\) :done, \d{13}, \d{13}/);
    expect(m).not.toMatch(/NaN|undefined/);
  });
});

/** The lab's pure functions: spec validation, the exec argv, log receptions, the reverse zone, a host's model. */
import { describe, expect, it } from 'vitest';
import { reverseZoneBody, reverseZoneName } from '../../../src/lab/services/bind.js';
import { labExecArgv } from '../../../src/lab/hosts/exec.js';
import { labModel, labPublicSuffixes } from '../../../src/lab/hosts/prepare.js';
import { receptions } from '../../../src/lab/hosts/logs.js';
import type { LabState } from '../../../src/lab/state.js';
import { DEFAULT_LAB, checkSpec, drillPair, names, partnerOf, type LabSpec } from '../../../src/lab/topology.js';

const spec = (change: (s: LabSpec) => void = () => {}): LabSpec => {
  const s = structuredClone(DEFAULT_LAB);
  change(s);
  return s;
};

describe('checkSpec', () => {
  it('accepts the default two-host lab', () => {
    expect(checkSpec(spec()).hosts.map((h) => h.name)).toEqual(['st14', 'st18']);
  });

  it.each([
    ['a subnet that is not a /24', (s: LabSpec) => (s.subnet = '10.203.0.0/16'), /not an IPv4 \/24/],
    ['a public subnet', (s: LabSpec) => (s.subnet = '8.8.8.0/24'), /not a private range/],
    ['an address outside the subnet', (s: LabSpec) => (s.dnsAddress = '10.9.9.9'), /outside the lab subnet/],
    ['an address used twice', (s: LabSpec) => (s.clientAddress = s.dnsAddress), /used twice/],
    ['a reserved host name', (s: LabSpec) => (s.hosts[0]!.name = 'dns'), /not dns\/client\/sw/],
    ['a host without users', (s: LabSpec) => (s.hosts[0]!.users = []), /at least one user/],
    ['a backupFor that is not another host', (s: LabSpec) => (s.hosts[0]!.backupFor = [s.hosts[0]!.name]), /is not another lab host/],
    ['a queue interval that is not an interval', (s: LabSpec) => (s.queueInterval = 'soon'), /queueInterval "soon"/],
  ])('refuses %s', (_what, change, message) => {
    expect(() => checkSpec(spec(change))).toThrow(message);
  });
});

describe('labExecArgv', () => {
  const state = { spec: spec() } as LabState;

  it('enters the client and DNS namespaces directly, a shell by default', () => {
    expect(labExecArgv(state, 'client', ['dig', 'mx'])).toEqual(['netns', 'exec', names.clientNs, 'dig', 'mx']);
    expect(labExecArgv(state, 'dns', [])).toEqual(['netns', 'exec', names.dnsNs, '/bin/sh']);
  });

  it("enters a mail host's view (its namespace, private mounts, its host name) by name or domain", () => {
    const argv = labExecArgv(state, 'st18.sne24.ru', ['exim', '-bp']);
    expect(argv.slice(0, 4)).toEqual(['netns', 'exec', names.hostNs('st18'), 'unshare']);
    expect(argv).toContain('mail.st18.sne24.ru');
    expect(argv.slice(-2)).toEqual(['exim', '-bp']);
  });

  it('names the hosts there are when asked for one that is not', () => {
    expect(() => labExecArgv(state, 'st99', [])).toThrow(/no lab host "st99"/);
  });
});

describe('receptions', () => {
  const log = [
    '2026-11-28 07:00:00.100 1xXA-000001-AA <= a@st18.sne24.ru H=x [10.203.14.18] P=esmtps S=500 id=drill-1@labctl',
    '2026-11-28 07:00:00.200 1xXA-000002-AA <= a@st18.sne24.ru H=x [10.203.14.18] P=esmtps S=500 id=other-1@x',
    '2026-11-28 07:00:00.300 1xXA-000001-AA => u <u@st14.sne24.ru> R=localuser',
    '2026-11-28 07:00:01.400 1xXA-000003-AA <= a@st18.sne24.ru H=x [10.203.14.18] P=esmtps S=500 id=drill-1@labctl',
  ].join('\n');

  it('keeps the first reception of each message id with the drill prefix, with its time to the millisecond', () => {
    const r = receptions(`${log}\n2026-11-28 07:00:01.600 1xXA-000004-AA <= a@st18.sne24.ru H=x [10.203.14.18] P=esmtps S=500 id=drill-2@labctl`, 'drill-');
    expect([...r.keys()]).toEqual(['drill-1@labctl', 'drill-2@labctl']);
    expect(r.get('drill-1@labctl')!.line).toContain('1xXA-000001-AA');
    expect(r.get('drill-2@labctl')!.at - r.get('drill-1@labctl')!.at).toBe(1500);
  });
});

describe('the reverse zone', () => {
  it('names the zone after the /24 and has one PTR per address', () => {
    expect(reverseZoneName('10.203.14.0/24')).toBe('14.203.10.in-addr.arpa');
    expect(reverseZoneBody([{ address: '10.203.14.14', name: 'mail.st14.sne24.ru' }, { address: '10.203.14.53', name: 'ns.st14.sne24.ru' }])).toBe(
      '14 IN PTR mail.st14.sne24.ru.\n53 IN PTR ns.st14.sne24.ru.\n',
    );
  });
});

describe("a lab host's model", () => {
  it('backs up the other host, is backed up by it, and takes the lab queue interval and retry rule', () => {
    const s = spec();
    const m = labModel(s, s.hosts[0]!);
    expect(m.domain).toBe('st14.sne24.ru');
    expect(m.backupFor.map((b) => b.domain)).toEqual(['st18.sne24.ru']);
    expect(m.backupMx).toEqual(['mail.st18.sne24.ru']);
    expect(m.queueInterval).toBe(s.queueInterval);
    expect(m.tls).toBe('starttls+smtps');
    expect(labModel(s, s.hosts[0]!, 'required').tls).toBe('required');
  });

  it('backs up nobody when backupFor is empty', () => {
    const s = spec((x) => (x.hosts[0]!.backupFor = []));
    expect(labModel(s, s.hosts[0]!).backupFor).toEqual([]);
    expect(labModel(s, s.hosts[1]!).backupMx).toEqual([]);
  });
});

describe("the lab's public suffix list (DMARC)", () => {
  it('one suffix, the parent zone\'s parent, so each domain\'s organisational domain is the parent zone', () => {
    const text = labPublicSuffixes(spec())!;
    expect(text.split('\n').filter((l) => l && !l.startsWith('//'))).toEqual(['ru']);
    expect(text).toContain('parent zone sne24.ru');
  });
  it('none when the lab\'s domains share no parent zone', () => {
    expect(labPublicSuffixes(spec((x) => (x.hosts[1]!.domain = 'st18.other.org')))).toBeUndefined();
  });
});

describe('the two hosts of a drill', () => {
  it('the first host and its backup MX', () => {
    const p = drillPair(spec(), 'backup-mx', { backupRequired: true });
    expect([p.primary.name, p.partner.name]).toEqual(['st14', 'st18']);
  });
  it('without a backup: the next host, unless the drill needs the backup', () => {
    const s = spec((x) => {
      for (const h of x.hosts) h.backupFor = [];
    });
    expect(drillPair(s, 'TLS').partner.name).toBe('st18');
    expect(() => drillPair(s, 'backup-mx', { backupRequired: true })).toThrow(/^no lab host is backup MX for st14\.sne24\.ru$/);
  });
  it("each host's partner for verify --lab: st14's backup is st18 and st18's is st14", () => {
    const s = spec();
    expect(partnerOf(s, s.hosts[0]!)).toMatchObject({ host: { name: 'st18' }, backs: true });
    expect(partnerOf(s, s.hosts[1]!)).toMatchObject({ host: { name: 'st14' }, backs: true });
    expect(partnerOf(spec((x) => x.hosts.splice(1)), s.hosts[0]!)).toBeUndefined();
  });
  it('one host is not enough', () => {
    expect(() => drillPair(spec((x) => x.hosts.splice(1)), 'wire')).toThrow(/^the wire drill needs two mail hosts$/);
  });
});

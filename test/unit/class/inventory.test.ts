import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { backups, buildInventory, parsePlaces, parseStudents, renderInventory, type ClassInput } from '../../../src/class/inventory.js';
import { labctlHere, repoRoot } from '../../helpers/cli.js';

const base: ClassInput = { students: [1, 2, 3, 4], domainTemplate: 'st{n}.sne24.ru', pairing: 'pairs', subnet: '10.77.0.0/24' };
const partnerOf = (input: ClassInput) => Object.fromEntries(buildInventory(input).students.map((s) => [s.name, s.vars.labctl_partner_host]));
const mx20Of = (input: ClassInput) => Object.fromEntries(buildInventory(input).students.map((s) => [s.name, s.vars.labctl_mx.find((m) => m.priority === 20)!.host]));

describe('class inventory: pairing', () => {
  it('pairs: 1 and 2 back each other up, 3 and 4; MX 20 is the partner', () => {
    expect(partnerOf(base)).toEqual({ st1: 'st2', st2: 'st1', st3: 'st4', st4: 'st3' });
    expect(mx20Of(base)).toEqual({ st1: 'mail.st2.sne24.ru', st2: 'mail.st1.sne24.ru', st3: 'mail.st4.sne24.ru', st4: 'mail.st3.sne24.ru' });
  });

  it('ring: each backs up the next, and MX 20 is the one before', () => {
    const ring = { ...base, pairing: 'ring' as const };
    expect(partnerOf(ring)).toEqual({ st1: 'st2', st2: 'st3', st3: 'st4', st4: 'st1' });
    expect(mx20Of(ring)).toEqual({ st1: 'mail.st4.sne24.ru', st2: 'mail.st1.sne24.ru', st3: 'mail.st2.sne24.ru', st4: 'mail.st3.sne24.ru' });
  });

  it('an odd class in pairs ends in a ring of three: nobody backs up themselves or goes without', () => {
    expect(partnerOf({ ...base, students: [1, 2, 3, 4, 5] })).toEqual({ st1: 'st2', st2: 'st1', st3: 'st4', st4: 'st5', st5: 'st3' });
    for (const count of [2, 3, 5, 7, 40]) {
      for (const pairing of ['pairs', 'ring'] as const) {
        const b = backups(count, pairing);
        expect(b).toHaveLength(count);
        expect(new Set(b.map(([backer]) => backer)).size).toBe(count);
        expect(new Set(b.map(([, backed]) => backed)).size).toBe(count);
        expect(b.every(([x, y]) => x !== y)).toBe(true);
      }
    }
  });

  it('host vars: domain, mail host, own MX 10, addresses from the subnet, the DNS server', () => {
    const inv = buildInventory({ ...base, students: [14, 18] });
    expect(inv.students[0]).toEqual({
      name: 'st14',
      vars: {
        ansible_host: '10.77.0.11', labctl_student: 14, labctl_domain: 'st14.sne24.ru', labctl_mail_host: 'mail.st14.sne24.ru', labctl_address: '10.77.0.11',
        labctl_partner: 'st18.sne24.ru', labctl_partner_host: 'st18', labctl_partner_mail_host: 'mail.st18.sne24.ru', labctl_partner_address: '10.77.0.12',
        labctl_mx: [{ priority: 10, host: 'mail.st14.sne24.ru' }, { priority: 20, host: 'mail.st18.sne24.ru' }],
        labctl_dns_address: '10.77.0.2',
      },
    });
    expect(inv.dns.vars).toEqual({ ansible_host: '10.77.0.2', labctl_address: '10.77.0.2' });
  });

  it('renders Ansible YAML: the students and the DNS server as groups of their own', () => {
    const doc = parse(renderInventory(buildInventory(base), 'test')) as { all: { children: Record<string, { hosts: Record<string, unknown> }> } };
    expect(Object.keys(doc.all.children)).toEqual(['labctl_students', 'labctl_build', 'labctl_dns']);
    expect(Object.keys(doc.all.children.labctl_students!.hosts)).toEqual(['st1', 'st2', 'st3', 'st4']);
    expect(Object.keys(doc.all.children.labctl_dns!.hosts)).toEqual(['dns']);
  });
});

describe('class inventory: --hosts', () => {
  const places = parsePlaces(parse(readFileSync(path.join(repoRoot, 'fixtures/class/hosts.yaml'), 'utf8')), 'hosts.yaml');

  it('maps students by number or host name to addresses and names', () => {
    const inv = buildInventory({ ...base, students: [14, 18, 22], places });
    const v = Object.fromEntries(inv.students.map((s) => [s.name, s.vars]));
    expect(v.st14).toMatchObject({ ansible_host: '192.0.2.14', labctl_address: '192.0.2.14', labctl_dns_address: '192.0.2.53' });
    expect(v.st18).toMatchObject({ ansible_host: 'vm18.lab.example.org', labctl_address: '192.0.2.18' });
    // a bare name: the playbook takes the address from the machine's facts
    expect(v.st22!.ansible_host).toBe('vm22.lab.example.org');
    expect(v.st22).not.toHaveProperty('labctl_address');
    expect(v.st18).not.toHaveProperty('labctl_partner_address');
    expect(inv.dns.vars).toEqual({ ansible_host: 'ns.lab.example.org', labctl_address: '192.0.2.53' });
  });

  it('refuses a missing student, a stray key, a shared machine and a DNS server without an address', () => {
    expect(() => buildInventory({ ...base, students: [14, 18, 22, 30], places })).toThrow('--hosts: no entry for st30 (student 30)');
    expect(() => buildInventory({ ...base, students: [14, 18], places })).toThrow('"22" is neither dns nor a student');
    expect(() => buildInventory({ ...base, students: [1, 2], places: parsePlaces({ dns: '192.0.2.1', 1: '192.0.2.5', 2: '192.0.2.5' }, 'f') })).toThrow('st1 and st2 are both 192.0.2.5');
    expect(() => buildInventory({ ...base, students: [1, 2], places: parsePlaces({ dns: 'ns.example.org', 1: '192.0.2.5', 2: '192.0.2.6' }, 'f') })).toThrow('dns needs an address');
    expect(() => parsePlaces(['192.0.2.1'], 'f')).toThrow('expected a mapping');
    expect(() => parsePlaces({ 1: { host: 'a.example.org', port: 22 } }, 'f')).toThrow('unknown field port');
    expect(() => parsePlaces({ 1: { address: 'not-an-ip' } }, 'f')).toThrow('not an IPv4 or IPv6 address');
    expect(() => parsePlaces({ 1: 'bad name!' }, 'f')).toThrow('--hosts f: 1: "bad name!" must not contain spaces');
  });
});

describe('class inventory: input', () => {
  it('reads a count or a list of student numbers', () => {
    expect(parseStudents('3')).toEqual([1, 2, 3]);
    expect(parseStudents('14, 18')).toEqual([14, 18]);
    const refusals: Record<string, RegExp> = {
      '1': /a class needs at least 2 students/,
      '0': /--students "0": expected a count of at least 2/,
      '-2': /--students "-2": expected a count/,
      x: /--students "x": expected a count/,
      '2.5': /--students "2\.5": expected a count/,
      '14,14': /student 14 is listed twice/,
      '14,': /"" is not a student number/,
      '241': /at most 240 students/,
    };
    for (const [bad, why] of Object.entries(refusals)) expect(() => parseStudents(bad), bad).toThrow(why);
  });

  it('prints bad input as one line and exits 2', async () => {
    const cases: [string[], string][] = [
      [['--domain', 'st{n}.sne24.ru'], '--students is required'],
      [['--students', '1', '--domain', 'st{n}.sne24.ru'], 'at least 2 students'],
      [['--students', '2', '--domain', 'sne24.ru'], 'needs {n} exactly once'],
      [['--students', '2', '--domain', 'st{n}..ru'], 'empty label'],
      [['--students', '2', '--domain', 'st{n}.sne24.ru', '--pairs', 'triples'], 'expected pairs or ring'],
      [['--students', '2', '--domain', 'st{n}.sne24.ru', '--hosts', '/nonexistent/hosts.yaml'], 'no such file'],
      [['--students', '2', '--domain', 'st{n}.sne24.ru', '--subnet', '10.0.0.0/30'], 'from /8 to /24'],
    ];
    for (const [args, message] of cases) {
      const r = await labctlHere(['class', 'inventory', ...args]);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')[0]).toContain(message);
      expect(r.stdout).toBe('');
    }
  });
});

describe('class inventory: Ansible accepts it', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('ansible-inventory --list reads the file: groups, hosts and host vars as written', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'labctl-class-'));
    dirs.push(dir);
    const file = path.join(dir, 'inventory.yml');
    const hosts = path.join(dir, 'hosts.yaml');
    await writeFile(hosts, 'dns: 192.0.2.53\n14: 192.0.2.14\n18: {host: vm18.lab.example.org, address: 192.0.2.18}\n19: 192.0.2.19\n');
    const w = await labctlHere(['class', 'inventory', '--students', '14,18,19', '--domain', 'st{n}.sne24.ru', '--hosts', hosts, '--out', file]);
    expect(w.exitCode, w.stderr).toBe(0);
    // Not skipped when missing: the test fails, naming the package (scripts/apt-packages-tests.txt).
    const r = await execa('ansible-inventory', ['-i', file, '--list'], { reject: false, cwd: repoRoot, env: { ANSIBLE_LOCAL_TEMP: dir, ANSIBLE_HOME: dir } }).catch((err: Error) => ({ exitCode: -1, stdout: '', stderr: err.message }));
    expect(r.exitCode, `ansible-inventory failed (apt-get install ansible-core; scripts/setup.sh --tests): ${r.stderr}`).toBe(0);
    expect(r.stderr).not.toMatch(/WARNING/);
    const list = JSON.parse(String(r.stdout)) as { _meta: { hostvars: Record<string, Record<string, unknown>> }; labctl_students: { hosts: string[] }; labctl_dns: { hosts: string[] } };
    expect(list.labctl_students.hosts).toEqual(['st14', 'st18', 'st19']);
    expect(list.labctl_dns.hosts).toEqual(['dns']);
    expect(list._meta.hostvars.st18).toMatchObject({ ansible_host: 'vm18.lab.example.org', labctl_partner: 'st19.sne24.ru', labctl_dns_address: '192.0.2.53' });
    expect(list._meta.hostvars.st19!.labctl_mx).toEqual([{ priority: 10, host: 'mail.st19.sne24.ru' }, { priority: 20, host: 'mail.st18.sne24.ru' }]);
  });
});

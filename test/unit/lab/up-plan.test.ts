/**
 * `lab up` and its dry run decide what to do with the machine in one place (upVerdict), and lab
 * hosts are prepared by configure's own step objects, never by a copy of them.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIGURE_STEPS, HOST_PREPARATION_STEPS } from '../../../src/config/apply.js';
import { users } from '../../../src/config/steps/users.js';
import type { HostPrepContext } from '../../../src/config/steps/context.js';
import { labModel } from '../../../src/lab/hosts/prepare.js';
import { renderZone, withoutSerial, zoneSerial } from '../../../src/lab/services/bind.js';
import { hostKeyPaths } from '../../../src/lab/services/keys.js';
import type { LabState } from '../../../src/lab/state.js';
import { DEFAULT_LAB, labPaths, type LabSpec } from '../../../src/lab/topology.js';
import { upVerdict } from '../../../src/lab/up/plan.js';
import type { StepRecord } from '../../../src/steps/types.js';
import type { LocalAccounts, UserChange } from '../../../src/system/accounts.js';

const spec = (): LabSpec => structuredClone(DEFAULT_LAB);
const state = (s: LabSpec): LabState => ({ spec: s, upAt: '2026-01-01T00:00:00.000Z', hosts: {}, caCertificate: '/x/ca.pem' });

describe('upVerdict: what lab up (and lab up --dry-run) does with what it finds', () => {
  it('leaves a healthy lab of the same topology as it is', () => {
    expect(upVerdict(spec(), state(spec()), [], []).kind).toBe('already');
  });

  it('refuses a healthy lab of another topology, a partly up lab, and remains without a state file', () => {
    const other = spec();
    other.queueInterval = '5m';
    const v1 = upVerdict(spec(), state(other), [], []);
    expect(v1.kind === 'refuse' && v1.error.message).toBe('a lab with a different topology is already up');
    const v2 = upVerdict(spec(), state(spec()), ['named is not running'], []);
    expect(v2.kind === 'refuse' && v2.error.message).toBe('the lab is partly up (named is not running)');
    const v3 = upVerdict(spec(), undefined, [], ['network namespace labctl-st14', 'a', 'b', 'c']);
    expect(v3.kind === 'refuse' && v3.error.message).toBe('remains of an earlier lab are still there: network namespace labctl-st14; a; b ...');
    expect(v3.kind === 'refuse' && v3.error.hint).toBe('run labctl lab down first');
  });

  const r = (id: string, title: string, status: StepRecord['status']) => ({ id, title, status });
  const allDone = [r('network', 'namespaces, bridge, addresses', 'ok'), r('host-st14', 'st14: configure (model + template)', 'ok'), r('dns', 'dns: BIND authoritative server', 'ok'), r('daemon-st14', 'st14: Exim daemon', 'ok')];

  it('a healthy lab of the same topology whose checks all say done is left as it is', () => {
    expect(upVerdict(spec(), state(spec()), [], [], allDone).kind).toBe('already');
  });

  it('re-applies exactly the steps of a healthy lab whose checks find them changed: a host, the zones, the resolver, a web server', () => {
    const checks = [...allDone, r('host-st18', 'st18: configure (model + template)', 'changed'), r('dns', 'dns: BIND authoritative server', 'changed'), r('resolver', 'dns: validating resolver (unbound, DNSSEC)', 'changed'), r('mta-sts-st18', 'st18: MTA-STS web server (nginx, HTTPS)', 'changed'), r('x', 'skipped one', 'skipped')];
    const v = upVerdict(spec(), state(spec()), [], [], checks);
    expect(v.kind).toBe('reapply');
    expect(v.kind === 'reapply' && v.steps).toEqual([
      { id: 'host-st18', title: 'st18: configure (model + template)' },
      { id: 'dns', title: 'dns: BIND authoritative server' },
      { id: 'resolver', title: 'dns: validating resolver (unbound, DNSSEC)' },
      { id: 'mta-sts-st18', title: 'st18: MTA-STS web server (nginx, HTTPS)' },
    ]);
  });

  it('refuses, naming every step that differs, when one cannot be re-applied in place or its check cannot tell', () => {
    const v = upVerdict(spec(), state(spec()), [], [], [...allDone, r('network', 'namespaces, bridge, addresses', 'changed'), r('mta-sts-st18', 'st18: MTA-STS web server (nginx, HTTPS)', 'changed')]);
    expect(v.kind === 'refuse' && v.error.message).toBe('the running lab is not as lab up would make it: namespaces, bridge, addresses (not in place); st18: MTA-STS web server (nginx, HTTPS)');
    expect(v.kind === 'refuse' && v.error.hint).toBe('run labctl lab down, then labctl lab up');
    const u = upVerdict(spec(), state(spec()), [], [], [...allDone, r('dns', 'dns: BIND authoritative server', 'unknown')]);
    expect(u.kind === 'refuse' && u.error.message).toBe('the running lab is not as lab up would make it: dns: BIND authoritative server (cannot tell)');
    // Checks say nothing about a lab of another topology or a lab partly up: those verdicts stand.
    const other = spec();
    other.queueInterval = '5m';
    const v2 = upVerdict(spec(), state(other), [], [], [r('dns', 'dns: BIND authoritative server', 'changed')]);
    expect(v2.kind === 'refuse' && v2.error.message).toBe('a lab with a different topology is already up');
    const v3 = upVerdict(spec(), state(spec()), ['named is not running'], [], [r('dns', 'dns: BIND authoritative server', 'changed')]);
    expect(v3.kind === 'refuse' && v3.error.message).toBe('the lab is partly up (named is not running)');
  });

  it('builds the lab when there is neither a state file nor anything left', () => {
    expect(upVerdict(spec(), undefined, [], []).kind).toBe('build');
  });
});

describe("lab host preparation is configure's own steps", () => {
  it('configure begins with the very step objects lab up runs in each host view', () => {
    expect(HOST_PREPARATION_STEPS.map((s) => s.id)).toEqual(['users', 'mail-spool', 'aliases']);
    HOST_PREPARATION_STEPS.forEach((s, i) => expect(CONFIGURE_STEPS[i]).toBe(s));
  });

  it('no file under src/lab makes users, the mail spool or the postmaster alias by itself', () => {
    const dir = path.resolve(import.meta.dirname, '../../../src/lab');
    const walk = (d: string): string[] => readdirSync(d).flatMap((e) => (statSync(path.join(d, e)).isDirectory() ? walk(path.join(d, e)) : [path.join(d, e)]));
    const offenders = walk(dir).filter((f) => /\b(ensureMailSpool|ensureUser|ensurePostmasterAlias|withPostmaster)\b/.test(readFileSync(f, 'utf8')));
    expect(offenders.map((f) => path.relative(dir, f))).toEqual([]);
  });

  it("the users step asks the accounts it is given (the machine's or a lab host's), and names how it would make them", async () => {
    const made: string[] = [];
    const accounts: LocalAccounts = {
      how: '/etc/netns/labctl-st14/passwd',
      ready: async (name) => name === 'ahmed' || made.includes(name),
      ensure: async (name): Promise<UserChange> => {
        if (name === 'ahmed') return 'ok';
        made.push(name);
        return 'created';
      },
    };
    const model = labModel(spec(), DEFAULT_LAB.hosts[0]!);
    const ctx: HostPrepContext = { o: { model: { ...model, users: ['ahmed', 'mohamed'] } }, files: {}, accounts };
    expect(await users.check(ctx)).toEqual({ done: false, detail: 'create mohamed with a home directory (/etc/netns/labctl-st14/passwd)' });
    expect(await users.apply(ctx)).toEqual({ detail: 'mohamed created' });
    expect(await users.check(ctx)).toEqual({ done: true, detail: 'ahmed, mohamed' });
  });
});

describe('hostKeyPaths: the files hostKeys makes, known without making them (the dry run renders with them)', () => {
  it('names the lab CA, the host certificate and key, and the DKIM key of the host', () => {
    const h = DEFAULT_LAB.hosts[0]!;
    const model = labModel(spec(), h);
    const p = labPaths.host(h.name);
    expect(hostKeyPaths(h, model)).toEqual({
      caCertificate: path.join(labPaths.ca, 'ca.pem'),
      certificate: path.join(p.tls, 'mail.st14.sne24.ru.pem'),
      privateKey: path.join(p.tls, 'mail.st14.sne24.ru.key'),
      dkimPrivateKey: path.join(p.dkim, `${model.dkimSelector}.key`),
    });
  });
});

describe('zone files compared without their serial (every write raises it)', () => {
  it('withoutSerial masks only the SOA serial line renderZone writes; zoneSerial reads it', async () => {
    const z = { name: 'st14.sne24.ru', ns: 'ns.st14.sne24.ru', nsInZone: true, signed: true, body: '@ IN MX 10 mail.st14.sne24.ru.\n' };
    const a = await renderZone(spec(), { ...z, serial: 100 });
    const b = await renderZone(spec(), { ...z, serial: 200 });
    expect(zoneSerial(a)).toBe(100);
    expect(zoneSerial(b)).toBe(200);
    expect(a).not.toBe(b);
    expect(withoutSerial(a)).toBe(withoutSerial(b));
    const other = await renderZone(spec(), { ...z, serial: 100, body: '@ IN MX 10 mail.st18.sne24.ru.\n' });
    expect(withoutSerial(other)).not.toBe(withoutSerial(a));
  });
});

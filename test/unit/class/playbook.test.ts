import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { labctlHere, repoRoot } from '../../helpers/cli.js';

describe('the class playbook (ansible/site.yml)', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('passes ansible-playbook --syntax-check with an inventory from labctl class inventory', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'labctl-class-'));
    dirs.push(dir);
    const inventory = path.join(dir, 'class.yml');
    const w = await labctlHere(['class', 'inventory', '--students', '3', '--domain', 'st{n}.sne24.ru', '--out', inventory]);
    expect(w.exitCode, w.stderr).toBe(0);
    // Not skipped when missing: the test fails, naming the package (scripts/apt-packages-tests.txt).
    const r = await execa('ansible-playbook', ['-i', inventory, '--syntax-check', 'ansible/site.yml'], {
      reject: false,
      cwd: repoRoot,
      env: { ANSIBLE_HOME: dir, ANSIBLE_LOCAL_TEMP: dir },
    }).catch((err: Error) => ({ exitCode: -1, stdout: '', stderr: err.message }));
    expect(r.exitCode, `ansible-playbook failed (apt-get install ansible-core; scripts/setup.sh --tests): ${r.stderr}`).toBe(0);
    expect(String(r.stdout)).toContain('playbook: ansible/site.yml');
    expect(String(r.stderr)).not.toMatch(/WARNING|DEPRECAT/);
  });

  it('lists the plays and tasks in order: release, student machines, DNS server, verify', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'labctl-class-'));
    dirs.push(dir);
    const inventory = path.join(dir, 'class.yml');
    await labctlHere(['class', 'inventory', '--students', '2', '--domain', 'st{n}.sne24.ru', '--out', inventory]);
    const r = await execa('ansible-playbook', ['-i', inventory, '--list-tasks', 'ansible/site.yml'], { reject: false, cwd: repoRoot, env: { ANSIBLE_HOME: dir, ANSIBLE_LOCAL_TEMP: dir } });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const out = String(r.stdout);
    const order = ['Pack labctl (npm pack)', 'labctl install', 'labctl configure', 'labctl dns --json', 'Student zones', 'labctl verify --json', 'Report to the controller'];
    const at = order.map((t) => out.indexOf(t));
    expect(at.every((i) => i >= 0), out).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });
});

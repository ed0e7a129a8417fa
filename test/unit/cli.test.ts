import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli.js';
import { installInterruptHandlers, uninstallInterruptHandlers } from '../../src/system/interrupt.js';
import { labctl, labctlHere } from '../helpers/cli.js';
import { scratchLockDir } from '../helpers/lock-dir.js';

scratchLockDir();

/** Every command's whole help as `--help` prints it (the text added before and after included), by path. */
function helpOfEvery(program: Command): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const walk = (c: Command, prefix: string) => {
    const path = prefix ? `${prefix} ${c.name()}` : c.name();
    let text = '';
    c.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
    c.outputHelp();
    out.push({ path, text });
    for (const sub of c.commands) walk(sub, path);
  };
  walk(program, '');
  return out;
}

/** The help lines that name one of the project's issues, as `path: line`. */
const issueMentions = (helps: { path: string; text: string }[]) =>
  helps.flatMap((h) => h.text.split('\n').filter((l) => /\bissues?\s*#?\d+/i.test(l)).map((l) => `${h.path}: ${l.trim()}`));

describe('labctl command line', () => {
  // The unit tests run most labctl command lines in their own process (labctlHere): a spawned
  // labctl must print the same, byte for byte, and exit the same, for help, a usage error found
  // by commander, one found by an action, and an unknown command.
  it('a run in this process leaves no Ctrl-C handler of its own behind, and none installed for good', async () => {
    const before = process.listenerCount('SIGINT');
    expect((await labctlHere(['--version'])).exitCode).toBe(0);
    // The CLI's own module (the tests import the build): it can install its handlers again.
    installInterruptHandlers();
    expect(process.listenerCount('SIGINT')).toBe(before + 1);
    uninstallInterruptHandlers();
    expect(process.listenerCount('SIGINT')).toBe(before);
  });

  it.each([[['--help']], [['install', '--with', 'ldap', '--dry-run']], [['lab', 'drill', 'spoof', '--nosuch']], [['drill', 'nosuch', '--help']]])(
    'labctl %j: the same in this process as spawned',
    async (args) => {
      const [spawned, here] = [await labctl(args), await labctlHere(args)];
      expect(here).toEqual(spawned);
      expect(spawned.all.trim()).not.toBe('');
    },
  );

  it('lists every subcommand with a description', async () => {
    const r = await labctlHere(['--help']);
    expect(r.exitCode).toBe(0);
    for (const cmd of ['install', 'configure', 'dns', 'verify', 'lab', 'report', 'service', 'uninstall']) expect(r.stdout).toMatch(new RegExp(`^  ${cmd}\\b.*\\S`, 'm'));
  });

  it('hands --version after a subcommand to that subcommand', async () => {
    const r = await labctlHere(['install', '--version', '4.x', '--dry-run']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--version "4.x" is not an Exim version');
    const v = await labctlHere(['--version']);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('prints an expected failure as one or two lines, a stack only with --debug', async () => {
    const r = await labctlHere(['install', '--with', 'ldap', '--dry-run']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['labctl: --with ldap: unknown feature', '  known: spf, dmarc']);
    const d = await labctlHere(['install', '--with', 'ldap', '--dry-run', '--debug']);
    expect(d.stderr).toMatch(/at toOptions/);
  });

  it.each([
    [['nosuch'], 'nosuch'],
    [['lab', 'nosuch'], 'nosuch'],
    [['lab', 'drill', 'spoof-monitor'], 'spoof-monitor'],
    [['nosuch', '--help'], 'nosuch'],
    [['lab', 'drill', 'nosuch', '--help'], 'nosuch'],
    [['drill', 'nosuch'], 'nosuch'],
    [['drill', 'nosuch', '--help'], 'nosuch'],
    [['class', 'nosuch'], 'nosuch'],
  ])('labctl %j names the unknown command and exits 2', async (args, name) => {
    const r = await labctlHere(args);
    expect(r.stderr).toContain(`unknown command '${name}'`);
    expect(r.stdout).not.toContain('Usage:');
    expect(r.exitCode, r.all).toBe(2);
  });

  it('exits 2 on an unknown flag below the top level, 0 for --help there', async () => {
    const r = await labctlHere(['lab', 'drill', 'spoof', '--nosuch']);
    expect(r.stderr).toContain("unknown option '--nosuch'");
    expect(r.exitCode).toBe(2);
    const h = await labctlHere(['lab', 'drill', '--help']);
    expect(h.stdout).toContain('Usage: labctl lab drill');
    expect(h.exitCode).toBe(0);
  });

  it("speaks of the lab and its tasks in every command's help, never of the project's issue numbers", () => {
    const helps = helpOfEvery(buildProgram());
    expect(helps.length).toBeGreaterThan(20);
    expect(helps.map((h) => h.path)).toEqual(expect.arrayContaining(['labctl dns', 'labctl lab drill dane', 'labctl drill backup-mx']));
    expect(issueMentions(helps)).toEqual([]);
  });

  it('the issue-number check reads the whole help, the text added after it included', () => {
    const planted = new Command('labctl');
    planted.command('dns').description('prints the records').addHelpText('after', '\nSee issue 13 for the policy records.');
    expect(issueMentions(helpOfEvery(planted))).toEqual(['labctl dns: See issue 13 for the policy records.']);
  });
});

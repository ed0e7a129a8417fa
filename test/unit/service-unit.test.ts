import { describe, expect, it } from 'vitest';
import { renderUnit } from '../../src/install/service-unit.js';

const options = {
  binary: '/usr/exim/bin/exim',
  queueInterval: '30m',
  configureFile: '/usr/exim/configure',
  spoolDirectory: '/var/spool/exim',
  envFile: '/var/lib/labctl/exim.env',
};

const directive = (unit: string, name: string) =>
  unit
    .split('\n')
    .filter((l) => l.startsWith(`${name}=`))
    .map((l) => l.slice(name.length + 1));

describe('the systemd unit', () => {
  it('keeps Exim in the foreground under Type=exec and restarts it on failure', async () => {
    const unit = await renderUnit(options);
    expect(directive(unit, 'Type')).toEqual(['exec']);
    expect(directive(unit, 'ExecStart')).toEqual(['/usr/exim/bin/exim -bdf -q${QUEUE_INTERVAL}']);
    expect(directive(unit, 'Restart')).toEqual(['on-failure']);
  });

  it('runs nothing outside Exim and systemd (a minimal Debian has no /bin/kill)', async () => {
    const unit = await renderUnit(options);
    const programs = ['ExecStartPre', 'ExecStart', 'ExecReload'].flatMap((d) => directive(unit, d)).map((l) => l.split(' ')[0]);
    expect(programs).toEqual(['/usr/exim/bin/exim', '/usr/exim/bin/exim', '/bin/systemctl']);
    expect(directive(unit, 'ExecReload')).toEqual(['/bin/systemctl kill --kill-who=main --signal=HUP %n']);
  });

  it('lets the daemon write its spool, log and the mailboxes under ProtectSystem=strict', async () => {
    const unit = await renderUnit(options);
    expect(directive(unit, 'ProtectSystem')).toEqual(['strict']);
    expect(directive(unit, 'ReadWritePaths')).toEqual(['/var/spool/exim -/var/mail -/home -/var/log/exim']);
  });

  it('lets Exim list the interfaces (netlink), which every remote delivery does', async () => {
    const unit = await renderUnit(options);
    expect(directive(unit, 'RestrictAddressFamilies')[0].split(' ')).toContain('AF_NETLINK');
  });
});

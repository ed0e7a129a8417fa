import { describe, expect, it } from 'vitest';
import { cpuCeiling, describeCeiling, describePhases, logPhases } from '../../../src/lab/drills/backup-phases.js';
import { cpuUse, parseProcStat } from '../../../src/system/cpu.js';

// Recorded shapes of the lab's main logs (st18 the backup, st14 the primary), three messages.
const backup = [
  '2026-11-28 10:50:00.000 1xXFzX-000000000Qz-0q8n => ahmed@st14.sne24.ru R=backup_mx T=remote_smtp H=mail.st14.sne24.ru DS [10.203.14.14] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=dane K',
  '2026-11-28 10:50:00.500 1xXFzX-000000000Qz-0uQ8 => ahmed@st14.sne24.ru R=backup_mx T=remote_smtp H=mail.st14.sne24.ru DS [10.203.14.14]* X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no K',
  '2026-11-28 10:50:01.000 1xXFzX-000000000Qz-0woX => ahmed@st14.sne24.ru R=backup_mx T=remote_smtp H=mail.st14.sne24.ru DS [10.203.14.14]* X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no K',
  '2026-11-28 10:50:01.100 1xXFzX-000000000Qz-0zzz => other@st14.sne24.ru R=backup_mx T=remote_smtp H=mail.st14.sne24.ru DS [10.203.14.14]* X=TLS1.3 CV=no K',
].join('\n');
const primary = [
  '2026-11-28 10:50:00.010 1xXG0G-0000000029W-2g63 <= mohamed@st18.sne24.ru H=mail.st18.sne24.ru [10.203.14.18] P=esmtps id=labrun-1@client.lab',
  '2026-11-28 10:50:00.020 1xXG0G-0000000029W-2g63 => ahmed <ahmed@st14.sne24.ru> R=localuser T=local_delivery',
  '2026-11-28 10:50:00.510 1xXG0G-0000000029W-2ntW <= mohamed@st18.sne24.ru H=mail.st18.sne24.ru [10.203.14.18] P=esmtps id=labrun-2@client.lab',
  '2026-11-28 10:50:01.010 1xXG0G-0000000029W-2wfv <= mohamed@st18.sne24.ru H=mail.st18.sne24.ru [10.203.14.18] P=esmtps id=labrun-3@client.lab',
  '2026-11-28 10:50:01.020 1xXG0G-0000000029W-2ntW => ahmed <ahmed@st14.sne24.ru> R=localuser T=local_delivery',
  '2026-11-28 10:50:02.000 1xXG0G-0000000029W-2wfv => ahmed <ahmed@st14.sne24.ru> R=localuser T=local_delivery',
  '2026-11-28 10:50:02.100 1xXG0G-0000000029W-2zzz <= someone@else H=x [10.0.0.1] P=esmtp id=other-1@x',
].join('\n');

describe('backup drill: per phase from the two main logs', () => {
  it('counts each phase and its rate; other recipients and other runs are left out', () => {
    const p = logPhases(backup, primary, { recipient: 'ahmed@st14.sne24.ru', primaryHost: 'mail.st14.sne24.ru', runId: 'labrun' });
    expect(p.backupSend).toMatchObject({ count: 3, seconds: 1, rate: 3 });
    expect(p.primaryAccept).toMatchObject({ count: 3, seconds: 1, rate: 3 });
    expect(p.primaryDeliver).toMatchObject({ count: 3, seconds: 2, rate: 1.5 });
    expect(p.endToEnd).toMatchObject({ count: 3, seconds: 2, rate: 1.5 });
    expect(describePhases(p)).toBe('backupSend 3 in 1 s (3/s), primaryAccept 3 in 1 s (3/s), primaryDeliver 3 in 2 s (1.5/s), endToEnd 3 in 2 s (1.5/s)');
  });
  it('nothing logged: no phases, not zeros', () => {
    expect(logPhases('', '', { recipient: 'ahmed@st14.sne24.ru', primaryHost: 'mail.st14.sne24.ru', runId: 'labrun' })).toEqual({});
  });
});

describe('backup drill: the machine\'s CPU ceiling', () => {
  // /proc/stat's first line: user nice system idle iowait irq softirq steal guest guest_nice (ticks).
  // The totals are over the cores listed after it (cpu0, cpu1): those are the cores counted.
  const before = parseProcStat('cpu  1000 0 500 8000 100 0 50 0 0 0\ncpu0 500 0 250 4000 50 0 25 0 0 0\ncpu1 500 0 250 4000 50 0 25 0 0 0\nintr 1 2\n');
  const after = parseProcStat('cpu  2400 0 1300 8200 120 0 150 0 0 0\ncpu0 1200 0 650 4100 60 0 75 0 0 0\ncpu1 1200 0 650 4100 60 0 75 0 0 0\nintr 1 2\n');
  it('reads busy and total ticks (idle and iowait are not busy) and the cores they are over', () => {
    expect(before).toEqual({ busy: 1550, total: 9650, cores: 2 });
    expect(after).toEqual({ busy: 3850, total: 12170, cores: 2 });
    expect(parseProcStat('cpu  1 0 0 1 0 0 0 0 0 0\ncpu0 1 0 0 1 0 0 0 0 0 0\ncpu3 0 0 0 0 0 0 0 0 0 0\ncpu7 0 0 0 0 0 0 0 0 0 0\n').cores).toBe(3);
  });
  it('CPU per message and the rate it allows at 100% of the cores', () => {
    const use = cpuUse(before, after);
    expect(use.busySeconds).toBe(23);
    expect(use.busyShare).toBeCloseTo(2300 / 2520, 5);
    const c = cpuCeiling(use, 1000)!;
    expect(c).toEqual({ cpuMsPerMessage: 23, busyShare: 0.91, cores: 2, ceiling: 87 });
    expect(describeCeiling(c)).toBe("CPU 23 ms per message (91% of 2 cores busy); at 100% of them the machine's ceiling is 87/s");
  });
  it('no messages or no CPU: no ceiling, not infinity', () => {
    expect(cpuCeiling(cpuUse(before, after), 0)).toBeUndefined();
    expect(cpuCeiling(cpuUse(before, before), 10)).toBeUndefined();
  });
  it('refuses a /proc/stat without its cpu line', () => {
    expect(() => parseProcStat('intr 1 2 3\n')).toThrow(/cpu/);
  });
});

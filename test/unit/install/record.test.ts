/**
 * install.json across the window in which make install has replaced the binary and the daemon
 * still runs the old one (src/install/record.ts): the mark goes in before the binary is touched,
 * the new build is recorded with the mark still on once -bV accepts it, and a rollback puts the
 * record back as it was. Runs against a scratch state directory.
 */
import { describe, expect, it } from 'vitest';
import { scratchStateDir } from '../../helpers/state-dir.js';
import type { InstallContext, InstallOptions } from '../../../src/install/context.js';
import { installRecord, markRestartPending, recordInstalledBinary, restoreRecord } from '../../../src/install/record.js';
import type { FetchedSource } from '../../../src/source/fetch.js';
import { loadInstallState, saveInstallState, type InstallState } from '../../../src/state/install.js';

scratchStateDir('labctl-record-');

const signature = { signer: 'J', primaryFingerprint: 'A', signingKeyFingerprint: 'A', bySubkey: false, created: '2025-03-25T10:14:14Z', trustedAs: 'A', keyringFingerprints: ['A'] };
const installed: InstallState = {
  version: '4.96',
  inputsKey: 'old-build',
  tarballUrl: 'http://mirror.test/exim4/exim-4.96.tar.xz',
  signature,
  settings: [{ name: 'EXIM_USER', op: '=', value: 'exim' }],
  binary: '/usr/exim/bin/exim',
  configureFile: '/usr/exim/configure',
  buildLog: '/var/lib/labctl/build/exim-4.96.build.log',
  installedAt: '2026-11-28T07:00:00.000Z',
  origin: 'mirror',
};

function upgrade(previous?: InstallState): InstallContext {
  const o = { binDirectory: '/usr/exim/bin', configureFile: '/usr/exim/configure', eximUser: 'exim', spf: false } as InstallOptions;
  const release = { version: '4.98.2', tarballUrl: 'http://mirror.test/exim4/exim-4.98.2.tar.xz', signature, origin: 'mirror' } as FetchedSource;
  return { o, binary: '/usr/exim/bin/exim', note: () => {}, planning: false, installedBefore: previous?.version, previous, release, inputsKey: 'new-build', upToDate: false };
}

describe('the restart-pending mark in install.json', () => {
  it('before make install: the installed build is still described, with the mark naming the new one', async () => {
    const ctx = upgrade(installed);
    await markRestartPending(ctx);
    const state = await loadInstallState();
    expect(state).toMatchObject({ version: '4.96', inputsKey: 'old-build' });
    expect(state?.restartPending).toMatchObject({ version: '4.98.2', inputsKey: 'new-build' });
    expect(ctx.restartPending).toEqual(state?.restartPending);
  });

  it('after -bV: the new build is recorded and the mark stays, so a rerun rebuilds nothing and restarts', async () => {
    const ctx = upgrade(installed);
    await markRestartPending(ctx);
    await recordInstalledBinary(ctx);
    const state = await loadInstallState();
    expect(state).toMatchObject({ version: '4.98.2', inputsKey: 'new-build', previousVersion: '4.96' });
    expect(state?.restartPending).toMatchObject({ version: '4.98.2', inputsKey: 'new-build' });
  });

  it('a first install is marked with no inputs key, so nothing counts as built until it finished', async () => {
    await markRestartPending(upgrade());
    const state = await loadInstallState();
    expect(state).toMatchObject({ version: '4.98.2', inputsKey: '' });
    expect(state?.restartPending?.inputsKey).toBe('new-build');
  });

  it('a rollback to the running release puts the record back as it was', async () => {
    await saveInstallState(installed);
    const ctx = upgrade(installed);
    await markRestartPending(ctx);
    await restoreRecord(ctx);
    expect(await loadInstallState()).toEqual(installed);
    expect(ctx.restartPending).toBeUndefined();
  });

  it('the finished record carries no mark', () => {
    const ctx = upgrade(installed);
    ctx.restartPending = { version: '4.98.2', inputsKey: 'new-build', since: '2026-11-28T08:00:00.000Z' };
    expect(installRecord(ctx).restartPending).toBeUndefined();
  });
});

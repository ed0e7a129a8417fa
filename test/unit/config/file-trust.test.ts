/** Configuration files are explicit (issue 12, item 3): an implicit ./labctl.yaml only when root owns it and its directory. */
import { chmod, chown, mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkUserTlsFiles, loadConfigFile } from '../../../src/config/source.js';

const NOBODY = 65534;
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'labctl-trust-'));
  await chmod(dir, 0o755);
  await writeFile(path.join(dir, 'labctl.yaml'), 'domain: st14.sne24.ru\n', { mode: 0o644 });
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('./labctl.yaml read implicitly, as root', () => {
  it('runs as root (these tests change owners)', () => {
    expect(process.getuid?.(), 'run the unit tests as root: sudo npm test').toBe(0);
  });

  it('is applied when root owns it and its directory and nobody else can write them', async () => {
    expect((await loadConfigFile(undefined, dir))?.values).toEqual({ domain: 'st14.sne24.ru' });
  });

  it("is refused when another user owns it, naming the owner and --config", async () => {
    await chown(path.join(dir, 'labctl.yaml'), NOBODY, NOBODY);
    await expect(loadConfigFile(undefined, dir)).rejects.toThrow(/labctl\.yaml is not applied: it belongs to uid 65534, not root/);
    // Named on purpose with --config, the same file is read.
    expect((await loadConfigFile(path.join(dir, 'labctl.yaml'), dir))?.values.domain).toBe('st14.sne24.ru');
  });

  it('is refused when its directory is writable by others', async () => {
    await chmod(dir, 0o777);
    await expect(loadConfigFile(undefined, dir)).rejects.toThrow(/is writable by group or others/);
  });

  it('is refused when it is a symlink, even to a file root owns (the attacker controls where it points)', async () => {
    // The attack: a root-owned link to a root-owned file in a directory another user can write,
    // where that user swaps the target between the check and the read.
    const theirs = path.join(dir, 'theirs');
    await mkdir(theirs, { mode: 0o777 });
    await chmod(theirs, 0o777);
    await writeFile(path.join(theirs, 'settings.yaml'), 'domain: evil.example\n', { mode: 0o644 });
    await rm(path.join(dir, 'labctl.yaml'));
    await symlink(path.join(theirs, 'settings.yaml'), path.join(dir, 'labctl.yaml'));
    await expect(loadConfigFile(undefined, dir)).rejects.toThrow(/labctl\.yaml is not applied: it is a symbolic link/);
  });

  it('is refused when a directory above it belongs to another user (who could move the whole directory aside)', async () => {
    // The attack: the user who owns the parent renames the root-owned directory away and puts
    // their own in its place, labctl.yaml included.
    const theirs = path.join(dir, 'theirs');
    await mkdir(theirs);
    await chown(theirs, NOBODY, NOBODY);
    await chmod(theirs, 0o755);
    const inner = path.join(theirs, 'lab');
    await mkdir(inner, { mode: 0o755 });
    await rename(path.join(dir, 'labctl.yaml'), path.join(inner, 'labctl.yaml'));
    await expect(loadConfigFile(undefined, inner)).rejects.toThrow(new RegExp(`labctl\\.yaml is not applied: ${theirs.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} belongs to uid 65534, not root`));
  });

  it('is read from the descriptor it checked: the text is the checked file\'s, and a missing file is no file', async () => {
    expect((await loadConfigFile(undefined, dir))?.values.domain).toBe('st14.sne24.ru');
    await rm(path.join(dir, 'labctl.yaml'));
    expect(await loadConfigFile(undefined, dir)).toBeUndefined();
  });
});

describe('TLS files a user names', () => {
  it('must belong to root or the exim group, and the key must not be world-readable', async () => {
    const cert = path.join(dir, 'c.pem');
    const key = path.join(dir, 'k.pem');
    await writeFile(cert, 'x', { mode: 0o644 });
    await writeFile(key, 'x', { mode: 0o640 });
    await expect(checkUserTlsFiles(cert, key)).resolves.toBeUndefined();
    await chmod(key, 0o644);
    await expect(checkUserTlsFiles(cert, key)).rejects.toThrow(/TLS key .* is readable by everyone \(mode 644\)/);
    await chmod(key, 0o640);
    await chown(cert, NOBODY, NOBODY);
    await expect(checkUserTlsFiles(cert, key)).rejects.toThrow(/TLS certificate .* belongs to uid 65534, gid 65534/);
  });
});

import type { Command } from 'commander';
import { paths } from '../paths.js';
import { writeMirror } from '../source/mirror-copy.js';
import { locked } from './locked.js';

export function registerMirror(program: Command): void {
  program
    .command('mirror')
    .description("lay out an offline copy of exim.org's exim4/ tree from Debian's archive (for labctl install --mirror DIR/exim4)")
    .argument('<dir>', 'where to write exim4/exim-<version>.tar.xz(.asc) and Exim-Maintainers-Keyring.asc')
    .option('--cache <dir>', "labctl's cache (the private apt state lives there)", paths.cacheDir)
    .action(locked('exclusive', async (dir: string, flags: { cache: string }) => {
      const copy = await writeMirror(dir, { cacheDir: flags.cache, log: (l) => console.error(l) });
      console.error(`mirror: Exim ${copy.versions.join(', ')} in ${copy.releaseDir}`);
      console.log(copy.releaseDir);
    }));
}

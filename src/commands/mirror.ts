import type { Command } from 'commander';
import { paths } from '../paths.js';
import { lazy } from './lazy.js';

export function registerMirror(program: Command): void {
  program
    .command('mirror')
    .description("lay out an offline copy of exim.org's exim4/ tree from Debian's archive (for labctl install --mirror DIR/exim4)")
    .argument('<dir>', 'where to write exim4/exim-<version>.tar.xz(.asc) and Exim-Maintainers-Keyring.asc')
    .option('--cache <dir>', "labctl's cache (the private apt state lives there)", paths.cacheDir)
    .action(lazy(() => import('./actions/mirror.js'), 'mirrorAction'));
}

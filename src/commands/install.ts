import type { Command } from 'commander';
import { EXIM_DEFAULTS, paths } from '../paths.js';
import { DEFAULT_MIRROR, LISTING_WINDOW_MINUTES, SOURCE_CHOICES } from '../source/candidates.js';
import { lazy } from './lazy.js';

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerInstall(program: Command): void {
  program
    .command('install')
    .description('download, verify, build and install Exim from source, and start it (write-up Task 1)')
    .option('--source <source>', `where the release comes from: ${SOURCE_CHOICES.join('|')} (auto: exim.org, or Debian's archive when exim.org cannot be reached)`, 'auto')
    .option('--mirror <url>', `a copy of exim.org's exim4/ directory: https://, http://, file:// or a plain path (implies --source mirror; the keyring is read from its parent; exim.org is ${DEFAULT_MIRROR})`)
    .option('--version <x.y[.z]>', 'exactly this Exim release (default: the newest whose signature a pinned key made)')
    .option('--allow-downgrade', 'allow installing a release older than the installed one')
    .option('--refresh', `read the source's release listing now (default: a listing read within the last ${LISTING_WINDOW_MINUTES} minutes is used)`)
    .option('--cache <dir>', 'download cache; files are reused while their signature verifies', paths.cacheDir)
    .option('--keyring <file>', 'maintainers keyring to verify against (default: Exim-Maintainers-Keyring.asc from the mirror\'s parent)')
    .option('--trust <fingerprint>', 'also accept a signing key with this primary fingerprint (repeatable)', collect, [])
    .option('--bin-directory <dir>', 'BIN_DIRECTORY for the build', EXIM_DEFAULTS.binDirectory)
    .option('--configure-file <file>', 'CONFIGURE_FILE for the build', EXIM_DEFAULTS.configureFile)
    .option('--exim-user <name>', 'EXIM_USER: the system user (and group) Exim runs as', EXIM_DEFAULTS.user)
    .option('--without <feature>', 'leave a feature out of the build, which has them all by default: spf (SUPPORT_SPF with libspf2; also drops dmarc, which needs it), dmarc (SUPPORT_DMARC with libopendmarc); --without spf --without dmarc is the write-up\'s minimal build (repeatable)', collect, [])
    .option('--with <feature>', 'a feature the default build already has (spf, dmarc); with --from-build, the build must have it (repeatable)', collect, [])
    .option('--queue-interval <interval>', 'queue runner interval for the daemon (-q); default: as saved by labctl configure, else 30m')
    .option('--lab-mode', 'short queue runs for the lab (-q1m)')
    .option('--remove-existing', 'remove a pre-installed MTA with apt-get (asks first unless --yes)')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--show-makefile', 'print the effective Local/Makefile settings and their diff against EDITME, then stop')
    .option('--dry-run', 'print the plan (URLs, paths, commands, files) and change nothing; no root needed')
    .option('--json', 'print the step results as JSON')
    .option('--export-build <dir>', 'after installing, write the release (tarball, signature) and its built tree as DIR, for --from-build on other machines')
    .option('--from-build <dir>', 'install the release and built programs that --export-build wrote as DIR, without compiling (same architecture, OS release and build settings; the signature is checked as for a mirror); needs --sha256')
    .option('--sha256 <digest>', 'with --from-build: the sha256 of DIR/build.json, computed on the machine that made or collected the export (a digest read from DIR itself is not enough)')
    .action(lazy(() => import('./actions/install.js'), 'installAction'));
}

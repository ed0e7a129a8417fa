import { Command, CommanderError, type HelpContext } from 'commander';
import { createRequire } from 'node:module';
import { EXIT, LabError } from './errors.js';
import { installInterruptHandlers } from './system/interrupt.js';
import { restrictUmask } from './system/procs.js';
import { registerInstall } from './commands/install.js';
import { registerService } from './commands/service.js';
import { registerConfigure } from './commands/configure.js';
import { registerDns } from './commands/dns.js';
import { registerVerify } from './commands/verify.js';
import { registerReport } from './commands/report.js';
import { registerLab } from './commands/lab.js';
import { registerDrill } from './commands/drill.js';
import { daemonLeftDown } from './system/daemon-marker.js';
import { registerMirror } from './commands/mirror.js';
import { registerClass } from './commands/class.js';
import { registerUninstall } from './commands/uninstall.js';
import { WAIT_OPTION } from './commands/wait-option.js';
import { registerQueue } from './commands/queue.js';
import { registerLogs } from './commands/logs.js';
import { registerUser } from './commands/user.js';

const pkg = createRequire(import.meta.url)('../package.json') as { version: string };

/**
 * commander's Command, except that a command given a subcommand it does not have names it as
 * unknown even when --help follows (commander would print the parent's help and exit 0).
 */
class LabctlCommand extends Command {
  override createCommand(name?: string): Command {
    return new LabctlCommand(name);
  }

  override outputHelp(context?: HelpContext | ((text: string) => string)): void {
    const first = this.args[0];
    if (this.commands.length && first !== undefined && !first.startsWith('-') && !this.commands.some((c) => c.name() === first || c.aliases().includes(first))) {
      this.error(`error: unknown command '${first}'`, { code: 'commander.unknownCommand', exitCode: EXIT.usage });
    }
    super.outputHelp(context as HelpContext | undefined);
  }
}

/**
 * Builds the commander program; each command file wires its own flags and help, and loads its
 * action only when it runs (src/commands/lazy.ts), so --version and --help load almost nothing.
 * Every command inherits exitOverride, so a usage error at any depth reaches main() and exits 2.
 */
export function buildProgram(): Command {
  const program = new LabctlCommand('labctl')
    .description('Reproduces the Lab 3 MTA exercise with a real Exim built from source')
    .version(pkg.version, '-V, --version', 'print the labctl version')
    .option('--debug', 'print stack traces on errors (accepted anywhere on the line)')
    .option(WAIT_OPTION.flags, WAIT_OPTION.description)
    // Root options before the subcommand only, so `labctl install --version 4.96` reaches install.
    .enablePositionalOptions()
    .showHelpAfterError('(run labctl <command> --help for its flags)')
    // Before the commands are added: each copies it (commander's inherited settings).
    .exitOverride();
  registerInstall(program);
  registerService(program);
  registerConfigure(program);
  registerDns(program);
  registerVerify(program);
  registerReport(program);
  registerLab(program);
  registerDrill(program);
  registerMirror(program);
  registerClass(program);
  registerUninstall(program);
  registerQueue(program);
  registerLogs(program);
  registerUser(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  installInterruptHandlers();
  restrictUmask();
  // A drill killed with -9 while this machine's daemon was down: start it again, and say so.
  // Only root can start it; anyone else is told how.
  if (daemonLeftDown()) {
    if (process.getuid?.() === 0) {
      const [{ restoreLeftDown }, { loadServiceSettings }] = await Promise.all([import('./system/daemon-guard.js'), import('./state/service.js')]);
      const restored = await restoreLeftDown(loadServiceSettings);
      if (restored) console.error(`labctl: ${restored}`);
    } else {
      console.error('labctl: the Exim daemon was left stopped by an interrupted labctl drill; run any labctl command as root (e.g. sudo labctl service start) to start it');
    }
  }
  const program = buildProgram();
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv.filter((a, i) => i < 2 || a !== '--debug'));
  } catch (err) {
    process.exitCode = await reportError(err, debug);
  }
}

async function reportError(err: unknown, debug: boolean): Promise<number> {
  if (err instanceof CommanderError) {
    // Help and version exit through here with code 0; commander already printed the message.
    return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  // Loaded here, not at startup: only an error needs colour from this file.
  const { default: chalk } = await import('chalk');
  if (err instanceof LabError) {
    console.error(chalk.red(`labctl: ${err.message}`));
    if (err.hint) console.error(`  ${err.hint}`);
    if (debug) console.error(err.stack);
    return err.exitCode;
  }
  console.error(chalk.red(`labctl: unexpected error: ${err instanceof Error ? err.message : String(err)}`));
  if (debug && err instanceof Error) console.error(err.stack);
  else console.error('  run again with --debug for the stack trace');
  return EXIT.failure;
}

import type { Command } from 'commander';
import { lazy } from './lazy.js';

/**
 * `labctl drill`: the write-up's 4b-5c and 7c between this machine and its real partner, the one
 * `labctl configure --backup-mx` recorded (or --partner HOST). Nothing runs on the partner: it is
 * reached by DNS and SMTP only. The namespace lab's drills are `labctl lab drill ...`.
 */
export function registerDrill(program: Command): void {
  const drill = program
    .command('drill')
    .description("the lab's drills between this machine and its partner (two real machines): backup-mx (4b-5c), wire (7c)");

  drill
    .command('backup-mx')
    .description('stop this host\'s Exim, send N messages to the partner (MX 20), start it again, then ETRN #domain (5c) or wait for the partner\'s retry (4c); count what arrives')
    .option('--messages <n>', 'how many messages', '5')
    .option('--wait-retry', "wait for the partner's own retry (4c) instead of asking it with ETRN (5c)")
    .option('--timeout <seconds>', 'how long to wait for every message after the daemon is back (default 120, with --wait-retry 900)')
    .option('--from <address>', 'the sender of the drill\'s messages (default postmaster@ this domain)')
    .option('--partner <host>', 'the partner mail host (default: what labctl configure --partner, else --backup-mx, recorded)')
    .option('--json', 'print the figures as JSON (and the run id their Message-IDs start with): sent, heldOnBackup, delivered, lost, duplicates, heldSeconds, recoverySeconds, heldPerMessage, phases')
    .action(lazy(() => import('./actions/drill.js'), 'backupMxAction'));

  drill
    .command('wire')
    .description('Task 3 (7c) on the wire toward the partner: capture, one message over STARTTLS and one over SMTPS, a plaintext control; read it with tshark')
    .option('--partner <host>', 'the partner mail host (default: what labctl configure --partner, else --backup-mx, recorded)')
    .option('--json', 'print {"tls","plain","smtps","pcap","control"}')
    .action(lazy(() => import('./actions/drill.js'), 'wireAction'));
}

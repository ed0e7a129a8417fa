import type { Command } from 'commander';
import { CHECK_IDS, DEFAULT_TIMEOUT_MS } from '../verify/help.js';
import { lazy } from './lazy.js';

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('prove, against the running Exim, every verification step of the lab (checklist, --verbose evidence, --json)')
    .option('--only <ids>', 'run only these checks (comma-separated ids)')
    .option('--skip <ids>', 'leave these checks out (comma-separated ids)')
    .option('--host <address>', 'address of the mail host to connect to (default 127.0.0.1)')
    .option('--port <port>', 'SMTP port (default 25)')
    .option('--domain <domain>', "the mail domain (default: labctl configure's)")
    .option('--user <name>', "local user whose mailbox receives the test mail (default: the model's postmaster)")
    .option('--backup-for <domains>', "partner domains this host backs up, for 5a (default: the model's backupFor)")
    .option('--partner <host>', "the partner's mail host in a pair, for the partner-* checks (default: the one configure --partner recorded)")
    .option('--ca <file>', "CA certificate (PEM) the TLS checks verify the server's certificate against, besides the system store (default: labctl's lab CA)")
    .option('--dns-server <address>', 'ask this DNS server for MX, SPF and DKIM records (default: the system resolver)')
    .option('--outside-address <ip>', 'client address for the relay tests with exim -bh (default 192.0.2.25)')
    .option('--timeout <seconds>', 'time limit per check', String(DEFAULT_TIMEOUT_MS / 1000))
    .option('--json', 'print the report as JSON')
    .option('-v, --verbose', 'show the evidence under each check')
    .option('--evidence <dir>', 'also write one file per check and verify.json into DIR')
    .option('--lab', 'verify each host of the two-host lab (labctl lab up), from inside the lab')
    .option('--no-store', `do not keep this run under the state directory's evidence/ for labctl report`)
    .addHelpText('after', `\nChecks: ${CHECK_IDS.join(', ')}\nExit status: 0 nothing failed, 1 a check failed, 2 usage error.`)
    .action(lazy(() => import('./actions/verify.js'), 'verifyAction'));
}

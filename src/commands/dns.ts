import type { Command } from 'commander';
import { addModelOptions } from '../config/model-flags.js';
import { lazy } from './lazy.js';

export function registerDns(program: Command): void {
  const cmd = program
    .command('dns')
    .description('print the BIND zone records the domain needs: A, MX 10/20, SPF, DKIM, DMARC, TLS-RPT, MTA-STS, TLSA (write-up 4a, Task 7, and beyond the write-up); --check compares them with what DNS serves');
  addModelOptions(cmd)
    .option('--configure-file <file>', 'find the DKIM key and the certificate beside this configuration (default: as labctl configure)')
    .option('--dkim-public-key <file>', 'the DKIM public key (PEM) to publish, instead of the key labctl configure made')
    .option('--origin', 'write owner names relative to the domain ($ORIGIN), not absolute')
    .option('--check', 'ask DNS for each record and compare, record by record; exit 1 when any is missing or different')
    .option('--dns-server <address>', 'with --check: ask this DNS server (default: the system resolver)')
    .action(lazy(() => import('./actions/dns.js'), 'dnsAction'));
}

import type { Command } from 'commander';
import { addModelOptions } from '../config/model-flags.js';
import { lazy } from './lazy.js';

export function registerConfigure(program: Command): void {
  const cmd = program
    .command('configure')
    .description('render, check and install the lab Exim configuration: local delivery, postmaster, backup MX, TLS, DKIM (write-up Tasks 1.2-1.3, 2, 3, 7)');
  addModelOptions(cmd)
    .option('--configure-file <file>', 'the installed configuration (default: what labctl install recorded, else /usr/exim/configure)')
    .option('--exim <binary>', 'the Exim binary (default: what labctl install recorded, else /usr/exim/bin/exim)')
    .option('--diff', 'show the change against the installed file and install nothing')
    .option('--dry-run', 'print the plan and change nothing; no root needed')
    .action(lazy(() => import('./actions/configure.js'), 'configureAction'));
}

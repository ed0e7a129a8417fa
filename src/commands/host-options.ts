import type { Command } from 'commander';

/** The flags of the commands that read one Exim (queue, logs): which Exim (src/commands/actions/exim-host.ts). */
export const withHostOptions = (c: Command) =>
  c
    .option('--lab-host <name>', 'a mail host of the running lab (st14, st18) instead of this machine')
    .option('--config <file>', 'another Exim configuration (exim -C FILE: its spool and logs)');

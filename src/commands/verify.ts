import type { Command } from 'commander';
import { EXIT, usageError } from '../errors.js';
import { CHECK_IDS } from '../verify/catalogue.js';
import { storeReport, writeEvidenceDir } from '../verify/evidence.js';
import { makeChalk, renderChecklist, toJson } from '../verify/render.js';
import { DEFAULT_TIMEOUT_MS, runChecks } from '../verify/runner.js';
import { inClientNamespace, labTargets, rerunInClient } from '../lab/verify.js';
import { localTarget, type TargetOverrides } from '../verify/target.js';
import type { VerifyReport, VerifyTarget } from '../verify/types.js';
import path from 'node:path';
import { locked } from './locked.js';

interface VerifyFlags {
  only?: string;
  skip?: string;
  host?: string;
  port?: string;
  domain?: string;
  user?: string;
  partner?: string;
  dnsServer?: string;
  outsideAddress?: string;
  ca?: string;
  timeout?: string;
  json?: boolean;
  verbose?: boolean;
  evidence?: string;
  lab?: boolean;
  store?: boolean;
}

const list = (s?: string) => s?.split(',').map((x) => x.trim()).filter(Boolean);

function positiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw usageError(`${flag} ${value}: expected a positive whole number`);
  return n;
}

/** The flags, checked before the lock is asked for (a bad one exits 2). */
function parseFlags(flags: VerifyFlags) {
  const timeout = positiveInt('--timeout', flags.timeout) ?? DEFAULT_TIMEOUT_MS / 1000;
  const overrides: TargetOverrides = {
    host: flags.host,
    port: positiveInt('--port', flags.port),
    domain: flags.domain,
    user: flags.user,
    partners: list(flags.partner),
    dnsServer: flags.dnsServer,
    outsideAddress: flags.outsideAddress,
    ca: flags.ca,
  };
  return { flags, timeout, overrides };
}

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
    .option('--partner <domains>', "partner domains this host backs up (default: the model's backupFor)")
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
    .action(locked('shared', parseFlags, async ({ flags, timeout, overrides }) => {
      let targets: VerifyTarget[];
      if (flags.lab) {
        // The checks connect from this process: it must live in the lab client's namespace.
        if (!(await inClientNamespace())) {
          process.exitCode = await rerunInClient();
          return;
        }
        targets = await labTargets(overrides);
        if (!targets.length) throw usageError('--lab: no lab hosts are up', 'run labctl lab up first');
      } else targets = [await localTarget(overrides)];

      const chalk = makeChalk();
      const reports: { target: VerifyTarget; report: VerifyReport }[] = [];
      for (const target of targets) {
        const started = Date.now();
        const report = await runChecks(target, { only: list(flags.only), skip: list(flags.skip), timeoutMs: timeout * 1000 });
        const totalMs = Date.now() - started;
        reports.push({ target, report });
        if (flags.evidence) await writeEvidenceDir(targets.length > 1 ? path.join(flags.evidence, target.name ?? target.domain) : flags.evidence, report);
        if (flags.store !== false) await storeReport(report, target.name).catch((err: Error) => console.error(`labctl: could not store the evidence: ${err.message}`));
        if (!flags.json) {
          const heading = `labctl verify: ${target.name ? `${target.name}, ` : ''}${target.domain} at ${target.address}:${target.smtpPort}, user ${target.user}`;
          console.log(renderChecklist(report, { verbose: flags.verbose, chalk, heading, totalMs }));
        }
      }
      if (flags.json) {
        // One host: exactly the report. Several (--lab): an object keyed by host name.
        if (reports.length === 1) console.log(toJson(reports[0].report));
        else console.log(`{\n${reports.map(({ target, report }) => `${JSON.stringify(target.name ?? target.domain)}: ${toJson(report)}`).join(',\n')}\n}`);
      }
      process.exitCode = reports.some((r) => r.report.failed > 0) ? EXIT.failure : EXIT.ok;
    }));
}

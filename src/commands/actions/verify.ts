import { EXIT, usageError } from '../../errors.js';
import { checkDnsName } from '../../config/validate.js';
import { DEFAULT_TIMEOUT_MS } from '../../verify/help.js';
import type { TargetOverrides } from '../../verify/target.js';
import type { VerifyReport, VerifyTarget } from '../../verify/types.js';
import path from 'node:path';
import { locked } from '../locked.js';

export interface VerifyFlags {
  only?: string;
  skip?: string;
  host?: string;
  port?: string;
  domain?: string;
  user?: string;
  backupFor?: string;
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
    partners: list(flags.backupFor),
    partner: flags.partner === undefined ? undefined : checkDnsName('--partner', flags.partner, 2),
    dnsServer: flags.dnsServer,
    outsideAddress: flags.outsideAddress,
    ca: flags.ca,
  };
  return { flags, timeout, overrides };
}

/**
 * `labctl verify`: the checks against this machine's Exim, or each lab host's (--lab), under the
 * shared lock. The checks, the lab and their libraries are imported once the flags are checked
 * and the lock is held: a bad flag or a refusal loads none of them.
 */
export const verifyAction = locked('shared', parseFlags, async ({ flags, timeout, overrides }) => {
  const [{ storeReport, writeEvidenceDir }, { makeChalk, renderChecklist, toJson }, { runChecks }, { inClientNamespace, labTargets, rerunInClient }, { localTarget }] = await Promise.all([
    import('../../verify/evidence.js'),
    import('../../verify/render.js'),
    import('../../verify/runner.js'),
    import('../../lab/verify.js'),
    import('../../verify/target.js'),
  ]);
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
});

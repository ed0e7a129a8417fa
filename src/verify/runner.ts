import { usageError } from '../errors.js';
import type { EvidenceItem } from '../evidence/store.js';
import { CATALOGUE } from './catalogue.js';
import { Facts } from './facts.js';
import { DEFAULT_TIMEOUT_MS } from './help.js';
import type { CheckDef, CheckResult, RunChecksOptions, VerifyReport, VerifyTarget } from './types.js';

/** Picks the checks to run, in catalogue order; unknown ids are a usage error. */
export function selectChecks(all: readonly CheckDef[], only?: string[], skip?: string[]): CheckDef[] {
  const ids = new Set(all.map((c) => c.id));
  for (const id of [...(only ?? []), ...(skip ?? [])]) {
    if (!ids.has(id)) throw usageError(`unknown check "${id}"`, `checks: ${[...ids].join(', ')}`);
  }
  return all.filter((c) => (!only?.length || only.includes(c.id)) && !skip?.includes(c.id));
}

/** Runs one check under its timeout; a check that throws or runs late fails, it never hangs the run. */
export async function runOne(def: CheckDef, target: VerifyTarget, facts: Facts, timeoutMs: number): Promise<CheckResult> {
  const started = Date.now();
  const evidence: EvidenceItem[] = [];
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ status: 'fail'; summary: string }>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({ status: 'fail', summary: `timed out after ${timeoutMs} ms (--timeout to allow longer)` });
    }, timeoutMs);
  });
  const work = def
    .run({ target, evidence, signal: controller.signal, facts, remainingMs: () => Math.max(0, started + timeoutMs - Date.now()) })
    .catch((err: unknown) => ({ status: 'fail' as const, summary: `error: ${err instanceof Error ? err.message : String(err)}` }));
  const outcome = await Promise.race([work, timeout]);
  clearTimeout(timer);
  return { id: def.id, title: def.title, status: outcome.status, summary: outcome.summary, ms: Date.now() - started, evidence: [...evidence] };
}

export function summarize(checks: CheckResult[]): VerifyReport {
  const count = (s: string) => checks.filter((c) => c.status === s).length;
  return { checks, passed: count('pass'), failed: count('fail'), warned: count('warn'), skipped: count('skip') };
}

/**
 * Runs the catalogue (or the chosen part of it) against one host. Checks run a few at a time
 * (`concurrency`), each under its own timeout; results come back in catalogue order.
 */
export async function runChecks(target: VerifyTarget, opts: RunChecksOptions = {}, catalogue: readonly CheckDef[] = CATALOGUE): Promise<VerifyReport> {
  const defs = selectChecks(catalogue, opts.only, opts.skip);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const facts = new Facts(target);
  const results: CheckResult[] = new Array(defs.length);
  let next = 0;
  const worker = async () => {
    while (next < defs.length) {
      const i = next++;
      results[i] = await runOne(defs[i], target, facts, timeoutMs);
      opts.onResult?.(results[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 4, defs.length)) }, worker));
  return summarize(results);
}

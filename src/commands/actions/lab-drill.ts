/**
 * `labctl lab drill ...`: the scripted exercises, each run on the lab that is up. Each drill's
 * module (and the lab, the checks and the libraries behind it) is imported by its run, after
 * the flags are checked and the lock is held: a bad flag or a refusal loads none of it.
 */
import chalk from 'chalk';
import { EXIT } from '../../errors.js';
import { CHECK_MARK } from '../../evidence/types.js';
import { describeCeiling, describePhases } from '../../lab/drills/backup-phases.js';
import type { LabState } from '../../lab/state.js';
import { locked } from '../locked.js';
import { positiveInt, requireState } from './lab-common.js';

const mark = (ok: boolean) => (ok ? chalk.green('pass') : chalk.red('FAIL'));

/**
 * What the drill commands share: their flags checked before the lock (`parse`, for those that
 * have more than --json: a bad one is exit 2 whoever holds the lock), the exclusive lock, the
 * lab's state, progress lines (dimmed) unless --json, then the drill's JSON or its lines, and
 * exit 1 unless it passed, with `failure`'s one line on stderr.
 */
function drillAction<O extends { json?: boolean }, R, P = O>(
  run: (state: LabState, p: P, log: ((line: string) => void) | undefined) => Promise<R>,
  show: { json: (r: R) => unknown; text: (r: R) => string[]; ok: (r: R) => boolean; failure?: (r: R) => string },
  parse: (o: O) => P = (o) => o as unknown as P,
) {
  return locked('exclusive', (o: O) => ({ o, p: parse(o) }), async ({ o, p }) => {
    const state = await requireState();
    const r = await run(state, p, o.json ? undefined : (l) => console.log(chalk.dim(`  ${l}`)));
    if (o.json) console.log(JSON.stringify(show.json(r)));
    else for (const line of show.text(r)) console.log(line);
    if (show.ok(r)) return;
    if (show.failure && !o.json) console.error(chalk.red(`labctl: ${show.failure(r)}`));
    process.exitCode = EXIT.failure;
  });
}

/** `labctl lab drill backup-mx`. */
export const drillBackupMxAction = drillAction(
  async (state, p: { n: number; force: boolean; runners: number }, log) => (await import('../../lab/drills/backup-mx.js')).backupMxDrill(state, { messages: p.n, force: p.force, runners: p.runners, log }),
  {
    json: (r) => r.figures,
    text: (r) => {
      const f = r.figures;
      return [
        `backup-mx drill (${r.forced ? 'forced, -qff' : 'retry rule + queue runner'}): ${r.primary} down, ${r.backup} as backup`,
        `  sent ${f.sent}, held on ${r.backup} ${f.heldOnBackup}, delivered ${f.delivered}, lost ${f.lost}, duplicates ${f.duplicates}`,
        `  held ${f.heldSeconds} s, recovered ${f.recoverySeconds} s after ${r.primary} returned; backup accepted ${r.acceptRate} msg/s`,
        `  phases: ${Object.entries(r.phases).map(([k, v]) => `${k} ${v} s`).join(', ')}`,
        `  from the main logs: ${describePhases(r.logPhases)}`,
        ...(r.cpu ? [`  machine: ${describeCeiling(r.cpu)}`] : []),
      ];
    },
    ok: (r) => r.figures.lost === 0 && r.figures.duplicates === 0,
    failure: (r) => `backup-mx drill failed: ${r.figures.lost} lost, ${r.figures.duplicates} duplicated`,
  },
  (o: { messages: string; force?: boolean; runners: string; json?: boolean }) => ({ n: positiveInt('--messages', o.messages), force: Boolean(o.force), runners: positiveInt('--runners', o.runners) }),
);

/** `labctl lab drill wire`. */
export const drillWireAction = drillAction(async (state, o: { demoPlaintext?: boolean; json?: boolean }, log) => (await import('../../lab/drills/wire.js')).wireDrill(state, { demoPlaintext: o.demoPlaintext, log }), {
  json: (r) => ({ tls: r.tls, plain: r.plain, smtps: r.smtps, pcap: r.pcap }),
  text: (r) => [
    ...r.summary.map((l) => chalk.dim(`  ${l}`)),
    `${mark(r.tls.ok)}  STARTTLS: in the clear ${r.tls.plainCommands.join(' | ')}; then ${r.tls.onlyTlsAfterStartTls ? 'only TLS records' : 'NOT only TLS'} (${r.tls.tlsVersion ?? '?'}, ${r.tls.cipher ?? '?'}); marker ${r.tls.markerFound ? 'FOUND in the capture' : 'nowhere in the capture'}`,
    `${mark(r.plain.ok)}  control (TLS off): marker ${r.plain.markerFound ? `in the clear, packet ${r.plain.packet}, payload offset ${r.plain.offset}` : 'not found'}`,
    `${mark(r.smtps.ok)}  SMTPS 465: TLS from the first byte ${r.smtps.tlsFromFirstByte ? 'yes' : 'no'}, SMTP in the clear ${r.smtps.plainCommands.length ? r.smtps.plainCommands.join(' | ') : 'none'}; marker ${r.smtps.markerFound ? 'FOUND' : 'nowhere in the capture'}`,
    `capture: ${r.pcap} (open it in Wireshark)`,
  ],
  ok: (r) => r.ok,
});

/** `labctl lab drill spoof`. */
export const drillSpoofAction = drillAction(async (state, o: { enforce: boolean; json?: boolean }, log) => (await import('../../lab/drills/spoof.js')).spoofDrill(state, { enforce: o.enforce, log }), {
  json: (r) => ({ sent: r.sent, refused: r.refused, delivered: r.delivered, spf: r.spf, dkim: r.dkim, dmarc: r.dmarc }),
  text: (r) => [
    `${mark(r.ok)}  spoof drill (${r.enforced ? 'DMARC enforced' : 'DMARC recorded only'}): sent ${r.sent}, refused ${r.refused}, delivered ${r.delivered}; spf=${r.spf} dkim=${r.dkim} dmarc=${r.dmarc}`,
    ...(r.reason ? [`  refused: ${r.reason}`] : []),
  ],
  ok: (r) => r.ok,
});

/** `labctl lab drill dane`. */
export const drillDaneAction = drillAction(async (state, _o: { json?: boolean }, log) => (await import('../../lab/drills/dane.js')).daneDrill(state, { log }), {
  json: (r) => ({ staleTlsa: r.staleTlsa, deferred: r.deferred, republished: r.republished, delivered: r.delivered, ok: r.ok }),
  text: (r) => [
    `${mark(r.staleTlsa.stale)}  after the swap DNS serves ${r.staleTlsa.served.join(', ')}; the new key needs ${r.staleTlsa.wanted}`,
    `${mark(r.deferred.ok)}  ${r.peer} deferred ${(r.deferred.afterMs / 1000).toFixed(1)} s after the swap: ${r.deferred.reason ?? 'no deferral logged'}`,
    `${mark(r.republished.ok)}  new TLSA validated by the lab's resolver ${(r.republished.afterMs / 1000).toFixed(1)} s after the deferral`,
    `${mark(r.delivered.ok && r.delivered.dane)}  delivered ${(r.delivered.afterMs / 1000).toFixed(1)} s later: ${r.delivered.logLine?.replace(/^.* => /, '') ?? 'not delivered'}`,
  ],
  ok: (r) => r.ok,
});

/** `labctl lab drill tls`. */
export const drillTlsAction = drillAction(async (state, _o: { json?: boolean }, log) => (await import('../../lab/drills/tls.js')).tlsDrill(state, { log }), {
  json: (r) => r,
  text: (r) => r.checks.map((c) => `${c.status === 'pass' ? chalk.green(CHECK_MARK.pass) : chalk.red(CHECK_MARK[c.status])}  ${c.id.padEnd(22)} ${c.summary}`),
  ok: (r) => r.passed === r.checks.length,
});

import type { Command } from 'commander';
import chalk from 'chalk';
import { EXIT, LabError, usageError } from '../errors.js';
import { backupMxDrill } from '../lab/drill-backup.js';
import { describeCeiling, describePhases } from '../lab/drill-phases.js';
import { CHECK_MARK, tlsDrill } from '../lab/drill-tls.js';
import { wireDrill } from '../lab/drill-wire.js';
import { spoofDrill } from '../lab/drill-spoof.js';
import { daneDrill } from '../lab/drill-dane.js';
import { describeLeftovers, findLeftovers, labDown } from '../lab/down.js';
import { execInLab } from '../lab/exec.js';
import { labSend } from '../lab/send.js';
import { loadState, type LabState } from '../lab/state.js';
import { labStatus, printStatus } from '../lab/status.js';
import { loadLabSpec } from '../lab/topology.js';
import { labUp, planLabUp } from '../lab/up.js';
import { StepLines, formatMs } from '../ui/steps.js';
import { locked } from './locked.js';

/** `labctl lab ...`: the two-host backup-MX lab with its own DNS server, on one machine. */
async function requireState() {
  const state = await loadState();
  if (!state) throw new LabError('the lab is not up', 'run labctl lab up first');
  return state;
}

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

function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100000) throw usageError(`${flag}: "${value}" is not a whole number from 1 to 100000`);
  return n;
}

export function registerLab(program: Command): void {
  const lab = program.command('lab').description('the two-host backup-MX lab (namespaces, BIND, one Exim per host view)');

  lab
    .command('up')
    .description('build the lab: namespaces, DNS server, mail hosts configured like `labctl configure`, daemons')
    .option('--config <file>', 'lab topology (YAML or JSON); default st14 + st18, each the other\'s backup MX')
    .option('--dry-run', 'print what lab up would do (each step\'s check); change nothing')
    .action(locked((o: { dryRun?: boolean }) => (o.dryRun ? 'shared' : 'exclusive'), async (o: { config?: string; dryRun?: boolean }) => ({ o, spec: await loadLabSpec(o.config) }), async ({ o, spec }) => {
      if (o.dryRun) return planLabUp(spec, new StepLines('check'));
      const started = performance.now();
      const r = await labUp(spec, new StepLines());
      if (r.already) console.log('lab: already up with this topology, nothing to do (labctl lab status shows it)');
      else console.log(`lab: up in ${formatMs(performance.now() - started)}`);
    }));

  lab
    .command('down')
    .description('remove every namespace, bridge, mount, process and file the lab made (safe to run twice); says how many queued messages each host discards')
    .option('--keep-spool <dir>', "first copy each host's spool (queue, message logs, hints, logs) to DIR/<host>")
    .action(locked('exclusive', async (o: { keepSpool?: string }) => {
      const started = performance.now();
      const r = await labDown({
        keepSpool: o.keepSpool,
        onSpool: (s) => {
          const what = s.queued === 0 ? 'no queued messages' : `${s.queued} queued message${s.queued === 1 ? '' : 's'} ${s.keptIn ? 'removed' : 'discarded'}`;
          console.log(`lab: ${s.host}: ${what}${s.keptIn ? `; spool kept in ${s.keptIn}` : ''}`);
        },
      });
      const what = r.namespaces.length || r.killed || r.removedDir ? `removed ${r.namespaces.length} namespaces, stopped ${r.killed} processes` : 'nothing was up';
      console.log(`lab: down in ${formatMs(performance.now() - started)} (${what}); nothing left behind`);
    }));

  lab
    .command('leftovers')
    .description('list anything a lab left behind (namespaces, /etc/netns files, processes, mounts, files); exit 1 if any')
    .action(async () => {
      const left = describeLeftovers(await findLeftovers());
      for (const l of left) console.log(l);
      if (left.length) process.exitCode = EXIT.failure;
      else console.log('lab: nothing left behind');
    });

  lab
    .command('status')
    .description('hosts, addresses, daemons and queue sizes')
    .option('--json', 'print the status as JSON')
    .action(async (o: { json?: boolean }) => {
      const state = await loadState();
      if (!state) {
        if (o.json) console.log(JSON.stringify({ up: false }));
        else console.log('lab: not up');
        process.exitCode = EXIT.failure;
        return;
      }
      const st = await labStatus(state);
      if (o.json) console.log(JSON.stringify(st, null, 2));
      else printStatus(st);
      if (!st.healthy) process.exitCode = EXIT.failure;
    });

  lab
    .command('exec')
    .description('run a command (default: a shell) in a lab host\'s view')
    .argument('<host>', 'st14, st18, client or dns')
    .argument('[command...]', 'the command, after --')
    .action(async (host: string, command: string[]) => {
      const state = await requireState();
      process.exitCode = await execInLab(state, host, command);
    });

  lab
    .command('send')
    .description('send mail from inside a lab host (client: by MX lookup; mail hosts: through their own Exim)')
    .requiredOption('--from <host>', 'st14, st18 or client')
    .requiredOption('--to <address>', 'recipient, e.g. ahmed@st14.sne24.ru')
    .option('--count <n>', 'how many messages', '1')
    .option('--sender <address>', 'envelope and From: address (default a user of another lab domain)')
    .option('--json', 'print one JSON record per message')
    .action(locked('exclusive', (o: { from: string; to: string; count: string; sender?: string; json?: boolean }) => {
      if (!/^[^@\s]+@[^@\s]+$/.test(o.to)) throw usageError(`--to: "${o.to}" is not an address`);
      return { o, count: positiveInt('--count', o.count) };
    }, async ({ o, count }) => {
      const state = await requireState();
      const r = await labSend(state, o.from, { to: o.to, count, from: o.sender });
      const ok = r.records.filter((x) => x.ok).length;
      if (o.json) for (const rec of r.records) console.log(JSON.stringify(rec));
      else {
        for (const rec of r.records.filter((x) => !x.ok)) console.log(chalk.red(`${rec.messageId}: ${rec.error}`));
        console.log(`lab send: ${ok}/${r.records.length} accepted${r.records[0]?.mx ? ` (first by ${r.records[0].mx})` : ''}; Message-IDs ${r.runId}-N`);
      }
      if (ok !== r.records.length) process.exitCode = EXIT.failure;
    }));

  const drill = lab.command('drill').description('scripted exercises of the write-up: backup-mx (4b-5c), tls (Task 3 and 7), wire (7c); beyond it: spoof (DMARC), dane (DANE)');

  drill
    .command('backup-mx')
    .description('stop st14, send N messages by MX lookup, show them held on st18, bring st14 back, count what arrives')
    .option('--messages <n>', 'how many messages', '10')
    .option('--force', 'deliver with exim -qff on the backup (5c) instead of waiting for the retry rule (4c)')
    .option('--runners <n>', 'with --force: queue runners started at once on the backup', '1')
    .option('--json', 'print exactly {"sent","heldOnBackup","delivered","lost","duplicates","heldSeconds","recoverySeconds"}')
    .action(drillAction(
      (state, p: { n: number; force: boolean; runners: number }, log) => backupMxDrill(state, { messages: p.n, force: p.force, runners: p.runners, log }),
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
    ));

  drill
    .command('wire')
    .description('Task 3 (7c) on the wire: capture st18 -> st14 over STARTTLS, a control message without TLS, and SMTPS; read it with tshark')
    .option('--demo-plaintext', 'send the "TLS" message without TLS too, to see the proof fail (exit 1)')
    .option('--json', 'print {"tls","plain","smtps","pcap"}')
    .action(drillAction((state, o: { demoPlaintext?: boolean; json?: boolean }, log) => wireDrill(state, { demoPlaintext: o.demoPlaintext, log }), {
      json: (r) => ({ tls: r.tls, plain: r.plain, smtps: r.smtps, pcap: r.pcap }),
      text: (r) => [
        ...r.summary.map((l) => chalk.dim(`  ${l}`)),
        `${mark(r.tls.ok)}  STARTTLS: in the clear ${r.tls.plainCommands.join(' | ')}; then ${r.tls.onlyTlsAfterStartTls ? 'only TLS records' : 'NOT only TLS'} (${r.tls.tlsVersion ?? '?'}, ${r.tls.cipher ?? '?'}); marker ${r.tls.markerFound ? 'FOUND in the capture' : 'nowhere in the capture'}`,
        `${mark(r.plain.ok)}  control (TLS off): marker ${r.plain.markerFound ? `in the clear, packet ${r.plain.packet}, payload offset ${r.plain.offset}` : 'not found'}`,
        `${mark(r.smtps.ok)}  SMTPS 465: TLS from the first byte ${r.smtps.tlsFromFirstByte ? 'yes' : 'no'}, SMTP in the clear ${r.smtps.plainCommands.length ? r.smtps.plainCommands.join(' | ') : 'none'}; marker ${r.smtps.markerFound ? 'FOUND' : 'nowhere in the capture'}`,
        `capture: ${r.pcap} (open it in Wireshark)`,
      ],
      ok: (r) => r.ok,
    }));

  drill
    .command('spoof')
    .description('DMARC: the client sends st14 a message "from" st18 that st18 neither lists in SPF nor signs; st14 refuses it (or, with --no-enforce, delivers it marked spf=fail dkim=none dmarc=fail)')
    .option('--no-enforce', 'leave st14 recording the DMARC result only (the lab\'s default); without it st14 enforces DMARC for this message')
    .option('--json', 'print {"sent","refused","delivered","spf","dkim","dmarc"}')
    .action(drillAction((state, o: { enforce: boolean; json?: boolean }, log) => spoofDrill(state, { enforce: o.enforce, log }), {
      json: (r) => ({ sent: r.sent, refused: r.refused, delivered: r.delivered, spf: r.spf, dkim: r.dkim, dmarc: r.dmarc }),
      text: (r) => [
        `${mark(r.ok)}  spoof drill (${r.enforced ? 'DMARC enforced' : 'DMARC recorded only'}): sent ${r.sent}, refused ${r.refused}, delivered ${r.delivered}; spf=${r.spf} dkim=${r.dkim} dmarc=${r.dmarc}`,
        ...(r.reason ? [`  refused: ${r.reason}`] : []),
      ],
      ok: (r) => r.ok,
    }));

  drill
    .command('dane')
    .description("DANE: give st14 a new certificate its TLSA does not match, see st18 defer, publish the new TLSA, see st18 deliver with CV=dane")
    .option('--json', 'print {"staleTlsa","deferred","republished","delivered","ok"} with the times in ms')
    .action(drillAction((state, _o: { json?: boolean }, log) => daneDrill(state, { log }), {
      json: (r) => ({ staleTlsa: r.staleTlsa, deferred: r.deferred, republished: r.republished, delivered: r.delivered, ok: r.ok }),
      text: (r) => [
        `${mark(r.staleTlsa.stale)}  after the swap DNS serves ${r.staleTlsa.served.join(', ')}; the new key needs ${r.staleTlsa.wanted}`,
        `${mark(r.deferred.ok)}  ${r.peer} deferred ${(r.deferred.afterMs / 1000).toFixed(1)} s after the swap: ${r.deferred.reason ?? 'no deferral logged'}`,
        `${mark(r.republished.ok)}  new TLSA validated by the lab's resolver ${(r.republished.afterMs / 1000).toFixed(1)} s after the deferral`,
        `${mark(r.delivered.ok && r.delivered.dane)}  delivered ${(r.delivered.afterMs / 1000).toFixed(1)} s later: ${r.delivered.logLine?.replace(/^.* => /, '') ?? 'not delivered'}`,
      ],
      ok: (r) => r.ok,
    }));

  drill
    .command('tls')
    .description('STARTTLS verified against the lab CA, SMTPS on 465, TLS-required mode, DKIM and SPF between the hosts')
    .option('--json', 'print the checks as JSON: the shape of verify --json, with the primary and peer host')
    .action(drillAction((state, _o: { json?: boolean }, log) => tlsDrill(state, { log }), {
      json: (r) => r,
      text: (r) => r.checks.map((c) => `${c.status === 'pass' ? chalk.green(CHECK_MARK.pass) : chalk.red(CHECK_MARK[c.status])}  ${c.id.padEnd(22)} ${c.summary}`),
      ok: (r) => r.passed === r.checks.length,
    }));
}

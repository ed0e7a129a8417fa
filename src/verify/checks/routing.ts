import { findByMessageId } from '../mailbox.js';
import { commandEvidence } from '../facts.js';
import { EXIM_ID, renderMessage, uniqueMessageId } from '../message.js';
import { smtpSession } from '../smtp.js';
import type { CheckContext, CheckDef, CheckVerdict } from '../types.js';

/** Task 3: a local user is routed and gets mail, over SMTP and from the command line; postmaster reaches them. */

export const routeLocal: CheckDef = {
  id: '3a-route-local',
  title: 'exim -bt routes the local user to a local delivery',
  async run({ target, evidence, facts }) {
    const address = `${target.user}@${target.domain}`;
    const r = await facts.exim(['-bt', address]);
    evidence.push(commandEvidence(`exim -bt ${address}`, r));
    const transport = /transport\s*=\s*(\S+)/.exec(r.stdout)?.[1];
    const router = /router\s*=\s*([^,\s]+)/.exec(r.stdout)?.[1];
    if (r.exitCode !== 0 || !transport) {
      const why = r.stdout.split('\n').find((l) => /Unrouteable|undeliverable|failed|deferred|error/i.test(l)) ?? r.stderr.split('\n')[0];
      return { status: 'fail', summary: `${address} is not routed (exit ${r.exitCode})${why ? `: ${why.trim()}` : ''}` };
    }
    const driver = (await facts.transports()).transports.get(transport)?.get('driver');
    if (driver && driver !== 'appendfile') return { status: 'fail', summary: `${address} goes to ${transport} (${driver}), not a local mailbox` };
    return { status: 'pass', summary: `${address} -> router ${router ?? '?'}, transport ${transport}` };
  },
};

interface Sent {
  how: string;
  messageId: string;
  eximId?: string;
  error?: string;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Sends one message to `recipient` through the daemon on port 25 and one with `exim` on the
 * command line (the write-up's way), then waits for both in `mailboxUser`'s mailbox. A delivery
 * that Exim defers or fails ends the wait at once, with Exim's reason from the main log.
 */
export async function deliverBothWays(ctx: CheckContext, tag: string, recipient: string, mailboxUser: string): Promise<CheckVerdict> {
  const { target, evidence, facts, signal } = ctx;
  const sender = `${target.user}@${target.domain}`;
  const viaSmtp: Sent = { how: 'SMTP, port ' + target.smtpPort, messageId: uniqueMessageId(`${tag}-smtp`, target.domain) };
  const viaCli: Sent = { how: 'exim command line', messageId: uniqueMessageId(`${tag}-cli`, target.domain) };
  const subject = (s: Sent) => `labctl verify ${tag} (${s.how})`;

  await Promise.all([
    (async () => {
      const session = await smtpSession(
        { host: target.address, port: target.smtpPort, startTls: 'auto', localAddress: target.localAddress, timeoutMs: Math.min(5000, ctx.remainingMs()), signal },
        { from: sender, to: [recipient], raw: renderMessage({ from: sender, to: recipient, subject: subject(viaSmtp), messageId: viaSmtp.messageId }) },
      );
      evidence.push({ kind: 'transcript', label: `SMTP session to ${recipient}`, text: session.transcript.toString() });
      viaSmtp.eximId = session.accepted?.eximId;
      if (!session.accepted) viaSmtp.error = session.error?.response ?? session.error?.message ?? 'not accepted';
    })(),
    (async () => {
      const r = await facts.exim(['-odi', '-v', '-f', sender, recipient], {
        input: renderMessage({ from: sender, to: recipient, subject: subject(viaCli), messageId: viaCli.messageId }),
        timeoutMs: Math.min(8000, ctx.remainingMs()),
      });
      evidence.push(commandEvidence(`exim on the command line to ${recipient}`, r));
      // -v prints "delivering <id>" (and the log lines); the first id in its output is this message's.
      viaCli.eximId = EXIM_ID.exec(r.stdout + '\n' + r.stderr)?.[0];
      if (r.exitCode !== 0) viaCli.error = `exim exited ${r.exitCode}: ${(r.stderr || r.stdout).split('\n').slice(-1)[0]}`;
    })(),
  ]);

  const mailbox = await facts.mailboxPath(mailboxUser);
  const pending = [viaSmtp, viaCli].filter((s) => !s.error);
  const found = new Map<Sent, string>();
  let problems: string[] = [];
  while (!signal.aborted) {
    const text = (await target.view.readFile(mailbox, { tailBytes: 4 << 20 })) ?? '';
    for (const s of pending) {
      const m = found.has(s) ? undefined : findByMessageId(text, s.messageId);
      if (m) found.set(s, `${m.separator}\n${m.headers}`);
    }
    if (found.size === pending.length) break;
    // A defer (==) or failure (**) in the main log will not turn into a delivery while we wait.
    const ids = pending.filter((s) => !found.has(s)).map((s) => s.eximId ?? '');
    problems = (await facts.mainlogLines(ids)).filter((l) => / (==|\*\*) /.test(l));
    if (problems.length || ctx.remainingMs() < 400) break;
    await sleep(100, signal);
  }

  for (const s of [viaSmtp, viaCli]) {
    const headers = found.get(s);
    if (headers) evidence.push({ kind: 'headers', label: `full headers as delivered to ${mailbox} (${s.how})`, text: headers });
  }
  const log = await facts.mainlogLines([viaSmtp.eximId ?? '', viaCli.eximId ?? '']);
  if (log.length) evidence.push({ kind: 'log', label: 'main log', text: log.join('\n') });

  const failures = [
    ...[viaSmtp, viaCli].filter((s) => s.error).map((s) => `${s.how}: ${s.error}`),
    ...problems.map((l) => `Exim: ${l.replace(/^\S+ \S+ /, '')}`),
    ...pending.filter((s) => !found.has(s) && !problems.some((l) => s.eximId && l.includes(s.eximId))).map((s) => `${s.how}: ${s.messageId} not in ${mailbox}${problems.length ? '' : ' in time'}`),
  ];
  if (failures.length) return { status: 'fail', summary: failures.join('; ') };
  return { status: 'pass', summary: `both messages (SMTP ${viaSmtp.eximId}, command line ${viaCli.eximId}) are in ${mailbox}` };
}

export const localDelivery: CheckDef = {
  id: '3b-local-delivery',
  title: 'mail to the local user arrives in its mailbox, full headers shown',
  run: (ctx) => deliverBothWays(ctx, '3b', `${ctx.target.user}@${ctx.target.domain}`, ctx.target.user),
};

export const postmaster: CheckDef = {
  id: '3c-postmaster',
  title: 'postmaster@<domain> arrives in the local user\'s mailbox',
  async run(ctx) {
    const address = `postmaster@${ctx.target.domain}`;
    const route = await ctx.facts.exim(['-bt', address]);
    ctx.evidence.push(commandEvidence(`exim -bt ${address}`, route));
    const aliases = await ctx.target.view.readFile('/etc/aliases');
    const line = aliases?.split('\n').find((l) => /^postmaster\s*:/i.test(l));
    ctx.evidence.push({ kind: 'file', label: '/etc/aliases', text: line ?? '(no postmaster line)' });
    const outcome = await deliverBothWays(ctx, '3c', address, ctx.target.user);
    if (outcome.status === 'pass') outcome.summary = `${address} -> ${ctx.target.user}: ${outcome.summary}`;
    return outcome;
  },
};

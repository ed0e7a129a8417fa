/**
 * `labctl lab drill spoof` (beyond the write-up): the client sends straight to st14 a message that claims
 * to be from st18 (From: and envelope mohamed@st18.sne24.ru) from an address st18's SPF does not
 * list, without st18's DKIM signature. With DMARC enforcement st14 refuses it at DATA with Exim's
 * DMARC reason (the lab records DMARC without enforcing it, see labModel: st14 is switched to
 * enforce for this message only, and back); with --no-enforce it delivers it with an
 * Authentication-Results header saying spf=fail, dmarc=fail (and no DKIM signature: dkim=none).
 */
import { randomBytes } from 'node:crypto';
import { LabError } from '../../errors.js';
import { payloadItem, type SpoofDrill } from '../../evidence/payloads.js';
import { saveOutcome } from '../../evidence/record.js';
import { waitUntil } from '../../system/procs.js';
import { run } from '../../system/run.js';
import { headerValue } from '../../verify/mailbox.js';
import { switchHost } from './tls.js';
import { logSize, mailboxMessage, mainlogSince, rejectlogItem, rejectlogSize } from '../hosts/logs.js';
import type { LabState } from '../state.js';
import { drillPair, mailHostName, names, type LabMailHostSpec } from '../topology.js';
import { eximInView } from '../hosts/view.js';

export type { SpoofDrill };

/** What st14's main log says about the spoof: SPF from the MAIL ACL's logwrite, DMARC from Exim's own line, and the refusal. */
export function readSpoofLog(log: string, forgedDomain: string, clientAddress: string): { spf?: string; dmarc?: string; refusal?: string; dkim?: string } {
  const lines = log.split('\n');
  const spf = lines.map((l) => new RegExp(`SPF (\\w+) for ${forgedDomain.replace(/\./g, '\\.')} from ${clientAddress.replace(/\./g, '\\.')}$`).exec(l)?.[1]).find(Boolean);
  const d = lines.map((l) => /DMARC results: .*dmarc_domain=(\S+) spf_align=(\w+) dkim_align=(\w+) enforcement='([^']*)'/.exec(l)).find(Boolean);
  const dkim = lines.map((l) => /DKIM verify: signer=(\S*) status=(\w+)/.exec(l)?.[2]).find(Boolean);
  const refusal = lines.find((l) => /rejected after DATA: /.test(l))?.replace(/^.*rejected after DATA: /, '');
  const dmarc = d ? (d[2] === 'yes' || d[3] === 'yes' ? 'pass' : /reject|quarantine/i.test(d[4]!) ? 'fail' : d[4]!.toLowerCase()) : undefined;
  return { ...(spf ? { spf } : {}), ...(dmarc ? { dmarc } : {}), ...(refusal ? { refusal } : {}), ...(dkim ? { dkim } : {}) };
}

/** "spf=fail smtp.mailfrom=...; dkim=none; dmarc=fail header.from=..." -> { spf: 'fail', dkim: 'none', dmarc: 'fail' }. */
export function readAuthResults(header: string | undefined): { spf?: string; dkim?: string; dmarc?: string } {
  const get = (k: string) => new RegExp(`\\b${k}=(\\w+)`).exec(header ?? '')?.[1];
  const out: { spf?: string; dkim?: string; dmarc?: string } = {};
  for (const k of ['spf', 'dkim', 'dmarc'] as const) {
    const v = get(k);
    if (v) out[k] = v;
  }
  return out;
}

async function eximHasDmarc(host: LabMailHostSpec): Promise<boolean> {
  const r = await eximInView(host, mailHostName(host), ['-bV'], { allowFailure: true, timeoutMs: 10_000 });
  return /^Support for:.*\bDMARC\b/m.test(r.stdout);
}

export async function spoofDrill(state: LabState, opts: { enforce: boolean; log?: (l: string) => void }): Promise<SpoofDrill> {
  const log = opts.log ?? (() => {});
  const { primary, partner: forged } = drillPair(state.spec, 'spoof');
  if (!(await eximHasDmarc(primary))) {
    throw new LabError('the spoof drill needs Exim built with DMARC: exim -bV lists no DMARC', 'run labctl install without --without dmarc (DMARC is in the default build), then labctl lab down and labctl lab up');
  }
  const user = state.hosts[primary.name]!.users[0]!;
  const to = `${user}@${primary.domain}`;
  const from = `${state.hosts[forged.name]!.users[0]!}@${forged.domain}`;
  const marker = `LABCTL-SPOOF-${randomBytes(6).toString('hex').toUpperCase()}`;
  const started = new Date().toISOString();
  const offset = await logSize(primary);
  const rejectOffset = await rejectlogSize(primary);
  // The lab records DMARC without enforcing it (its client sends the write-up's test mail as lab
  // users); the enforced run switches st14 to refuse, for this message only.
  if (opts.enforce) {
    await switchHost(state, primary, { dmarcEnforce: true });
    log(`${primary.name}: DMARC enforced, for this message only`);
  }
  let swaks;
  try {
    // Straight to st14's port 25 from the client (10.203.14.100), which st18's SPF does not list; no DKIM signature.
    swaks = await run(
      'ip',
      ['netns', 'exec', names.clientNs, 'swaks', '--timeout', '15', '--server', primary.address, '--port', '25', '--ehlo', 'client.lab',
        '--from', from, '--to', to, '--header', `From: ${from}`, '--header', `Subject: spoof drill ${marker}`, '--header', `Message-Id: <${marker}@client.lab>`, '--body', marker],
      { allowFailure: true, timeoutMs: 40_000 },
    );
    log(`client -> ${primary.name}:25 as ${from}: swaks exit ${swaks.exitCode}`);
  } finally {
    if (opts.enforce) {
      await switchHost(state, primary, {});
      log(`${primary.name}: back to recording DMARC only`);
    }
  }
  const transcript = swaks.stdout.split('\n').filter((l) => /^\s*(<~?\*?\*?|~?>|\*\*\*)\s/.test(l)).join('\n');
  const refusedAtData = /<\*\* 5\d\d[ -]/.test(transcript);
  let delivered: { headers: string; body: string } | undefined;
  if (!refusedAtData) await waitUntil(async () => (delivered = await mailboxMessage(primary, user, marker)) !== undefined, 20_000, 100);
  const mainlog = await mainlogSince(primary, offset);
  const fromLog = readSpoofLog(mainlog, forged.domain, state.spec.clientAddress);
  const header = delivered ? headerValue(delivered.headers, 'Authentication-Results') : undefined;
  const fromHeader = readAuthResults(header);
  const result: SpoofDrill = {
    sent: swaks.exitCode === 0 || refusedAtData ? 1 : 0,
    refused: refusedAtData ? 1 : 0,
    delivered: delivered ? 1 : 0,
    spf: fromHeader.spf ?? fromLog.spf ?? 'unknown',
    dkim: fromHeader.dkim ?? fromLog.dkim ?? 'none',
    dmarc: fromHeader.dmarc ?? fromLog.dmarc ?? 'unknown',
    enforced: opts.enforce,
    ...(fromLog.refusal ? { reason: fromLog.refusal } : {}),
    ok: false,
  };
  result.ok = result.sent === 1 && result.spf === 'fail' && result.dkim === 'none' && result.dmarc === 'fail' && (opts.enforce ? result.refused === 1 && result.delivered === 0 : result.delivered === 1 && result.refused === 0);
  await saveOutcome('drill', {
    id: opts.enforce ? 'spoof' : 'spoof-monitor',
    title: `DMARC: a spoof of ${forged.domain} sent to ${primary.name} ${opts.enforce ? 'with enforcement' : 'without enforcement (recorded only)'}`,
    status: result.ok ? 'pass' : 'fail',
    summary: opts.enforce
      ? `${result.refused ? `refused at DATA: ${result.reason ?? '(reason not logged)'}` : 'NOT refused'}; spf=${result.spf} dkim=${result.dkim} dmarc=${result.dmarc}`
      : `${result.delivered ? 'delivered' : 'NOT delivered'} with Authentication-Results: spf=${result.spf} dkim=${result.dkim} dmarc=${result.dmarc}`,
    evidence: [
      payloadItem(opts.enforce ? 'spoofDrill' : 'spoofMonitorDrill', result),
      { kind: 'text', label: 'SMTP transcript (swaks from the client)', text: transcript },
      { kind: 'text', label: `${primary.name}'s main log`, text: mainlog.split('\n').filter((l) => /SPF|DMARC|DKIM|rejected|<=|=>/.test(l)).join('\n') },
      ...(header ? [{ kind: 'text' as const, label: 'Authentication-Results, as delivered', text: `Authentication-Results: ${header}` }] : []),
      await rejectlogItem(primary, rejectOffset),
    ],
  }, started);
  return result;
}

import { fileURLToPath } from 'node:url';
import { run, type RunResult } from '../../system/run.js';
import type { CheckDef } from '../../verify/types.js';
import { query } from '../services/bind.js';
import type { LabState } from '../state.js';
import type { TlsDrillScene } from './tls-scene.js';
import { mailHostName, names } from '../topology.js';

/**
 * The TLS drill's checks as verify checks (CheckDef): src/lab/drills/tls.ts runs them with the
 * verify runner against the primary host, so each runs under a timeout, keeps its evidence when
 * it fails or runs late, and says pass or fail like any other check. They reach the hosts the
 * lab's way: mail sent through the peer's Exim (the scene's one delivery,
 * src/lab/drills/tls-scene.ts), logs and mailboxes read from the hosts' files, SMTP from the
 * client's namespace with swaks (an SMTP client independent of labctl's own).
 */

/** swaks in the client's namespace. */
function swaks(args: string[]): Promise<RunResult> {
  return run('ip', ['netns', 'exec', names.clientNs, 'swaks', '--timeout', '10', ...args], { allowFailure: true, timeoutMs: 30_000 });
}

const swaksText = (r: RunResult) => `${r.stdout}\n${r.stderr}`.trim();

const spfProbe = fileURLToPath(new URL('./spf-probe.js', import.meta.url));

/** mailauth's SPF verdict for (sender, ip), asked from inside the lab against the lab's DNS. */
async function spfVerdict(state: LabState, sender: string, ip: string, helo: string): Promise<{ result: string; header: string; explanation: string }> {
  const job = { sender, ip, helo, dnsServer: state.spec.dnsAddress };
  const r = await run('ip', ['netns', 'exec', names.clientNs, process.execPath, spfProbe, JSON.stringify(job)], { allowFailure: true, timeoutMs: 20_000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  return line ? JSON.parse(line) : { result: 'error', header: '', explanation: r.stderr.trim() };
}

const verdict = (ok: boolean) => (ok ? 'pass' : 'fail') as 'pass' | 'fail';

/** Host to host over STARTTLS (certificate verified by the lab CA), DKIM and SPF on that message, and SMTPS from the client. */
export function openChecks(s: TlsDrillScene): CheckDef[] {
  const { state, primary, peer, from, to, runId } = s;
  const ca = state.caCertificate;
  return [
    {
      id: 'starttls-verified',
      title: `${peer.name} -> ${primary.name} over STARTTLS, certificate verified (CV=yes by the lab CA, or CV=dane by its DNSSEC-signed TLSA)`,
      async run(ctx) {
        const d = await s.delivery();
        const out = d.peerLog.split('\n').find((l) => l.includes(' => ') && l.includes(mailHostName(primary))) ?? '';
        const received = d.message ? (/^Received: [\s\S]*?(?=^\S)/m.exec(d.message.headers)?.[0] ?? '') : '';
        const tlsInReceived = /with esmtps|tls /i.test(received);
        ctx.evidence.push({ kind: 'log', label: `${peer.name} main log`, text: out }, { kind: 'headers', label: `${primary.name}: Received header`, text: received.trim() });
        return {
          status: verdict(d.sent.ok && /X=TLS/.test(out) && /CV=(yes|dane)\b/.test(out) && tlsInReceived),
          summary: out
            ? `${/X=(\S+)/.exec(out)?.[1] ?? 'no TLS'} ${/CV=\w+/.exec(out)?.[0] ?? 'CV=?'}; Received header ${tlsInReceived ? 'shows TLS' : 'shows no TLS'}`
            : `no delivery line on ${peer.name}: ${d.sent.error ?? ''}`,
        };
      },
    },
    {
      id: 'dkim-pass',
      title: `message DKIM-signed by ${peer.name} verifies on ${primary.name}`,
      async run(ctx) {
        const d = await s.delivery();
        const rec = /^(\S+ \S+) (\S+) <= .* id=(\S+)/m.exec(d.primaryLog.split('\n').filter((l) => l.includes(runId)).join('\n'));
        const internalId = rec?.[2];
        const dkimLine = d.primaryLog.split('\n').find((l) => internalId !== undefined && l.includes(internalId) && /DKIM verify/.test(l)) ?? '';
        const dkimHeader = d.message ? (/^DKIM-Signature:.*$/im.exec(d.message.headers)?.[0] ?? '') : '';
        ctx.evidence.push({ kind: 'log', label: `${primary.name}: $dkim_verify_status`, text: dkimLine }, { kind: 'headers', label: 'DKIM-Signature', text: dkimHeader });
        return {
          status: verdict(/status=pass/.test(dkimLine) && dkimHeader.length > 0),
          summary: dkimLine ? dkimLine.replace(/^.*DKIM verify: /, '') : `no DKIM verification line on ${primary.name}`,
        };
      },
    },
    {
      id: 'spf-pass',
      title: `published SPF record passes for ${peer.name}'s address`,
      async run(ctx) {
        const d = await s.delivery();
        const spfTxt = (await query(state.spec, 'TXT', peer.domain)).join(' ');
        const spf = await spfVerdict(state, from, peer.address, mailHostName(peer));
        // Exim's own result too, when this build has SPF support (SUPPORT_SPF): it must agree.
        const spfLine = d.primaryLog.split('\n').find((l) => l.includes(`SPF `) && l.includes(` for ${peer.domain} from ${peer.address}`)) ?? '';
        const eximAgrees = !spfLine || /SPF pass /.test(spfLine);
        ctx.evidence.push({ kind: 'text', label: `TXT ${peer.domain}`, text: spfTxt }, { kind: 'text', label: 'mailauth SPF', text: spf.header || spf.explanation });
        if (spfLine) ctx.evidence.push({ kind: 'log', label: `${primary.name}: Exim SPF result`, text: spfLine });
        return {
          status: verdict(spf.result === 'pass' && eximAgrees),
          summary: `${spfTxt} -> ${spf.result} for ${peer.address} (mailauth)${spfLine ? `; Exim: ${spfLine.replace(/^.*?SPF /, 'SPF ')}` : '; this Exim build logs no SPF result (no SUPPORT_SPF)'}`,
        };
      },
    },
    {
      id: 'smtps-465',
      title: `SMTPS on ${primary.name}:465 (TLS on connect, verified)`,
      async run(ctx) {
        const r = await swaks([
          '--server', primary.address, '--port', '465', '--tls-on-connect', '--tls-verify', '--tls-ca-path', ca,
          '--tls-sni', mailHostName(primary), '--ehlo', 'client.lab', '--from', from, '--to', to,
          '--header', `Message-ID: <${runId}-smtps@client.lab>`, '--header', 'Subject: tls drill smtps',
        ]);
        ctx.evidence.push({ kind: 'transcript', label: 'swaks --tls-on-connect', text: swaksText(r) });
        return {
          status: verdict(r.exitCode === 0 && /<~ +220/.test(swaksText(r))),
          summary: r.exitCode === 0 ? 'accepted over TLS on connect' : `swaks exit ${r.exitCode}: ${swaksText(r).split('\n').filter((l) => /^\s*(\*\*\*|<~\*|<\*\*)/.test(l)).slice(-1)[0] ?? ''}`,
        };
      },
    },
  ];
}

/** With the primary in TLS-required mode: plaintext refused at MAIL, the same mail over STARTTLS accepted. */
export function tlsRequiredChecks(s: TlsDrillScene): CheckDef[] {
  const { primary, from, to, runId } = s;
  return [
    {
      id: 'tls-required-plain',
      title: `${primary.name} in TLS-required mode refuses plaintext MAIL from the client`,
      async run(ctx) {
        const r = await swaks(['--server', primary.address, '--port', '25', '--ehlo', 'client.lab', '--from', from, '--to', to, '--quit-after', 'RCPT']);
        const refused = r.exitCode !== 0 && /<\*\* +5\d\d.*TLS required/.test(swaksText(r));
        ctx.evidence.push({ kind: 'transcript', label: 'swaks (plaintext)', text: swaksText(r) });
        return {
          status: verdict(refused),
          summary: refused ? (swaksText(r).split('\n').find((l) => /<\*\* +5\d\d/.test(l)) ?? '').trim() : `plaintext was not refused (swaks exit ${r.exitCode})`,
        };
      },
    },
    {
      id: 'tls-required-starttls',
      title: 'the same mail over STARTTLS is accepted',
      async run(ctx) {
        const r = await swaks([
          '--server', primary.address, '--port', '25', '--tls', '--tls-verify', '--tls-ca-path', s.state.caCertificate, '--tls-sni', mailHostName(primary),
          '--ehlo', 'client.lab', '--from', from, '--to', to, '--header', `Message-ID: <${runId}-required@client.lab>`, '--header', 'Subject: tls drill required',
        ]);
        ctx.evidence.push({ kind: 'transcript', label: 'swaks --tls', text: swaksText(r) });
        return {
          status: verdict(r.exitCode === 0),
          summary: r.exitCode === 0 ? (swaksText(r).split('\n').filter((l) => /<~ +250/.test(l)).slice(-1)[0] ?? 'accepted').trim() : `swaks exit ${r.exitCode}`,
        };
      },
    },
  ];
}

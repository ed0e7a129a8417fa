import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HostModel } from '../config/model.js';
import { LabError, errorMessage } from '../errors.js';
import type { EvidenceItem } from '../evidence/store.js';
import { saveEvidence } from '../evidence/store.js';
import { alive, signal, sleep, waitUntil } from '../system/procs.js';
import { run, type RunResult } from '../system/run.js';
import { daemonPid, listeningPorts } from './daemon.js';
import { answers, query } from './dns.js';
import { eximRunnerFor, labModel, renderLabConfigure } from './host.js';
import { safeInstallConfigure } from '../config/swap.js';
import { testAddresses } from '../config/apply.js';
import { hostKeys } from './keys.js';
import { logSize, mailboxMessage, mainlogSince } from './logs.js';
import { newRunId, sendFromHost } from './send.js';
import type { LabState } from './state.js';
import { backupTargets, labPaths, mailHostName, names, type LabMailHostSpec } from './topology.js';
import { EXIM_BIN } from './view.js';
import { removePath } from '../system/files.js';

/**
 * Task 3 and Task 7 between the lab hosts: STARTTLS verified against the lab CA, SMTPS on 465,
 * TLS-required mode refusing plaintext (tested with swaks from the client), DKIM signed by the
 * backup host and verified by the primary, and SPF passing for the sender's address.
 */
export interface TlsDrillCheck {
  id: string;
  title: string;
  ok: boolean;
  summary: string;
  evidence: EvidenceItem[];
}

export interface TlsDrillResult {
  checks: TlsDrillCheck[];
  json: { checks: { id: string; ok: boolean; summary: string }[]; passed: number; failed: number };
}

function roles(state: LabState): { primary: LabMailHostSpec; peer: LabMailHostSpec } {
  const primary = state.spec.hosts[0]!;
  const peer =
    state.spec.hosts.find((h) => h.name !== primary.name && backupTargets(state.spec, h).some((t) => t.name === primary.name)) ??
    state.spec.hosts.find((h) => h.name !== primary.name);
  if (!peer) throw new LabError('the TLS drill needs two mail hosts');
  return { primary, peer };
}

/** swaks in the client's namespace (an SMTP client independent of labctl's own). */
function swaks(args: string[]): Promise<RunResult> {
  return run('ip', ['netns', 'exec', names.clientNs, 'swaks', '--timeout', '10', ...args], { allowFailure: true, timeoutMs: 30_000 });
}

const spfProbe = fileURLToPath(new URL('./spf-probe.js', import.meta.url));

/** mailauth's SPF verdict for (sender, ip), asked from inside the lab against the lab's DNS. */
async function spfVerdict(state: LabState, sender: string, ip: string, helo: string): Promise<{ result: string; header: string; explanation: string }> {
  const job = { sender, ip, helo, dnsServer: state.spec.dnsAddress };
  const r = await run('ip', ['netns', 'exec', names.clientNs, process.execPath, spfProbe, JSON.stringify(job)], { allowFailure: true, timeoutMs: 20_000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  return line ? JSON.parse(line) : { result: 'error', header: '', explanation: r.stderr.trim() };
}

const swaksText = (r: RunResult) => `${r.stdout}\n${r.stderr}`.trim();

/** Removes the TLS session cache so the next connection does a full, verified handshake. */
async function clearTlsCache(host: LabMailHostSpec): Promise<void> {
  const db = path.join(labPaths.host(host.name).spool, 'db');
  for (const f of await fs.readdir(db).catch(() => [] as string[])) if (f.startsWith('tls')) await removePath(path.join(db, f));
}

/**
 * Switches a host's TLS mode: the same model with another `tls`, rendered by the same template,
 * checked by Exim (-C on a candidate file, in the host's view) before it replaces the live file
 * in place, then a HUP and a check that the daemon is still there.
 */
export async function setTlsMode(state: LabState, host: LabMailHostSpec, mode: HostModel['tls']): Promise<void> {
  const model = labModel(state.spec, host, mode);
  const keys = await hostKeys(state.spec, host, model);
  const p = labPaths.host(host.name);
  try {
    // The same safe install as labctl configure, in place: the daemons see the file through a bind mount.
    await safeInstallConfigure({
      text: await renderLabConfigure(model, host, keys),
      target: p.configure,
      eximBinary: EXIM_BIN,
      exim: eximRunnerFor(host),
      testAddresses: testAddresses(model),
      inPlace: true,
      paniclog: path.join(p.log, 'paniclog'),
      reload: () => reloadHostDaemon(host, mode),
    });
  } catch (err) {
    throw new LabError(`${host.name}: switching to TLS mode ${mode} failed: ${errorMessage(err)}`);
  }
}

/** HUP: the daemon re-execs itself under the same pid; wait until it listens again. */
async function reloadHostDaemon(host: LabMailHostSpec, mode: HostModel['tls']): Promise<void> {
  const pid = await daemonPid(host);
  if (!pid) throw new LabError(`${host.name}: the Exim daemon is not running`);
  signal(pid, 'SIGHUP');
  await sleep(300);
  const back = await waitUntil(async () => alive(pid) && (await listeningPorts(host)).includes(25), 5000, 100);
  if (!back) throw new LabError(`${host.name}: the Exim daemon did not come back after the reload to ${mode}`);
}

export async function tlsDrill(state: LabState, opts: { log?: (l: string) => void } = {}): Promise<TlsDrillResult> {
  const log = opts.log ?? (() => undefined);
  const { primary, peer } = roles(state);
  if (!(await answers(state.spec, names.clientNs, 2))) {
    throw new LabError(`the lab DNS server (named in ${names.dnsNs}, ${state.spec.dnsAddress}) does not answer`, 'see labctl lab status');
  }
  for (const h of [primary, peer]) if (!(await daemonPid(h))) throw new LabError(`${h.name}: the Exim daemon is not running`, 'see labctl lab status');
  const checks: TlsDrillCheck[] = [];
  const add = (c: TlsDrillCheck) => {
    checks.push(c);
    log(`${c.ok ? 'pass' : 'FAIL'} ${c.id}: ${c.summary}`);
  };
  const user = state.hosts[primary.name]!.users[0]!;
  const to = `${user}@${primary.domain}`;
  const from = `${state.hosts[peer.name]!.users[0]}@${peer.domain}`;
  const ca = state.caCertificate;
  const started = new Date().toISOString();

  // 1. Host to host over STARTTLS, certificate verified against the lab CA; DKIM and SPF ride along.
  await clearTlsCache(peer);
  const peerLog0 = await logSize(peer);
  const primaryLog0 = await logSize(primary);
  const runId = newRunId();
  const sent = await sendFromHost(peer, { from, to, count: 1, runId, subject: 'tls drill' });
  await waitUntil(async () => (await mailboxMessage(primary, user, runId)) !== undefined, 15000, 100);
  const msg = await mailboxMessage(primary, user, runId);
  const peerLog = await mainlogSince(peer, peerLog0);
  const primaryLog = await mainlogSince(primary, primaryLog0);
  const out = peerLog.split('\n').find((l) => l.includes(' => ') && l.includes(mailHostName(primary))) ?? '';
  const received = msg ? (/^Received: [\s\S]*?(?=^\S)/m.exec(msg.headers)?.[0] ?? '') : '';
  const tlsInReceived = /with esmtps|tls /i.test(received);
  add({
    id: 'starttls-verified',
    title: `${peer.name} -> ${primary.name} over STARTTLS, certificate verified by the lab CA`,
    ok: sent.records[0]!.ok && /X=TLS/.test(out) && /CV=yes/.test(out) && tlsInReceived,
    summary: out ? `${/X=(\S+)/.exec(out)?.[1] ?? 'no TLS'} ${/CV=\w+/.exec(out)?.[0] ?? 'CV=?'}; Received header ${tlsInReceived ? 'shows TLS' : 'shows no TLS'}` : `no delivery line on ${peer.name}: ${sent.records[0]!.error ?? ''}`,
    evidence: [
      { kind: 'log', label: `${peer.name} main log`, text: out },
      { kind: 'headers', label: `${primary.name}: Received header`, text: received.trim() },
    ],
  });

  const rec = /^(\S+ \S+) (\S+) <= .* id=(\S+)/m.exec(primaryLog.split('\n').filter((l) => l.includes(runId)).join('\n'));
  const internalId = rec?.[2];
  const dkimLine = primaryLog.split('\n').find((l) => internalId !== undefined && l.includes(internalId) && /DKIM verify/.test(l)) ?? '';
  const dkimHeader = msg ? /^DKIM-Signature:.*$/im.exec(msg.headers)?.[0] ?? '' : '';
  add({
    id: 'dkim-pass',
    title: `message DKIM-signed by ${peer.name} verifies on ${primary.name}`,
    ok: /status=pass/.test(dkimLine) && dkimHeader.length > 0,
    summary: dkimLine ? dkimLine.replace(/^.*DKIM verify: /, '') : `no DKIM verification line on ${primary.name}`,
    evidence: [
      { kind: 'log', label: `${primary.name}: $dkim_verify_status`, text: dkimLine },
      { kind: 'headers', label: 'DKIM-Signature', text: dkimHeader },
    ],
  });

  const spfTxt = (await query(state.spec, 'TXT', peer.domain)).join(' ');
  const verdict = await spfVerdict(state, from, peer.address, mailHostName(peer));
  // Exim's own result too, when this build has SPF support (SUPPORT_SPF): it must agree.
  const spfLine = primaryLog.split('\n').find((l) => l.includes(`SPF `) && l.includes(` for ${peer.domain} from ${peer.address}`)) ?? '';
  const eximAgrees = !spfLine || /SPF pass /.test(spfLine);
  add({
    id: 'spf-pass',
    title: `published SPF record passes for ${peer.name}'s address`,
    ok: verdict.result === 'pass' && eximAgrees,
    summary: `${spfTxt} -> ${verdict.result} for ${peer.address} (mailauth)${spfLine ? `; Exim: ${spfLine.replace(/^.*?SPF /, 'SPF ')}` : '; this Exim build logs no SPF result (no SUPPORT_SPF)'}`,
    evidence: [
      { kind: 'text', label: `TXT ${peer.domain}`, text: spfTxt },
      { kind: 'text', label: 'mailauth SPF', text: verdict.header || verdict.explanation },
      ...(spfLine ? [{ kind: 'log' as const, label: `${primary.name}: Exim SPF result`, text: spfLine }] : []),
    ],
  });

  // 2. SMTPS: TLS at once on 465, certificate verified by swaks against the lab CA.
  const smtps = await swaks([
    '--server', primary.address, '--port', '465', '--tls-on-connect', '--tls-verify', '--tls-ca-path', ca,
    '--tls-sni', mailHostName(primary), '--ehlo', 'client.lab', '--from', from, '--to', to,
    '--header', `Message-ID: <${runId}-smtps@client.lab>`, '--header', 'Subject: tls drill smtps',
  ]);
  add({
    id: 'smtps-465',
    title: `SMTPS on ${primary.name}:465 (TLS on connect, verified)`,
    ok: smtps.exitCode === 0 && /<~ +220/.test(swaksText(smtps)),
    summary: smtps.exitCode === 0 ? 'accepted over TLS on connect' : `swaks exit ${smtps.exitCode}: ${swaksText(smtps).split('\n').filter((l) => /^\s*(\*\*\*|<~\*|<\*\*)/.test(l)).slice(-1)[0] ?? ''}`,
    evidence: [{ kind: 'transcript', label: 'swaks --tls-on-connect', text: swaksText(smtps) }],
  });

  // 3. TLS required: plaintext refused at MAIL, STARTTLS accepted.
  await setTlsMode(state, primary, 'required');
  log(`${primary.name}: switched to TLS-required mode`);
  try {
    const plain = await swaks(['--server', primary.address, '--port', '25', '--ehlo', 'client.lab', '--from', from, '--to', to, '--quit-after', 'RCPT']);
    const plainRefused = plain.exitCode !== 0 && /<\*\* +5\d\d.*TLS required/.test(swaksText(plain));
    add({
      id: 'tls-required-plain',
      title: `${primary.name} in TLS-required mode refuses plaintext MAIL from the client`,
      ok: plainRefused,
      summary: plainRefused ? (swaksText(plain).split('\n').find((l) => /<\*\* +5\d\d/.test(l)) ?? '').trim() : `plaintext was not refused (swaks exit ${plain.exitCode})`,
      evidence: [{ kind: 'transcript', label: 'swaks (plaintext)', text: swaksText(plain) }],
    });
    const viaTls = await swaks([
      '--server', primary.address, '--port', '25', '--tls', '--tls-verify', '--tls-ca-path', ca, '--tls-sni', mailHostName(primary),
      '--ehlo', 'client.lab', '--from', from, '--to', to, '--header', `Message-ID: <${runId}-required@client.lab>`, '--header', 'Subject: tls drill required',
    ]);
    add({
      id: 'tls-required-starttls',
      title: `the same mail over STARTTLS is accepted`,
      ok: viaTls.exitCode === 0,
      summary: viaTls.exitCode === 0 ? (swaksText(viaTls).split('\n').filter((l) => /<~ +250/.test(l)).slice(-1)[0] ?? 'accepted').trim() : `swaks exit ${viaTls.exitCode}`,
      evidence: [{ kind: 'transcript', label: 'swaks --tls', text: swaksText(viaTls) }],
    });
  } finally {
    await setTlsMode(state, primary, 'starttls+smtps');
    log(`${primary.name}: back to starttls+smtps`);
  }

  const passed = checks.filter((c) => c.ok).length;
  await saveEvidence({
    area: 'drill',
    id: 'tls',
    title: `TLS, DKIM and SPF drill between ${peer.name} and ${primary.name}`,
    status: passed === checks.length ? 'pass' : 'fail',
    summary: `${passed}/${checks.length} checks passed`,
    at: started,
    evidence: checks.flatMap((c) => [{ kind: 'text' as const, label: `${c.ok ? 'pass' : 'FAIL'} ${c.id}: ${c.title}`, text: c.summary }, ...c.evidence]),
  });
  return {
    checks,
    json: { checks: checks.map((c) => ({ id: c.id, ok: c.ok, summary: c.summary })), passed, failed: checks.length - passed },
  };
}

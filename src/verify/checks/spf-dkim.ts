import path from 'node:path';
import { dkimRecordName } from '../../config/dns.js';
import { commandEvidence } from '../facts.js';
import { dkimSigning, expectedRecords, isNoAnswer, lookup, resolver, showRecords } from '../expected.js';
import { renderMessage, uniqueMessageId } from '../message.js';
import { expectedRecordsResolver } from '../resolver.js';
import { startSink } from '../sink.js';
import { ensureDir, makeTempDir, removePath, setMode, writeAtomic } from '../../system/files.js';
import type { CheckDef } from '../types.js';

/**
 * Task 7 with a maintained library (mailauth): the SPF record evaluates to pass for the host's
 * own address, and a message that Exim itself signed verifies against the published key. When
 * nothing publishes the domain here, both are evaluated against what `labctl dns` says to
 * publish and the check warns, naming that difference.
 */

const joinTxt = (rr: string[][]) => rr.map((parts) => parts.join(''));

export const spfRecord: CheckDef = {
  id: 'spf-record',
  title: "the SPF record is published and passes for the host's address",
  async run({ target, evidence, facts }) {
    const expectedAll = await expectedRecords(facts);
    const expected = expectedAll.find((r) => r.type === 'TXT' && r.name === target.domain && r.value.startsWith('v=spf1'));
    evidence.push({ kind: 'text', label: 'expected (labctl dns)', text: expected ? showRecords([expected]) : '(no labctl model stored)' });
    const dns = await resolver(facts);
    const got = await lookup(() => dns.resolveTxt(target.domain));
    const published = got.ok ? joinTxt(got.value).filter((t) => t.toLowerCase().startsWith('v=spf1')) : [];
    evidence.push({ kind: 'text', label: `published (${dns.describe})`, text: got.ok ? published.join('\n') || '(no v=spf1 TXT record)' : `no answer: ${got.code}` });

    const address = target.model?.address ?? (/^127\./.test(target.address) ? undefined : target.address);
    const evaluate = async (resolve: (name: string, rr: string) => Promise<string[][] | string[]>) => {
      if (!address) return undefined;
      // mailauth is loaded when a check needs it, not when the verify command is parsed.
      const { spf } = await import('mailauth/lib/spf/index.js');
      const r = await spf({ sender: `postmaster@${target.domain}`, ip: address, helo: target.model?.mailHost ?? target.domain, mta: 'labctl-verify', resolver: resolve });
      evidence.push({ kind: 'text', label: `SPF evaluation for ${address} (mailauth)`, text: r.header.trim() });
      return r.status.result;
    };

    if (!published.length) {
      const offline = !got.ok ? isNoAnswer(got) && !dns.explicit : false;
      if (!offline) return { status: 'fail', summary: `no SPF record for ${target.domain} from ${dns.describe}${got.ok ? '' : ` (${got.code})`}` };
      if (!expected) return { status: 'warn', summary: `no DNS answer for ${target.domain} from the ${dns.describe} (${!got.ok ? got.code : ''}) and no labctl model to compare with` };
      const result = await evaluate(expectedRecordsResolver(expectedAll));
      const what = result ? `the expected record "${expected.value}" evaluates to ${result} for ${address}` : `the expected record is "${expected.value}" (no host address in the model to evaluate it for)`;
      return { status: 'warn', summary: `not published here: no DNS answer for ${target.domain} from the ${dns.describe}; ${what}; give --dns-server or use verify --lab` };
    }
    if (expected && !published.includes(expected.value)) {
      return { status: 'fail', summary: `published "${published.join('" "')}", labctl dns says "${expected.value}"` };
    }
    const result = await evaluate(dns.mailauth);
    if (!address) return { status: 'warn', summary: `published "${published[0]}"; no host address known to evaluate it for (set address in the model or --host)` };
    if (result !== 'pass') return { status: 'fail', summary: `"${published[0]}" evaluates to ${result} for ${address}` };
    return { status: 'pass', summary: `"${published[0]}" evaluates to pass for ${address}` };
  },
};

/** A configuration for one signing delivery: this host's DKIM options on a transport aimed at the probe. */
function probeConfig(o: { hostName: string; spool: string; probeAddress: string; port: number; dkim: Map<string, string> }): string {
  const dkimLines = [...o.dkim].filter(([k, v]) => k.startsWith('dkim_') && v && v !== 'false').map(([k, v]) => (v === 'true' ? `  ${k}` : `  ${k} = ${v}`));
  return [
    '# Written by labctl verify (dkim-signature) for one signing delivery; removed afterwards.',
    `primary_hostname = ${o.hostName}`,
    `spool_directory = ${o.spool}`,
    `log_file_path = ${o.spool}/%slog`,
    'keep_environment =',
    'begin routers',
    'dkim_probe:',
    '  driver = manualroute',
    `  route_list = * ${o.probeAddress}`,
    '  self = send',
    '  transport = dkim_probe',
    'begin transports',
    'dkim_probe:',
    '  driver = smtp',
    `  port = ${o.port}`,
    '  allow_localhost',
    '  hosts_avoid_tls = *',
    ...dkimLines,
    '',
  ].join('\n');
}

export const dkimSignature: CheckDef = {
  id: 'dkim-signature',
  title: 'a message Exim signs verifies against the published DKIM key',
  async run({ target, evidence, facts, signal, remainingMs }) {
    const signing = await dkimSigning(facts);
    if (!signing) return { status: 'skip', summary: 'DKIM signing is not configured (no smtp transport has dkim_private_key)' };
    evidence.push({ kind: 'text', label: `exim -bP transport ${signing.transport}`, text: [...signing.options].filter(([k]) => k.startsWith('dkim_')).map(([k, v]) => `${k} = ${v}`).join('\n') });
    if (signing.keyError) return { status: 'fail', summary: `cannot read the DKIM key ${signing.keyPath}: ${signing.keyError}` };

    // Exim signs: one delivery through an smtp transport with this host's dkim_* options, run on
    // a throwaway configuration and spool (-C), into a receiving socket in this process.
    const sink = await startSink(target.probeAddress, signal);
    const dir = await makeTempDir('labctl-dkim-');
    try {
      await setMode(dir, 0o755);
      const spool = path.join(dir, 'spool');
      await ensureDir(spool);
      const uid = Number((await target.view.run('id', ['-u', 'exim'])).stdout.trim());
      const gid = Number((await target.view.run('id', ['-g', 'exim'])).stdout.trim());
      if (Number.isInteger(uid) && Number.isInteger(gid)) await setMode(spool, 0o755, { uid, gid });
      const hostName = (await facts.option('primary_hostname')) || target.domain;
      const conf = path.join(dir, 'configure');
      await writeAtomic(conf, probeConfig({ hostName, spool, probeAddress: target.probeAddress, port: sink.port, dkim: signing.options }));
      const sender = `${target.user}@${target.domain}`;
      const messageId = uniqueMessageId('dkim', target.domain);
      const input = renderMessage({ from: sender, to: `dkim-probe@${target.domain}`, subject: 'labctl verify dkim-signature', messageId });
      const r = await facts.exim(['-C', conf, '-odi', '-v', '-f', sender, `dkim-probe@${target.domain}`], { input, timeoutMs: Math.min(8000, remainingMs()) });
      evidence.push(commandEvidence('exim signs and delivers one message (throwaway -C configuration)', { ...r, stdout: r.stdout.split('\n').filter((l) => !/lost privilege|^LOG: MAIN PANIC/.test(l)).join('\n') }));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<undefined>((res) => (timer = setTimeout(() => res(undefined), Math.max(0, Math.min(3000, remainingMs() - 500)))));
      const message = await Promise.race([sink.message, late]);
      clearTimeout(timer);
      if (!message) return { status: 'fail', summary: `Exim did not deliver the signed message to the probe (exit ${r.exitCode}): ${(r.stderr || r.stdout).split('\n').filter(Boolean).slice(-1)[0] ?? ''}` };
      const head = message.slice(0, message.indexOf('\r\n\r\n'));
      evidence.push({ kind: 'headers', label: 'the signed message as Exim sent it', text: head.replace(/\r\n/g, '\n') });
      if (!/^DKIM-Signature:/im.test(head)) return { status: 'fail', summary: `Exim sent the message without a DKIM-Signature header (transport ${signing.transport})` };

      const name = dkimRecordName({ dkimSelector: signing.selector, domain: signing.domain });
      const expected = (await expectedRecords(facts)).filter((x) => x.name === name && x.type === 'TXT');
      evidence.push({ kind: 'text', label: 'expected (labctl dns)', text: showRecords(expected) });
      const dns = await resolver(facts);
      const got = await lookup(() => dns.resolveTxt(name));
      const published = got.ok ? joinTxt(got.value).filter((t) => /(^|;)\s*p=/.test(t)) : [];
      evidence.push({ kind: 'text', label: `published ${name} (${dns.describe})`, text: got.ok ? published.join('\n') || '(no key record)' : `no answer: ${got.code}` });
      const offline = !published.length && !got.ok && isNoAnswer(got) && !dns.explicit;
      if (!published.length && !offline) return { status: 'fail', summary: `no DKIM key published at ${name} (${dns.describe}${got.ok ? '' : `: ${got.code}`})` };

      const { dkimVerify } = await import('mailauth/lib/dkim/verify.js');
      const result = await dkimVerify(message, { resolver: offline ? expectedRecordsResolver(expected) : dns.mailauth });
      const sig = result.results[0];
      evidence.push({ kind: 'text', label: 'mailauth dkimVerify', text: result.results.map((x) => x.info).join('\n') || '(no signature found)' });
      const verdict = sig?.status.result ?? 'none';
      if (verdict !== 'pass') return { status: 'fail', summary: `signature d=${sig?.signingDomain ?? '?'} s=${sig?.selector ?? '?'}: ${verdict}${sig?.status.comment ? ` (${sig.status.comment})` : ''}${offline ? ' against the key labctl dns says to publish' : ''}` };
      if (offline) return { status: 'warn', summary: `signed by Exim (d=${signing.domain} s=${signing.selector}) and verifies against the key labctl dns says to publish; ${name} is not published here (${dns.describe}: ${!got.ok ? got.code : ''}); give --dns-server or use verify --lab` };
      if (expected.length && !published.includes(expected[0].value)) return { status: 'warn', summary: `verifies against the published key, but the published record differs from what labctl dns says` };
      return { status: 'pass', summary: `signed by Exim (d=${signing.domain} s=${signing.selector}${sig.algorithm ? `, ${sig.algorithm}` : ''}) and verified against the published key from ${dns.describe}` };
    } finally {
      sink.close();
      await removePath(dir);
    }
  },
};

import { commandEvidence, type Facts } from './facts.js';
import { splitReplies, Transcript, type SmtpReply } from './transcript.js';
import type { EvidenceItem } from '../evidence/store.js';

/**
 * Exim's own host-checking mode: `exim -bh ADDRESS` runs an SMTP session as if the client were
 * at ADDRESS, through the real ACLs and routing, delivering nothing. It cannot do TLS, so the
 * relay checks use it and the TLS checks use a real client.
 */
export interface HostCheckResult {
  transcript: Transcript;
  /** Reply to each command, in order (greeting not included). */
  replies: { command: string; reply?: SmtpReply }[];
  evidence: EvidenceItem[];
}

/** Pairs commands with Exim's replies: the first reply is the greeting, then one per command. */
export function pairReplies(commands: string[], stdout: string): { greeting?: SmtpReply; replies: { command: string; reply?: SmtpReply }[] } {
  const all = splitReplies(stdout);
  return { greeting: all[0], replies: commands.map((command, i) => ({ command, reply: all[i + 1] })) };
}

export async function hostCheck(facts: Facts, clientAddress: string, commands: string[], timeoutMs: number): Promise<HostCheckResult> {
  const input = commands.map((c) => `${c}\r\n`).join('');
  const r = await facts.exim(['-bh', clientAddress], { input, timeoutMs });
  const { greeting, replies } = pairReplies(commands, r.stdout);
  const transcript = new Transcript();
  transcript.info(`exim -bh ${clientAddress}: a session as if from ${clientAddress} (nothing is delivered)`);
  if (greeting) transcript.recv(greeting.text, false);
  for (const { command, reply } of replies) {
    transcript.send(command, false);
    if (reply) transcript.recv(reply.text, false);
  }
  if (r.exitCode !== 0 && !replies.some((x) => x.reply)) transcript.error(`exim -bh exited ${r.exitCode}: ${r.stderr.split('\n').find((l) => !l.startsWith('>>>')) ?? ''}`);
  const trace = r.stderr.split('\n').filter((l) => /^>>> (processing|check|.*(accept|deny|require|warn):|.*message:)|^LOG:/.test(l));
  return {
    transcript,
    replies,
    evidence: [
      { kind: 'transcript', label: `exim -bh ${clientAddress}`, text: transcript.toString() },
      { ...commandEvidence(`exim -bh ${clientAddress}: ACL trace`, { ...r, stdout: '', stderr: trace.join('\n') }), kind: 'log' },
    ],
  };
}

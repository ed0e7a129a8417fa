/**
 * The write-up's structure: its tasks and lettered parts in order, the text labctl writes around
 * the evidence (src/report/answers.ts), and the records each part shows.
 */
import { ANSWER_15, ANSWER_4C, ANSWER_6A, ANSWER_6B, MX_ORDER, RECEIVED_EXPLAINED, TLS_REQUIRED, TLS_REQUIRED_ACL, TLS_SETUP } from './answers.js';
import type { Block } from './model.js';
import { backupDrillBlocks, signatureBlocks, tlsDrillBlocks, wireDrillBlocks, topologyBlocks } from './payload-blocks.js';
import { findTlsReceived, starttlsLines } from './transcripts.js';
import { beyondSection } from './beyond.js';
import type { SectionSpec } from './spec.js';
import { answerParagraphs, type Answers } from './answers-file.js';

export type { ItemSpec, SectionSpec } from './spec.js';

export const para = (text: string): Block => ({ kind: 'paragraph', text });

/**
 * A question's text in the report. Without an answers file, labctl's own answer (`hint`). With
 * one, the student's answer in its place; where the file has none, labctl's text marked as a hint.
 */
export function answerBlocks(id: string, hint: Block[], answers: Answers | undefined): Block[] {
  if (!answers) return hint;
  const own = answers.get(id);
  if (own) return [para(`Answer (${id}):`), ...answerParagraphs(own).map(para)];
  return [para(`No answer to ${id} in the answers file yet. labctl's hint, to be replaced by your own words:`), { kind: 'list', items: hint.filter((b) => b.kind === 'paragraph').map((b) => (b as { text: string }).text) }, ...hint.filter((b) => b.kind !== 'paragraph')];
}

export function outline(answers?: Answers): SectionSpec[] {
  return [
    {
      title: 'Task 1: Installation',
      items: [],
      subsections: [
        {
          title: '1a. No pre-installed MTA',
          items: [
            { area: 'install', id: '1a-preflight', title: 'Pre-flight: packages, /usr/sbin/sendmail and port 25 checked for another MTA' },
            { area: 'verify', id: '1a-no-other-mta', title: 'Check: no other MTA installed or listening' },
          ],
        },
        {
          title: '1b. Source from the official site',
          items: [
            { area: 'install', id: '1b-source', title: 'Release tarball, signature and maintainers\' keyring' },
            { area: 'verify', id: '1b-current-release', title: 'Check: the installed release against known security advisories' },
          ],
        },
        {
          title: '1c. Signature verification',
          items: [
            { area: 'install', id: '1c-signature', title: 'Detached signature verified against the maintainers\' keyring and the pinned fingerprints', render: signatureBlocks },
            { area: 'install', id: 'extract', title: 'Extracted only after the signature verified (entries escaping the build directory refused)' },
            { area: 'verify', id: '1c-signature', title: 'Check: the installed source\'s signature record' },
          ],
        },
        {
          title: '1d. Build options, build and install',
          items: [
            { area: 'install', id: '1d-makefile', title: 'Local/Makefile: the settings and their diff against EDITME (`labctl install --show-makefile` prints the same)' },
            { area: 'install', id: 'deps', title: 'Build dependencies' },
            { area: 'install', id: 'exim-user', title: 'The exim user and group' },
            { area: 'install', id: 'build', title: 'Build' },
            { area: 'install', id: 'make-install', title: 'make install' },
            { area: 'install', id: 'install-version', title: 'exim -bV after installing' },
            { area: 'verify', id: '1d-build-options', title: 'Check: the build options in the installed binary' },
            { area: 'verify', id: 'install-version', title: 'Check: exim -bV' },
          ],
        },
        {
          title: 'Service',
          items: [
            { area: 'install', id: 'service', title: 'The systemd unit and the running daemon' },
            { area: 'verify', id: 'daemon-listening', title: 'Check: the daemon listens' },
          ],
        },
        {
          title: '2. Configuration',
          items: [],
          areaRest: { area: 'configure', command: 'labctl configure', title: 'Configuration rendered, checked and installed' },
        },
        {
          title: '3a. Routing to a local account',
          items: [{ area: 'verify', id: '3a-route-local', title: 'exim -bt routes the local user to local delivery' }],
        },
        {
          title: '3b. A delivered message with full headers',
          items: [{ area: 'verify', id: '3b-local-delivery', title: 'Messages sent over SMTP and on the command line, found in the mailbox' }],
        },
        {
          title: '3c. Mail to postmaster',
          items: [{ area: 'verify', id: '3c-postmaster', title: 'postmaster@ arrives in the postmaster account\'s mailbox' }],
        },
      ],
    },
    {
      title: 'Task 2: Mail backup',
      items: [],
      subsections: [
        {
          title: '4a, 5a. DNS and the backup MX',
          intro: () => MX_ORDER.map(para),
          items: [
            { area: 'lab', id: 'topology', title: 'Lab topology: hosts, addresses, MX preferences', render: topologyBlocks },
            { area: 'verify', id: '4a-dns-mx', title: 'Check: MX records as published, in order' },
            { area: 'verify', id: '5a-backup-relay', title: 'Check: the partner\'s domain is accepted for relay' },
            { area: 'verify', id: 'relay-refused', title: 'Check: a third party\'s domain is refused (no open relay)' },
          ],
        },
        {
          title: '4b, 4c, 5b, 5c. Backup drill',
          ...(answers ? { intro: () => answerBlocks('4c', [para(ANSWER_4C)], answers) } : {}),
          items: [
            { area: 'drill', id: 'backup-mx-retry', title: "4b, 4c: primary down, mail held on the backup, delivered by the backup's own retry after recovery", render: backupDrillBlocks },
            { area: 'drill', id: 'backup-mx', title: '5b, 5c: primary down, mail held on the backup, delivery forced after recovery (exim -qff on the backup, or ETRN from the primary)', render: backupDrillBlocks },
            { area: 'verify', id: 'queue', title: 'Check: the queue afterwards (nothing frozen)' },
          ],
        },
      ],
    },
    {
      title: 'Task 3: Transport encryption',
      items: [],
      subsections: [
        {
          title: '6a. SSL/TLS or STARTTLS?',
          intro: () => answerBlocks('6a', ANSWER_6A.map(para), answers),
          items: [],
        },
        {
          title: '6b. Which one is used for SMTP?',
          intro: (sel) => {
            // The shown 6-starttls run first; a run with TLS off has no upgrade to quote, so then any other.
            const candidates = [sel.pick('verify', '6-starttls'), ...sel.all('verify', '6-starttls'), sel.pick('drill', 'tls')];
            const lines = candidates.map(starttlsLines).find((l) => l !== undefined);
            const out: Block[] = answerBlocks('6b', [para(ANSWER_6B)], answers);
            if (lines) out.push({ kind: 'code', label: 'From an SMTP transcript: the STARTTLS offer, the upgrade, the first lines inside TLS', text: lines });
            return out;
          },
          items: [],
        },
        {
          title: '7a. Transport encryption',
          intro: () => [para(TLS_SETUP)],
          items: [
            { area: 'verify', id: '6-starttls', title: 'STARTTLS on port 25: transcript, protocol, cipher, certificate' },
            { area: 'verify', id: '7a-smtps', title: 'SMTPS on port 465: TLS from the first byte' },
          ],
        },
        {
          title: '7b. Encryption required',
          intro: () => [...TLS_REQUIRED.map(para), { kind: 'code', label: 'Exim configure: begin acl', text: TLS_REQUIRED_ACL }],
          items: [{ area: 'verify', id: '7b-tls-required', title: 'Plaintext MAIL FROM refused, the same after STARTTLS accepted' }],
        },
        {
          title: '7c. Validation',
          intro: (sel) => {
            const received = findTlsReceived([sel.pick('drill', 'tls'), sel.pick('verify', '6-starttls'), sel.pick('verify', '3b-local-delivery'), sel.pick('verify', 'dkim-signature')]);
            return received ? [para(RECEIVED_EXPLAINED), { kind: 'code', label: 'Received header', text: received }] : [];
          },
          items: [
            { area: 'drill', id: 'tls', title: 'TLS drill between the lab hosts: verified certificates, SMTPS, TLS required, DKIM and SPF', render: tlsDrillBlocks },
            { area: 'drill', id: 'wire', title: 'On the wire (the write-up\'s Wireshark capture): tcpdump in st14\'s namespace, read by tshark', render: wireDrillBlocks },
          ],
        },
      ],
    },
    {
      title: 'Task 7: SPF and DKIM',
      items: [],
      subsections: [
        {
          title: 'SPF and DKIM records and a verified signature',
          items: [
            { area: 'verify', id: 'spf-record', title: 'SPF record published and evaluating to pass' },
            { area: 'verify', id: 'dkim-signature', title: 'DKIM key published and a signed message verified' },
          ],
        },
        {
          title: '15. SPF or DKIM?',
          intro: () => answerBlocks('15', ANSWER_15.map(para), answers),
          items: [],
        },
      ],
    },
    beyondSection(),
  ];
}

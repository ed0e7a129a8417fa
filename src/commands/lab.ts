import type { Command } from 'commander';
import { lazy } from './lazy.js';

export function registerLab(program: Command): void {
  const lab = program.command('lab').description('the two-host backup-MX lab (namespaces, BIND, one Exim per host view)');

  lab
    .command('up')
    .description('build the lab: namespaces, DNS server, mail hosts configured like `labctl configure`, daemons')
    .option('--config <file>', 'lab topology (YAML or JSON); default st14 + st18, each the other\'s backup MX')
    .option('--dry-run', 'print what lab up would do (each step\'s check); change nothing')
    .action(lazy(() => import('./actions/lab.js'), 'labUpAction'));

  lab
    .command('down')
    .description('remove every namespace, bridge, mount, process and file the lab made (safe to run twice); says how many queued messages each host discards')
    .option('--keep-spool <dir>', "first copy each host's spool (queue, message logs, hints, logs) to DIR/<host>")
    .option('--dry-run', 'print what lab down would stop and remove (each step\'s check); change nothing')
    .action(lazy(() => import('./actions/lab.js'), 'labDownAction'));

  lab
    .command('leftovers')
    .description('list anything a lab left behind (namespaces, /etc/netns files, processes, mounts, files); exit 1 if any')
    .action(lazy(() => import('./actions/lab.js'), 'labLeftoversAction'));

  lab
    .command('status')
    .description('hosts, addresses, daemons and queue sizes')
    .option('--json', 'print the status as JSON')
    .action(lazy(() => import('./actions/lab.js'), 'labStatusAction'));

  lab
    .command('exec')
    .description('run a command (default: a shell) in a lab host\'s view')
    .argument('<host>', 'st14, st18, client or dns')
    .argument('[command...]', 'the command, after --')
    .action(lazy(() => import('./actions/lab.js'), 'labExecAction'));

  lab
    .command('send')
    .description('send mail from inside a lab host (client: by MX lookup; mail hosts: through their own Exim)')
    .requiredOption('--from <host>', 'st14, st18 or client')
    .requiredOption('--to <address>', 'recipient, e.g. ahmed@st14.sne24.ru')
    .option('--count <n>', 'how many messages', '1')
    .option('--sender <address>', 'envelope and From: address (default a user of another lab domain)')
    .option('--json', 'print one JSON record per message')
    .action(lazy(() => import('./actions/lab.js'), 'labSendAction'));

  const drill = lab.command('drill').description('scripted exercises of the write-up: backup-mx (4b-5c), tls (Task 3 and 7), wire (7c); beyond it: spoof (DMARC), dane (DANE)');

  drill
    .command('backup-mx')
    .description('stop st14, send N messages by MX lookup, show them held on st18, bring st14 back, count what arrives')
    .option('--messages <n>', 'how many messages', '10')
    .option('--force', 'deliver with exim -qff on the backup (5c) instead of waiting for the retry rule (4c)')
    .option('--runners <n>', 'with --force: queue runners started at once on the backup', '1')
    .option('--json', 'print exactly {"sent","heldOnBackup","delivered","lost","duplicates","heldSeconds","recoverySeconds"}')
    .action(lazy(() => import('./actions/lab-drill.js'), 'drillBackupMxAction'));

  drill
    .command('wire')
    .description('Task 3 (7c) on the wire: capture st18 -> st14 over STARTTLS, a control message without TLS, and SMTPS; read it with tshark')
    .option('--demo-plaintext', 'send the "TLS" message without TLS too, to see the proof fail (exit 1)')
    .option('--json', 'print {"tls","plain","smtps","pcap"}')
    .action(lazy(() => import('./actions/lab-drill.js'), 'drillWireAction'));

  drill
    .command('spoof')
    .description('DMARC: the client sends st14 a message "from" st18 that st18 neither lists in SPF nor signs; st14 refuses it (or, with --no-enforce, delivers it marked spf=fail dkim=none dmarc=fail)')
    .option('--no-enforce', 'leave st14 recording the DMARC result only (the lab\'s default); without it st14 enforces DMARC for this message')
    .option('--json', 'print {"sent","refused","delivered","spf","dkim","dmarc"}')
    .action(lazy(() => import('./actions/lab-drill.js'), 'drillSpoofAction'));

  drill
    .command('dane')
    .description("DANE: give st14 a new certificate its TLSA does not match, see st18 defer, publish the new TLSA, see st18 deliver with CV=dane")
    .option('--json', 'print {"staleTlsa","deferred","republished","delivered","ok"} with the times in ms')
    .action(lazy(() => import('./actions/lab-drill.js'), 'drillDaneAction'));

  drill
    .command('tls')
    .description('STARTTLS verified against the lab CA, SMTPS on 465, TLS-required mode, DKIM and SPF between the hosts')
    .option('--json', 'print the checks as JSON: the shape of verify --json, with the primary and peer host')
    .action(lazy(() => import('./actions/lab-drill.js'), 'drillTlsAction'));
}

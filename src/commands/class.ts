import type { Command } from 'commander';
import { lazy } from './lazy.js';

export function registerClass(program: Command): void {
  const cls = program.command('class').description('run the lab for a class on many machines: an Ansible inventory for ansible/site.yml, and the class report');
  cls
    .command('inventory')
    .description('write the Ansible inventory of a class: one host per student (domain, partner, MX 10/20, DNS server) and the DNS server as a group of its own')
    .option('--students <N|n,n,...>', 'how many students (numbered from 1), or their numbers (14,18)')
    .option('--domain <template>', "each student's domain, {n} being the number: 'st{n}.sne24.ru'")
    .option('--pairs <ring|pairs>', 'pairs: 1 and 2 back each other up, 3 and 4, ... (an odd class ends in a ring of three); ring: each backs up the next', 'pairs')
    .option('--hosts <file>', 'YAML or JSON: dns and each student (number or host name) to an address, a host name or {host, address}')
    .option('--subnet <cidr>', 'without --hosts: addresses from this network, dns .2 and students from .11', '10.77.0.0/24')
    .option('--out <file>', 'write the inventory here instead of printing it')
    .action(lazy(() => import('./actions/class.js'), 'inventoryAction'));

  cls
    .command('report')
    .description('the class report: the verify reports the playbook fetched, as a Markdown table of students by checks with totals (labctl report --class DIR writes the HTML page)')
    .argument('<dir>', 'the directory of fetched reports, one STUDENT.json each (ansible/site.yml: build/class/reports)')
    .option('--inventory <file>', "the class inventory, for each student's domain")
    .option('--out <file>', 'write the Markdown report here instead of printing it')
    .option('--html <file>', 'also write the HTML page (as labctl report --class does)')
    .action(lazy(() => import('./actions/class.js'), 'classReportAction'));
}

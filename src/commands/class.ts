import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { buildInventory, checkTemplate, parsePairing, parsePlaces, parseStudents, renderInventory } from '../class/inventory.js';
import { usageError } from '../errors.js';
import { writeAtomic } from '../system/files.js';
import { writeClassReport } from './class-report.js';

interface InventoryFlags {
  students?: string;
  domain?: string;
  pairs?: string;
  hosts?: string;
  subnet: string;
  out?: string;
}

interface ReportFlags {
  inventory?: string;
  out?: string;
  html?: string;
}

async function readPlaces(file: string) {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw usageError(`--hosts ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  let data: unknown;
  try {
    data = parse(text);
  } catch (err) {
    throw usageError(`--hosts ${file}: not YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  return parsePlaces(data, file);
}

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
    .action(async (flags: InventoryFlags) => {
      const students = parseStudents(flags.students);
      const domainTemplate = checkTemplate(flags.domain);
      const pairing = parsePairing(flags.pairs);
      const places = flags.hosts ? await readPlaces(flags.hosts) : undefined;
      const inventory = buildInventory({ students, domainTemplate, pairing, places, subnet: flags.subnet });
      const header = [
        `Written by labctl class inventory: ${students.length} students (${domainTemplate}), ${pairing}.`,
        'Use with the playbook: ansible-playbook -i THIS_FILE ansible/site.yml',
      ].join('\n');
      const text = renderInventory(inventory, header);
      if (flags.out) {
        await writeAtomic(flags.out, text);
        console.error(`wrote ${flags.out}: ${inventory.students.map((s) => s.name).join(', ')} and dns`);
      } else process.stdout.write(text);
    });

  cls
    .command('report')
    .description('the class report: the verify reports the playbook fetched, as a Markdown table of students by checks with totals (labctl report --class DIR writes the HTML page)')
    .argument('<dir>', 'the directory of fetched reports, one STUDENT.json each (ansible/site.yml: build/class/reports)')
    .option('--inventory <file>', "the class inventory, for each student's domain")
    .option('--out <file>', 'write the Markdown report here instead of printing it')
    .option('--html <file>', 'also write the HTML page (as labctl report --class does)')
    .action(async (dir: string, flags: ReportFlags) => {
      const { students, written } = await writeClassReport({ dir, inventory: flags.inventory, markdown: flags.out ?? '-', html: flags.html });
      for (const f of written) console.error(`wrote ${f}: ${students.length} students`);
    });
}

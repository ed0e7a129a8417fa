import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { buildInventory, checkTemplate, parsePairing, parsePlaces, parseStudents, renderInventory } from '../../class/inventory.js';
import { usageError } from '../../errors.js';
import { writeAtomic } from '../../system/files.js';

export interface InventoryFlags {
  students?: string;
  domain?: string;
  pairs?: string;
  hosts?: string;
  subnet: string;
  out?: string;
}

export interface ClassReportFlags {
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

/** `labctl class inventory`: the Ansible inventory of a class, printed or written to --out. */
export async function inventoryAction(flags: InventoryFlags) {
  const students = parseStudents(flags.students);
  const domainTemplate = checkTemplate(flags.domain);
  const pairing = parsePairing(flags.pairs);
  const places = flags.hosts ? await readPlaces(flags.hosts) : undefined;
  const inventory = buildInventory({ students, domainTemplate, pairing, places, subnet: flags.subnet });
  const header = [
    `Written by labctl class inventory: ${students.length} students (${domainTemplate}), ${pairing}.`,
    'Use with the playbook: ansible-playbook -i THIS_FILE ansible/site.yml',
    'Exim is built once, on the host of labctl_build: add a machine you own there (its root becomes root',
    'on every student machine), e.g. build: {ansible_host: 10.77.0.5}; see README, "Running the lab for a class".',
  ].join('\n');
  const text = renderInventory(inventory, header);
  if (flags.out) {
    await writeAtomic(flags.out, text);
    console.error(`wrote ${flags.out}: ${inventory.students.map((s) => s.name).join(', ')} and dns`);
  } else process.stdout.write(text);
}

/** `labctl class report DIR`: the class report as Markdown, and the HTML page with --html. */
export async function classReportAction(dir: string, flags: ClassReportFlags) {
  // The report's rendering (templates, the HTML page) is imported by the command that writes it, not by class inventory.
  const { writeClassReport } = await import('../../class/write.js');
  const { students, written } = await writeClassReport({ dir, inventory: flags.inventory, markdown: flags.out ?? '-', html: flags.html });
  for (const f of written) console.error(`wrote ${f}: ${students.length} students`);
}

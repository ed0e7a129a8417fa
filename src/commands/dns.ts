import type { Command } from 'commander';
import { installedExim } from '../config/apply.js';
import { dnsRecords, renderZoneFragment } from '../config/dns.js';
import { hostFiles } from '../config/layout.js';
import { addModelOptions, resolveModel, type ModelFlags } from '../config/options.js';
import { checkConfigPath } from '../config/validate.js';
import { usageError } from '../errors.js';
import { dkimPublicKey } from '../system/openssl.js';
import { readIfExists } from '../system/files.js';

interface DnsFlags extends ModelFlags {
  configureFile?: string;
  dkimPublicKey?: string;
  origin?: boolean;
}

export function registerDns(program: Command): void {
  const cmd = program
    .command('dns')
    .description('print the BIND zone records the domain needs: A, MX 10/20, SPF, DKIM, DMARC (write-up 4a, Task 7)');
  addModelOptions(cmd)
    .option('--configure-file <file>', 'find the DKIM key beside this configuration (default: as labctl configure)')
    .option('--dkim-public-key <file>', 'the DKIM public key (PEM) to publish, instead of the key labctl configure made')
    .option('--origin', 'write owner names relative to the domain ($ORIGIN), not absolute')
    .action(async (flags: DnsFlags) => {
      const { model, configFile } = await resolveModel(flags);
      if (configFile) console.error(`settings from ${configFile}`);
      let pem: string | undefined;
      if (flags.dkimPublicKey) {
        pem = await readIfExists(checkConfigPath('--dkim-public-key', flags.dkimPublicKey));
        if (pem === undefined) throw usageError(`--dkim-public-key: ${flags.dkimPublicKey} does not exist`);
      } else {
        const configureFile = checkConfigPath('--configure-file', flags.configureFile ?? (await installedExim()).configureFile);
        // Reading the private key needs root; without it the DKIM record is left out, said below.
        pem = await dkimPublicKey(hostFiles(model, configureFile).dkimPrivateKey).catch(() => undefined);
      }
      const records = dnsRecords(model, { dkimPublicKeyPem: pem });
      if (flags.json) {
        console.log(JSON.stringify({ domain: model.domain, records }, null, 2));
        return;
      }
      process.stdout.write(`; zone records for ${model.domain}, from labctl dns\n`);
      process.stdout.write(renderZoneFragment(records, { origin: flags.origin ? model.domain : undefined }));
      if (!pem) process.stdout.write(`; no DKIM key found: run labctl configure first (as root), or give --dkim-public-key\n`);
      if (!model.address) process.stdout.write(`; no A record: give --address for ${model.mailHost}\n`);
    });
}

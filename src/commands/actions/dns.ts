import { installedExim } from '../../config/apply.js';
import { compareServed, renderCheckTable, type ServedLookup } from '../../config/dns-check.js';
import { dnsJson, mtaStsView, renderDnsText } from '../../config/dns-text.js';
import { dnsRecords, mtaStsFor } from '../../config/dns.js';
import { hostFiles } from '../../config/layout.js';
import type { ModelFlags } from '../../config/model-flags.js';
import { resolveModel } from '../../config/options.js';
import { digQuery } from '../../config/tlsa.js';
import { checkConfigPath } from '../../config/validate.js';
import { EXIT, usageError } from '../../errors.js';
import { dkimPublicKey } from '../../system/dkim-key.js';
import { readIfExists } from '../../system/files.js';
import { run } from '../../system/run.js';
import { lookup } from '../../verify/expected.js';
import { makeResolver, parseResolvConf } from '../../verify/resolver.js';

export interface DnsFlags extends ModelFlags {
  configureFile?: string;
  dkimPublicKey?: string;
  origin?: boolean;
  check?: boolean;
  dnsServer?: string;
}

/**
 * The certificate the TLSA record pins: --tls-cert, else the `tls_certificate` the installed
 * configuration names (what Exim serves), else where labctl configure puts it.
 */
async function certificatePath(flags: DnsFlags, configureFile: string, fallback: string): Promise<string> {
  if (flags.tlsCert) return checkConfigPath('--tls-cert', flags.tlsCert);
  const text = await readIfExists(configureFile).catch(() => undefined);
  return /^\s*tls_certificate\s*=\s*(\/\S+)\s*$/m.exec(text ?? '')?.[1] ?? fallback;
}

/** node:dns for what it can ask (A, AAAA, MX, TXT); dig for TLSA, which node:dns in Node 20 cannot. */
function servedLookup(server: string | undefined): ServedLookup {
  const dns = makeResolver(server, 2500);
  return async (name, type) => {
    if (type === 'TLSA') {
      const a = await digQuery(run, name, 'TLSA', server);
      return { values: a.records, ...(a.code ? { code: a.code } : {}) };
    }
    const got = await lookup(() => dns.mailauth(name, type));
    if (!got.ok) return { values: [], code: got.code };
    if (type === 'MX') return { values: (got.value as unknown as { exchange: string; priority: number }[]).map((m) => `${m.priority} ${m.exchange.toLowerCase().replace(/\.$/, '')}`) };
    if (type === 'TXT') return { values: (got.value as string[][]).map((parts) => parts.join('')) };
    return { values: got.value as string[] };
  };
}

/** `labctl dns`: the records the domain needs, printed, or compared with what DNS serves (--check). */
export async function dnsAction(flags: DnsFlags) {
  const { model, configFile } = await resolveModel(flags);
  if (configFile) console.error(`settings from ${configFile}`);
  if (flags.dnsServer && !flags.check) throw usageError('--dns-server goes with --check');
  const configureFile = checkConfigPath('--configure-file', flags.configureFile ?? (await installedExim()).configureFile);
  const files = hostFiles(model, configureFile);
  const notes: string[] = [];
  let pem: string | undefined;
  if (flags.dkimPublicKey) {
    pem = await readIfExists(checkConfigPath('--dkim-public-key', flags.dkimPublicKey));
    if (pem === undefined) throw usageError(`--dkim-public-key: ${flags.dkimPublicKey} does not exist`);
  } else {
    // Reading the private key needs root; without it the DKIM record is left out, said below.
    pem = await dkimPublicKey(files.dkimPrivateKey).catch(() => undefined);
  }
  if (!pem) notes.push('no DKIM key found: run labctl configure first (as root), or give --dkim-public-key');
  const certFile = await certificatePath(flags, configureFile, files.tlsCertificate);
  const cert = await readIfExists(certFile).catch(() => undefined);
  if (!cert) notes.push(`no TLSA record: no certificate at ${certFile} (run labctl configure, or give --tls-cert)`);
  if (!model.address) notes.push(`no A records: give --address for ${model.mailHost} (and mta-sts.${model.domain}, the MTA-STS web server)`);

  const records = dnsRecords(model, { dkimPublicKeyPem: pem, tlsCertificatePem: cert });
  const mtaSts = mtaStsView(model.domain, mtaStsFor(model));
  const out = { model, records, mtaSts, origin: flags.origin ? model.domain : undefined, notes };

  if (flags.check) {
    const system = flags.dnsServer ? [] : parseResolvConf(await readIfExists('/etc/resolv.conf').catch(() => undefined));
    const rows = await compareServed(records, servedLookup(flags.dnsServer));
    const bad = rows.filter((r) => r.status !== 'ok').length;
    const asked = flags.dnsServer ? `DNS server ${flags.dnsServer}` : `system resolver (${system.join(', ') || 'no nameserver configured'})`;
    if (flags.json) console.log(JSON.stringify({ domain: model.domain, server: asked, rows, ok: bad === 0 }, null, 2));
    else {
      process.stdout.write(`${model.domain}: what DNS serves (${asked}) against what labctl dns says\n`);
      process.stdout.write(renderCheckTable(rows));
      process.stdout.write(`${rows.length - bad} of ${rows.length} records as they should be${bad ? `; ${bad} missing or different` : ''}\n`);
    }
    if (bad) process.exitCode = EXIT.failure;
    return;
  }
  if (flags.json) console.log(JSON.stringify(dnsJson(out), null, 2));
  else process.stdout.write(renderDnsText(out));
}

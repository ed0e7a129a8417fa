import path from 'node:path';
import type { HostModel } from '../../config/model.js';
import { dkimPublicKey, ensureDkimKey, ensureHostCertificate, ensureLabCa } from '../../system/openssl.js';
import { labPaths, mailHostName, type LabMailHostSpec, type LabSpec } from '../topology.js';

/**
 * A lab host's TLS and DKIM files, made by the same helpers `labctl configure` uses: one lab CA
 * for the whole lab (under the lab directory, so `lab down` removes it), a certificate per mail
 * host signed by it (its mail host name, the domain, and mta-sts.<domain> for the MTA-STS web
 * server, beyond the write-up), and a DKIM key per host.
 */
export interface HostKeyFiles {
  caCertificate: string;
  certificate: string;
  privateKey: string;
  dkimPrivateKey: string;
}

export async function hostKeys(_spec: LabSpec, host: LabMailHostSpec, model: HostModel): Promise<HostKeyFiles> {
  const ca = await ensureLabCa(labPaths.ca);
  const p = labPaths.host(host.name);
  const cert = await ensureHostCertificate({ caDir: labPaths.ca, hostName: mailHostName(host), outDir: p.tls, altNames: [model.domain, `mta-sts.${model.domain}`] });
  const dkim = await ensureDkimKey(path.join(p.dkim, `${model.dkimSelector}.key`));
  return { caCertificate: ca.certificate, certificate: cert.certificate, privateKey: cert.privateKey, dkimPrivateKey: dkim.privateKey };
}

export async function dkimPublicKeyPem(keys: HostKeyFiles): Promise<string | undefined> {
  return dkimPublicKey(keys.dkimPrivateKey);
}

import path from 'node:path';
import type { HostModel } from '../../config/model.js';
import { dkimPublicKey, ensureDkimKey } from '../../system/dkim-key.js';
import { caFiles, ensureHostCertificate, ensureLabCa, hostCertificateReady, hostCertificateFiles, type HostCertificateOptions } from '../../system/openssl.js';
import { exists } from '../../system/files.js';
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

const certificateOptions = (host: LabMailHostSpec, model: HostModel): HostCertificateOptions => ({
  caDir: labPaths.ca,
  hostName: mailHostName(host),
  outDir: labPaths.host(host.name).tls,
  altNames: [model.domain, `mta-sts.${model.domain}`],
});

/** Where hostKeys keeps a host's files, made or not (what a dry run renders the configure with). */
export function hostKeyPaths(host: LabMailHostSpec, model: HostModel): HostKeyFiles {
  const cert = hostCertificateFiles(certificateOptions(host, model));
  return { caCertificate: caFiles(labPaths.ca).certificate, ...cert, dkimPrivateKey: path.join(labPaths.host(host.name).dkim, `${model.dkimSelector}.key`) };
}

export async function hostKeys(_spec: LabSpec, host: LabMailHostSpec, model: HostModel): Promise<HostKeyFiles> {
  const ca = await ensureLabCa(labPaths.ca);
  const cert = await ensureHostCertificate(certificateOptions(host, model));
  const dkim = await ensureDkimKey(hostKeyPaths(host, model).dkimPrivateKey);
  return { caCertificate: ca.certificate, certificate: cert.certificate, privateKey: cert.privateKey, dkimPrivateKey: dkim.privateKey };
}

/** Read-only: whether hostKeys would leave the host's CA, certificate and DKIM key as they are. Throws when they cannot be read (not root). */
export async function hostKeysReady(host: LabMailHostSpec, model: HostModel): Promise<boolean> {
  return (await hostCertificateReady(certificateOptions(host, model))) && (await exists(hostKeyPaths(host, model).dkimPrivateKey));
}

export async function dkimPublicKeyPem(keys: HostKeyFiles): Promise<string | undefined> {
  return dkimPublicKey(keys.dkimPrivateKey);
}

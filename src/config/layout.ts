import path from 'node:path';
import { paths } from '../paths.js';
import type { HostModel } from './model.js';

/**
 * Where `labctl configure` keeps a host's keys and certificates: beside the configure file,
 * so a different --configure-file gets its own set; the lab CA under labctl's state directory.
 */
export interface HostFiles {
  caDir: string;
  tlsDir: string;
  tlsCertificate: string;
  tlsPrivateKey: string;
  dkimPrivateKey: string;
}

export function hostFiles(model: HostModel, configureFile: string): HostFiles {
  const base = path.dirname(configureFile);
  const tlsDir = path.join(base, 'tls');
  return {
    caDir: path.join(paths.stateDir, 'ca'),
    tlsDir,
    tlsCertificate: path.join(tlsDir, `${model.mailHost}.pem`),
    tlsPrivateKey: path.join(tlsDir, `${model.mailHost}.key`),
    dkimPrivateKey: path.join(base, 'dkim', `${model.domain}.${model.dkimSelector}.key`),
  };
}

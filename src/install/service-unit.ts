import ejs from 'ejs';
import path from 'node:path';
import { LabError } from '../errors.js';
import { templatesDir } from './makefile.js';
import { safePath } from '../safe-names.js';

export interface UnitOptions {
  binary: string;
  queueInterval: string;
  configureFile: string;
  spoolDirectory: string;
  envFile: string;
}

export async function renderUnit(o: UnitOptions): Promise<string> {
  for (const [what, p] of [['the Exim binary', o.binary], ['the configure file', o.configureFile], ['the spool directory', o.spoolDirectory], ['the environment file', o.envFile]] as const) safePath(what, p);
  if (!isQueueInterval(o.queueInterval)) throw new LabError(`queue interval ${JSON.stringify(o.queueInterval)} is not like 30m`);
  return ejs.renderFile(path.join(templatesDir, 'exim.service.ejs'), o);
}

/** Queue runner intervals as Exim's -q takes them: 30m, 1m, 90s, 1h. */
export function isQueueInterval(s: string): boolean {
  return /^\d+[smhdw]$/.test(s) && !/^0+[smhdw]$/.test(s);
}

import ejs from 'ejs';
import path from 'node:path';
import { templatesDir } from './makefile.js';

export interface UnitOptions {
  binary: string;
  queueInterval: string;
  configureFile: string;
  spoolDirectory: string;
  envFile: string;
}

export async function renderUnit(o: UnitOptions): Promise<string> {
  return ejs.renderFile(path.join(templatesDir, 'exim.service.ejs'), o);
}

/** Queue runner intervals as Exim's -q takes them: 30m, 1m, 90s, 1h. */
export function isQueueInterval(s: string): boolean {
  return /^\d+[smhdw]$/.test(s) && !/^0+[smhdw]$/.test(s);
}

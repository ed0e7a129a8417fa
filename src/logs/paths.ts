/**
 * Where Exim writes its logs: `log_file_path` (its first entry that is not "syslog", with %s the
 * log's name and %D/%M the date), or `<spool_directory>/log/<name>log` when it is unset.
 */
export type EximLogName = 'main' | 'reject' | 'panic';

export function eximLogPath(options: Map<string, string>, name: EximLogName, now = new Date()): string {
  const spool = options.get('spool_directory') || '/var/spool/exim';
  const configured = (options.get('log_file_path') ?? '').split(':').map((s) => s.trim()).find((s) => s && s !== 'syslog');
  if (!configured) return `${spool}/log/${name}log`;
  const pad = (n: number) => String(n).padStart(2, '0');
  return configured.replace('%s', name).replace(/%D/g, `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}`).replace(/%M/g, `${now.getFullYear()}${pad(now.getMonth() + 1)}`);
}

/** The lines of a log that say something (a missing or empty file has none). */
export const logLines = (text: string | undefined): string[] => (text ?? '').split('\n').filter((l) => l.trim());

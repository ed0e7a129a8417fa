/**
 * Reading `exim -bP`'s answer, for whoever asks Exim for its settings: verify's facts and the
 * logs command (where log_file_path puts the logs). Pure: the asking is done by the caller.
 */

/** Parses `exim -bP` output: "name = value", "no_name", "name", "domainlist name = value". */
export function parseOptions(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(?:(?:domain|host|address|localpart)list\s+)?([A-Za-z0-9_]+)(?:\s*=\s?(.*))?$/.exec(line.trimEnd());
    if (!m) continue;
    if (m[2] !== undefined) out.set(m[1], m[2]);
    else if (m[1].startsWith('no_')) out.set(m[1].slice(3), 'false');
    else out.set(m[1], 'true');
  }
  return out;
}

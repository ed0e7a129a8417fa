/**
 * Markdown text from evidence: a check's title and summary, an SMTP reply, a host or student
 * name. Such a string is data, so whatever it holds it must render as the text it is: it stays
 * on one line (a multi-line SMTP reply cannot start a heading, a list or a fence), a block
 * marker at its start is escaped, and so are the characters that make emphasis, links, HTML and
 * table cells. `Code spans` are kept: on one line they only show text literally.
 */

/** Characters that change inline Markdown (CommonMark lets a backslash escape any ASCII punctuation). */
const INLINE_SPECIAL = /([\\*_<>[\]&~|!])/g;

/** What a line may start with to open a block (once the inline characters are escaped): a heading, a list item, a rule or setext underline. */
const BLOCK_START = /^(#|[-+=]|\d+(?=[.)]))/;

/** All whitespace (newlines included) as single spaces, trimmed: one line, no indented code. */
export const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

/** One line of evidence text as Markdown inline text (see the file comment). */
export function mdText(s: string): string {
  const escaped = oneLine(s)
    .split(/(`[^`]+`)/)
    .map((part) => (/^`[^`]+`$/.test(part) ? part : part.replace(INLINE_SPECIAL, '\\$1').replace(/`/g, '\\`')))
    .join('');
  // A backslash escapes punctuation only: before "1." it goes between the digits and the dot.
  return escaped.replace(BLOCK_START, (m) => (/^\d/.test(m) ? `${m}\\` : `\\${m}`));
}

/** A code span around any text: a backtick run longer than any inside it, on one line. */
export function mdCode(s: string): string {
  const text = oneLine(s);
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const tick = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${tick}${pad}${text}${pad}${tick}`;
}

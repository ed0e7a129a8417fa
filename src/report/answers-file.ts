import { usageError } from '../errors.js';

/**
 * The student's own answers to the write-up's questions (`labctl report --answers FILE`): a
 * Markdown file with one "## ID." section per question. The report puts each answer beside the
 * evidence for it; where a section is missing or empty, labctl's own text stays, marked as a
 * hint. `labctl report --answers-template` prints the empty file.
 */
export interface Question {
  id: string;
  /** The question as the write-up asks it. */
  text: string;
  /** What to look at in the report while answering. */
  evidence: string;
}

export const QUESTIONS: readonly Question[] = [
  {
    id: '4c',
    text: 'Bring your service back up and wait: what happens to the message held on the backup, and when?',
    evidence: 'the backup drill (labctl lab drill backup-mx) and labctl queue why ID on the backup',
  },
  { id: '6a', text: 'Which one is better, SSL/TLS or STARTTLS, why?', evidence: 'checks 6-starttls and 7a-smtps' },
  { id: '6b', text: 'Which one is actually in use for SMTP?', evidence: 'the STARTTLS lines of an SMTP transcript (check 6-starttls)' },
  {
    id: '15',
    text: 'Write a small paragraph that highlights the advantages and disadvantages of SPF and DKIM. What would you choose at a first glance and why?',
    evidence: 'checks spf-record and dkim-signature',
  },
];

export type Answers = Map<string, string>;

const HEADING = /^##\s+(\S+?)[.):]?(?:\s+.*)?$/;

/** Reads the answers file; an unknown or repeated section is a usage error naming it. */
export function parseAnswers(markdown: string, file = 'the answers file'): Answers {
  const known = new Map(QUESTIONS.map((q) => [q.id.toLowerCase(), q.id]));
  const out: Answers = new Map();
  let current: string | undefined;
  let body: string[] = [];
  const flush = () => {
    if (current === undefined) return;
    const text = body.join('\n').replace(/<!--[\s\S]*?-->/g, '').trim();
    if (text) out.set(current, text);
  };
  for (const line of markdown.replace(/\r\n/g, '\n').split('\n')) {
    const m = /^##\s/.test(line) ? HEADING.exec(line.trim()) : null;
    if (m) {
      flush();
      const id = known.get(m[1].toLowerCase());
      if (!id) throw usageError(`${file}: a section "${line.trim()}" that answers no question of the write-up`, `sections: ${QUESTIONS.map((q) => `## ${q.id}.`).join(', ')} (labctl report --answers-template prints them)`);
      if (out.has(id) || current === id) throw usageError(`${file}: question ${id} is answered twice`, 'keep one "## ' + id + '." section');
      current = id;
      body = [];
    } else if (current !== undefined) body.push(line);
  }
  flush();
  return out;
}

export function answersTemplate(): string {
  const parts = [
    '# Lab 3 (MTA): my answers',
    '',
    '<!-- One section per question of the write-up. Write your answer under its heading, keep the',
    '     heading ("## 6a." and so on), then: labctl report --answers THIS_FILE. An empty section',
    "     keeps labctl's own text in the report, marked as a hint. -->",
  ];
  for (const q of QUESTIONS) parts.push('', `## ${q.id}. ${q.text}`, '', `<!-- Evidence in the report: ${q.evidence}. -->`, '');
  return `${parts.join('\n')}\n`;
}

/** Paragraphs of an answer: blank lines separate them. */
export const answerParagraphs = (text: string): string[] => text.split(/\n\s*\n/).map((p) => p.replace(/\s*\n\s*/g, ' ').trim()).filter(Boolean);

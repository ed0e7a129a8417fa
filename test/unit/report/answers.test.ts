/** The student's answers file: parsed, checked, and placed in the report beside the evidence. */
import { describe, expect, it } from 'vitest';
import { answersTemplate, parseAnswers, QUESTIONS } from '../../../src/report/answers-file.js';
import { buildReport } from '../../../src/report/build.js';
import { ANSWER_6A } from '../../../src/report/answers.js';
import type { ReportSection } from '../../../src/report/model.js';

const find = (secs: ReportSection[], title: RegExp): ReportSection | undefined => {
  for (const s of secs) {
    if (title.test(s.title)) return s;
    const sub = find(s.subsections, title);
    if (sub) return sub;
  }
  return undefined;
};
const texts = (s: ReportSection | undefined) => (s?.intro ?? []).flatMap((b) => (b.kind === 'paragraph' ? [b.text] : b.kind === 'list' ? b.items : []));

describe('--answers-template', () => {
  it('has one section per question of the write-up, and parses back to no answers', () => {
    const t = answersTemplate();
    for (const q of QUESTIONS) expect(t).toContain(`\n## ${q.id}. ${q.text}\n`);
    expect(QUESTIONS.map((q) => q.id)).toEqual(['4c', '6a', '6b', '15']);
    expect(parseAnswers(t).size).toBe(0);
  });
});

describe('--answers FILE', () => {
  const file = ['# my answers', '', '## 6a. Which one is better?', '', 'STARTTLS can be stripped.', 'So 465 for clients.', '', 'Second paragraph.', '', '## 15', '<!-- nothing yet -->', ''].join('\n');

  it('reads each section; an empty one is no answer', () => {
    const a = parseAnswers(file);
    expect([...a.keys()]).toEqual(['6a']);
    expect(a.get('6a')).toBe('STARTTLS can be stripped.\nSo 465 for clients.\n\nSecond paragraph.');
  });

  it('refuses a section that answers no question, and a question answered twice', () => {
    expect(() => parseAnswers('## 9z. what?\ntext\n', 'a.md')).toThrow(/a\.md: a section "## 9z\. what\?" that answers no question/);
    expect(() => parseAnswers('## 6a.\none\n## 6a.\ntwo\n')).toThrow(/6a is answered twice/);
  });

  it("puts the student's words in place of labctl's, and keeps labctl's text as a hint where none is given", () => {
    const report = buildReport([], { answers: parseAnswers(file) });
    const a6 = texts(find(report.sections, /^6a\./));
    expect(a6).toEqual(['Answer (6a):', 'STARTTLS can be stripped. So 465 for clients.', 'Second paragraph.']);
    expect(a6.join(' ')).not.toContain(ANSWER_6A[0]);
    const a15 = texts(find(report.sections, /^15\./));
    expect(a15[0]).toMatch(/^No answer to 15 in the answers file yet\. labctl's hint/);
    expect(a15.length).toBeGreaterThan(1);
    expect(texts(find(report.sections, /^4b, 4c/))[0]).toMatch(/^No answer to 4c/);
  });

  it("without an answers file the report is as before: labctl's own text", () => {
    const report = buildReport([]);
    expect(texts(find(report.sections, /^6a\./))).toEqual(ANSWER_6A);
    expect(texts(find(report.sections, /^4b, 4c/))).toEqual([]);
  });
});

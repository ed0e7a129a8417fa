/**
 * verify.json: a verify report as JSON, with a schema version. One text, two ways out: what
 * `labctl verify --json` prints (the class playbook saves it as verify.json on each machine and
 * fetches it to the controller as STUDENT.json), and DIR/verify.json of `labctl verify --evidence
 * DIR`. Rendered by src/verify/render.ts through `verifyJsonText`; read back only by
 * `labctl class report` (src/class/report.ts), through `parseVerifyJson`. A report without a
 * version (an older labctl) reads as version 1; a newer or corrupt one is a one-line error.
 */
import path from 'node:path';
import { EXIT } from '../errors.js';
import { parseState, withSchema } from './file.js';

export const VERIFY_JSON = 'verify.json';
const SCHEMA = 1;
/** DIR/verify.json of `labctl verify --evidence DIR`. */
export const verifyJsonFile = (dir: string) => path.join(dir, VERIFY_JSON);

/** The report as JSON, its schema version first. */
export const verifyJsonText = (report: object) => JSON.stringify(withSchema(SCHEMA, report), null, 2);

/** A report file's text (named `file` in the errors) as its fields, the version checked and dropped. */
export function parseVerifyJson(file: string, text: string): Record<string, unknown> {
  return parseState<Record<string, unknown>>(file, text, SCHEMA, {
    remedy: 'it is what labctl verify --json printed on the machine: run it there again (ansible/site.yml fetches it); an empty file means verify did not run',
    newer: 'run labctl class report with the labctl the machines run, or update this one',
    exitCode: EXIT.usage,
  });
}

import { describe, expect, it } from 'vitest';
import { LabError } from '../../../src/errors.js';
import { runSteps } from '../../../src/steps/runner.js';
import { unknownOutcome, type Step, type StepObserver, type StepRecord } from '../../../src/steps/types.js';

interface Ctx {
  applied: string[];
  value?: number;
}

const collect = (): StepObserver & { records: StepRecord[]; notes: string[] } => {
  const o = { records: [] as StepRecord[], notes: [] as string[], record: (r: StepRecord) => o.records.push(r), note: (t: string) => o.notes.push(t) };
  return o;
};

const step = (id: string, done: boolean, apply: (c: Ctx) => void = () => {}): Step<Ctx> => ({
  id,
  title: `step ${id}`,
  check: async () => ({ done, detail: done ? `${id} is so` : `${id} would change` }),
  apply: async (c) => {
    c.applied.push(id);
    apply(c);
    return { detail: `${id} changed`, evidence: [{ kind: 'text', label: id, text: 'did it' }] };
  },
});

describe('the step runner', () => {
  it('in check mode runs only the checks: nothing is applied, and a step not done is recorded as changed', async () => {
    const ctx: Ctx = { applied: [] };
    const o = collect();
    const records = await runSteps([step('a', true), step('b', false)], ctx, 'check', o);
    expect(ctx.applied).toEqual([]);
    expect(records.map((r) => [r.id, r.status, r.detail])).toEqual([['a', 'ok', 'a is so'], ['b', 'changed', 'b would change']]);
    expect(o.records).toEqual(records);
  });

  it('records a check that cannot tell as unknown in a plan, and applies it in a real run', async () => {
    const unsure: Step<Ctx> = { id: 'u', title: 'u', check: async () => unknownOutcome('depends on a download'), apply: async (c) => (c.applied.push('u'), {}) };
    const ctx: Ctx = { applied: [] };
    const [plan] = await runSteps([unsure], ctx, 'check', collect());
    expect([plan!.status, plan!.detail, ctx.applied]).toEqual(['unknown', 'depends on a download', []]);
    const [run] = await runSteps([unsure], ctx, 'apply', collect());
    expect([run!.status, ctx.applied]).toEqual(['changed', ['u']]);
  });

  it('in apply mode applies what is not done, and a value flows to later steps through the context', async () => {
    const ctx: Ctx = { applied: [] };
    const later: Step<Ctx> = { id: 'c', title: (c) => `uses ${c.value}`, check: async (c) => ({ done: c.value === 42 }), apply: async () => ({}) };
    const records = await runSteps([step('a', true), step('b', false, (c) => (c.value = 42)), later], ctx, 'apply', collect());
    expect(ctx.applied).toEqual(['b']);
    expect(records.map((r) => [r.id, r.title, r.status])).toEqual([['a', 'step a', 'ok'], ['b', 'step b', 'changed'], ['c', 'uses 42', 'ok']]);
    expect(records[1]!.evidence).toEqual([{ kind: 'text', label: 'b', text: 'did it' }]);
  });

  it('keeps what a done step\'s check looked at as its evidence, in both modes', async () => {
    const seen = { kind: 'text' as const, label: 'scan', text: 'port 25: nothing listening' };
    const looked: Step<Ctx> = { id: 'p', title: 'p', check: async () => ({ done: true, detail: 'nothing found', evidence: [seen] }), apply: async () => ({}) };
    for (const mode of ['check', 'apply'] as const) {
      const [r] = await runSteps([looked], { applied: [] }, mode, collect());
      expect(r).toMatchObject({ status: 'ok', detail: 'nothing found', evidence: [seen] });
    }
  });

  it('stops at a failing apply, records it as failed with the error, and rethrows', async () => {
    const ctx: Ctx = { applied: [] };
    const boom: Step<Ctx> = { id: 'x', title: 'x', check: async () => ({ done: false }), apply: async () => { throw new Error('disk full\nmore'); } };
    const o = collect();
    await expect(runSteps([step('a', false), boom, step('b', false)], ctx, 'apply', o)).rejects.toThrow('disk full');
    expect(ctx.applied).toEqual(['a']);
    expect(o.records.map((r) => [r.id, r.status, r.detail])).toEqual([['a', 'changed', 'a changed'], ['x', 'failed', 'disk full']]);
  });

  it('records a step that does not apply as skipped, and keeps the JSON shape', async () => {
    const skip: Step<Ctx> = { id: 's', title: 's', check: async () => ({ done: true, skipped: true, detail: '--tls off' }), apply: async () => ({}) };
    const [r] = await runSteps([skip], { applied: [] }, 'apply', collect());
    expect(Object.keys(r!).sort()).toEqual(['detail', 'diff', 'evidence', 'id', 'ms', 'status', 'title']);
    expect(r).toMatchObject({ id: 's', status: 'skipped', detail: '--tls off', evidence: [] });
    expect(typeof r!.ms).toBe('number');
  });

  it('with takeBack, a failure undoes the earlier changes newest first and names what stays applied', async () => {
    const ctx: Ctx = { applied: [] };
    const undone: string[] = [];
    const undoable = (id: string): Step<Ctx> => ({
      id,
      title: `step ${id}`,
      check: async () => ({ done: false }),
      apply: async () => ({ detail: `${id} written`, undo: async () => (undone.push(id), `${id} taken back`) }),
    });
    const refused: Step<Ctx> = { id: 'x', title: 'x', check: async () => ({ done: false }), apply: async () => { throw new LabError('Exim refused it', 'the installed configuration was left as it was'); } };
    const o = collect();
    const err = await runSteps([step('users', false), undoable('aliases'), undoable('key'), refused], ctx, 'apply', o, { takeBack: true }).catch((e: LabError) => e);
    expect(undone).toEqual(['key', 'aliases']);
    expect(err).toBeInstanceOf(LabError);
    expect(err.message).toBe('Exim refused it');
    expect(err.hint).toBe('the installed configuration was left as it was; undone: step aliases: aliases taken back; step key: key taken back; still applied: step users (users changed)');
    expect(o.records.map((r) => [r.id, r.status, r.undone])).toEqual([['users', 'changed', undefined], ['aliases', 'changed', 'aliases taken back'], ['key', 'changed', 'key taken back'], ['x', 'failed', undefined]]);
  });

  it('without takeBack (or when nothing changed) the error is rethrown as it was, nothing undone', async () => {
    let undos = 0;
    const undoable: Step<Ctx> = { id: 'a', title: 'a', check: async () => ({ done: false }), apply: async () => ({ undo: async () => (undos++, 'x') }) };
    const fail = new LabError('no');
    const boom: Step<Ctx> = { id: 'x', title: 'x', check: async () => ({ done: false }), apply: async () => { throw fail; } };
    await expect(runSteps([undoable, boom], { applied: [] }, 'apply', collect())).rejects.toBe(fail);
    await expect(runSteps([step('a', true), boom], { applied: [] }, 'apply', collect(), { takeBack: true })).rejects.toBe(fail);
    expect(undos).toBe(0);
  });
});

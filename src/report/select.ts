/**
 * Record selection: which record the report shows for an item (the newest, for the chosen lab
 * host), its earlier runs, the command that produces it, and the status it shows. A record's
 * status is one of the two vocabularies of src/evidence/types.ts; anything else is refused.
 */
import { LabError } from '../errors.js';
import { isRecordStatus, type EvidenceArea, type EvidenceRecord, type RecordStatus } from '../evidence/types.js';
import type { ItemStatus, PastRun } from './model.js';

export interface SelectOptions {
  /** Prefer records about this lab host (st14, st18). */
  host?: string;
}

/** How each status reads in the report: a step that was already so or changed something passed. */
const ITEM_STATUS: Record<RecordStatus, ItemStatus> = {
  ok: 'pass',
  changed: 'pass',
  failed: 'fail',
  skipped: 'skip',
  pass: 'pass',
  fail: 'fail',
  warn: 'warn',
  skip: 'skip',
};

export const itemStatus = (status: RecordStatus): ItemStatus => ITEM_STATUS[status];

/** Drill records whose id is not the drill's command, and the flags a drill's record needs. */
const DRILL_COMMANDS: Readonly<Record<string, string>> = {
  'backup-mx': 'labctl lab drill backup-mx --force',
  'backup-mx-retry': 'labctl lab drill backup-mx',
  'spoof-monitor': 'labctl lab drill spoof --no-enforce',
  'wire-demo-plaintext': 'labctl lab drill wire --demo-plaintext',
};

/** The command that produces an item's record: a command line as the user types it, nothing else. */
export function commandFor(area: EvidenceArea, id: string, host?: string): string {
  switch (area) {
    case 'install':
      return 'labctl install';
    case 'configure':
      return 'labctl configure';
    case 'verify':
      return host ? `labctl verify --lab --only ${id}` : `labctl verify --only ${id}`;
    case 'lab':
      return 'labctl lab up';
    case 'drill':
      return DRILL_COMMANDS[id] ?? `labctl lab drill ${id}`;
  }
}

const isRecord = (r: EvidenceRecord | undefined): r is EvidenceRecord => !!r && typeof r.area === 'string' && typeof r.id === 'string';

/** Refuses a record whose status is in neither vocabulary, naming it and the command that records it again. */
export function checkStatuses(records: (EvidenceRecord | undefined)[]): void {
  for (const r of records.filter(isRecord)) {
    if (isRecordStatus(r.status)) continue;
    throw new LabError(
      `evidence record ${r.area}/${r.id}${r.host ? ` for ${r.host}` : ''} (${r.at}) has the status "${String(r.status)}", which labctl does not write`,
      `steps record ok, changed, failed or skipped, checks pass, fail, warn or skip; \`${commandFor(r.area, r.id, r.host)}\` records it again`,
    );
  }
}

export class Selection {
  private readonly byKey = new Map<string, EvidenceRecord[]>();
  /** The records shown so far; the rest go under "Other evidence". */
  readonly used = new Set<EvidenceRecord>();

  constructor(records: (EvidenceRecord | undefined)[], readonly opts: SelectOptions) {
    for (const r of records.filter(isRecord)) {
      const key = `${r.area}/${r.id}`;
      const list = this.byKey.get(key) ?? [];
      list.push(r);
      this.byKey.set(key, list);
    }
    for (const list of this.byKey.values()) list.sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  }

  all(area: EvidenceArea, id: string): EvidenceRecord[] {
    return this.byKey.get(`${area}/${id}`) ?? [];
  }

  ids(area: EvidenceArea): string[] {
    return [...this.byKey.keys()].filter((k) => k.startsWith(`${area}/`)).map((k) => k.slice(area.length + 1));
  }

  /**
   * The record to show: the newest for the chosen host, else the newest not about any host,
   * else (no --host) the newest for the first host by name, so st14 comes before st18. Without
   * --host, a machine's own warn or skip (DNS nobody serves, no partner to back up) gives way to a
   * lab host's pass for the same check: the lab is where those tasks can be shown. A failure is
   * never hidden that way.
   */
  pick(area: EvidenceArea, id: string): EvidenceRecord | undefined {
    const list = this.all(area, id);
    const host = this.opts.host;
    if (host) {
      const own = list.find((r) => r.host === host);
      if (own) return own;
      return list.find((r) => !r.host);
    }
    const hosts = [...new Set(list.filter((r) => r.host).map((r) => r.host as string))].sort();
    const firstHost = list.find((r) => r.host === hosts[0]);
    const hostless = list.find((r) => !r.host);
    if (!hostless) return firstHost;
    const weak = ['warn', 'skip'].includes(itemStatus(hostless.status));
    const isPass = (r: EvidenceRecord) => itemStatus(r.status) === 'pass';
    const labPass = list.find((r) => r.host === hosts[0] && isPass(r)) ?? list.find((r) => r.host && isPass(r));
    return weak && labPass ? labPass : hostless;
  }

  /** Earlier runs of the same item on the same host. */
  history(rec: EvidenceRecord): PastRun[] {
    return this.all(rec.area, rec.id)
      .filter((r) => r !== rec && r.host === rec.host && Date.parse(r.at) <= Date.parse(rec.at))
      .map((r) => ({ at: r.at, status: itemStatus(r.status), summary: r.summary, host: r.host }));
  }

  command(area: EvidenceArea, id: string): string {
    return commandFor(area, id, this.opts.host);
  }

  /**
   * Why an item of install or configure has no record although the command ran. Both record every
   * step of every run, so a step without a record is one a labctl older than this left out (it kept
   * none for a step that found its work already done). Undefined when the command never ran, and for
   * verify and the drills, which run what they are asked: their missing items name the command.
   */
  whyMissing(area: EvidenceArea): string | undefined {
    if (area !== 'install' && area !== 'configure') return undefined;
    const last = this.ids(area).flatMap((id) => this.all(area, id).map((r) => r.at)).sort().at(-1);
    if (!last) return undefined;
    return `labctl ${area} ran (last on ${last.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}) but kept no record of this step: the labctl that ran kept none for a step that found its work already done; this labctl records what each step checks on every run`;
  }
}

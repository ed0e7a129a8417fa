/**
 * The shape of the report's outline: a section of the write-up and the records each of its items
 * shows. outline.ts (the write-up's tasks) and beyond.ts (what labctl adds beyond it) both write
 * sections of this shape; build.ts reads them.
 */
import type { EvidenceArea, EvidenceRecord } from '../evidence/types.js';
import type { Block } from './model.js';
import type { Selection } from './select.js';

export interface ItemSpec {
  area: EvidenceArea;
  id: string;
  title: string;
  /** The command that produces the record; default from area and id. */
  command?: string;
  /** Blocks for the record's typed payload; default: every evidence item as recorded. */
  render?: (rec: EvidenceRecord) => Block[];
}

export interface SectionSpec {
  title: string;
  intro?: (sel: Selection) => Block[];
  items: ItemSpec[];
  /** Records of an area not listed elsewhere (configure's steps). */
  areaRest?: { area: EvidenceArea; command: string; title: string };
  subsections?: SectionSpec[];
}

import type { PreparedHost } from '../hosts/prepare.js';
import type { LabSpec } from '../topology.js';

/** What `lab up`'s steps share as they run: the spec, the hosts prepared so far, and the DNS step's trust anchors. */
export interface UpContext {
  spec: LabSpec;
  hosts: PreparedHost[];
  /** The resolver's trust anchors (DS lines) and the zones they are for, found by the DNS step. */
  trust?: { anchors: string[]; tops: string[] };
}

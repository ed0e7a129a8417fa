/** The lab's state file has its owner in src/state/lab.ts; the lab commands read it through these names. */
export { loadLabState as loadState, saveLabState as saveState, type LabState } from '../state/lab.js';

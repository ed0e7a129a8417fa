/** The verify API for other parts of labctl (the lab runs these against each of its hosts). */
export { runChecks, runOne, selectChecks, summarize } from './runner.js';
export { DEFAULT_TIMEOUT_MS } from './help.js';
export { CATALOGUE, CHECK_IDS } from './catalogue.js';
export { localTarget, loadStoredModel, type TargetOverrides } from './target.js';
export { renderChecklist, toJson } from './render.js';
export { writeEvidenceDir, storeReport } from './evidence.js';
export type { CheckResult, CheckStatus, HostView, RunChecksOptions, VerifyReport, VerifyTarget } from './types.js';

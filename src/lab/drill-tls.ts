import type { LabState } from './state.js';

export interface TlsDrillCheck { id: string; ok: boolean; summary: string }
export async function tlsDrill(_state: LabState, _o: { log?: (l: string) => void }): Promise<{ checks: TlsDrillCheck[]; json: unknown }> {
  return { checks: [], json: {} };
}

import { releaseLease } from './limiter';
import type { WorkflowState } from './types';

/** Releases every lease the incident's admission took. */
export async function releaseIncidentLeases(state: WorkflowState, limiterTable: string): Promise<void> {
  const incidentId = state.incident?.incidentId;
  if (!incidentId) return;
  await Promise.all((state.admission?.leases ?? []).map((key) => releaseLease(limiterTable, key, incidentId)));
}

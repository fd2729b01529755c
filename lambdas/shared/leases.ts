import { resourceLeaseKey, runbookLeaseKey } from './admission';
import { releaseLease } from './limiter';
import type { WorkflowState } from './types';

/** Releases `keys` held by `incidentId`; a key it does not hold is left alone. */
export async function releaseLeases(table: string, keys: string[], incidentId: string): Promise<void> {
  await Promise.all([...new Set(keys)].map((key) => releaseLease(table, key, incidentId)));
}

/**
 * Every lease the incident may hold: the ones its state lists, and the ones any step could have
 * taken for it (its target's, its runbook's, its plan's resources'), because a step that failed
 * after taking a lease never handed the key on.
 */
export function incidentLeaseKeys(state: WorkflowState): string[] {
  const { incident, admission, plan, runbook } = state;
  const keys = [...(admission?.leases ?? []), ...(plan?.leases ?? []), ...(plan?.resources ?? []).map(resourceLeaseKey)];
  if (incident?.target) keys.push(resourceLeaseKey(incident.target.arn), runbookLeaseKey(runbook.name));
  return [...new Set(keys)];
}

/** Releases every lease the incident may hold. */
export async function releaseIncidentLeases(state: WorkflowState, limiterTable: string): Promise<void> {
  const incidentId = state.incident?.incidentId;
  if (!incidentId || state.incident?.status !== 'received') return;
  await releaseLeases(limiterTable, incidentLeaseKeys(state), incidentId);
}

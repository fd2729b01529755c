import { appendEntry, type LedgerEntry, type Phase } from './ledger';
import { platformSettings } from './settings';
import type { WorkflowState } from './types';

/** Appends an entry for the incident a workflow state carries. */
export async function record(state: WorkflowState, phase: Phase, actor: string, detail: unknown): Promise<LedgerEntry> {
  const incident = state.incident;
  if (!incident) throw new Error(`cannot record "${phase}": the workflow state has no incident`);
  const settings = platformSettings();
  return appendEntry({
    table: settings.ledgerTable,
    incidentId: incident.incidentId,
    phase,
    runbook: state.runbook.name,
    targetArn: incident.target?.arn,
    mode: incident.mode,
    actor,
    execution: state.execution?.id,
    detail,
  });
}

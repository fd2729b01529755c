import { appendEntry, type LedgerEntry, type Phase } from '../shared/ledger';
import { platformSettings } from '../shared/settings';
import type { ApprovalItem } from './store';

/**
 * Appends to the incident's chain from an approval request: the API answers outside the
 * workflow, without its state, so the item carries what the entry needs (runbook, target, mode, execution).
 */
export function recordOn(item: ApprovalItem, phase: Phase, actor: string, detail: unknown): Promise<LedgerEntry> {
  return appendEntry({
    table: platformSettings().ledgerTable,
    incidentId: item.incidentId,
    phase,
    runbook: item.runbook,
    targetArn: item.target,
    mode: item.mode,
    actor,
    execution: item.execution,
    detail,
  });
}

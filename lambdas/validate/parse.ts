import type { ExecutionInfo, RunbookSpec } from '../shared/types';
import { parseAlarmEvent, type ParsedAlarm } from './alarm-event';
import { parseManualInput, type ParsedManualInput } from './manual-input';
import { isRunbookServiceEvent, parseResourceEvent } from './resource-event';

/**
 * A runbook started by hand reads every input as manual input. An alarm runbook that can also be
 * started by hand or by its sweep (it has `manualTargets`) reads anything that is not an
 * EventBridge event (no `detail-type`) that way; EventBridge events always go to the alarm parser.
 */
function readsAsManualInput(event: unknown, runbook: RunbookSpec): boolean {
  if (runbook.trigger === 'manual') return true;
  if (!runbook.manualTargets) return false;
  return typeof event === 'object' && event !== null && !Array.isArray(event) && !('detail-type' in event);
}

/** Which parser reads a workflow's input: its shape and the runbook decide. */
export function inputKind(event: unknown, runbook: RunbookSpec): 'service-event' | 'manual' | 'alarm' {
  if (isRunbookServiceEvent(event, runbook)) return 'service-event';
  return readsAsManualInput(event, runbook) ? 'manual' : 'alarm';
}

/** Reads a workflow's input with the parser its shape and the runbook call for. Pure: Escalate uses it too when the ledger is down. */
export function parseEvent(event: unknown, runbook: RunbookSpec, execution: ExecutionInfo): ParsedAlarm | ParsedManualInput {
  switch (inputKind(event, runbook)) {
    case 'service-event': return parseResourceEvent(event, runbook);
    case 'manual': return parseManualInput(event, runbook, execution);
    default: return parseAlarmEvent(event, runbook);
  }
}

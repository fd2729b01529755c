import { APPROVAL_ERRORS, describeError, InvalidStateError } from '../shared/errors';
import { logger } from '../shared/observability';
import { record } from '../shared/record';
import { platformSettings } from '../shared/settings';
import type { StepError, WorkflowState } from '../shared/types';
import { readApproval, updateApproval, votesOf } from './store';

/** What the workflow's Catch of `States.Timeout` on the request task sends. */
export interface ApprovalExpiry {
  readonly action: 'expired';
  readonly state: WorkflowState;
}

/**
 * The `expired` entry: the wait timed out. Marks the request expired (an answer arriving now
 * gets 410), records `approval-expired` with the approvals received, and returns the error the
 * workflow puts at `$.error` before escalating. A ledger that cannot be written does not stop
 * the page: the error is still returned, and Escalate records its own entry.
 */
export async function expireApproval(expiry: ApprovalExpiry, actor: string): Promise<StepError> {
  const { state } = expiry;
  const incidentId = state?.incident?.incidentId;
  if (!incidentId) throw new InvalidStateError('an approval expiry needs the workflow state with its incident');
  const { limiterTable } = platformSettings();
  const item = await updateApproval(limiterTable, incidentId, 'SET #status = :expired', 'attribute_exists(pk)', { ':expired': 'expired' })
    ?? await readApproval(limiterTable, incidentId);
  const approvals = item ? votesOf(item) : [];
  const deadline = item?.deadline;
  const minApprovals = item?.minApprovals ?? state.runbook.approval?.minApprovals;
  try {
    await record(state, 'approval-expired', actor, { expiresAt: deadline, planHash: item?.planHash, approvals, received: approvals.length, minApprovals });
  } catch (error) {
    logger.error('approval expiry not recorded', { error: describeError(error) });
  }
  const got = minApprovals ? ` (${approvals.length} of ${minApprovals} approval(s) received)` : '';
  return { Error: APPROVAL_ERRORS.expired, Cause: `no approval before ${deadline ?? 'the deadline'}${got}; not acted` };
}

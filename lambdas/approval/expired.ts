import { APPROVAL_ERRORS, describeError, InvalidStateError, MedicError } from '../shared/errors';
import { logger } from '../shared/observability';
import { planHash } from '../shared/plan-hash';
import { record } from '../shared/record';
import { platformSettings } from '../shared/settings';
import type { ApprovalGranted, StepError, WorkflowState } from '../shared/types';
import { readApproval, updateApproval, votesOf, type ApprovalItem } from './store';

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
 *
 * A runbook whose approval is `onTimeout: 'act'` (a veto window) gets {@link passVetoWindow} instead.
 */
export async function expireApproval(expiry: ApprovalExpiry, actor: string): Promise<StepError | ApprovalGranted> {
  const { state } = expiry;
  const incidentId = state?.incident?.incidentId;
  if (!incidentId) throw new InvalidStateError('an approval expiry needs the workflow state with its incident');
  if (state.runbook?.approval?.onTimeout === 'act') return passVetoWindow(state, incidentId, actor);
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

/** Fails the expiry task into Escalate: the veto window does not let this run act. */
function notActed(why: string): MedicError {
  return new MedicError(APPROVAL_ERRORS.expired, `the approval timed out and the veto window does not let medic act: ${why}; not acted`);
}

/**
 * The veto window passed (`onTimeout: 'act'`): nobody rejected the plan before the deadline. The
 * request is marked expired only if no rejection is stored (from then on, a rejection gets 410),
 * `approval-expired` is recorded with `onTimeout: 'act'`, and the grant Act needs is returned for
 * `$.approval`; the workflow then checks the plan again, as after an approval. It fails closed
 * (throws into Escalate): no stored request, a rejection stored, a request of another execution or
 * plan, or a ledger that cannot be written (the trail must show why medic acted unapproved).
 */
async function passVetoWindow(state: WorkflowState, incidentId: string, actor: string): Promise<ApprovalGranted> {
  const { limiterTable } = platformSettings();
  const expired = await updateApproval(limiterTable, incidentId, 'SET #status = :expired',
    'attribute_exists(pk) AND attribute_not_exists(rejection) AND #status <> :rejected', { ':expired': 'expired', ':rejected': 'rejected' });
  const item: ApprovalItem | undefined = expired ?? await readApproval(limiterTable, incidentId);
  if (!item) throw notActed(`no approval request is stored for incident ${incidentId}`);
  if (!expired) {
    const by = item.rejection ? ` by ${item.rejection.principal} (${item.rejection.reason})` : '';
    await record(state, 'approval-expired', actor, { expiresAt: item.deadline, planHash: item.planHash, onTimeout: 'act', acted: false, rejected: true })
      .catch((error: unknown) => logger.error('approval expiry not recorded', { error: describeError(error) }));
    throw notActed(`the plan was rejected${by}`);
  }
  const approvals = votesOf(item);
  const detail = {
    expiresAt: item.deadline, planHash: item.planHash, approvals, received: approvals.length, minApprovals: item.minApprovals,
    onTimeout: 'act', vetoWindow: 'passed: nobody rejected the plan before the deadline; medic checks it again and acts if it is unchanged',
  };
  const current = state.plan && state.incident?.target ? planHash(state) : undefined;
  if (typeof item.planHash !== 'string' || !item.planHash || item.planHash !== current || item.execution !== state.execution?.id) {
    await record(state, 'approval-expired', actor, { ...detail, acted: false, vetoWindow: 'not passed: the stored request is not of this execution\'s plan' })
      .catch((error: unknown) => logger.error('approval expiry not recorded', { error: describeError(error) }));
    throw notActed(`the stored request (plan ${item.planHash ?? 'unknown'}, execution ${item.execution ?? 'unknown'}) is not of this execution's plan (${current ?? 'none'})`);
  }
  try {
    await record(state, 'approval-expired', actor, detail);
  } catch (error) {
    throw notActed(`its expiry could not be recorded in the ledger (${describeError(error)})`);
  }
  return { approved: true, planHash: item.planHash, approvals, by: 'veto-window', deadline: item.deadline };
}

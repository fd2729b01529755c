import { SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { stepFunctions } from '../shared/clients';
import { APPROVAL_ERRORS, describeError } from '../shared/errors';
import { logger } from '../shared/observability';
import { platformSettings } from '../shared/settings';
import type { ApprovalGranted } from '../shared/types';
import type { ApiAnswer } from './http';
import { matchingApprover } from './principals';
import { readApproval, updateApproval, votesOf, type ApprovalItem } from './store';
import { recordOn } from './trail';

/** How an answer came: `medic approve`/`reject` (SigV4, the caller's ARN) or an email approver's link. */
export type Channel = 'api' | 'link';

/** A checked POST body. */
export interface Decision {
  readonly decision: 'approve' | 'reject';
  readonly planHash: string;
  readonly comment?: string;
  readonly reason?: string;
}

/** Step Functions' answers for a token whose task is over (timed out, answered, or its execution ended). */
const TOKEN_GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist']);

const gone = (item: ApprovalItem): ApiAnswer => ({ statusCode: 410, message: closedMessage(item) });

/** What a late answer is told: an expired request was not acted on, unless it was a veto window. */
export function closedMessage(item: Pick<ApprovalItem, 'incidentId' | 'deadline' | 'onTimeout'>): string {
  return item.onTimeout === 'act'
    ? `the veto window for ${item.incidentId} closed at ${item.deadline} without a rejection: medic went on with the plan if it still held (see the ledger)`
    : `the approval request for ${item.incidentId} expired at ${item.deadline}; medic did not act`;
}

/** Why a request cannot be answered now, or undefined when it can. */
function refusal(item: ApprovalItem | undefined, incidentId: string, caller: string, body: Decision, now: number): ApiAnswer | undefined {
  if (!item) return { statusCode: 404, message: `no approval request for incident ${incidentId}` };
  if (item.status === 'expired' || (item.status === 'pending' && now > Date.parse(item.deadline))) return gone(item);
  if (item.status !== 'pending') return { statusCode: 409, message: `the approval request for ${incidentId} is already ${item.status}`, status: item.status };
  if (!matchingApprover(caller, item.approvers)) {
    return { statusCode: 403, message: `${caller} is not an approver of runbook ${item.runbook}`, approvers: item.approvers };
  }
  if (body.planHash !== item.planHash) {
    return {
      statusCode: 409, message: `you answered plan ${body.planHash}, but the pending plan is ${item.planHash}: read the request again`,
      yourPlanHash: body.planHash, pendingPlanHash: item.planHash,
    };
  }
  return undefined;
}

/** A token whose task is over: the request is marked expired (the workflow's own timeout says so too). */
async function markGone(table: string, item: ApprovalItem): Promise<ApiAnswer> {
  await updateApproval(table, item.incidentId, 'SET #status = :expired', 'attribute_exists(pk)', { ':expired': 'expired' })
    .catch((e: unknown) => logger.warn('approval not marked expired', { error: describeError(e) }));
  return gone(item);
}

/**
 * The approval that completes the count sends the token, once: the request is marked `approved`
 * with a conditional write first, so of two last approvers only one sends. Only votes the ledger
 * shows count, and the write re-checks each counted vote is still there and recorded (a vote whose
 * ledger entry failed is withdrawn). A send that fails for a reason other than the task being over
 * puts it back to pending, so a later approval retries.
 */
async function complete(table: string, item: ApprovalItem): Promise<ApiAnswer> {
  const now = new Date().toISOString();
  const counted = votesOf(item).map((v) => v.principal);
  if (counted.length < item.minApprovals) return waiting(item);
  const voteNames = Object.fromEntries(counted.map((principal, i) => [`#v${i}`, principal]));
  const recorded = counted.map((_, i) => `attribute_exists(approvals.#v${i}) AND (attribute_not_exists(approvals.#v${i}.recorded) OR approvals.#v${i}.recorded = :true)`);
  const won = await updateApproval(table, item.incidentId, 'SET #status = :approved, decidedAt = :at', ['#status = :pending AND planHash = :hash', ...recorded].join(' AND '),
    { ':approved': 'approved', ':pending': 'pending', ':at': now, ':hash': item.planHash, ':true': true }, voteNames);
  if (!won) return { statusCode: 200, message: `approved; the approvals for ${item.incidentId} are complete (another answer completed them)` };
  const output: ApprovalGranted = { approved: true, planHash: won.planHash, approvals: votesOf(won) };
  try {
    await stepFunctions().send(new SendTaskSuccessCommand({ taskToken: won.taskToken, output: JSON.stringify(output) }));
  } catch (error) {
    if (TOKEN_GONE.has((error as Error)?.name)) return markGone(table, won);
    await updateApproval(table, item.incidentId, 'SET #status = :pending REMOVE decidedAt', '#status = :approved', { ':approved': 'approved', ':pending': 'pending' })
      .catch((e: unknown) => logger.error('approval not put back to pending', { error: describeError(e) }));
    return { statusCode: 503, message: `your approval is recorded, but medic could not be told to proceed (${describeError(error)}); approve again to retry`, planHash: won.planHash };
  }
  return {
    statusCode: 200, message: `approved: ${output.approvals.length} of ${won.minApprovals} approval(s); medic proceeds (the plan is made again before acting, and a changed plan is not acted on)`,
    planHash: won.planHash, approvals: output.approvals,
  };
}

/** The answer while fewer recorded approvals than needed are in. */
function waiting(item: ApprovalItem, by?: string): ApiAnswer {
  const count = votesOf(item).length;
  return {
    statusCode: 200, message: `approved${by ? ` by ${by}` : ''}: ${count} of ${item.minApprovals} approval(s); waiting for ${item.minApprovals - count} more from other approvers`,
    planHash: item.planHash, approvals: votesOf(item),
  };
}

/**
 * A vote left unrecorded for longer than any invocation runs (the approval function's timeout is
 * 30 s) belongs to an invocation that died between its vote and its ledger entry: approving again
 * records it. A younger one is another invocation still recording it (a double click).
 */
const ABANDONED_VOTE_MS = 60_000;

/**
 * Records a stored vote in the ledger, then marks it recorded; only then does it count. A ledger
 * that cannot be written withdraws the vote (an approval the ledger does not show must not count
 * toward acting).
 */
async function recordVote(table: string, item: ApprovalItem, caller: string, channel: Channel, actor: string): Promise<ApiAnswer> {
  const vote = item.approvals[caller];
  try {
    await recordOn(item, 'approved', actor, {
      principal: caller, approver: vote.approver, channel, at: vote.at, planHash: item.planHash, ...(vote.comment ? { comment: vote.comment } : {}),
      approvals: votesOf(item).length + 1, minApprovals: item.minApprovals,
    });
  } catch (error) {
    await updateApproval(table, item.incidentId, 'REMOVE approvals.#p', '#status = :pending AND approvals.#p.recorded = :false', { ':pending': 'pending', ':false': false }, { '#p': caller })
      .catch((e: unknown) => logger.error('unrecorded approval not withdrawn', { error: describeError(e) }));
    return { statusCode: 503, message: `your approval could not be recorded in the ledger (${describeError(error)}), so it does not count; try again` };
  }
  const marked = await updateApproval(table, item.incidentId, 'SET approvals.#p.recorded = :true', 'attribute_exists(approvals.#p)', { ':true': true }, { '#p': caller });
  if (!marked) return { statusCode: 409, message: 'your approval was withdrawn while it was being recorded; read the request again' };
  return votesOf(marked).length < marked.minApprovals ? waiting(marked, caller) : complete(table, marked);
}

async function approve(table: string, item: ApprovalItem, caller: string, body: Decision, actor: string, channel: Channel): Promise<ApiAnswer> {
  const at = new Date().toISOString();
  const approver = matchingApprover(caller, item.approvers)!;
  // One vote per principal, only while the request is pending and for this plan; it counts once recorded.
  const voted = await updateApproval(table, item.incidentId, 'SET approvals.#p = :vote',
    '#status = :pending AND planHash = :hash AND attribute_not_exists(approvals.#p)',
    { ':vote': { at, approver, recorded: false, ...(body.comment ? { comment: body.comment } : {}) }, ':pending': 'pending', ':hash': item.planHash }, { '#p': caller });
  if (voted) return recordVote(table, voted, caller, channel, actor);
  const now = await readApproval(table, item.incidentId);
  const mine = now?.approvals?.[caller];
  if (mine && now!.status === 'pending' && now!.planHash === item.planHash) {
    if (mine.recorded === false) {
      if (Date.now() - Date.parse(mine.at) > ABANDONED_VOTE_MS) return recordVote(table, now!, caller, channel, actor);
      return { statusCode: 409, message: `your approval of ${mine.at} is being recorded; read the request again in a moment` };
    }
    // The count was met but telling Step Functions failed (503, back to pending): approving again retries it.
    if (votesOf(now!).length >= now!.minApprovals) return complete(table, now!);
  }
  if (mine) return { statusCode: 409, message: `already approved by you (${caller}) at ${mine.at}; a second approval must come from another principal` };
  return refusal(now, item.incidentId, caller, body, Date.now()) ?? { statusCode: 409, message: 'the approval request changed while answering; read it again' };
}

async function reject(table: string, item: ApprovalItem, caller: string, body: Decision, actor: string, channel: Channel): Promise<ApiAnswer> {
  const at = new Date().toISOString();
  const reason = body.reason!.trim();
  const rejected = await updateApproval(table, item.incidentId, 'SET #status = :rejected, decidedAt = :at, rejection = :r', '#status = :pending AND planHash = :hash',
    { ':rejected': 'rejected', ':pending': 'pending', ':at': at, ':r': { principal: caller, reason }, ':hash': item.planHash });
  if (!rejected) {
    return refusal(await readApproval(table, item.incidentId), item.incidentId, caller, body, Date.now()) ?? { statusCode: 409, message: 'the approval request changed while answering; read it again' };
  }
  let ledgerError: string | undefined;
  try {
    await recordOn(rejected, 'approval-rejected', actor, { principal: caller, channel, at, planHash: rejected.planHash, reason, approvals: votesOf(rejected) });
  } catch (error) {
    // Rejecting fails safe (nothing is done), so the workflow is still told; the page records it.
    ledgerError = describeError(error);
    logger.error('rejection not recorded', { error: ledgerError });
  }
  try {
    await stepFunctions().send(new SendTaskFailureCommand({ taskToken: rejected.taskToken, error: APPROVAL_ERRORS.rejected, cause: JSON.stringify({ principal: caller, reason }) }));
  } catch (error) {
    if (TOKEN_GONE.has((error as Error)?.name)) return markGone(table, rejected);
    throw error;
  }
  return {
    statusCode: 200, message: `rejected by ${caller}: medic will not act on this plan and escalates${ledgerError ? ` (the ledger entry could not be written: ${ledgerError})` : ''}`,
    planHash: rejected.planHash,
  };
}

/**
 * One principal's answer, checked against the stored request: `POST /approvals/<incidentId>` with
 * the caller's ARN, or an approval page POST with the link's approver (an email address).
 */
export async function decide(incidentId: string, caller: string, body: Decision, actor: string, channel: Channel = 'api'): Promise<ApiAnswer> {
  const { limiterTable } = platformSettings();
  const item = await readApproval(limiterTable, incidentId);
  const refused = refusal(item, incidentId, caller, body, Date.now());
  if (refused) return refused;
  return body.decision === 'approve' ? approve(limiterTable, item!, caller, body, actor, channel) : reject(limiterTable, item!, caller, body, actor, channel);
}

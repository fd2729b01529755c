import { GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../shared/clients';
import type { ApprovalVote, PlannedCall } from '../shared/types';

/**
 * One approval request in the limiter table (`pk = APPROVAL#<incidentId>`): the task token the
 * workflow waits on, the hash of the plan it asks about, who may answer and the votes so far.
 * Every change is a conditional write, so two answers at once cannot both decide.
 */
export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired';

export interface ApprovalItem {
  readonly pk: string;
  readonly incidentId: string;
  /** The Step Functions task token; never returned by the API. */
  readonly taskToken: string;
  readonly planHash: string;
  readonly runbook: string;
  /** The incident's target ARN. */
  readonly target: string;
  readonly targetId: string;
  /** What the ledger entries written for this request carry (the incident's mode and execution). */
  readonly mode: string;
  readonly execution: string;
  readonly approvers: string[];
  readonly minApprovals: number;
  readonly requestedAt: string;
  /** The decision deadline (ISO): requestedAt + the runbook's approval timeoutSeconds. */
  readonly deadline: string;
  /**
   * Epoch seconds, a day after the deadline: the limiter table's TTL attribute (as for claims and
   * leases), so answered and expired requests are removed; nothing reads it to decide.
   */
  readonly expiresAt: number;
  readonly status: ApprovalStatus;
  /**
   * Votes by principal (caller ARN or email approver): one each. A vote counts only once the ledger
   * shows it (`recorded` true; votes stored without the field were recorded before they were stored).
   */
  readonly approvals: Record<string, { readonly at: string; readonly approver: string; readonly comment?: string; readonly recorded?: boolean }>;
  readonly decision: string;
  readonly summary: string;
  readonly reason: string;
  readonly plannedCalls: PlannedCall[];
  /** The plan's evidence, when small enough to keep here (see the ledger otherwise). */
  readonly details?: Record<string, unknown>;
  readonly recordedAt?: string;
  readonly notifiedAt?: string;
  readonly decidedAt?: string;
  readonly rejection?: { readonly principal: string; readonly reason: string };
  /** What fired, as the request describes it (for the approval page). */
  readonly fired?: string;
  /** One-click links of email approvers: SHA-256 of each link's secret -> the approver's address; never returned. */
  readonly links?: Record<string, string>;
  readonly linksSentAt?: string;
  /** `act` for a veto window: without a rejection by the deadline, medic acts (after checking the plan again). */
  readonly onTimeout?: 'act';
}

export const approvalKey = (incidentId: string): string => `APPROVAL#${incidentId}`;

const conflict = (error: unknown): boolean => (error as Error)?.name === 'ConditionalCheckFailedException';

export async function readApproval(table: string, incidentId: string): Promise<ApprovalItem | undefined> {
  const out = await dynamo().send(new GetCommand({ TableName: table, Key: { pk: approvalKey(incidentId) }, ConsistentRead: true }));
  return out.Item as ApprovalItem | undefined;
}

/** Stores a new request; false when one exists already for the incident. */
export async function createApproval(table: string, item: ApprovalItem): Promise<boolean> {
  try {
    await dynamo().send(new PutCommand({ TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
    return true;
  } catch (error) {
    if (conflict(error)) return false;
    throw error;
  }
}

function usedNames(expressions: string, names: Record<string, string>): Record<string, string> | undefined {
  const used = Object.entries(names).filter(([alias]) => new RegExp(`${alias}\\b`).test(expressions));
  return used.length ? Object.fromEntries(used) : undefined;
}

/**
 * Sets fields when `condition` holds (names `#status`; values `:pending` etc. given in `values`).
 * Returns the item after the update, or undefined when the condition failed.
 */
export async function updateApproval(
  table: string, incidentId: string, update: string, condition: string, values: Record<string, unknown>, names: Record<string, string> = {},
): Promise<ApprovalItem | undefined> {
  try {
    const out = await dynamo().send(new UpdateCommand({
      TableName: table,
      Key: { pk: approvalKey(incidentId) },
      UpdateExpression: update,
      ConditionExpression: condition,
      // DynamoDB refuses a name the expressions do not use.
      ExpressionAttributeNames: usedNames(`${update} ${condition}`, { '#status': 'status', ...names }),
      ExpressionAttributeValues: Object.keys(values).length ? values : undefined,
      ReturnValues: 'ALL_NEW',
    }));
    return out.Attributes as ApprovalItem;
  } catch (error) {
    if (conflict(error)) return undefined;
    throw error;
  }
}

/**
 * Every pending request. A scan of the limiter table filtered to approvals: the table is small
 * (claims, rate logs and leases expire) and listing is a human's occasional read.
 */
export async function pendingApprovals(table: string): Promise<ApprovalItem[]> {
  const items: ApprovalItem[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await dynamo().send(new ScanCommand({
      TableName: table,
      FilterExpression: 'begins_with(pk, :prefix) AND #status = :pending',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':prefix': 'APPROVAL#', ':pending': 'pending' },
      ConsistentRead: true,
      ExclusiveStartKey: startKey,
    }));
    items.push(...((out.Items ?? []) as ApprovalItem[]));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return items.sort((a, b) => a.deadline.localeCompare(b.deadline));
}

/** The votes that count (recorded in the ledger), in the order they were cast, as the approval output and the ledger list them. */
export function votesOf(item: Pick<ApprovalItem, 'approvals'>): ApprovalVote[] {
  return Object.entries(item.approvals ?? {})
    .filter(([, v]) => v.recorded !== false)
    .map(([principal, v]) => ({ principal, at: v.at, ...(v.comment ? { comment: v.comment } : {}) }))
    .sort((a, b) => a.at.localeCompare(b.at) || a.principal.localeCompare(b.principal));
}

import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from './clients';

/**
 * The right to perform one batch of an incident's action, claimed with one conditional write on
 * a fixed key before the first mutating call. Step Functions may run the same Act task twice at
 * once (a retried `Lambda.ServiceException` while the first still runs, a redrive): exactly one
 * invocation wins the claim, so exactly one makes the calls. A read-then-write check on the
 * ledger is not a claim: two invocations can both read "nothing yet".
 */

/** `acting`: calls may be under way; `acted`: done, result stored; `failed`: a call may have taken effect; `refused`: no call took effect, the batch may be claimed again. */
export type ActClaimState = 'acting' | 'acted' | 'failed' | 'refused';

export interface ActClaim {
  readonly owner: string;
  readonly state: ActClaimState;
  readonly attempt: number;
  readonly claimedAt: string;
  readonly settledAt?: string;
  /** The batch's result (state `acted`), so a repeated Act returns it without acting. */
  readonly result?: unknown;
  /** Why the batch failed or was refused. */
  readonly error?: string;
}

/** Claims outlive every redelivery and redrive window (Step Functions redrives up to 14 days). */
export const ACT_CLAIM_SECONDS = 15 * 86400;

const claimKey = (incidentId: string, batch: number): string => `ACT#${incidentId}#${batch}`;

export type ClaimOutcome = { readonly claimed: true; readonly attempt: number } | { readonly claimed: false; readonly existing: ActClaim };

/** Claims the batch unless another invocation holds or settled it; a batch whose calls were all refused may be claimed again. */
export async function claimAct(table: string, incidentId: string, batch: number, owner: string, now = Date.now()): Promise<ClaimOutcome> {
  const existing = await readActClaim(table, incidentId, batch);
  if (existing && existing.state !== 'refused') return { claimed: false, existing };
  const attempt = (existing?.attempt ?? 0) + 1;
  try {
    await dynamo().send(new PutCommand({
      TableName: table,
      Item: { pk: claimKey(incidentId, batch), owner, state: 'acting', attempt, claimedAt: new Date(now).toISOString(), expiresAt: Math.floor(now / 1000) + ACT_CLAIM_SECONDS },
      // Exactly one writer gets from "nothing" (or "refused, attempt n-1") to "acting, attempt n".
      ConditionExpression: existing ? '#state = :refused AND attempt = :previous' : 'attribute_not_exists(pk)',
      ExpressionAttributeNames: existing ? { '#state': 'state' } : undefined,
      ExpressionAttributeValues: existing ? { ':refused': 'refused', ':previous': existing.attempt } : undefined,
    }));
    return { claimed: true, attempt };
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    const winner = await readActClaim(table, incidentId, batch);
    if (!winner) throw new Error(`act claim ${claimKey(incidentId, batch)} vanished while being claimed`, { cause: error });
    return { claimed: false, existing: winner };
  }
}

export async function readActClaim(table: string, incidentId: string, batch: number): Promise<ActClaim | undefined> {
  const out = await dynamo().send(new GetCommand({ TableName: table, Key: { pk: claimKey(incidentId, batch) }, ConsistentRead: true }));
  return out.Item as ActClaim | undefined;
}

/** Records how the owner's batch ended; only the owner may. */
export async function settleAct(
  table: string, incidentId: string, batch: number, owner: string, claim: { state: Exclude<ActClaimState, 'acting'>; attempt: number; result?: unknown; error?: string },
  now = Date.now(),
): Promise<void> {
  const previous = await readActClaim(table, incidentId, batch);
  await dynamo().send(new PutCommand({
    TableName: table,
    Item: {
      pk: claimKey(incidentId, batch), owner, state: claim.state, attempt: claim.attempt, claimedAt: previous?.claimedAt ?? new Date(now).toISOString(),
      settledAt: new Date(now).toISOString(), result: claim.result, error: claim.error, expiresAt: Math.floor(now / 1000) + ACT_CLAIM_SECONDS,
    },
    ConditionExpression: '#owner = :me AND attempt = :attempt',
    ExpressionAttributeNames: { '#owner': 'owner' },
    ExpressionAttributeValues: { ':me': owner, ':attempt': claim.attempt },
  }));
}

import type { Context, LambdaFunctionURLEventWithIAMAuthorizer, LambdaFunctionURLResult } from 'aws-lambda';
import { InvalidStateError } from '../shared/errors';
import { actorName, logger } from '../shared/observability';
import type { ApprovalGranted, StepError } from '../shared/types';
import { expireApproval, type ApprovalExpiry } from './expired';
import { handleHttp } from './http';
import { handlePage, type PageRequest } from './page';
import { requestApproval, type ApprovalRequest } from './request';

export type { ApprovalExpiry } from './expired';
export type { ApprovalRequest } from './request';

/**
 * The approval gate of mode `approve`, one function with three entries:
 * - `{ action: 'request', taskToken, state }` from the workflow's `.waitForTaskToken` task:
 *   store the request, record `approval-requested`, publish it (lambdas/approval/request.ts);
 * - a function URL request (IAM auth): `GET /approvals`, `GET /approvals/<incidentId>`,
 *   `POST /approvals/<incidentId>` to approve or reject (lambdas/approval/http.ts);
 * - `{ action: 'page', method, path, body }` from the approval page function: a one-click link's
 *   page and its answer (lambdas/approval/page.ts);
 * - `{ action: 'expired', state }` from the workflow's Catch of `States.Timeout`: returns the
 *   `Medic.ApprovalExpired` error for `$.error`, or for a veto window (`onTimeout: 'act'`) the
 *   grant for `$.approval` (lambdas/approval/expired.ts).
 */
export async function handler(
  event: ApprovalRequest | ApprovalExpiry | PageRequest | LambdaFunctionURLEventWithIAMAuthorizer, context?: Context,
): Promise<LambdaFunctionURLResult | StepError | ApprovalGranted | { planHash: string; deadline: string }> {
  const actor = actorName(context);
  if (event && typeof event === 'object' && 'requestContext' in event) return handleHttp(event, actor);
  const action = (event as { action?: unknown } | undefined)?.action;
  logger.appendKeys({ incidentId: (event as ApprovalRequest | undefined)?.state?.incident?.incidentId, step: `approval-${String(action)}` });
  if (action === 'page') return handlePage(event as PageRequest, actor);
  if (action === 'request') return requestApproval(event as ApprovalRequest, actor);
  if (action === 'expired') return expireApproval(event as ApprovalExpiry, actor);
  throw new InvalidStateError(`unknown approval action "${String(action)}": expected "request", "expired", "page" or a function URL request`);
}

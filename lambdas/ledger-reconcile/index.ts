import type { Context } from 'aws-lambda';
import { sns, stepFunctions } from '../shared/clients';
import { actorName, logger } from '../shared/observability';
import { reconcileRange, type ReconcileReport } from '../shared/reconcile';
import { platformSettings } from '../shared/settings';

export interface ReconcileRequest {
  /** Start of the range (ISO-8601); default: `MEDIC_RECONCILE_LOOKBACK_HOURS` (72) before now. */
  readonly from?: string;
  /** End of the range (ISO-8601); default: now. */
  readonly to?: string;
}

const DEFAULT_LOOKBACK_HOURS = 72;

/**
 * The ledger reconciler, run every 15 minutes by EventBridge Scheduler (and by
 * `medic ledger reconcile --stack`): closes every incomplete incident with an entry in the range
 * from its execution's history (lambdas/shared/reconcile.ts). During a DynamoDB outage it fails
 * like any reader, and the next run, once DynamoDB is back, does the work.
 */
export async function handler(request: ReconcileRequest | undefined, context?: Context): Promise<ReconcileReport> {
  const settings = platformSettings();
  const now = new Date();
  const lookbackHours = Number(process.env.MEDIC_RECONCILE_LOOKBACK_HOURS ?? DEFAULT_LOOKBACK_HOURS) || DEFAULT_LOOKBACK_HOURS;
  const to = request?.to ? new Date(request.to) : now;
  const from = request?.from ? new Date(request.from) : new Date(to.getTime() - lookbackHours * 3_600_000);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from > to) throw new Error('"from" and "to" must be ISO-8601 times, "from" first');
  const report = await reconcileRange({
    ledgerTable: settings.ledgerTable,
    limiterTable: settings.limiterTable,
    topicArn: settings.topicArn,
    sfn: stepFunctions(),
    sns: sns(),
    actor: actorName(context),
  }, from, to);
  for (const result of report.results) {
    const fields = { incidentId: result.incidentId, result: result.result, reason: result.reason, status: result.executionStatus, released: result.released, missed: result.missedInLedger.length };
    if (result.missedInLedger.length > 0) logger.warn('the ledger missed changes the execution history proves', fields);
    else logger.info('incident reconciled', fields);
  }
  return report;
}

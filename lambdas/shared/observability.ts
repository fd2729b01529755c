import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const logger = new Logger({ serviceName: 'medic' });
export const metrics = new Metrics({ namespace: 'Medic', serviceName: 'medic' });

/** Counts one occurrence of `name` for a runbook (metric dimension `runbook`). */
export function countFor(runbook: string, name: string): void {
  const single = metrics.singleMetric();
  single.addDimension('runbook', runbook);
  single.addMetric(name, MetricUnit.Count, 1);
}

/** The principal recorded as `actor` on ledger entries. */
export function actorName(context?: { functionName?: string }): string {
  return context?.functionName ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'medic-local';
}

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const logger = new Logger({ serviceName: 'medic' });
export const metrics = new Metrics({ namespace: 'Medic', serviceName: 'medic' });

/*
 * The metric contract (namespace `Medic`). The dashboard (lib/platform/dashboard.ts) and the self-alarms
 * (lib/platform/self-monitoring.ts) query these exact names and dimension sets: CloudWatch matches a
 * metric only on its full dimension set, so every helper below publishes exactly the dimensions
 * its documentation names (Powertools' default `service` dimension is dropped for that reason).
 */

/** How an execution ended for its incident: Complete's outcomes, Escalate's, and Validate's two early ends. */
export type IncidentOutcome = 'resolved' | 'observed' | 'deferred' | 'no-action-needed' | 'escalated' | 'rejected' | 'duplicate' | 'suppressed';

/** Why Admit denied, as a small fixed set: a dimension value, so never free text. */
export type DenialReason = 'kill-switch' | 'change-freeze' | 'mode' | 'target-busy' | 'blast-radius' | 'rate-limit' | 'guard-unavailable';

/** Names of the per-runbook counters published by {@link countFor} (dimension `runbook` only). */
export type RunbookCounter = 'IncidentsReceived' | 'IncidentsAdmitted' | 'Actions' | 'VerificationsFailed' | 'Escalations'
  /** Hand-typed inputs refused with a usage message: their executions fail without paging. */
  | 'InputsRefused';

/** Every metric name medic publishes. */
export type MedicMetricName = RunbookCounter | 'Incidents' | 'Denials' | 'TimeToRemediate';

/** Publishes one metric right away (Powertools single metric: one EMF line on stdout) with exactly `dimensions`. */
function publish(name: MedicMetricName, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number, dimensions: Record<string, string>): void {
  const single = metrics.singleMetric();
  single.clearDefaultDimensions();
  for (const [key, value] of Object.entries(dimensions)) single.addDimension(key, value);
  single.addMetric(name, unit, value);
}

/** Counts one occurrence of `name` for a runbook (dimension `runbook`). */
export function countFor(runbook: string, name: RunbookCounter): void {
  publish(name, MetricUnit.Count, 1, { runbook });
}

/** Counts one incident that ended with `outcome` (metric `Incidents`, dimensions `runbook`, `outcome`). */
export function countIncident(runbook: string, outcome: IncidentOutcome): void {
  publish('Incidents', MetricUnit.Count, 1, { runbook, outcome });
}

/** Counts one denied admission (metric `Denials`, dimensions `runbook`, `reason`). */
export function countDenial(runbook: string, reason: DenialReason): void {
  publish('Denials', MetricUnit.Count, 1, { runbook, reason });
}

/**
 * Records how long a resolved incident took from its trigger (the alarm's state change, the
 * service event, or the start of a manual run) to Complete (metric `TimeToRemediate`,
 * milliseconds, dimension `runbook`). A trigger time that cannot be read, or lies in the future
 * (clock skew), is skipped rather than published as a misleading value.
 */
export function recordTimeToRemediate(runbook: string, triggeredAt: string | undefined, now = Date.now()): number | undefined {
  const start = triggeredAt === undefined ? Number.NaN : Date.parse(triggeredAt);
  if (!Number.isFinite(start) || start > now) return undefined;
  const elapsed = now - start;
  publish('TimeToRemediate', MetricUnit.Milliseconds, elapsed, { runbook });
  return elapsed;
}

/** The principal recorded as `actor` on ledger entries. */
export function actorName(context?: { functionName?: string }): string {
  return context?.functionName ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'medic-local';
}

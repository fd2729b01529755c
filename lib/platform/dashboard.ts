import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { DenialReason, IncidentOutcome } from '../../lambdas/shared/observability';
import type { MedicPlatform } from './platform';
import type { Runbook } from './runbook';
import { medicMetric } from './self-monitoring';

// Records rather than arrays so the compiler fails if the handlers' sets change and these do not:
// a graph on a dimension value nobody emits would stay empty without anyone noticing.
const OUTCOMES: Record<IncidentOutcome, true> = {
  'resolved': true, 'observed': true, 'deferred': true, 'no-action-needed': true, 'escalated': true, 'rejected': true, 'duplicate': true, 'suppressed': true,
};
const DENIAL_REASONS: Record<DenialReason, true> = {
  'kill-switch': true, 'change-freeze': true, 'mode': true, 'target-busy': true, 'blast-radius': true, 'rate-limit': true, 'guard-unavailable': true,
};

/** CloudWatch's limit of alarms in one alarm status widget. */
const ALARMS_PER_STATUS_WIDGET = 100;

/** Properties of the {@link MedicDashboard}. */
export interface MedicDashboardProps {
  /** The platform of the stack (shared handlers, escalation topic, platform self-alarms). */
  readonly platform: MedicPlatform;
  /** The runbooks to show, one row each, in this order. */
  readonly runbooks: Runbook[];
  /**
   * Name of the dashboard.
   * @default `medic-<stack name>`
   */
  readonly dashboardName?: string;
  /**
   * Period of every graph. Incidents are rare, so the default shows a week in hourly buckets.
   * @default Duration.hours(1)
   */
  readonly period?: Duration;
}

/**
 * A CloudWatch dashboard of a medic stack. A header row for the platform: errors of the shared
 * handlers, failed deliveries of the escalation topic and the state of medic's self-alarms. Then
 * one row per runbook: incidents by outcome, denials by reason, time to remediate (p50, p90,
 * max), verification failures and escalations, and the executions of its state machine.
 * The graphs query the metrics exactly as the handlers publish them (namespace `Medic`).
 */
export class MedicDashboard extends Construct {
  /** The dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MedicDashboardProps) {
    super(scope, id);
    const period = props.period ?? Duration.hours(1);
    const stackName = Stack.of(this).stackName;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? `medic-${stackName}`,
      defaultInterval: Duration.days(7),
    });
    this.dashboard.addWidgets(...this.platformRow(props, stackName, period));
    for (const runbook of props.runbooks) this.dashboard.addWidgets(...this.runbookRow(runbook, period));
  }

  private platformRow(props: MedicDashboardProps, stackName: string, period: Duration): cloudwatch.IWidget[] {
    const { platform } = props;
    const handlers = { validate: platform.validateFunction, admit: platform.admitFunction, complete: platform.completeFunction, escalate: platform.escalateFunction };
    const alarms = [...platform.selfAlarms.alarms, ...props.runbooks.flatMap((r) => r.selfAlarms.alarms)];
    const statusWidgets: cloudwatch.IWidget[] = [];
    for (let i = 0; i < alarms.length; i += ALARMS_PER_STATUS_WIDGET) {
      statusWidgets.push(new cloudwatch.AlarmStatusWidget({
        title: 'medic self-alarms', alarms: alarms.slice(i, i + ALARMS_PER_STATUS_WIDGET), width: 24, height: 4,
      }));
    }
    return [
      new cloudwatch.TextWidget({
        markdown: `# medic: ${stackName}\nThe shared handlers and the escalation topic, then one row per runbook. `
          + 'Handler metrics are in the `Medic` namespace; an execution that escalates ends *failed* by design.',
        width: 24,
        height: 2,
      }),
      new cloudwatch.GraphWidget({
        title: 'Shared handler errors',
        left: Object.entries(handlers).map(([label, fn]) => fn.metricErrors({ period, statistic: 'Sum', label })),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Escalation topic: deliveries failed',
        left: [platform.escalationTopic.metricNumberOfNotificationsFailed({ period, statistic: 'Sum', label: 'failed' })],
        right: [platform.escalationTopic.metricNumberOfNotificationsDelivered({ period, statistic: 'Sum', label: 'delivered' })],
        width: 12,
      }),
      ...statusWidgets,
    ];
  }

  private runbookRow(runbook: Runbook, period: Duration): cloudwatch.IWidget[] {
    const name = runbook.name;
    const counted = { period, statistic: 'Sum' };
    const machine = runbook.stateMachine;
    return [
      new cloudwatch.TextWidget({ markdown: `## ${name} (mode ${runbook.mode})`, width: 24, height: 1 }),
      new cloudwatch.GraphWidget({
        title: `${name}: incidents by outcome`,
        left: Object.keys(OUTCOMES).map((outcome) => medicMetric('Incidents', { runbook: name, outcome }, { ...counted, label: outcome })),
        stacked: true,
        width: 5,
      }),
      new cloudwatch.GraphWidget({
        title: `${name}: denials by reason`,
        left: Object.keys(DENIAL_REASONS).map((reason) => medicMetric('Denials', { runbook: name, reason }, { ...counted, label: reason })),
        stacked: true,
        width: 5,
      }),
      new cloudwatch.GraphWidget({
        title: `${name}: time to remediate`,
        left: (['p50', 'p90', 'Maximum'] as const).map((statistic) => medicMetric('TimeToRemediate', { runbook: name }, {
          period, statistic, label: statistic === 'Maximum' ? 'max' : statistic,
        })),
        leftYAxis: { label: 'ms', showUnits: false, min: 0 },
        width: 5,
      }),
      new cloudwatch.GraphWidget({
        title: `${name}: verification failures, escalations`,
        left: [
          medicMetric('VerificationsFailed', { runbook: name }, { ...counted, label: 'verifications failed' }),
          medicMetric('Escalations', { runbook: name }, { ...counted, label: 'escalations' }),
        ],
        width: 4,
      }),
      new cloudwatch.GraphWidget({
        title: `${name}: executions`,
        left: [
          machine.metricStarted({ ...counted, label: 'started' }),
          machine.metricSucceeded({ ...counted, label: 'succeeded' }),
          machine.metricFailed({ ...counted, label: 'failed (escalations included)' }),
          machine.metricTimedOut({ ...counted, label: 'timed out' }),
        ],
        width: 5,
      }),
    ];
  }
}

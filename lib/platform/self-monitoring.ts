import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { MedicMetricName } from '../../lambdas/shared/observability';
import type { MedicPlatform } from './platform';

/** Namespace of the metrics the handlers publish (lambdas/shared/observability.ts). */
export const MEDIC_NAMESPACE = 'Medic';

/** Period of every self-alarm: short enough to page promptly, long enough to hold an execution's metrics together. */
const ALARM_PERIOD = Duration.minutes(5);

/**
 * A metric the handlers publish. `dimensions` must be exactly the set the handler emits
 * (CloudWatch matches the whole set): `{ runbook }`, `{ runbook, outcome }` or `{ runbook, reason }`.
 */
export function medicMetric(name: MedicMetricName, dimensions: Record<string, string>, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
  return new cloudwatch.Metric({ namespace: MEDIC_NAMESPACE, metricName: name, dimensionsMap: dimensions, statistic: 'Sum', ...props });
}

/**
 * An alarm on "anything counted in 5 minutes" that notifies the escalation topic. Missing data
 * is not breaching: these metrics only have datapoints when something went wrong.
 */
export function alarmToEscalationTopic(scope: Construct, id: string, platform: MedicPlatform, metric: cloudwatch.IMetric, description: string): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, id, {
    alarmDescription: description,
    metric,
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  alarm.addAlarmAction(new cloudwatchActions.SnsAction(platform.escalationTopic));
  platform.allowToPublish('cloudwatch.amazonaws.com', alarm.alarmArn);
  return alarm;
}

/** Properties of {@link RunbookSelfAlarms}. */
export interface RunbookSelfAlarmsProps {
  /** The platform whose escalation topic the alarms notify. */
  readonly platform: MedicPlatform;
  /** The runbook's name, the `runbook` dimension of the handlers' metrics. */
  readonly runbookName: string;
  /** The runbook's workflow. */
  readonly stateMachine: sfn.IStateMachine;
  /** The runbook's step handler (plan, act, check, rollback). */
  readonly stepFunction: lambda.IFunction;
}

/**
 * Alarms on one runbook's own machinery ("who heals the healer"), each notifying the escalation
 * topic: executions that timed out, executions that failed without telling a human, and errors of
 * the runbook's step handler. Created by every {@link Runbook}.
 */
export class RunbookSelfAlarms extends Construct {
  /** Executions that hit the workflow timeout (`ExecutionsTimedOut`). */
  public readonly timedOut: cloudwatch.Alarm;
  /** Executions that failed without a published escalation (`ExecutionsFailed` - `Escalations`). */
  public readonly failedWithoutEscalation: cloudwatch.Alarm;
  /** Unhandled errors of the step handler (Lambda `Errors`). */
  public readonly stepFunctionErrors: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: RunbookSelfAlarmsProps) {
    super(scope, id);
    const { platform, runbookName: name, stateMachine } = props;
    const period = ALARM_PERIOD;

    // The TIMED_OUT rule (lib/platform/runbook.ts) already tells the topic which execution; this alarm also
    // shows on the dashboard and in the alarm history, so a pattern of timeouts is visible.
    this.timedOut = alarmToEscalationTopic(this, 'TimedOutAlarm', platform, stateMachine.metricTimedOut({ period, statistic: 'Sum' }),
      `medic: an execution of runbook ${name} timed out; it may have acted without verification and its leases stay held until they expire`);

    // Every escalation ends in the Fail state "Escalated", so ExecutionsFailed alone would page for
    // each one. Escalate counts `Escalations` only after the topic accepted its message, so
    // failed - escalations is the number of executions that failed without a human being told
    // (Escalate itself failing ends in "Escalation failed" without counting). Both datapoints are
    // written within about a second of each other (Escalate returns, the next transition fails the
    // execution); only one straddling a 5-minute boundary can skew a period, by one.
    // A refused hand-typed input fails its execution on purpose (the usage message is its cause) and is counted apart.
    const failedWithoutEscalation = new cloudwatch.MathExpression({
      expression: 'FILL(failed, 0) - FILL(escalations, 0) - FILL(refused, 0)',
      usingMetrics: {
        failed: stateMachine.metricFailed({ period, statistic: 'Sum' }),
        escalations: medicMetric('Escalations', { runbook: name }, { period }),
        refused: medicMetric('InputsRefused', { runbook: name }, { period }),
      },
      period,
      label: `${name}: failed executions without an escalation`,
    });
    this.failedWithoutEscalation = alarmToEscalationTopic(this, 'FailedWithoutEscalationAlarm', platform, failedWithoutEscalation,
      `medic: an execution of runbook ${name} failed and no escalation was published; look at the failed executions' history (Step Functions console)`);

    // The workflow catches step errors into Escalate, so each was escalated too; this alarm says the
    // handler itself is failing (a bug, missing permissions, throttling), not only one target.
    this.stepFunctionErrors = alarmToEscalationTopic(this, 'StepFunctionErrorsAlarm', platform, props.stepFunction.metricErrors({ period, statistic: 'Sum' }),
      `medic: the step handler of runbook ${name} raised errors; look at its logs`);
  }

  /** Every alarm of this construct. */
  public get alarms(): cloudwatch.Alarm[] {
    return [this.timedOut, this.failedWithoutEscalation, this.stepFunctionErrors];
  }
}

/**
 * Alarms on the platform every runbook shares, each notifying the escalation topic: errors of the
 * validate, admit, complete, escalate and ledger-writer handlers, and failed deliveries of the
 * escalation topic.
 * Created by the {@link MedicPlatform}.
 */
export class PlatformSelfAlarms extends Construct {
  /** Unhandled errors per shared handler (Lambda `Errors`), keyed `validate`, `admit`, `complete`, `escalate`, `ledgerWriter`. */
  public readonly handlerErrors: Readonly<Record<'validate' | 'admit' | 'complete' | 'escalate' | 'ledgerWriter', cloudwatch.Alarm>>;
  /**
   * Messages the escalation topic could not deliver to a subscriber (SNS
   * `NumberOfNotificationsFailed`). It notifies the same topic, so a subscriber that cannot
   * receive messages will not receive this one either: add an action to another channel
   * (`addAlarmAction`) for a second path to a human.
   */
  public readonly escalationDeliveryFailed: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, platform: MedicPlatform) {
    super(scope, id);
    const period = ALARM_PERIOD;
    const handlers = {
      validate: platform.validateFunction,
      admit: platform.admitFunction,
      complete: platform.completeFunction,
      escalate: platform.escalateFunction,
      ledgerWriter: platform.ledgerWriterFunction,
    };
    const errors = (key: keyof typeof handlers, label: string): cloudwatch.Alarm => alarmToEscalationTopic(
      this, `${label}ErrorsAlarm`, platform, handlers[key].metricErrors({ period, statistic: 'Sum' }),
      `medic: the shared ${label.replace(/(?<=[a-z])(?=[A-Z])/g, ' ').toLowerCase()} handler raised errors; every runbook goes through it, so look at its logs`,
    );
    this.handlerErrors = {
      validate: errors('validate', 'Validate'), admit: errors('admit', 'Admit'), complete: errors('complete', 'Complete'), escalate: errors('escalate', 'Escalate'),
      // Every append goes through the writer: its errors are every handler's ledger failures.
      ledgerWriter: errors('ledgerWriter', 'LedgerWriter'),
    };
    this.escalationDeliveryFailed = alarmToEscalationTopic(this, 'EscalationDeliveryFailedAlarm', platform,
      platform.escalationTopic.metricNumberOfNotificationsFailed({ period, statistic: 'Sum' }),
      'medic: the escalation topic failed to deliver messages to a subscriber; escalations may not be reaching anyone');
  }

  /** Every alarm of this construct. */
  public get alarms(): cloudwatch.Alarm[] {
    return [...Object.values(this.handlerErrors), this.escalationDeliveryFailed];
  }
}

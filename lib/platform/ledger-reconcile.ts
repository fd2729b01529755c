import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { MedicFunction } from './function';
import { acknowledge, arnRef } from './nag';
import type { MedicPlatform } from './platform';
import { alarmToEscalationTopic } from './self-monitoring';

/** Properties of {@link LedgerReconciler}. */
export interface LedgerReconcilerProps {
  readonly platform: MedicPlatform;
  /**
   * When the reconciler runs: an EventBridge Scheduler expression.
   * @default `rate(15 minutes)`
   */
  readonly schedule?: string;
}

/**
 * Complete trails: a function that closes incidents whose ledger trail stopped before an ending
 * entry (DynamoDB was down when the execution tried to write it) from their Step Functions
 * execution history, run every 15 minutes (lambdas/ledger-reconcile, docs/architecture.md
 * "Complete trails"). It reads the ledger, appends through the ledger writer, reads and releases
 * leases, reads the history of the executions of the runbooks that {@link watch} it, and
 * publishes to the escalation topic when the history shows a change the ledger missed.
 */
export class LedgerReconciler extends Construct {
  public readonly reconcileFunction: MedicFunction;
  public readonly schedule: scheduler.Schedule;
  /** Errors of the reconciler, notifying the escalation topic. */
  public readonly errorsAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: LedgerReconcilerProps) {
    super(scope, id);
    const { platform } = props;
    const stack = Stack.of(this);
    this.reconcileFunction = new MedicFunction(this, 'Function', {
      handler: 'ledger-reconcile',
      description: 'medic: close incomplete ledger trails from the Step Functions execution history, release leftover leases',
      environment: platform.handlerEnvironment(),
      timeout: Duration.minutes(5),
    });
    platform.grantLedgerAppend(this.reconcileFunction);
    platform.grantLimiter(this.reconcileFunction);
    platform.escalationTopic.grantPublish(this.reconcileFunction);
    // The executions of the runbooks' state machines only: each runbook adds its own (watch).

    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      description: 'medic: lets EventBridge Scheduler run the ledger reconciler',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
    });
    acknowledge(scheduleRole, [`IAM5[Resource::${arnRef(this.reconcileFunction)}:*]`], 'Invoking any version of the reconciler function only (the grant CDK makes for a Lambda target).');
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'medic: close incomplete ledger trails from the execution history',
      schedule: scheduler.ScheduleExpression.expression(props.schedule ?? 'rate(15 minutes)'),
      target: new schedulerTargets.LambdaInvoke(this.reconcileFunction, {
        role: scheduleRole,
        input: scheduler.ScheduleTargetInput.fromObject({}),
        // The next run does what a lost one did not.
        retryAttempts: 0,
        maxEventAge: Duration.minutes(15),
      }),
    });
    this.errorsAlarm = alarmToEscalationTopic(this, 'ErrorsAlarm', platform, this.reconcileFunction.metricErrors({ period: Duration.minutes(15), statistic: 'Sum' }),
      'medic: the ledger reconciler failed; incomplete incident trails stay open (and their leases held) until it runs again (docs/operating.md)');
  }

  /** Lets the reconciler read the history of `stateMachine`'s executions. */
  public watch(stateMachine: sfn.StateMachine): void {
    const stack = Stack.of(this);
    const executions = stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${stateMachine.stateMachineName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    this.reconcileFunction.addToRolePolicy(new iam.PolicyStatement({
      actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
      resources: [executions],
    }));
    acknowledge(this.reconcileFunction, [`IAM5[Resource::${executions}]`],
      'The executions of a runbook\'s state machine are named at run time; the grant covers that state machine\'s executions only.');
  }
}

import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { EventTargetSpec, ManualTargetField, Mode, RunbookSpec, TargetSpec } from '../../lambdas/shared/types';
import { isEmailApprover } from './approver-id';
import { acknowledge } from './nag';
import type { MedicPlatform } from './platform';
import { buildRunbookWorkflow, REFUSED_INPUT_ERROR } from './runbook-workflow';
import { RunbookSelfAlarms, alarmToEscalationTopic } from './self-monitoring';
import {
  resolveAdmissionPolicy, resolveApproval, resolveMode, resolveVerification, validateRunbookName,
  type RunbookApprovalProps, type RunbookPolicyProps, type VerificationProps,
} from './policy';


/** Properties every runbook shares; built-in runbooks extend these. */
export interface RunbookCommonProps {
  /** The platform of this stack. */
  readonly platform: MedicPlatform;
  /** Unique name: lowercase letters, digits and hyphens. Appears in ledger keys and the kill-switch parameter. */
  readonly name: string;
  /**
   * `observe` plans and records what it would do without mutating; `approve` pauses after Plan
   * until the `approval` approvers approve that exact plan, checks the plan again and only then
   * acts; `auto` acts.
   * @default 'observe'
   */
  readonly mode?: Mode;
  /**
   * The approval gate of mode `approve`: who approves, how many approvals, how long medic
   * waits. Required with mode `approve`, refused with any other mode.
   * @default - no approval gate (modes `observe` and `auto`)
   */
  readonly approval?: RunbookApprovalProps;
  /**
   * Alarms whose transition to ALARM starts this runbook: alarms of the same app (whose ARNs are
   * tokens) or imported ones (`Alarm.fromAlarmArn`). More can be attached with `attachTo`.
   * @default - none: attach alarms with `attachTo` (an alarm runbook with none fails synthesis)
   */
  readonly alarms?: cloudwatch.IAlarm[];
  readonly policy?: RunbookPolicyProps;
  readonly verification?: VerificationProps;
  /**
   * Name or ARN of an SSM Change Calendar; while it is CLOSED, admissions are denied.
   * @default - no change calendar
   */
  readonly changeCalendar?: string;
  /**
   * Longest an execution may run.
   * @default Duration.hours(2)
   */
  readonly timeout?: Duration;
}

/** What a specific runbook adds to the generic workflow. */
export interface RunbookProps extends RunbookCommonProps {
  /** Kind of runbook, e.g. `ecs-task-restart`. */
  readonly kind: string;
  /** How the target is found in the alarm, and which targets are allowed (runbooks started by alarms). */
  readonly target?: TargetSpec;
  /**
   * Input fields naming the target of a runbook started by hand (Step Functions console,
   * `aws stepfunctions start-execution`, a schedule or a sweep), with their allow-lists. A runbook
   * with only these has no alarm rule; one with `target` too can be started both ways.
   */
  readonly manualTargets?: Record<string, ManualTargetField>;
  /**
   * An AWS service event that starts this runbook and names its target (e.g. ACM's expiry
   * warning). Its own EventBridge rule is created, filtered to the allow-listed resources
   * unless resources are also allowed by tag.
   */
  readonly eventTarget?: EventTargetSpec;
  /**
   * Name of the state machine, for runbooks operators start by hand.
   * @default - generated
   */
  readonly stateMachineName?: string;
  /** Documentation of the execution input, shown as the state machine's comment. */
  readonly inputDescription?: string;
  /** The runbook's step handler (plan, act, check and, if reversible, rollback). */
  readonly stepFunction: lambda.IFunction;
  /** Whether the action can be undone; if not, a failed verification escalates straight away. */
  readonly reversible: boolean;
  /** Runbook-specific settings handed to the step handler. */
  readonly options?: Record<string, unknown>;
}

/**
 * The generic runbook workflow every runbook uses: an EventBridge rule on its alarms going to
 * ALARM starts a Standard state machine
 * `Validate event -> Admit -> Plan -> Act -> Verify (wait and check) -> Complete`,
 * with `Roll back` and `Escalate` branches. Every step records to the ledger; every failure
 * ends in an escalation.
 */
export class Runbook extends Construct {
  public readonly name: string;
  public readonly mode: Mode;
  /** The approval gate (mode `approve`): approver ARNs, approvals needed and the wait in seconds. */
  public readonly approval?: RunbookSpec['approval'];
  public readonly stateMachine: sfn.StateMachine;
  /** The alarm rule, made when the first alarm is attached. */
  public rule?: events.Rule;
  /** The service event rule, for runbooks with an `eventTarget`. */
  public eventRule?: events.Rule;
  /** This runbook's own kill switch: any value but `off` stops it. */
  public readonly killSwitch: ssm.StringParameter;
  /** Alarm events EventBridge could not deliver to the state machine (made with the alarm rule). */
  public deadLetterQueue?: sqs.Queue;
  /** How the runbook is started. */
  public readonly trigger: 'alarm' | 'manual';
  /** Alarms on this runbook's own workflow and step handler, notifying the escalation topic. */
  public readonly selfAlarms: RunbookSelfAlarms;
  private readonly alarmArns: string[] = [];
  private readonly singleMetricAlarms: boolean;
  private readonly platform: MedicPlatform;
  private readonly stepFunction: lambda.IFunction;

  constructor(scope: Construct, id: string, props: RunbookProps) {
    super(scope, id);
    const { platform } = props;
    const stack = Stack.of(this);
    this.name = validateRunbookName(props.name);
    this.mode = resolveMode(this.name, props.mode);
    const timeout = props.timeout ?? Duration.hours(2);
    const policy = resolveAdmissionPolicy(this.name, props.policy, timeout);
    const verification = resolveVerification(this.name, props.verification);
    this.approval = resolveApproval(this.name, this.mode, props.approval, timeout, props.policy?.lowRisk);
    const verificationSeconds = verification.initialDelaySeconds + verification.maxChecks * verification.intervalSeconds;
    if (verificationSeconds + 600 > timeout.toSeconds()) {
      throw new Error(`runbook ${this.name}: verification can take ${verificationSeconds}s, which with 10 minutes for the other steps `
        + `does not fit the ${timeout.toSeconds()}s workflow timeout; raise the timeout or shorten verification`);
    }
    // An approval given at the last moment still leaves time to act and verify before the execution times out.
    if (this.approval && this.approval.timeoutSeconds + verificationSeconds + 600 > timeout.toSeconds()) {
      throw new Error(`runbook ${this.name}: the approval wait (${this.approval.timeoutSeconds}s) and verification (${verificationSeconds}s), with 10 minutes `
        + `for the other steps, do not fit the ${timeout.toSeconds()}s workflow timeout; shorten approval.timeout or raise the timeout`);
    }
    if (policy.denialDigestSeconds! + 300 > timeout.toSeconds()) {
      throw new Error(`runbook ${this.name}: the denial digest window (${policy.denialDigestSeconds}s) and 5 minutes for the other steps do not fit the `
        + `${timeout.toSeconds()}s workflow timeout; shorten policy.denialDigestWindow or raise the timeout`);
    }
    if (!props.target && !props.manualTargets && !props.eventTarget) {
      throw new Error(`runbook ${this.name}: give "target" (alarm runbooks), "eventTarget" (service events) and/or "manualTargets" (started by hand)`);
    }
    this.trigger = props.target ? 'alarm' : 'manual';
    const manualFields = Object.values(props.manualTargets ?? {});
    const allowLists = [...(props.target ? [props.target.allowed] : []), ...(props.eventTarget ? [props.eventTarget.allowed] : []), ...manualFields.map((f) => f.allowed)];
    const byTag = !!props.target?.allowedByTag || !!props.eventTarget?.allowedByTag || manualFields.some((f) => f.allowedByTag);
    if (allowLists.every((list) => list.length === 0) && !byTag) {
      throw new Error(`runbook ${this.name}: the target allow-list is empty`);
    }
    this.platform = platform;
    this.stepFunction = props.stepFunction;
    this.singleMetricAlarms = props.target?.singleMetricAlarms === true;

    this.killSwitch = new ssm.StringParameter(this, 'KillSwitch', {
      parameterName: platform.runbookKillSwitchName(this.name),
      stringValue: 'off',
      description: `medic kill switch of runbook ${this.name}: exactly "off" lets it act; any other value (e.g. "on", "Off", " off") stops it`,
    });
    const spec: RunbookSpec = {
      name: this.name,
      kind: props.kind,
      mode: this.mode,
      account: stack.account,
      region: stack.region,
      partition: stack.partition,
      trigger: this.trigger,
      alarmArns: Lazy.list({ produce: () => this.alarmArns }),
      target: props.target,
      manualTargets: props.manualTargets,
      eventTarget: props.eventTarget,
      policy,
      verification,
      killSwitch: { global: platform.globalKillSwitch.parameterName, runbook: this.killSwitch.parameterName },
      changeCalendar: props.changeCalendar,
      options: props.options ?? {},
      timeoutSeconds: timeout.toSeconds(),
      ...(this.approval ? { approval: this.approval } : {}),
    };
    if (props.changeCalendar) {
      const calendarArn = props.changeCalendar.startsWith('arn:')
        ? props.changeCalendar
        : stack.formatArn({ service: 'ssm', resource: 'document', resourceName: props.changeCalendar });
      // Admit reads it, and so does the step handler right before every mutating call.
      for (const fn of [platform.admitFunction, props.stepFunction]) {
        fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['ssm:GetCalendarState'], resources: [calendarArn] }));
      }
    }
    platform.grantLedgerAppend(props.stepFunction);
    platform.grantKillSwitchRead(props.stepFunction);
    // Act claims, lease checks (fencing) and the leases of resources a plan covers.
    platform.grantLimiter(props.stepFunction);

    // Email approvers answer on the approval page, through links only they receive.
    const emailApprovers = (this.approval?.approvers ?? []).filter(isEmailApprover);
    for (const email of emailApprovers) platform.subscribeApprover(email);
    for (const topic of props.approval?.topics ?? []) topic.grantPublish(platform.approvalFunction);
    const definition = buildRunbookWorkflow(this, {
      platform, stepFunction: props.stepFunction, reversible: props.reversible, spec,
      ...(emailApprovers.length ? { approvalPageUrl: platform.approvalLinks().pageUrl } : {}),
      initialDelaySeconds: verification.initialDelaySeconds, intervalSeconds: verification.intervalSeconds,
      denialDigestSeconds: policy.denialDigestSeconds!,
    });
    this.stateMachine = new sfn.StateMachine(this, 'Workflow', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      stateMachineName: props.stateMachineName,
      comment: `medic runbook ${this.name} (${props.kind}), mode ${this.mode}${props.inputDescription ? `. Input: ${props.inputDescription}` : ''}`,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout,
      tracingEnabled: true,
      logs: {
        destination: new logs.LogGroup(this, 'WorkflowLogs', { retention: logs.RetentionDays.ONE_YEAR }),
        level: sfn.LogLevel.ALL,
        includeExecutionData: true,
      },
    });

    // Only the platform's approval function may answer this workflow's approval task (SendTaskSuccess/Failure).
    if (this.approval) platform.allowApprovalOf(this.stateMachine);

    this.addTimeoutBackstop(platform);
    platform.ledgerReconciler.watch(this.stateMachine);
    this.selfAlarms = new RunbookSelfAlarms(this, 'SelfAlarms', { platform, runbookName: this.name, stateMachine: this.stateMachine, stepFunction: props.stepFunction });
    for (const alarm of props.alarms ?? []) this.attachTo(alarm);
    if (props.eventTarget) this.addServiceEventRule(props.eventTarget);
    if (this.trigger === 'alarm' && !props.manualTargets && !props.eventTarget) {
      this.node.addValidation({
        validate: () => (this.alarmArns.length === 0 ? [`runbook ${this.name} is attached to no alarm: pass "alarms" or call attachTo(alarm)`] : []),
      });
    }
    const invoked = [platform.validateFunction, platform.admitFunction, props.stepFunction, platform.completeFunction, platform.escalateFunction,
      ...(this.approval ? [platform.approvalFunction] : [])];
    acknowledge(this.stateMachine, [
      'IAM5[Resource::*]',
      ...invoked.map((fn) => `IAM5[Resource::${fn.functionArn}:*]`),
    ], 'Resource::* is X-Ray trace submission and log delivery, which have no resource-level permissions; '
      + '<function>:* lets the workflow invoke the versions of the functions it is built from, and nothing else.');
  }

  /**
   * Runs this runbook when `alarm` goes to ALARM. Alarms imported with `Alarm.fromAlarmArn` work too
   * (their kind is checked when an event arrives). A composite alarm names no resource, so it is
   * refused; so is a metric-math alarm for a runbook that verifies by reading the alarm's one metric.
   */
  public attachTo(alarm: cloudwatch.IAlarm): this {
    if (this.trigger !== 'alarm') throw new Error(`runbook ${this.name} is started by hand, not by alarms`);
    if (alarm instanceof cloudwatch.CompositeAlarm) {
      throw new Error(`runbook ${this.name}: composite alarm ${alarm.node.path} names no resource (no dimensions), so it cannot say what to act on; attach the metric alarm that watches the target`);
    }
    if (this.singleMetricAlarms && alarm instanceof cloudwatch.Alarm && alarm.metric instanceof cloudwatch.MathExpression) {
      throw new Error(`runbook ${this.name}: alarm ${alarm.node.path} is a metric-math alarm; this runbook verifies by reading the alarm's one metric, so attach a single-metric alarm`);
    }
    if (!this.alarmArns.includes(alarm.alarmArn)) this.alarmArns.push(alarm.alarmArn);
    this.ensureAlarmRule();
    return this;
  }

  /**
   * The alarm rule, its dead-letter queue and the alarm-read grant, made with the first attached
   * alarm: a rule with no alarm ARNs would match every alarm in the account.
   */
  private ensureAlarmRule(): void {
    if (this.rule) return;
    // Verification reads the triggering alarm's state.
    this.stepFunction.addToRolePolicy(new iam.PolicyStatement({
      actions: ['cloudwatch:DescribeAlarms'],
      resources: Lazy.list({ produce: () => this.alarmArns }),
    }));
    this.rule = this.ruleToWorkflow('AlarmRule', `medic: alarms attached to runbook ${this.name} going to ALARM`, {
      source: ['aws.cloudwatch'],
      detailType: ['CloudWatch Alarm State Change'],
      resources: Lazy.list({ produce: () => this.alarmArns }),
      detail: { state: { value: ['ALARM'] } },
    });
  }

  /**
   * The rule for the runbook's service events (every detail type listed, one rule), filtered to
   * its allow-listed resources unless tags may allow others.
   */
  private addServiceEventRule(spec: EventTargetSpec): void {
    if (spec.detailTypes.length === 0 || spec.detailTypes.some((t) => !t)) {
      throw new Error(`runbook ${this.name}: eventTarget.detailTypes must list at least one detail type of ${spec.source}`);
    }
    this.eventRule = this.ruleToWorkflow('ServiceEventRule', `medic: ${spec.detailTypes.join(', ')} events for runbook ${this.name}`.slice(0, 512), {
      source: [spec.source],
      detailType: [...new Set(spec.detailTypes)],
      ...(spec.allowedByTag ? {} : { resources: spec.allowed }),
    });
  }

  /** A rule that starts the workflow, with retries and the runbook's dead-letter queue (alarmed to the topic). */
  private ruleToWorkflow(id: string, description: string, eventPattern: events.EventPattern): events.Rule {
    if (!this.deadLetterQueue) {
      this.deadLetterQueue = new sqs.Queue(this, 'UndeliveredEvents', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      this.alarmOnUndeliveredEvents(this.platform, this.deadLetterQueue);
      acknowledge(this.deadLetterQueue, ['SQS3'], 'This queue is the dead-letter queue of the EventBridge target.');
    }
    return new events.Rule(this, id, {
      description,
      eventPattern,
      targets: [new targets.SfnStateMachine(this.stateMachine, { deadLetterQueue: this.deadLetterQueue, retryAttempts: 10, maxEventAge: Duration.hours(2) })],
    });
  }

  /**
   * An execution that times out, is aborted, or fails outside any Catch (a state over Step
   * Functions' 256 KB limit, a runtime error) never reaches Escalate; EventBridge tells the
   * escalation topic instead, so that path ends with a human too. Executions that escalated end
   * in the Fail state `Escalated` and are not told twice; a refused hand-typed input (`Input refused`)
   * was told to whoever started it.
   */
  private addTimeoutBackstop(platform: MedicPlatform): void {
    const rule = new events.Rule(this, 'TimedOutRule', {
      description: `medic: executions of runbook ${this.name} that timed out, were aborted or failed without escalating`,
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [this.stateMachine.stateMachineArn],
          $or: [
            { status: ['TIMED_OUT', 'ABORTED'] },
            { status: ['FAILED'], error: [{ 'anything-but': ['Medic.Escalated', REFUSED_INPUT_ERROR] }] },
          ],
        },
      },
    });
    const message = events.RuleTargetInput.fromText(
      `medic runbook ${this.name}: execution ${events.EventField.fromPath('$.detail.name')} ended ${events.EventField.fromPath('$.detail.status')} `
      + `(${events.EventField.fromPath('$.detail.error')}) before it could escalate. It may have acted without verification, and its leases stay held until they expire. `
      + `Look at the execution ${events.EventField.fromPath('$.detail.executionArn')} and the ledger entries of its incident.`,
    );
    // Not targets.SnsTopic: it grants every EventBridge rule, in any account, publish on the topic.
    // The platform grants this rule alone (aws:SourceArn).
    const topic = platform.escalationTopic;
    rule.addTarget({ bind: () => ({ arn: topic.topicArn, input: message }) });
    platform.allowToPublish('events.amazonaws.com', rule.ruleArn);
  }

  /** An event in the dead-letter queue is an alarm no runbook ran for: tell a human. */
  private alarmOnUndeliveredEvents(platform: MedicPlatform, deadLetterQueue: sqs.Queue): void {
    alarmToEscalationTopic(this, 'UndeliveredEventsAlarm', platform,
      deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      `medic: an alarm event for runbook ${this.name} could not start its workflow; the event is in the dead-letter queue and no remediation ran`);
  }
}

import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { RunbookSpec } from '../../lambdas/shared/types';
import type { MedicPlatform } from './platform';

/** Errors a handler reports when an AWS API throttled it past the SDK's own retries. */
const THROTTLING_ERRORS = ['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded'];

export interface RunbookWorkflowProps {
  readonly platform: MedicPlatform;
  /** The runbook's step handler (plan, act, check, rollback). */
  readonly stepFunction: lambda.IFunction;
  /** Adds the Roll back state between a failed verification and Escalate. */
  readonly reversible: boolean;
  /** Injected into the execution state by the first state; never taken from the event. */
  readonly spec: RunbookSpec;
  readonly initialDelaySeconds: number;
  readonly intervalSeconds: number;
  /** How long the incident that opens a storm digest waits before sending it. */
  readonly denialDigestSeconds: number;
  /** The approval page's URL, when an approver of this runbook answers by email link. */
  readonly approvalPageUrl?: string;
}

/** The error of an execution whose hand-typed input was refused (not paged, not backstopped). */
export const REFUSED_INPUT_ERROR = 'Medic.InputRefused';

/** Errors of a rollback worth retrying (the handler names them so: throttling, contention, 5xx, timeouts). */
const ROLLBACK_RETRYABLE = ['Medic.RollbackRetryable'];

/**
 * The runbook state machine, in JSONPath, with states named for an operator reading the console:
 * `Load runbook settings -> Validate event -> Admit -> Plan -> Act -> Wait before verifying ->
 * Verify (-> Wait between checks) -> Complete`, and the `Roll back` and `Escalate` branches.
 * Every task retries throttling with backoff and jitter, and catches everything into Escalate.
 */
export function buildRunbookWorkflow(scope: Construct, props: RunbookWorkflowProps): sfn.IChainable {
  const { platform, spec, initialDelaySeconds, intervalSeconds } = props;
  const escalationFailed = new sfn.Fail(scope, 'Escalation failed', {
    error: 'Medic.EscalationFailed',
    cause: 'the escalation could not be published; see the execution history',
  });
  const escalated = new sfn.Fail(scope, 'Escalated', { error: 'Medic.Escalated', cause: 'a human was notified; see the ledger entry "escalated"' });
  const escalate = invoke(scope, 'Escalate', platform.escalateFunction, '$.escalation');
  escalate.addCatch(escalationFailed, { resultPath: '$.escalationError' });
  // The incident that opened a storm digest waits out the window, then sends one page for the denials that joined it.
  const waitForDigest = new sfn.Wait(scope, 'Wait for the storm digest', { time: sfn.WaitTime.duration(Duration.seconds(props.denialDigestSeconds)) });
  const sendDigest = invoke(scope, 'Send storm digest', platform.escalateFunction, '$.digest',
    sfn.TaskInput.fromObject({ sendDigest: true, state: sfn.JsonPath.entirePayload }));
  sendDigest.addCatch(escalationFailed, { resultPath: '$.escalationError' });
  waitForDigest.next(sendDigest);
  sendDigest.next(escalated);
  escalate.next(new sfn.Choice(scope, 'Storm digest to send?')
    .when(sfn.Condition.and(sfn.Condition.isPresent('$.escalation.digest.role'), sfn.Condition.stringEquals('$.escalation.digest.role', 'owner')), waitForDigest)
    .otherwise(escalated));

  const step = (name: string, stepName: string, resultPath: string): tasks.LambdaInvoke => {
    const task = invoke(scope, name, props.stepFunction, resultPath, sfn.TaskInput.fromObject({ step: stepName, state: sfn.JsonPath.entirePayload }));
    task.addCatch(escalate, { resultPath: '$.error' });
    return task;
  };
  const platformStep = (name: string, fn: lambda.IFunction, resultPath: string): tasks.LambdaInvoke => {
    const task = invoke(scope, name, fn, resultPath);
    task.addCatch(escalate, { resultPath: '$.error' });
    return task;
  };

  const load = new sfn.Pass(scope, 'Load runbook settings', {
    comment: 'The runbook\'s settings come from this definition, never from the event.',
    parameters: {
      event: sfn.JsonPath.entirePayload,
      runbook: spec,
      execution: {
        id: sfn.JsonPath.stringAt('$$.Execution.Id'),
        name: sfn.JsonPath.stringAt('$$.Execution.Name'),
        startedAt: sfn.JsonPath.stringAt('$$.Execution.StartTime'),
      },
    },
  });
  const validate = platformStep('Validate event', platform.validateFunction, '$.incident');
  const admit = platformStep('Admit', platform.admitFunction, '$.admission');
  const plan = step('Plan', 'plan', '$.plan');
  const act = step('Act', 'act', '$.act');
  const check = step('Verify', 'check', '$.verify');
  const complete = platformStep('Complete', platform.completeFunction, '$.outcome');
  complete.next(new sfn.Succeed(scope, 'Done'));

  const waitBeforeVerifying = new sfn.Wait(scope, 'Wait before verifying', { time: sfn.WaitTime.duration(Duration.seconds(initialDelaySeconds)) });
  const waitBetweenChecks = new sfn.Wait(scope, 'Wait between checks', { time: sfn.WaitTime.duration(Duration.seconds(intervalSeconds)) });
  waitBetweenChecks.next(check);

  let onVerificationFailed: sfn.IChainable = escalate;
  if (props.reversible) {
    const rollback = step('Roll back', 'rollback', '$.rollback');
    // Undoing medic's own change is a safety action: transient errors are retried with backoff before it pages ROLLBACK FAILED.
    rollback.addRetry({ errors: ROLLBACK_RETRYABLE, interval: Duration.seconds(5), backoffRate: 2, maxAttempts: 5, jitterStrategy: sfn.JitterType.FULL });
    rollback.next(escalate);
    onVerificationFailed = rollback;
  }

  const verified = new sfn.Choice(scope, 'Verified?')
    .when(sfn.Condition.and(sfn.Condition.stringEquals('$.verify.status', 'succeeded'), sfn.Condition.booleanEquals('$.act.moreBatches', true)), act)
    .when(sfn.Condition.stringEquals('$.verify.status', 'succeeded'), complete)
    .when(sfn.Condition.stringEquals('$.verify.status', 'pending'), waitBetweenChecks)
    .otherwise(onVerificationFailed);

  const actOrObserve = new sfn.Choice(scope, 'Act or only observe?')
    .when(sfn.Condition.stringEquals('$.incident.mode', 'auto'), act)
    .when(sfn.Condition.stringEquals('$.incident.mode', 'observe'), complete);
  if (spec.approval) {
    actOrObserve.when(sfn.Condition.stringEquals('$.incident.mode', 'approve'), approvalGate(scope, props, spec.approval, { act, escalate, step }));
  }
  actOrObserve.otherwise(escalate);
  const observing = sfn.Condition.stringEquals('$.incident.mode', 'observe');
  const planDecision = new sfn.Choice(scope, 'Plan decision?')
    .when(sfn.Condition.stringEquals('$.plan.decision', 'act'), actOrObserve)
    .when(sfn.Condition.or(sfn.Condition.stringEquals('$.plan.decision', 'defer'), sfn.Condition.stringEquals('$.plan.decision', 'noop')), complete)
    // Observe mode is quiet: what a real run would escalate is recorded by Complete, not paged.
    .when(observing, complete)
    .otherwise(escalate);
  const admitted = new sfn.Choice(scope, 'Admitted?')
    .when(sfn.Condition.booleanEquals('$.admission.admitted', true), plan)
    .when(observing, complete)
    .otherwise(escalate);
  const accepted = new sfn.Choice(scope, 'Event accepted?')
    .when(sfn.Condition.stringEquals('$.incident.status', 'received'), admit)
    .when(sfn.Condition.stringEquals('$.incident.status', 'duplicate'), new sfn.Succeed(scope, 'Duplicate delivery (already handled)'))
    .when(sfn.Condition.stringEquals('$.incident.status', 'suppressed'), new sfn.Succeed(scope, 'Alarm actions suppressed or muted (not acted on)', {
      comment: 'CloudWatch suppressed (composite actions suppressor) or muted (mute rule) the alarm\'s actions; medic honours it.',
    }))
    // A mistyped hand start fails with its usage message for whoever started it; nobody is paged.
    .when(sfn.Condition.stringEquals('$.incident.status', 'refused'), new sfn.Fail(scope, 'Input refused', {
      error: REFUSED_INPUT_ERROR, causePath: sfn.JsonPath.stringAt('$.incident.reason'),
    }))
    .otherwise(escalate);

  act.next(waitBeforeVerifying);
  waitBeforeVerifying.next(check);
  check.next(verified);
  plan.next(planDecision);
  admit.next(admitted);
  validate.next(accepted);
  return load.next(validate);
}

/** The approval function's answer to a waiting task: a rejection fails the task with this error. */
export const APPROVAL_REJECTED_ERROR = 'Medic.ApprovalRejected';
/** The error an approved plan that no longer holds is escalated with. */
export const PLAN_DRIFTED_ERROR = 'Medic.PlanDrifted';

/**
 * Mode `approve`: `Request approval` publishes the plan and waits on a task token (the approval
 * function answers it), for at most the runbook's approval timeout. Approved: `Check plan again`
 * re-runs the plan's preflight and the guards, and only an unchanged plan goes on to Act. No
 * answer in time (`Record approval expiry`), a rejection, a drifted plan or any error: escalate,
 * never act. With `onTimeout: 'act'` (a veto window, low-risk runbooks only), no answer in time
 * is recorded as expired and goes on to `Check plan again` like an approval; a rejection, a
 * drifted plan or any error still escalates.
 */
function approvalGate(
  scope: Construct,
  props: RunbookWorkflowProps,
  approval: NonNullable<RunbookSpec['approval']>,
  next: { act: sfn.IChainable; escalate: sfn.IChainable; step: (name: string, stepName: string, resultPath: string) => tasks.LambdaInvoke },
): sfn.IChainable {
  const { platform } = props;
  const request = new tasks.LambdaInvoke(scope, 'Request approval', {
    lambdaFunction: platform.approvalFunction,
    integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    payload: sfn.TaskInput.fromObject({
      action: 'request', taskToken: sfn.JsonPath.taskToken, state: sfn.JsonPath.entirePayload,
      // The page's URL comes with the request: the approval function cannot name its own page (a dependency cycle).
      ...(props.approvalPageUrl ? { pageUrl: props.approvalPageUrl } : {}),
    }),
    resultPath: '$.approval',
    taskTimeout: sfn.Timeout.duration(Duration.seconds(approval.timeoutSeconds)),
    retryOnServiceExceptions: true,
  });
  // A retried request carries a new task token: the approval function keeps only the newest one per incident.
  request.addRetry({ errors: THROTTLING_ERRORS, interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 5, jitterStrategy: sfn.JitterType.FULL });
  const vetoWindow = approval.onTimeout === 'act';
  // A veto window's expiry returns the grant Act needs at `$.approval` (or fails into Escalate); otherwise the error to escalate with.
  const recordExpiry = invoke(scope, 'Record approval expiry', platform.approvalFunction, vetoWindow ? '$.approval' : '$.error',
    sfn.TaskInput.fromObject({ action: 'expired', state: sfn.JsonPath.entirePayload }));
  recordExpiry.addCatch(next.escalate, { resultPath: '$.error' });
  // Timeouts fail safe: no answer is no action, unless the runbook is low-risk and asked for a veto window.
  request.addCatch(recordExpiry, { errors: [sfn.Errors.TIMEOUT], resultPath: '$.approvalTimeout' });
  request.addCatch(next.escalate, { errors: [APPROVAL_REJECTED_ERROR], resultPath: '$.error' });
  request.addCatch(next.escalate, { resultPath: '$.error' });

  const recheck = next.step('Check plan again', 'recheck', '$.recheck');
  // The veto window passed: the same recheck (guards, drift) as after an approval, then Act.
  recordExpiry.next(vetoWindow ? recheck : next.escalate);
  const drifted = new sfn.Pass(scope, 'Plan drifted', {
    comment: 'The target changed while the plan waited for approval: what was approved is not what would be done.',
    parameters: { Error: PLAN_DRIFTED_ERROR, Cause: sfn.JsonPath.stringAt('$.recheck.reason') },
    resultPath: '$.error',
  });
  drifted.next(next.escalate);
  request.next(recheck);
  recheck.next(new sfn.Choice(scope, 'Plan unchanged?')
    .when(sfn.Condition.stringEquals('$.recheck.status', 'unchanged'), next.act)
    .otherwise(drifted));
  return request;
}

function invoke(scope: Construct, name: string, fn: lambda.IFunction, resultPath: string, payload?: sfn.TaskInput): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, name, {
    lambdaFunction: fn,
    payload,
    payloadResponseOnly: true,
    resultPath,
    retryOnServiceExceptions: true,
  });
  task.addRetry({ errors: THROTTLING_ERRORS, interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 5, jitterStrategy: sfn.JitterType.FULL });
  return task;
}

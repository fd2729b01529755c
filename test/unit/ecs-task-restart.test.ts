import 'aws-sdk-client-mock-jest';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeServicesCommand, ECSClient, ListTasksCommand, StopTaskCommand, UpdateServiceCommand, type Deployment, type Service,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { steps, taskIdOf } from '../../lambdas/ecs-task-restart/index';
import type { ActResult, Plan, WorkflowState } from '../../lambdas/shared/types';
import { ALARM, INCIDENT_ID, ecsRunbookSpec, workflowState } from '../support/fixtures';
import { ACCOUNT, REGION } from '../support/synth';
import { actThrough } from '../support/gate';

const ecs = mockClient(ECSClient);
const cloudWatch = mockClient(CloudWatchClient);

beforeEach(() => {
  ecs.reset();
  cloudWatch.reset();
});
afterAll(() => {
  ecs.restore();
  cloudWatch.restore();
});

// ---- builders -------------------------------------------------------------------------------

function state(options: { strategy?: string; maxStopPercent?: number; plan?: Plan; act?: ActResult } = {}): WorkflowState {
  const { plan, act, ...runbookOptions } = options;
  return workflowState({
    runbook: ecsRunbookSpec({ options: { strategy: 'forceNewDeployment', maxStopPercent: 25, ...runbookOptions } }),
    plan,
    act,
  });
}

const deployment = (id: string, status: string, rolloutState: Deployment['rolloutState'], extra: Partial<Deployment> = {}): Deployment =>
  ({ id, status, rolloutState, runningCount: 4, desiredCount: 4, ...extra });

/** A steady ACTIVE service with 4 tasks and one COMPLETED deployment. */
function service(overrides: Partial<Service> = {}): Service {
  return {
    serviceName: 'api',
    clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`,
    status: 'ACTIVE',
    desiredCount: 4,
    runningCount: 4,
    pendingCount: 0,
    deployments: [deployment('ecs-svc/1', 'PRIMARY', 'COMPLETED')],
    ...overrides,
  };
}

const describes = (svc: Service): void => { ecs.on(DescribeServicesCommand).resolves({ services: [svc], failures: [] }); };
const alarmIs = (StateValue: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'): void => {
  cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: ALARM, StateValue }] });
};
const taskArn = (n: number): string => `arn:aws:ecs:${REGION}:${ACCOUNT}:task/prod/${String(n).padStart(32, '0')}`;
const tasks = (count: number, from = 1): string[] => Array.from({ length: count }, (_, i) => taskArn(from + i));
const ids = (arns: string[]): string[] => arns.map(taskIdOf);
/** The StopTask calls of a plan, batch by batch, by task id. */
const plannedBatches = (plan: Plan): string[][] => {
  const batches: string[][] = [];
  for (const call of plan.plannedCalls ?? []) (batches[call.batch] ??= []).push(call.target);
  return batches;
};
const stopPlan = (batches: string[][]): Plan => ({
  ...actPlan({ batchSize: batches[0].length, batches: batches.length }),
  plannedCalls: batches.flatMap((b, batch) => b.map((target) => ({ batch, service: 'ecs', operation: 'StopTask', target }))),
});

const actPlan = (details: Record<string, unknown> = {}): Plan => ({ decision: 'act', reason: 'stable', summary: 'restart', details });
const forcedAct = (deploymentId = 'ecs-svc/2'): ActResult =>
  ({ summary: 'forced', calls: [], batch: 0, moreBatches: false, details: { deploymentId } });
const stopAct = (batch: number, moreBatches: boolean, stoppedTasks: string[]): ActResult =>
  ({ summary: 'stopped', calls: [], batch, moreBatches, details: { stoppedTasks } });

// ---- plan -----------------------------------------------------------------------------------

describe('plan', () => {
  test('a stable service: act with forceNewDeployment', async () => {
    describes(service());
    const plan = await steps.plan(state());
    expect(plan.decision).toBe('act');
    expect(plan.summary).toContain('UpdateService forceNewDeployment on prod/api');
    expect(plan.details).toMatchObject({ desiredCount: 4, runningCount: 4 });
    expect(ecs).toHaveReceivedCommandWith(DescribeServicesCommand, { cluster: 'prod', services: ['api'] });
    expect(ecs).not.toHaveReceivedCommand(ListTasksCommand);
  });

  test('two deployments: defer', async () => {
    describes(service({ deployments: [deployment('ecs-svc/2', 'PRIMARY', 'COMPLETED'), deployment('ecs-svc/1', 'ACTIVE', 'COMPLETED')] }));
    const plan = await steps.plan(state());
    expect(plan.decision).toBe('defer');
    expect(plan.reason).toContain('2 deployments');
  });

  test('a PRIMARY deployment IN_PROGRESS: defer', async () => {
    describes(service({ deployments: [deployment('ecs-svc/3', 'PRIMARY', 'IN_PROGRESS')] }));
    const plan = await steps.plan(state());
    expect(plan.decision).toBe('defer');
    expect(plan.reason).toContain('ecs-svc/3 IN_PROGRESS');
  });

  test('a missing service: escalate with the failure reason', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [], failures: [{ arn: 'arn:aws:ecs:eu-west-1:111111111111:service/prod/api', reason: 'MISSING' }] });
    const plan = await steps.plan(state());
    expect(plan.decision).toBe('escalate');
    expect(plan.reason).toContain('prod/api not found (MISSING)');
  });

  test('an INACTIVE service: escalate', async () => {
    describes(service({ status: 'INACTIVE' }));
    const plan = await steps.plan(state());
    expect(plan.decision).toBe('escalate');
    expect(plan.reason).toContain('INACTIVE');
  });

  test.each(['CODE_DEPLOY', 'EXTERNAL'] as const)('the %s deployment controller: refused (ECS reports no rollout to verify), nothing called', async (type) => {
    describes(service({ deploymentController: { type } }));
    const plan = await steps.plan(state());
    expect(plan.decision).toBe('escalate');
    expect(plan.reason).toMatch(new RegExp(`uses the ${type} deployment controller: ECS does not report its rollouts`));
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  test('the ECS deployment controller (stated or defaulted): acts', async () => {
    describes(service({ deploymentController: { type: 'ECS' } }));
    expect((await steps.plan(state())).decision).toBe('act');
  });

  test('desiredCount 0: escalate', async () => {
    describes(service({ desiredCount: 0, runningCount: 0 }));
    const plan = await steps.plan(state());
    expect(plan.decision).toBe('escalate');
    expect(plan.reason).toContain('desiredCount 0');
  });

  test('stopTasks, 8 desired, 25%: four batches of two, listing the running tasks', async () => {
    describes(service({ desiredCount: 8, runningCount: 8 }));
    ecs.on(ListTasksCommand).resolves({ taskArns: tasks(8) });
    const plan = await steps.plan(state({ strategy: 'stopTasks', maxStopPercent: 25 }));
    expect(plan.decision).toBe('act');
    expect(plan.details).toMatchObject({ batchSize: 2, batches: 4 });
    expect(plannedBatches(plan)).toEqual([ids(tasks(2, 1)), ids(tasks(2, 3)), ids(tasks(2, 5)), ids(tasks(2, 7))]);
    expect(ecs).toHaveReceivedCommandWith(ListTasksCommand, { cluster: 'prod', serviceName: 'api', desiredStatus: 'RUNNING' });
    expect(ecs).not.toHaveReceivedCommand(StopTaskCommand);
  });

  test('stopTasks follows ListTasks pagination', async () => {
    describes(service({ desiredCount: 8, runningCount: 8 }));
    ecs.on(ListTasksCommand)
      .resolvesOnce({ taskArns: tasks(5, 1), nextToken: 'page-2' })
      .resolvesOnce({ taskArns: tasks(3, 6) });
    const plan = await steps.plan(state({ strategy: 'stopTasks', maxStopPercent: 25 }));
    expect(plannedBatches(plan)).toEqual([ids(tasks(2, 1)), ids(tasks(2, 3)), ids(tasks(2, 5)), ids(tasks(2, 7))]);
    const pages = ecs.commandCalls(ListTasksCommand).map((call) => call.args[0].input.nextToken);
    expect(pages).toEqual([undefined, 'page-2']);
  });

  test('stopTasks, 3 desired, 25%: no batch fits the cap, escalate', async () => {
    describes(service({ desiredCount: 3, runningCount: 3 }));
    const plan = await steps.plan(state({ strategy: 'stopTasks', maxStopPercent: 25 }));
    expect(plan.decision).toBe('escalate');
    expect(plan.reason).toMatch(/exceeds the cap of 25%/);
    expect(ecs).not.toHaveReceivedCommand(ListTasksCommand);
  });

  test('a service with thousands of tasks: a plan that fits the workflow state (forceNewDeployment is told instead of listing them)', async () => {
    describes(service({ desiredCount: 4000, runningCount: 4000 }));
    const arns = Array.from({ length: 4000 }, (_, i) => taskArn(i + 1));
    for (let page = 0; page < 40; page++) {
      ecs.on(ListTasksCommand, { nextToken: page === 0 ? undefined : `p${page}` }).resolves({ taskArns: arns.slice(page * 100, page * 100 + 100), nextToken: page < 39 ? `p${page + 1}` : undefined });
    }
    const plan = await steps.plan(state({ strategy: 'stopTasks', maxStopPercent: 25 }));
    expect(plan.decision).toBe('escalate');
    expect(plan.reason).toMatch(/runs 4000 tasks: stopping them one by one is limited to 500 tasks; use the forceNewDeployment strategy/);
    expect(Buffer.byteLength(JSON.stringify(plan))).toBeLessThan(8 * 1024);
  });

  test('the largest service stopTasks takes (500 tasks) plans in batches of at most 100 and stays far below the state limit', async () => {
    describes(service({ desiredCount: 500, runningCount: 500 }));
    ecs.on(ListTasksCommand).resolves({ taskArns: Array.from({ length: 500 }, (_, i) => taskArn(i + 1)) });
    const plan = await steps.plan(state({ strategy: 'stopTasks', maxStopPercent: 50 }));
    expect(plan.decision).toBe('act');
    expect(plannedBatches(plan).map((b) => b.length)).toEqual([100, 100, 100, 100, 100]);
    expect(Buffer.byteLength(JSON.stringify(plan))).toBeLessThan(64 * 1024);
  });

  test('stopTasks with no running tasks: escalate', async () => {
    describes(service({ desiredCount: 8, runningCount: 0 }));
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    const plan = await steps.plan(state({ strategy: 'stopTasks', maxStopPercent: 25 }));
    expect(plan.decision).toBe('escalate');
  });
});

// ---- act ------------------------------------------------------------------------------------

describe('act', () => {
  test('forceNewDeployment: one UpdateService, returning the new PRIMARY deployment id', async () => {
    ecs.on(UpdateServiceCommand).resolves({
      service: service({ deployments: [deployment('ecs-svc/1', 'ACTIVE', 'COMPLETED'), deployment('ecs-svc/2', 'PRIMARY', 'IN_PROGRESS')] }),
    });
    const result = await actThrough(steps, state({ plan: actPlan() }));
    expect(ecs).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
    expect(ecs.commandCalls(UpdateServiceCommand)[0].args[0].input).toEqual({ cluster: 'prod', service: 'api', forceNewDeployment: true });
    expect(ecs).not.toHaveReceivedCommand(StopTaskCommand);
    expect(result.details.deploymentId).toBe('ecs-svc/2');
    expect(result).toMatchObject({ batch: 0, moreBatches: false });
    expect(result.calls).toMatchObject([{
      service: 'ecs', operation: 'UpdateService', parameters: { cluster: 'prod', service: 'api', forceNewDeployment: true }, result: { deploymentId: 'ecs-svc/2' },
    }]);
  });

  const batches = [ids(tasks(2, 1)), ids(tasks(2, 3)), ids(tasks(2, 5)), ids(tasks(2, 7))];
  const stopState = (act?: ActResult): WorkflowState =>
    state({ strategy: 'stopTasks', plan: stopPlan(batches), act });

  test('stopTasks, first batch: stops exactly the first batch, more to come', async () => {
    ecs.on(StopTaskCommand).resolves({});
    const result = await actThrough(steps, stopState());
    const stopped = ecs.commandCalls(StopTaskCommand).map((call) => call.args[0].input);
    expect(stopped.map((input) => input.task)).toEqual(batches[0]);
    for (const input of stopped) {
      expect(input.cluster).toBe('prod');
      expect(input.reason).toContain(INCIDENT_ID);
    }
    expect(ecs).not.toHaveReceivedCommand(UpdateServiceCommand);
    expect(result).toMatchObject({ batch: 0, moreBatches: true, details: { stoppedTasks: batches[0] } });
    expect(result.calls.map((call) => call.operation)).toEqual(['StopTask', 'StopTask']);
  });

  test('stopTasks, after batch 1: stops the second batch', async () => {
    ecs.on(StopTaskCommand).resolves({});
    const result = await actThrough(steps, stopState(stopAct(0, true, batches[0])));
    expect(ecs.commandCalls(StopTaskCommand).map((call) => call.args[0].input.task)).toEqual(batches[1]);
    expect(result).toMatchObject({ batch: 1, moreBatches: true });
  });

  test('stopTasks, last batch: moreBatches false', async () => {
    ecs.on(StopTaskCommand).resolves({});
    const result = await actThrough(steps, stopState(stopAct(2, true, batches[2])));
    expect(ecs.commandCalls(StopTaskCommand).map((call) => call.args[0].input.task)).toEqual(batches[3]);
    expect(result).toMatchObject({ batch: 3, moreBatches: false, details: { stoppedTasks: batches[3] } });
  });
});

// ---- check ----------------------------------------------------------------------------------

describe('check (forceNewDeployment)', () => {
  const steadyAfterAct = (): Service => service({ deployments: [deployment('ecs-svc/2', 'PRIMARY', 'COMPLETED')] });
  const checkState = (): WorkflowState => state({ plan: actPlan(), act: forcedAct('ecs-svc/2') });

  test('success: our deployment PRIMARY and COMPLETED, all tasks running, and the alarm OK', async () => {
    describes(steadyAfterAct());
    alarmIs('OK');
    const result = await steps.check(checkState());
    expect(result.verdict).toBe('success');
    expect(result.readings).toMatchObject({ runningCount: 4, desiredCount: 4, alarm: 'OK' });
    expect(cloudWatch).toHaveReceivedCommandWith(DescribeAlarmsCommand, { AlarmNames: [ALARM] });
  });

  test('pending while the alarm is still in ALARM', async () => {
    describes(steadyAfterAct());
    alarmIs('ALARM');
    const result = await steps.check(checkState());
    expect(result.verdict).toBe('pending');
    expect(result.reason).toContain('still in ALARM');
  });

  test('pending while tasks are pending, even with the alarm OK', async () => {
    describes(service({ runningCount: 3, pendingCount: 1, deployments: [deployment('ecs-svc/2', 'PRIMARY', 'COMPLETED')] }));
    alarmIs('OK');
    const result = await steps.check(checkState());
    expect(result.verdict).toBe('pending');
    expect(result.reason).toContain('3/4 tasks running, 1 pending');
  });

  test('pending while a task is pending, even with running = desired', async () => {
    describes(service({ runningCount: 4, pendingCount: 1, deployments: [deployment('ecs-svc/2', 'PRIMARY', 'COMPLETED')] }));
    alarmIs('OK');
    const result = await steps.check(checkState());
    expect(result.verdict).toBe('pending');
    expect(result.reason).toContain('4/4 tasks running, 1 pending');
  });

  test('pending while the old deployment is still around', async () => {
    describes(service({ deployments: [deployment('ecs-svc/2', 'PRIMARY', 'IN_PROGRESS'), deployment('ecs-svc/1', 'ACTIVE', 'COMPLETED')] }));
    alarmIs('OK');
    const result = await steps.check(checkState());
    expect(result.verdict).toBe('pending');
    expect(result.reason).toContain('2 deployments');
    expect(result.reason).toContain('rollout IN_PROGRESS');
  });

  test('pending while ours is still listed but another deployment is PRIMARY', async () => {
    describes(service({ deployments: [deployment('ecs-svc/9', 'PRIMARY', 'IN_PROGRESS'), deployment('ecs-svc/2', 'ACTIVE', 'IN_PROGRESS')] }));
    alarmIs('OK');
    const result = await steps.check(checkState());
    expect(result.verdict).toBe('pending');
    expect(result.reason).toContain('primary deployment is ecs-svc/9, not ecs-svc/2');
  });

  test('ours no longer listed and another PRIMARY: failure naming what replaced it (not a wait until the timeout)', async () => {
    describes(service({ deployments: [deployment('ecs-svc/9', 'PRIMARY', 'COMPLETED')] }));
    alarmIs('OK');
    const result = await steps.check(checkState());
    expect(result).toMatchObject({ verdict: 'failure', reason: 'deployment ecs-svc/2 is no longer listed: ECS replaced it with ecs-svc/9 (a circuit-breaker rollback or a newer deployment)' });
  });

  test('the circuit breaker failed ours and rolled back: "deployment failed and ECS rolled back"', async () => {
    const failed = { ...deployment('ecs-svc/2', 'ACTIVE', 'FAILED'), rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.' };
    describes(service({ deployments: [deployment('ecs-svc/3', 'PRIMARY', 'IN_PROGRESS'), failed] }));
    alarmIs('ALARM');
    const result = await steps.check(checkState());
    expect(result).toMatchObject({
      verdict: 'failure',
      reason: 'deployment ecs-svc/2 FAILED (ECS deployment circuit breaker: tasks failed to start.) and ECS rolled back (ecs-svc/3 is now primary)',
    });
  });

  test('behind a Classic Load Balancer (no rolloutState reported): steady counts, one deployment and the alarm OK verify', async () => {
    const unreported = { ...deployment('ecs-svc/2', 'PRIMARY', 'COMPLETED'), rolloutState: undefined };
    describes(service({ loadBalancers: [{ loadBalancerName: 'classic-web', containerName: 'app', containerPort: 80 }], deployments: [unreported] }));
    alarmIs('OK');
    expect((await steps.check(checkState())).verdict).toBe('success');
  });

  test('without a Classic Load Balancer a missing rolloutState is not success', async () => {
    const unreported = { ...deployment('ecs-svc/2', 'PRIMARY', 'COMPLETED'), rolloutState: undefined };
    describes(service({ deployments: [unreported] }));
    alarmIs('OK');
    expect((await steps.check(checkState())).verdict).toBe('pending');
  });

  test('failure when the rollout FAILED', async () => {
    describes(service({ deployments: [deployment('ecs-svc/2', 'PRIMARY', 'FAILED', { rolloutStateReason: 'circuit breaker triggered' })] }));
    alarmIs('OK');
    const result = await steps.check(checkState());
    expect(result.verdict).toBe('failure');
    expect(result.reason).toContain('circuit breaker triggered');
  });

  test('inconclusive when DescribeServices throws', async () => {
    ecs.on(DescribeServicesCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    alarmIs('OK');
    const result = await steps.check(checkState());
    expect(result.verdict).toBe('inconclusive');
    expect(result.reason).toContain('ThrottlingException');
  });

  test('inconclusive when the service is gone', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [], failures: [{ reason: 'MISSING' }] });
    alarmIs('OK');
    expect((await steps.check(checkState())).verdict).toBe('inconclusive');
  });

  // A DRAINING (being deleted) service can look "steady" (0/0 tasks, one COMPLETED deployment);
  // plan() refuses to act on a non-ACTIVE service, and check() must not call that a success.
  test('never success for a service that is no longer ACTIVE', async () => {
    describes(service({ status: 'DRAINING', desiredCount: 0, runningCount: 0, deployments: [deployment('ecs-svc/2', 'PRIMARY', 'COMPLETED')] }));
    alarmIs('OK');
    expect((await steps.check(checkState())).verdict).not.toBe('success');
  });

  test('inconclusive when DescribeAlarms throws', async () => {
    describes(steadyAfterAct());
    cloudWatch.on(DescribeAlarmsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    const result = await steps.check(checkState());
    expect(result.verdict).toBe('inconclusive');
    expect(result.reason).toContain('AccessDenied');
  });

  test('inconclusive when the alarm is INSUFFICIENT_DATA', async () => {
    describes(steadyAfterAct());
    alarmIs('INSUFFICIENT_DATA');
    const result = await steps.check(checkState());
    expect(result.verdict).toBe('inconclusive');
    expect(result.reason).toContain('INSUFFICIENT_DATA');
  });

  test('inconclusive when the alarm is not found', async () => {
    describes(steadyAfterAct());
    cloudWatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
    const result = await steps.check(checkState());
    expect(result.verdict).toBe('inconclusive');
    expect(result.reason).toContain('not found');
  });
});

describe('check (stopTasks)', () => {
  const stopped = ids(tasks(2, 1));
  const replacements = [...tasks(2, 101), ...tasks(6, 3)];
  const checkState = (act: ActResult): WorkflowState => state({ strategy: 'stopTasks', plan: actPlan(), act });

  test('between batches the alarm is not required: success while it is still in ALARM', async () => {
    describes(service({ desiredCount: 8, runningCount: 8 }));
    ecs.on(ListTasksCommand).resolves({ taskArns: replacements });
    alarmIs('ALARM');
    const result = await steps.check(checkState(stopAct(0, true, stopped)));
    expect(result.verdict).toBe('success');
    expect(result.readings.alarm).toBe('not required between batches');
    expect(cloudWatch).not.toHaveReceivedCommand(DescribeAlarmsCommand);
  });

  test('the last batch needs the alarm OK', async () => {
    describes(service({ desiredCount: 8, runningCount: 8 }));
    ecs.on(ListTasksCommand).resolves({ taskArns: replacements });
    alarmIs('ALARM');
    expect((await steps.check(checkState(stopAct(3, false, stopped)))).verdict).toBe('pending');
    cloudWatch.reset();
    alarmIs('OK');
    expect((await steps.check(checkState(stopAct(3, false, stopped)))).verdict).toBe('success');
  });

  test('pending while a stopped task is still running', async () => {
    describes(service({ desiredCount: 8, runningCount: 8 }));
    ecs.on(ListTasksCommand).resolves({ taskArns: [stopped[0], ...tasks(7, 3)] });
    const result = await steps.check(checkState(stopAct(0, true, stopped)));
    expect(result.verdict).toBe('pending');
    expect(result.reason).toContain('1 stopped task(s) still running');
  });

  test('pending while replacements are not running yet', async () => {
    describes(service({ desiredCount: 8, runningCount: 6, pendingCount: 2 }));
    ecs.on(ListTasksCommand).resolves({ taskArns: tasks(6, 3) });
    expect((await steps.check(checkState(stopAct(0, true, stopped)))).verdict).toBe('pending');
  });

  test('inconclusive when ListTasks throws', async () => {
    describes(service({ desiredCount: 8, runningCount: 8 }));
    ecs.on(ListTasksCommand).rejects(new Error('network down'));
    expect((await steps.check(checkState(stopAct(0, true, stopped)))).verdict).toBe('inconclusive');
  });
});

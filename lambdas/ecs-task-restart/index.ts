import {
  DescribeServicesCommand, ECSClient, ListTasksCommand, StopTaskCommand, UpdateServiceCommand, type Service,
} from '@aws-sdk/client-ecs';
import { readTriggerAlarm } from '../shared/alarm-check';
import { describeError } from '../shared/errors';
import { runbookHandler, type ActOutput, type CheckResult, type RunbookSteps } from '../shared/runbook-steps';
import type { Plan, PlannedCall, WorkflowState } from '../shared/types';
import { resolveEcsTaskRestartOptions, type EcsTaskRestartOptions } from './options';

export type { EcsTaskRestartOptions } from './options';

const ecs = new ECSClient({});

/**
 * stopTasks lists every task in the plan (and every stop in the act result): the workflow state
 * and the ledger must hold them, so services larger than this are told to use forceNewDeployment.
 */
export const MAX_STOP_TASKS = 500;
/** Each stop is preceded by a check of every guard; a batch stays short. */
export const MAX_TASKS_PER_BATCH = 100;

/** `arn:...:task/<cluster>/<id>` (or the older `task/<id>`) -> `<id>`, which StopTask accepts with the cluster. */
export const taskIdOf = (taskArn: string): string => taskArn.slice(taskArn.lastIndexOf('/') + 1);

function targetOf(state: WorkflowState): { cluster: string; service: string } {
  const dims = state.incident!.target!.dimensions;
  return { cluster: dims.ClusterName, service: dims.ServiceName };
}

function optionsOf(state: WorkflowState): EcsTaskRestartOptions {
  return resolveEcsTaskRestartOptions(state.runbook.options as Partial<EcsTaskRestartOptions>);
}

async function describeService(cluster: string, service: string): Promise<{ service?: Service; problem?: string }> {
  const out = await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
  const found = out.services?.[0];
  if (!found) return { problem: `service ${cluster}/${service} not found (${out.failures?.[0]?.reason ?? 'no failure reason given'})` };
  if (found.status !== 'ACTIVE') return { service: found, problem: `service ${cluster}/${service} is ${found.status}` };
  return { service: found };
}

async function runningTasks(cluster: string, service: string): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const out = await ecs.send(new ListTasksCommand({ cluster, serviceName: service, desiredStatus: 'RUNNING', nextToken }));
    arns.push(...(out.taskArns ?? []));
    nextToken = out.nextToken;
  } while (nextToken);
  return arns;
}

function serviceReadings(service: Service): Record<string, unknown> {
  return {
    desiredCount: service.desiredCount,
    runningCount: service.runningCount,
    pendingCount: service.pendingCount,
    deployments: (service.deployments ?? []).map((d) => ({ id: d.id, status: d.status, rolloutState: d.rolloutState, running: d.runningCount })),
  };
}

const decide = (decision: Plan['decision'], reason: string, summary: string, details: Record<string, unknown>, plannedCalls?: PlannedCall[]): Plan =>
  ({ decision, reason, summary, details, ...(plannedCalls ? { plannedCalls } : {}) });

/** The task ids of one batch, from the plan. */
function batchTasks(state: WorkflowState, batch: number): string[] {
  return (state.plan!.plannedCalls ?? []).filter((c) => c.batch === batch && c.operation === 'StopTask').map((c) => c.target);
}

export const steps: RunbookSteps = {
  async plan(state) {
    const { cluster, service } = targetOf(state);
    const options = optionsOf(state);
    const described = await describeService(cluster, service);
    if (described.problem || !described.service) return decide('escalate', described.problem ?? 'service not found', 'nothing to restart', {});
    const svc = described.service;
    const readings = serviceReadings(svc);
    const deployments = svc.deployments ?? [];
    const inProgress = deployments.find((d) => d.rolloutState === 'IN_PROGRESS');
    if (deployments.length > 1 || inProgress) {
      return decide('defer', `a deployment is already in progress (${deployments.length} deployments${inProgress ? `, ${inProgress.id} IN_PROGRESS` : ''})`,
        'not piling a restart on top of a running deployment', readings);
    }
    const desired = svc.desiredCount ?? 0;
    if (desired === 0) return decide('escalate', `service ${cluster}/${service} has desiredCount 0: there are no tasks to restart`, 'nothing to restart', readings);
    // SDK docs (Deployment.rolloutState, Service.deployments): rollouts are reported only for the
    // rolling-update (ECS) controller; CODE_DEPLOY and EXTERNAL services deploy through their own tool.
    const controller = svc.deploymentController?.type ?? 'ECS';
    if (controller !== 'ECS') {
      return decide('escalate', `service ${cluster}/${service} uses the ${controller} deployment controller: ECS does not report its rollouts, `
        + `so a restart could not be verified; restart it through ${controller === 'CODE_DEPLOY' ? 'a CodeDeploy deployment' : 'its external deployment tool'}`,
      'nothing to restart', { ...readings, deploymentController: controller });
    }

    if (options.strategy === 'forceNewDeployment') {
      return decide('act', 'service is stable and its alarm fired', `UpdateService forceNewDeployment on ${cluster}/${service} (${desired} desired, ${svc.runningCount} running)`, readings,
        [{ batch: 0, service: 'ecs', operation: 'UpdateService', target: `${cluster}/${service}` }]);
    }
    const batchSize = Math.min(MAX_TASKS_PER_BATCH, Math.floor((desired * options.maxStopPercent) / 100));
    if (batchSize < 1) {
      return decide('escalate', `stopping even one of ${desired} task(s) exceeds the cap of ${options.maxStopPercent}% at once; use forceNewDeployment for small services`,
        'no batch fits the blast-radius cap', readings);
    }
    const tasks = (await runningTasks(cluster, service)).map(taskIdOf);
    if (tasks.length === 0) return decide('escalate', `service ${cluster}/${service} has no running tasks to stop`, 'nothing to restart', readings);
    if (tasks.length > MAX_STOP_TASKS) {
      return decide('escalate', `service ${cluster}/${service} runs ${tasks.length} tasks: stopping them one by one is limited to ${MAX_STOP_TASKS} tasks; use the forceNewDeployment strategy for it`,
        'nothing to restart', readings);
    }
    const plannedCalls: PlannedCall[] = tasks.map((task, i) => ({ batch: Math.floor(i / batchSize), service: 'ecs', operation: 'StopTask', target: task }));
    const batches = Math.ceil(tasks.length / batchSize);
    return decide('act', 'service is stable and its alarm fired',
      `StopTask on ${tasks.length} task(s) of ${cluster}/${service} in ${batches} batch(es) of at most ${batchSize}`, { ...readings, batchSize, batches }, plannedCalls);
  },

  async act(state, gate): Promise<ActOutput> {
    const { cluster, service } = targetOf(state);
    const reason = `medic incident ${state.incident!.incidentId}`.slice(0, 255);
    if (optionsOf(state).strategy === 'forceNewDeployment') {
      const parameters = { cluster, service, forceNewDeployment: true };
      const out = await gate.call({ service: 'ecs', operation: 'UpdateService', target: `${cluster}/${service}`, parameters },
        () => ecs.send(new UpdateServiceCommand(parameters)),
        (answer) => ({ deploymentId: answer.service?.deployments?.find((d) => d.status === 'PRIMARY')?.id }));
      const primary = out.service?.deployments?.find((d) => d.status === 'PRIMARY');
      return {
        summary: `forced a new deployment of ${cluster}/${service}${primary?.id ? ` (${primary.id})` : ''}`,
        batch: 0,
        moreBatches: false,
        details: { deploymentId: primary?.id },
      };
    }
    const batch = (state.act?.batch ?? -1) + 1;
    const batches = Number(state.plan!.details.batches ?? 0);
    const tasks = batchTasks(state, batch);
    for (const task of tasks) {
      const parameters = { cluster, task, reason };
      await gate.call({ service: 'ecs', operation: 'StopTask', target: task, parameters }, () => ecs.send(new StopTaskCommand(parameters)));
    }
    return {
      summary: `stopped batch ${batch + 1}/${batches} (${tasks.length} task(s)) of ${cluster}/${service}`,
      batch,
      moreBatches: batch + 1 < batches,
      details: { stoppedTasks: tasks },
    };
  },

  async check(state): Promise<CheckResult> {
    const { cluster, service } = targetOf(state);
    const act = state.act!;
    let readings: Record<string, unknown> = {};
    const problems: string[] = [];
    try {
      const described = await describeService(cluster, service);
      if (described.service) readings = serviceReadings(described.service);
      // A service that is gone or draining can look "steady" (0 of 0 tasks): that is no evidence.
      if (!described.service || described.problem) return { verdict: 'inconclusive', reason: described.problem ?? 'service not found', readings };
      const svc = described.service;
      const primary = svc.deployments?.find((d) => d.status === 'PRIMARY');
      if (primary?.rolloutState === 'FAILED') {
        return { verdict: 'failure', reason: `deployment ${primary.id} FAILED: ${primary.rolloutStateReason ?? 'no reason given'}`, readings };
      }
      if (optionsOf(state).strategy === 'forceNewDeployment') {
        const ours = act.details.deploymentId as string | undefined;
        if (!ours) return { verdict: 'inconclusive', reason: 'UpdateService returned no PRIMARY deployment, so the new deployment cannot be identified', readings };
        const oursNow = svc.deployments?.find((d) => d.id === ours);
        // A circuit breaker with rollback marks the failed deployment FAILED and starts a new PRIMARY one
        // that rolls back to the last completed task set (DeploymentCircuitBreaker in the ECS API reference).
        if (oursNow?.rolloutState === 'FAILED') {
          return { verdict: 'failure', reason: `deployment ${ours} FAILED (${oursNow.rolloutStateReason ?? 'no reason given'}) and ECS rolled back${primary && primary.id !== ours ? ` (${primary.id} is now primary)` : ''}`, readings };
        }
        if (primary?.id !== ours && !oursNow) {
          return { verdict: 'failure', reason: `deployment ${ours} is no longer listed: ECS replaced it with ${primary?.id ?? 'no primary deployment'} (a circuit-breaker rollback or a newer deployment)`, readings };
        }
        if (primary?.id !== ours) problems.push(`primary deployment is ${primary?.id ?? 'missing'}, not ${ours}`);
      }
      if ((svc.deployments?.length ?? 0) !== 1) problems.push(`${svc.deployments?.length ?? 0} deployments`);
      // rolloutState is not reported behind a Classic Load Balancer (SDK doc of Deployment.rolloutState):
      // there, steady counts with one deployment and the alarm OK are the evidence.
      const classicLoadBalancer = (svc.loadBalancers ?? []).some((lb) => lb.loadBalancerName);
      if (!classicLoadBalancer && primary?.rolloutState !== 'COMPLETED') problems.push(`rollout ${primary?.rolloutState ?? 'state not reported'}`);
      if (svc.runningCount !== svc.desiredCount || (svc.pendingCount ?? 0) > 0) {
        problems.push(`${svc.runningCount}/${svc.desiredCount} tasks running, ${svc.pendingCount ?? 0} pending`);
      }
      const stopped = (act.details.stoppedTasks ?? []) as string[];
      if (stopped.length > 0) {
        const running = new Set((await runningTasks(cluster, service)).map(taskIdOf));
        const lingering = stopped.filter((task) => running.has(task));
        if (lingering.length > 0) problems.push(`${lingering.length} stopped task(s) still running`);
      }
    } catch (error) {
      return { verdict: 'inconclusive', reason: `service could not be read: ${describeError(error)}`, readings };
    }
    // Between batches the alarm may legitimately stay in ALARM; only the last batch needs it OK.
    const alarm = act.moreBatches ? undefined : await readTriggerAlarm(state);
    readings = { ...readings, alarm: alarm?.state ?? 'not required between batches' };
    if (problems.length > 0) return { verdict: 'pending', reason: `service not steady: ${problems.join('; ')}`, readings };
    if (!alarm) return { verdict: 'success', reason: 'service steady after this batch', readings };
    if (alarm.verdict !== 'success') return { verdict: alarm.verdict, reason: `service steady, but ${alarm.reason}`, readings };
    return { verdict: 'success', reason: `service steady (${readings.runningCount}/${readings.desiredCount} tasks) and ${alarm.reason}`, readings };
  },
};

export const handler = runbookHandler(steps);

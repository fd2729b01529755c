import { DescribeServicesCommand, ECSClient, ListTasksCommand, StopTaskCommand, UpdateServiceCommand, type Deployment } from '@aws-sdk/client-ecs';
import { parseDuration } from '../duration';
import type { World } from '../world';

/**
 * `world.ecs.services[]`: `{ cluster, service, tasks (default 4), deployment: <duration> | never | fails
 * | rolls-back (how a new deployment or a replacement task goes; default 60s), deploymentInProgress
 * (default false), deploymentController: ECS | CODE_DEPLOY | EXTERNAL (default ECS),
 * classicLoadBalancer: <name> }`.
 *
 * Modelled from the ECS API reference and the SDK's doc comments: `rolloutState` is returned only
 * for the rolling-update (ECS) controller and not behind a Classic Load Balancer (Deployment.rolloutState);
 * a circuit breaker with rollback marks the failed deployment FAILED and starts a new PRIMARY
 * deployment back to the last completed one (DeploymentCircuitBreaker).
 */
interface SimService {
  readonly key: string;
  desired: number;
  running: number;
  pending: number;
  tasks: string[];
  deployments: Deployment[];
  readonly outcome: { readonly kind: 'after'; readonly seconds: number } | { readonly kind: 'never' } | { readonly kind: 'fails' | 'rolls-back'; readonly seconds: number };
  readonly controller: 'ECS' | 'CODE_DEPLOY' | 'EXTERNAL';
  readonly classicLoadBalancer?: string;
}

type Spec = {
  cluster: string; service: string; tasks?: number; deployment?: string | number; deploymentInProgress?: boolean;
  deploymentController?: 'ECS' | 'CODE_DEPLOY' | 'EXTERNAL'; classicLoadBalancer?: string;
};
const CONTROLLERS = ['ECS', 'CODE_DEPLOY', 'EXTERNAL'];

export function installEcs(world: World): void {
  const specs = ((world.spec.ecs as { services?: Spec[] } | undefined)?.services ?? []);
  const services = new Map<string, SimService>();
  let deployments = 0;
  for (const [i, spec] of specs.entries()) {
    const where = `world.ecs.services[${i}]`;
    const desired = spec.tasks ?? 4;
    const outcome: SimService['outcome'] = spec.deployment === 'never' ? { kind: 'never' }
      : spec.deployment === 'fails' || spec.deployment === 'rolls-back' ? { kind: spec.deployment, seconds: 60 }
        : { kind: 'after', seconds: parseDuration(spec.deployment ?? '60s', `${where}.deployment`) };
    if (spec.deploymentController !== undefined && !CONTROLLERS.includes(spec.deploymentController)) {
      throw new Error(`${where}.deploymentController must be one of ${CONTROLLERS.join(', ')}`);
    }
    const key = `${spec.cluster}/${spec.service}`;
    services.set(key, {
      key, desired, running: desired, pending: 0, outcome, controller: spec.deploymentController ?? 'ECS', classicLoadBalancer: spec.classicLoadBalancer,
      tasks: Array.from({ length: desired }, (_, t) => `arn:aws:ecs:${world.env.region}:${world.env.account}:task/${spec.cluster}/${spec.service}-${t}`),
      deployments: [
        { id: 'ecs-svc/initial', status: 'PRIMARY', rolloutState: spec.deploymentInProgress ? 'IN_PROGRESS' : 'COMPLETED', runningCount: desired },
      ],
    });
  }
  const ecs = world.stub(ECSClient);
  const find = (cluster: string, service: string) => services.get(`${cluster}/${service}`);

  ecs.on(DescribeServicesCommand).callsFake((input: { cluster: string; services: string[] }) => world.answer('ecs', 'DescribeServices', input, false, () => {
    const svc = find(input.cluster, input.services[0]);
    if (!svc) return { services: [], failures: [{ arn: `${input.cluster}/${input.services[0]}`, reason: 'MISSING' }] };
    const reportsRollout = svc.controller === 'ECS' && !svc.classicLoadBalancer;
    return {
      services: [{
        serviceName: input.services[0], status: 'ACTIVE', desiredCount: svc.desired, runningCount: svc.running, pendingCount: svc.pending,
        deploymentController: { type: svc.controller },
        loadBalancers: svc.classicLoadBalancer ? [{ loadBalancerName: svc.classicLoadBalancer, containerName: 'app', containerPort: 80 }] : [],
        deployments: svc.deployments.map(({ rolloutState, rolloutStateReason, ...d }) => ({ ...d, ...(reportsRollout ? { rolloutState, rolloutStateReason } : {}) })),
      }],
    };
  }));

  ecs.on(UpdateServiceCommand).callsFake((input: { cluster: string; service: string }) => world.answer('ecs', 'UpdateService', input, true, () => {
    const svc = find(input.cluster, input.service);
    if (!svc) throw Object.assign(new Error(`service ${input.cluster}/${input.service} not found`), { name: 'ServiceNotFoundException' });
    const id = `ecs-svc/${++deployments}`;
    svc.deployments = [{ id, status: 'PRIMARY', rolloutState: 'IN_PROGRESS', runningCount: 0 }, ...svc.deployments.map((d) => ({ ...d, status: 'ACTIVE' }))];
    const settle = (rolloutState: 'COMPLETED' | 'FAILED') => () => {
      svc.deployments = rolloutState === 'COMPLETED'
        ? [{ id, status: 'PRIMARY', rolloutState, runningCount: svc.desired }]
        : svc.deployments.map((d) => (d.id === id ? { ...d, rolloutState, rolloutStateReason: 'tasks failed to start (simulated)' } : d));
    };
    // The circuit breaker fails our deployment and rolls back: a new PRIMARY deployment, ours ACTIVE and FAILED until the rollback completes.
    const rollBack = () => {
      const back = `ecs-svc/rollback-${++deployments}`;
      svc.deployments = [
        { id: back, status: 'PRIMARY', rolloutState: 'IN_PROGRESS', runningCount: 0 },
        ...svc.deployments.filter((d) => d.id === id).map((d) => ({ ...d, status: 'ACTIVE', rolloutState: 'FAILED' as const, rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start (simulated)' })),
      ];
      world.later(60, () => { svc.deployments = [{ id: back, status: 'PRIMARY', rolloutState: 'COMPLETED', runningCount: svc.desired }]; });
    };
    if (svc.outcome.kind === 'after') world.later(svc.outcome.seconds, settle('COMPLETED'));
    if (svc.outcome.kind === 'fails') world.later(svc.outcome.seconds, settle('FAILED'));
    if (svc.outcome.kind === 'rolls-back') world.later(svc.outcome.seconds, rollBack);
    return { service: { deployments: [{ id, status: 'PRIMARY', rolloutState: 'IN_PROGRESS' }] } };
  }));

  ecs.on(ListTasksCommand).callsFake((input: { cluster: string; serviceName: string }) => world.answer('ecs', 'ListTasks', input, false, () => ({
    taskArns: [...(find(input.cluster, input.serviceName)?.tasks ?? [])],
  })));

  ecs.on(StopTaskCommand).callsFake((input: { cluster: string; task: string }) => world.answer('ecs', 'StopTask', input, true, () => {
    // StopTask takes "the task ID or full Amazon Resource Name (ARN) of the task" (SDK doc of StopTaskRequest.task).
    const same = (arn: string) => arn === input.task || arn.endsWith(`/${input.task}`);
    const svc = [...services.values()].find((s) => s.key.startsWith(`${input.cluster}/`) && s.tasks.some(same));
    if (!svc) throw Object.assign(new Error(`task ${input.task} not found`), { name: 'InvalidParameterException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    svc.tasks = svc.tasks.filter((t) => !same(t));
    svc.running--;
    svc.pending++;
    if (svc.outcome.kind !== 'never') {
      world.later(svc.outcome.kind === 'after' ? svc.outcome.seconds : 60, () => {
        svc.pending--;
        if (svc.outcome.kind === 'fails' || svc.outcome.kind === 'rolls-back') return;
        svc.running++;
        svc.tasks.push(`${input.task}-replacement`);
      });
    }
    return { task: { taskArn: input.task, lastStatus: 'STOPPING' } };
  }));
}

import { DescribeServicesCommand, ListTasksCommand, StopTaskCommand, UpdateServiceCommand, type Deployment } from '@aws-sdk/client-ecs';
import type { ModelClock, ModelEnv } from './clock';
import { awsError, type ModelOperations } from './operations';

/**
 * How a new deployment or a replacement task goes: `after` its seconds it is steady; `never`: it
 * never gets there (one task stays PENDING); `fails`: the deployment is marked FAILED after 60 s;
 * `rolls-back`: the circuit breaker fails it and rolls back after 60 s.
 */
export type EcsOutcome = { readonly kind: 'after'; readonly seconds: number } | { readonly kind: 'never' } | { readonly kind: 'fails' | 'rolls-back'; readonly seconds: number };

/** A service as the model keeps it. */
export interface EcsService {
  readonly key: string;
  /** Service.status: ACTIVE, or INACTIVE once deleted ({@link EcsModel.deleteService}). */
  status: 'ACTIVE' | 'INACTIVE';
  desired: number;
  running: number;
  pending: number;
  tasks: string[];
  deployments: Deployment[];
  outcome: EcsOutcome;
  readonly controller: 'ECS' | 'CODE_DEPLOY' | 'EXTERNAL';
  readonly classicLoadBalancer?: string;
}

/** DeploymentController.type, its documented values. */
export const DEPLOYMENT_CONTROLLERS = ['ECS', 'CODE_DEPLOY', 'EXTERNAL'];

/**
 * Amazon ECS services for the task-restart runbook: DescribeServices, UpdateService
 * (forceNewDeployment), ListTasks and StopTask, and how a service settles over time. Used by the
 * game-day world (lib/gameday/services/ecs.ts) and the workflow tests (test/support/fake-aws.ts).
 * Each behaviour follows the ECS API reference or the SDK doc comment (@aws-sdk/client-ecs
 * dist-types) named beside it.
 */
export class EcsModel {
  readonly services = new Map<string, EcsService>();
  private deploymentCount = 0;

  readonly operations: ModelOperations = {
    DescribeServices: { command: DescribeServicesCommand, mutating: false, answer: (input: { cluster: string; services: string[] }) => this.describeServices(input) },
    UpdateService: { command: UpdateServiceCommand, mutating: true, answer: (input: { cluster: string; service: string }) => this.updateService(input) },
    ListTasks: { command: ListTasksCommand, mutating: false, answer: (input: { cluster: string; serviceName: string }) => this.listTasks(input) },
    StopTask: { command: StopTaskCommand, mutating: true, answer: (input: { cluster: string; task: string }) => this.stopTask(input) },
  };

  constructor(private readonly clock: ModelClock, private readonly env: ModelEnv) {}

  /** A steady service of `tasks` tasks (`<service>-t<n>`), its one deployment COMPLETED unless `deploymentInProgress`. */
  addService(spec: {
    cluster: string; service: string; tasks?: number; outcome?: EcsOutcome; deploymentInProgress?: boolean;
    controller?: EcsService['controller']; classicLoadBalancer?: string;
  }): EcsService {
    const desired = spec.tasks ?? 4;
    const key = `${spec.cluster}/${spec.service}`;
    const service: EcsService = {
      key, status: 'ACTIVE', desired, running: desired, pending: 0, outcome: spec.outcome ?? { kind: 'after', seconds: 60 },
      controller: spec.controller ?? 'ECS', classicLoadBalancer: spec.classicLoadBalancer,
      tasks: Array.from({ length: desired }, (_, t) => `arn:aws:ecs:${this.env.region}:${this.env.account}:task/${spec.cluster}/${spec.service}-t${t}`),
      deployments: [{ id: 'ecs-svc/initial', status: 'PRIMARY', rolloutState: spec.deploymentInProgress ? 'IN_PROGRESS' : 'COMPLETED', runningCount: desired }],
    };
    this.services.set(key, service);
    return service;
  }

  describeServices(input: { cluster: string; services: string[] }) {
    const svc = this.services.get(`${input.cluster}/${input.services[0]}`);
    // DescribeServicesResponse.failures: "Any failures associated with the call"; a missing service is reason MISSING.
    if (!svc) return { services: [], failures: [{ arn: `${input.cluster}/${input.services[0]}`, reason: 'MISSING' }] };
    // Deployment.rolloutState: "only returned for services that use the rolling update (ECS) deployment type
    // that aren't behind a Classic Load Balancer".
    const reportsRollout = svc.controller === 'ECS' && !svc.classicLoadBalancer;
    return {
      services: [{
        serviceName: input.services[0], status: svc.status, desiredCount: svc.desired, runningCount: svc.running, pendingCount: svc.pending,
        deploymentController: { type: svc.controller },
        loadBalancers: svc.classicLoadBalancer ? [{ loadBalancerName: svc.classicLoadBalancer, containerName: 'app', containerPort: 80 }] : [],
        deployments: svc.deployments.map(({ rolloutState, rolloutStateReason, ...d }) => ({ ...d, ...(reportsRollout ? { rolloutState, rolloutStateReason } : {}) })),
      }],
    };
  }

  /**
   * UpdateService with forceNewDeployment: a new PRIMARY deployment IN_PROGRESS, the old ones ACTIVE
   * (Deployment.status: "PRIMARY: The most recent deployment"; rolloutState "IN_PROGRESS ... COMPLETED"
   * once steady), settling as the service's outcome says.
   */
  updateService(input: { cluster: string; service: string }) {
    const svc = this.services.get(`${input.cluster}/${input.service}`);
    // UpdateService, Errors: ServiceNotFoundException, "The specified service wasn't found."
    if (!svc) throw awsError('ServiceNotFoundException', `service ${input.cluster}/${input.service} not found`);
    // UpdateService, Errors: ServiceNotActiveException, "The specified service isn't active. You can't update a service that's inactive."
    if (svc.status !== 'ACTIVE') throw awsError('ServiceNotActiveException', `service ${input.cluster}/${input.service} is not active (it was deleted)`);
    const id = this.startDeployment(svc);
    return { service: { deployments: [{ id, status: 'PRIMARY', rolloutState: 'IN_PROGRESS' }] } };
  }

  /**
   * A new deployment of the service, whoever started it (UpdateService, or someone else: a
   * timeline change): PRIMARY and IN_PROGRESS, settling as the service's outcome says. Its id.
   */
  startDeployment(svc: EcsService): string {
    const id = `ecs-svc/${++this.deploymentCount}`;
    svc.deployments = [{ id, status: 'PRIMARY', rolloutState: 'IN_PROGRESS', runningCount: 0 }, ...svc.deployments.map((d) => ({ ...d, status: 'ACTIVE' }))];
    const outcome = svc.outcome;
    const settle = (rolloutState: 'COMPLETED' | 'FAILED') => () => {
      if (svc.status !== 'ACTIVE') return;
      svc.deployments = rolloutState === 'COMPLETED'
        ? [{ id, status: 'PRIMARY', rolloutState, runningCount: svc.desired }]
        : svc.deployments.map((d) => (d.id === id ? { ...d, rolloutState, rolloutStateReason: 'tasks failed to start (simulated)' } : d));
    };
    // DeploymentCircuitBreaker: with rollback on, a failed deployment is marked FAILED and the service "rolls back
    // to the last deployment that completed": a new PRIMARY deployment, ours ACTIVE and FAILED until the rollback completes.
    const rollBack = () => {
      if (svc.status !== 'ACTIVE') return;
      const back = `ecs-svc/rollback-${++this.deploymentCount}`;
      svc.deployments = [
        { id: back, status: 'PRIMARY', rolloutState: 'IN_PROGRESS', runningCount: 0 },
        ...svc.deployments.filter((d) => d.id === id).map((d) => ({ ...d, status: 'ACTIVE', rolloutState: 'FAILED' as const, rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start (simulated)' })),
      ];
      this.clock.later(60, () => {
        if (svc.status === 'ACTIVE') svc.deployments = [{ id: back, status: 'PRIMARY', rolloutState: 'COMPLETED', runningCount: svc.desired }];
      });
    };
    if (outcome.kind === 'after') this.clock.later(outcome.seconds, settle('COMPLETED'));
    if (outcome.kind === 'fails') this.clock.later(outcome.seconds, settle('FAILED'));
    if (outcome.kind === 'rolls-back') this.clock.later(outcome.seconds, rollBack);
    // A new task that never starts stays PENDING (Service.pendingCount) while the old tasks keep running:
    // DeploymentConfiguration.minimumHealthyPercent is "a lower limit on the number of your service's tasks that
    // must remain in the RUNNING state during a deployment", and "the default value for a replica service ... is 100%".
    if (outcome.kind === 'never') svc.pending = 1;
    return id;
  }

  listTasks(input: { cluster: string; serviceName: string }) {
    return { taskArns: [...(this.services.get(`${input.cluster}/${input.serviceName}`)?.tasks ?? [])] };
  }

  /**
   * StopTask: the task stops (lastStatus STOPPING) and the service scheduler starts a replacement
   * (ECS Developer Guide, service scheduler: it "replaces tasks that fail"), RUNNING after the
   * service's outcome seconds (never, or not at all when deployments fail).
   */
  stopTask(input: { cluster: string; task: string }) {
    // StopTask takes "the task ID or full Amazon Resource Name (ARN) of the task" (SDK doc of StopTaskRequest.task).
    const same = (arn: string) => arn === input.task || arn.endsWith(`/${input.task}`);
    const svc = [...this.services.values()].find((s) => s.key.startsWith(`${input.cluster}/`) && s.tasks.some(same));
    // StopTask, Errors: InvalidParameterException, "The specified parameter isn't valid."
    if (!svc) throw awsError('InvalidParameterException', `task ${input.task} not found`);
    this.replaceTask(svc, svc.tasks.find(same)!);
    return { task: { taskArn: input.task, lastStatus: 'STOPPING' } };
  }

  /**
   * A task of the service stops (stopped, or crashed) and the service scheduler starts a
   * replacement ("If a task fails or stops, the service scheduler launches another instance of
   * your task definition", ECS Developer Guide, service scheduler), RUNNING after the service's
   * outcome seconds; never, or not at all when deployments fail.
   */
  replaceTask(svc: EcsService, task: string): void {
    svc.tasks = svc.tasks.filter((t) => t !== task);
    svc.running--;
    svc.pending++;
    const outcome = svc.outcome;
    if (outcome.kind === 'never') return;
    this.clock.later(outcome.kind === 'after' ? outcome.seconds : 60, () => {
      if (svc.status !== 'ACTIVE') return;
      svc.pending--;
      if (outcome.kind === 'fails' || outcome.kind === 'rolls-back') return;
      svc.running++;
      svc.tasks.push(`${task}-replacement`);
    });
  }

  /** Running tasks crash until `running` are left (none if already as few); each is replaced as {@link replaceTask} says. */
  crashTasks(svc: EcsService, running: number): void {
    for (const task of svc.tasks.slice(running)) this.replaceTask(svc, task);
  }

  /**
   * DeleteService: "After all tasks have transitioned to either STOPPING or STOPPED status, the
   * service status moves from DRAINING to INACTIVE. Services in the DRAINING or INACTIVE status
   * can still be viewed with the DescribeServices API operation" (SDK doc of DeleteServiceCommand).
   * The model skips DRAINING: the tasks stop at once. With `purged`, the service is gone from
   * ECS's records as well ("INACTIVE services may be cleaned up and purged", same doc): described
   * as a service that never existed (failure MISSING), UpdateService ServiceNotFoundException.
   */
  deleteService(svc: EcsService, purged: boolean): void {
    svc.status = 'INACTIVE';
    svc.desired = 0;
    svc.running = 0;
    svc.pending = 0;
    svc.tasks = [];
    // DeleteService requires a desired count of zero (or force): the deployments keep no running task.
    svc.deployments = svc.deployments.map((d) => ({ ...d, runningCount: 0 }));
    if (purged) this.services.delete(svc.key);
  }
}

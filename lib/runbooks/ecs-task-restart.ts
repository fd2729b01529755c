import { Stack } from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { MedicFunction } from '../platform/function';
import { acknowledge } from '../platform/nag';
import { matchesUnlessToken } from '../platform/policy';
import { Runbook, type RunbookCommonProps } from '../platform/runbook';
import { alarmArns, commonSettings, list, num, object, oneOf, runbookName, text } from '../platform/config-schema';
import type { z } from 'zod';
import { commonRunbookProps, defineRunbookKind } from '../platform/runbook-kind';
import { ECS_TASK_RESTART_DEFAULTS, resolveEcsTaskRestartOptions, type EcsTaskRestartOptions } from '../../lambdas/ecs-task-restart/options';

/** An ECS service this runbook may restart, by name. Either name may be a token (checked by IAM at deploy time, not here). */
export interface EcsServiceRef {
  readonly clusterName: string;
  readonly serviceName: string;
}

/** An ECS service: its names, or the service itself (its cluster is `service.cluster`). */
export type EcsServiceTarget = EcsServiceRef | ecs.IBaseService;

/** The cluster and service names of `service`, whichever way it was given. */
export function ecsServiceRef(service: EcsServiceTarget): EcsServiceRef {
  return 'cluster' in service
    ? { clusterName: service.cluster.clusterName, serviceName: service.serviceName }
    : { clusterName: service.clusterName, serviceName: service.serviceName };
}

/** Properties of an {@link EcsTaskRestartRunbook}. */
export interface EcsTaskRestartRunbookProps extends RunbookCommonProps {
  /**
   * The services this runbook may restart (its allow-list and its IAM scope): by name
   * (`{ clusterName, serviceName }`), or the service construct itself (`ecs.IBaseService`, e.g. a
   * `FargateService` of the same app, or one imported with its cluster), whose names may be
   * tokens. The target is taken from the alarm's `ClusterName`/`ServiceName` dimensions; an
   * alarm without them uses the single service listed here.
   *
   * There is no default: list at least one service.
   */
  readonly services: EcsServiceTarget[];
  /**
   * `forceNewDeployment` asks ECS to replace every task within the service's own deployment
   * limits; `stopTasks` stops running tasks in batches of at most `maxStopPercent` of the
   * desired count, waiting for replacements between batches.
   * @default 'forceNewDeployment'
   */
  readonly strategy?: 'forceNewDeployment' | 'stopTasks';
  /**
   * Largest share of the desired tasks stopped at once by the `stopTasks` strategy, 1-50.
   * @default 25
   */
  readonly maxStopPercent?: number;
}

const NAME_PATTERN = '[A-Za-z0-9_-]{1,255}';

/**
 * ECS task restart: when an attached alarm fires, restart the service's tasks (unless a
 * deployment is already in progress, in which case it defers), then verify the service is
 * steady and the alarm is back to OK. A restart cannot be undone, so a failed verification
 * escalates straight away.
 */
export class EcsTaskRestartRunbook extends Construct {
  public readonly runbook: Runbook;
  public readonly stepFunction: MedicFunction;

  constructor(scope: Construct, id: string, props: EcsTaskRestartRunbookProps) {
    super(scope, id);
    const { strategy, maxStopPercent } = resolveEcsTaskRestartOptions({ strategy: props.strategy, maxStopPercent: props.maxStopPercent });
    if (strategy !== 'forceNewDeployment' && strategy !== 'stopTasks') {
      throw new Error(`runbook ${props.name}: strategy must be "forceNewDeployment" or "stopTasks" (got "${String(strategy)}")`);
    }
    if (!Number.isInteger(maxStopPercent) || maxStopPercent < 1 || maxStopPercent > 50) {
      throw new Error(`runbook ${props.name}: maxStopPercent must be a whole number from 1 to 50 (got ${maxStopPercent}); `
        + 'above 50% a restart could take most of a service down at once');
    }
    if (props.services.length === 0) throw new Error(`runbook ${props.name}: list at least one service it may restart`);
    const services = props.services.map(ecsServiceRef);
    const namePattern = new RegExp(`^${NAME_PATTERN}$`);
    for (const s of services) {
      // Names known only at deploy time (tokens) are left to IAM and to the allow-list.
      if (!matchesUnlessToken(s.clusterName, namePattern) || !matchesUnlessToken(s.serviceName, namePattern)) {
        throw new Error(`runbook ${props.name}: "${s.clusterName}/${s.serviceName}" is not a valid ECS cluster/service name`);
      }
    }

    this.stepFunction = new MedicFunction(this, 'Steps', {
      handler: 'ecs-task-restart',
      description: `medic runbook ${props.name}: ECS task restart (plan, act, verify)`,
      environment: props.platform.handlerEnvironment(),
    });
    this.grantEcs(services, strategy, props.mode ?? 'observe');

    this.runbook = new Runbook(this, 'Runbook', {
      ...props,
      kind: 'ecs-task-restart',
      stepFunction: this.stepFunction,
      reversible: false,
      options: { strategy, maxStopPercent } satisfies EcsTaskRestartOptions,
      target: {
        type: 'ecs-service',
        dimensions: { ClusterName: NAME_PATTERN, ServiceName: NAME_PATTERN },
        idTemplate: '{ClusterName}/{ServiceName}',
        arnTemplate: 'arn:{partition}:ecs:{region}:{account}:service/{ClusterName}/{ServiceName}',
        allowed: services.map((s) => ({ ClusterName: s.clusterName, ServiceName: s.serviceName })),
      },
    });
  }

  /** See {@link Runbook.attachTo}. */
  public attachTo(...args: Parameters<Runbook['attachTo']>): this {
    this.runbook.attachTo(...args);
    return this;
  }

  /**
   * ECS permissions scoped to the allow-listed services and their clusters' tasks. Only the
   * chosen strategy's mutating action is granted, and none in observe mode.
   */
  private grantEcs(services: EcsServiceRef[], strategy: string, mode: string): void {
    const stack = Stack.of(this);
    const arn = (resource: string, resourceName: string) => stack.formatArn({ service: 'ecs', resource, resourceName });
    const serviceArns = services.map((s) => arn('service', `${s.clusterName}/${s.serviceName}`));
    const clusters = [...new Set(services.map((s) => s.clusterName))];
    const clusterArns = clusters.map((c) => arn('cluster', c));
    const mutates = mode !== 'observe';
    this.stepFunction.addToRolePolicy(new iam.PolicyStatement({
      actions: ['ecs:DescribeServices', ...(mutates && strategy === 'forceNewDeployment' ? ['ecs:UpdateService'] : [])],
      resources: serviceArns,
    }));
    if (strategy !== 'stopTasks') return;
    this.stepFunction.addToRolePolicy(new iam.PolicyStatement({
      actions: ['ecs:ListTasks'],
      resources: ['*'], // ListTasks is authorised on the container instance, not the task; the condition pins it to the clusters.
      conditions: { ArnEquals: { 'ecs:cluster': clusterArns } },
    }));
    if (!mutates) return;
    const taskArns = clusters.map((c) => arn('task', `${c}/*`)); // task ids are only known at run time
    this.stepFunction.addToRolePolicy(new iam.PolicyStatement({
      actions: ['ecs:StopTask'],
      resources: taskArns,
      conditions: { ArnEquals: { 'ecs:cluster': clusterArns } },
    }));
    acknowledge(this.stepFunction, taskArns.map((taskArn) => `IAM5[Resource::${taskArn}]`),
      'StopTask needs task ARNs, known only at run time; the resource is pinned to the allow-listed clusters and the ecs:cluster condition.');
  }
}

// ---- its entry in the config file (`runbooks.ecsTaskRestart`) and the registry of kinds ----

const ifDefault = (strategy: EcsTaskRestartOptions['strategy']): string => (strategy === ECS_TASK_RESTART_DEFAULTS.strategy ? ' (default)' : '');

const ecsTaskRestartSchema = object({
  name: runbookName(),
  alarmArns: alarmArns(''),
  ...commonSettings,
  services: list(object({ clusterName: text(), serviceName: text() })).describe('The services it may restart: the allow-list and the IAM scope.'),
  strategy: oneOf(['forceNewDeployment', 'stopTasks']).optional()
    .describe(`forceNewDeployment${ifDefault('forceNewDeployment')}: ECS replaces tasks within the deployment limits; stopTasks${ifDefault('stopTasks')}: stop running tasks in batches.`),
  maxStopPercent: num().optional().describe(`Largest share of desired tasks stopped at once with stopTasks, 1-50 (default ${ECS_TASK_RESTART_DEFAULTS.maxStopPercent}).`),
}).meta({ id: 'EcsTaskRestart', description: 'ECS task restart, started by alarms.' });

export type EcsTaskRestartConfig = z.infer<typeof ecsTaskRestartSchema>;

/** ECS task restart in the config-driven stack: each entry of `runbooks.ecsTaskRestart` is one EcsTaskRestartRunbook. */
export const ecsTaskRestartKind = defineRunbookKind({
  kind: 'ecs-task-restart',
  configKey: 'ecsTaskRestart',
  handler: 'ecs-task-restart',
  schema: ecsTaskRestartSchema,
  build: (scope, id, entry, platform) => new EcsTaskRestartRunbook(scope, id, {
    ...commonRunbookProps(scope, platform, entry),
    services: entry.services,
    strategy: entry.strategy,
    maxStopPercent: entry.maxStopPercent,
  }),
});

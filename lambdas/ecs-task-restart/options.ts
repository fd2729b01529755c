/**
 * The ECS task restart runbook's options: written into the runbook spec by the construct
 * (lib/runbooks/ecs-task-restart.ts) and read by the step handler, with their defaults set here once.
 */

/**
 * Strategy `forceNewDeployment` lets ECS replace the tasks within the service's own deployment
 * limits; `stopTasks` stops them in batches no larger than `maxStopPercent` of the desired count,
 * verifying replacements between batches.
 */
export interface EcsTaskRestartOptions {
  readonly strategy: 'forceNewDeployment' | 'stopTasks';
  /** Largest share of the desired tasks stopped at once by `stopTasks`, 1-50. */
  readonly maxStopPercent: number;
}

/** The default of each option. */
export const ECS_TASK_RESTART_DEFAULTS: Readonly<EcsTaskRestartOptions> = {
  strategy: 'forceNewDeployment',
  maxStopPercent: 25,
};

/** `options` with each unset option at its default. */
export function resolveEcsTaskRestartOptions(options: Partial<EcsTaskRestartOptions>): EcsTaskRestartOptions {
  return {
    strategy: options.strategy ?? ECS_TASK_RESTART_DEFAULTS.strategy,
    maxStopPercent: options.maxStopPercent ?? ECS_TASK_RESTART_DEFAULTS.maxStopPercent,
  };
}

import { ECSClient } from '@aws-sdk/client-ecs';
import { parseDuration } from '../duration';
import { DEPLOYMENT_CONTROLLERS, EcsModel, type EcsOutcome } from '../models/ecs';
import { bindOperations } from '../models/operations';
import type { World } from '../world';

/**
 * `world.ecs.services[]`: `{ cluster, service, tasks (default 4), deployment: <duration> | never | fails
 * | rolls-back (how a new deployment or a replacement task goes; default 60s), deploymentInProgress
 * (default false), deploymentController: ECS | CODE_DEPLOY | EXTERNAL (default ECS),
 * classicLoadBalancer: <name> }`.
 *
 * The behaviour is the shared model's (lib/gameday/models/ecs.ts, which cites the AWS
 * documentation of each); this module reads the scenario into it and answers through the world.
 */
type Spec = {
  cluster: string; service: string; tasks?: number; deployment?: string | number; deploymentInProgress?: boolean;
  deploymentController?: 'ECS' | 'CODE_DEPLOY' | 'EXTERNAL'; classicLoadBalancer?: string;
};

/** Reads `world.ecs` into a model on the world's clock and answers ECS calls from it. */
export function installEcs(world: World): EcsModel {
  const specs = ((world.spec.ecs as { services?: Spec[] } | undefined)?.services ?? []);
  const model = new EcsModel({ now: () => world.clock.now(), later: (seconds, change) => world.later(seconds, change) }, world.env);
  for (const [i, spec] of specs.entries()) {
    const where = `world.ecs.services[${i}]`;
    const outcome: EcsOutcome = spec.deployment === 'never' ? { kind: 'never' }
      : spec.deployment === 'fails' || spec.deployment === 'rolls-back' ? { kind: spec.deployment, seconds: 60 }
        : { kind: 'after', seconds: parseDuration(spec.deployment ?? '60s', `${where}.deployment`) };
    if (spec.deploymentController !== undefined && !DEPLOYMENT_CONTROLLERS.includes(spec.deploymentController)) {
      throw new Error(`${where}.deploymentController must be one of ${DEPLOYMENT_CONTROLLERS.join(', ')}`);
    }
    model.addService({
      cluster: spec.cluster, service: spec.service, tasks: spec.tasks, outcome, deploymentInProgress: spec.deploymentInProgress,
      controller: spec.deploymentController, classicLoadBalancer: spec.classicLoadBalancer,
    });
  }
  bindOperations(world.stub(ECSClient), model.operations, (operation, input, mutating, answer) => world.answer('ecs', operation, input, mutating, answer));
  return model;
}

import { ECSClient } from '@aws-sdk/client-ecs';
import { parseDuration } from '../duration';
import { DEPLOYMENT_CONTROLLERS, EcsModel, type EcsOutcome, type EcsService } from '../models/ecs';
import { bindOperations } from '../models/operations';
import type { World } from '../world';
import { ChangeReader, inOrder } from './change-reader';

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

/** `deployment: <duration> | never | fails | rolls-back` as the model's outcome. */
function readOutcome(deployment: unknown, where: string): EcsOutcome {
  if (deployment === 'never') return { kind: 'never' };
  if (deployment === 'fails' || deployment === 'rolls-back') return { kind: deployment, seconds: 60 };
  return { kind: 'after', seconds: parseDuration(deployment ?? '60s', where) };
}

const CHANGE_KEYS = ['cluster', 'service', 'delete', 'tasks', 'deployment', 'deploymentStarts'];

/** The service a change names: `service`, and `cluster` unless only one cluster has a service of that name. */
function changedService(model: EcsModel, read: ChangeReader): EcsService {
  const name = read.target('service', 'ECS service');
  const cluster = read.text('cluster');
  const known = [...model.services.keys()];
  const matches = known.filter((key) => (cluster === undefined ? key.endsWith(`/${name}`) : key === `${cluster}/${name}`));
  if (matches.length === 0) throw read.error('service', `no service ${cluster ?? '<any cluster>'}/${name} in world.ecs (known: ${known.join(', ') || 'none'})`);
  if (matches.length > 1) throw read.error('cluster', `is required: more than one cluster has a service ${name} (${matches.join(', ')})`);
  return model.services.get(matches[0])!;
}

/**
 * Reads a timeline `change: { ecs: {...} }`: `{ cluster, service, delete: true | purged }`,
 * `{ ..., tasks: N }` (all but N running tasks crash), `{ ..., deployment: <outcome> }` (how later
 * deployments and replacement tasks go), `{ ..., deploymentStarts: true }` (someone else deploys).
 */
function readChange(model: EcsModel, change: Record<string, unknown>, where: string): () => void {
  const read = new ChangeReader(change, where, CHANGE_KEYS);
  const svc = changedService(model, read);
  read.requireChange(['delete', 'tasks', 'deployment', 'deploymentStarts']);
  if (read.has('delete') && change.delete !== true && change.delete !== 'purged') throw read.error('delete', 'must be true (INACTIVE) or purged (gone: MISSING)');
  const tasks = read.wholeNumber('tasks', svc.desired);
  const outcome = read.has('deployment') ? readOutcome(change.deployment, `${where}.deployment`) : undefined;
  const starts = read.flag('deploymentStarts');
  if (read.has('delete')) return () => model.deleteService(svc, change.delete === 'purged');
  // A deleted service has no tasks to crash and takes no deployment: what would follow its deletion does nothing.
  return inOrder([
    outcome && (() => { svc.outcome = outcome; }),
    tasks !== undefined ? () => model.crashTasks(svc, tasks) : undefined,
    starts ? () => { if (svc.status === 'ACTIVE') model.startDeployment(svc); } : undefined,
  ]);
}

/** Reads `world.ecs` into a model on the world's clock and answers ECS calls from it. */
export function installEcs(world: World): EcsModel {
  const specs = ((world.spec.ecs as { services?: Spec[] } | undefined)?.services ?? []);
  const model = new EcsModel({ now: () => world.clock.now(), later: (seconds, change) => world.later(seconds, change) }, world.env);
  for (const [i, spec] of specs.entries()) {
    const where = `world.ecs.services[${i}]`;
    const outcome = readOutcome(spec.deployment, `${where}.deployment`);
    if (spec.deploymentController !== undefined && !DEPLOYMENT_CONTROLLERS.includes(spec.deploymentController)) {
      throw new Error(`${where}.deploymentController must be one of ${DEPLOYMENT_CONTROLLERS.join(', ')}`);
    }
    model.addService({
      cluster: spec.cluster, service: spec.service, tasks: spec.tasks, outcome, deploymentInProgress: spec.deploymentInProgress,
      controller: spec.deploymentController, classicLoadBalancer: spec.classicLoadBalancer,
    });
  }
  bindOperations(world.stub(ECSClient), model.operations, (operation, input, mutating, answer) => world.answer('ecs', operation, input, mutating, answer));
  world.changes.set('ecs', (change, where) => readChange(model, change, where));
  return model;
}

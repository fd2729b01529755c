import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { parseDuration } from '../duration';
import { AutoScalingModel, TRAFFIC_SOURCE_TYPES, healthCheckTypeError } from '../models/auto-scaling';
import { bindOperations } from '../models/operations';
import type { World } from '../world';
import { ChangeReader, inOrder } from './change-reader';

/**
 * `world.autoScaling.groups[]`: `{ name, healthCheckType (EC2), gracePeriod (0), minSize (2),
 * healthy (= minSize), targetGroups (one ARN by default, [] for none), trafficSources ([]; each
 * { identifier, type } as attached with AttachTrafficSources), tags {}, afterEnforcing: holds |
 * collapses (default holds), collapseAfter (60s) }`.
 *
 * `healthCheckType` is a comma-separated list, as AWS keeps it (`EBS,ELB`); see
 * {@link healthCheckTypeError} for what is accepted. `collapses` plays a broken health check path
 * (AsgGroup.collapses). The behaviour is the shared model's (lib/gameday/models/auto-scaling.ts,
 * which cites the AWS documentation of each); this module reads the scenario into it.
 */
type Spec = {
  name: string; healthCheckType?: string; gracePeriod?: number; minSize?: number; healthy?: number;
  targetGroups?: string[]; trafficSources?: Array<{ identifier?: string; type?: string }>; tags?: Record<string, string>;
  afterEnforcing?: 'holds' | 'collapses'; collapseAfter?: string | number;
};

/**
 * Reads a timeline `change: { autoScaling: {...} }`: `{ group, delete: true }`, `{ group, healthy: N }`
 * (healthy in-service capacity changes), `{ group, healthCheckType }` (someone else changes it).
 */
function readChange(model: AutoScalingModel, change: Record<string, unknown>, where: string): () => void {
  const read = new ChangeReader(change, where, ['group', 'delete', 'healthy', 'healthCheckType']);
  const name = read.target('group', 'Auto Scaling group');
  const group = model.groups.get(name);
  if (!group) throw read.error('group', `no group ${name} in world.autoScaling (known: ${[...model.groups.keys()].join(', ') || 'none'})`);
  read.requireChange(['delete', 'healthy', 'healthCheckType']);
  if (read.flag('delete')) return () => model.deleteGroup(group);
  const healthy = read.wholeNumber('healthy', model.size(group));
  const type = read.text('healthCheckType');
  const invalid = type === undefined ? undefined : healthCheckTypeError(type);
  if (invalid) throw read.error('healthCheckType', invalid);
  return inOrder([
    type !== undefined ? () => model.setHealthCheckType(group, type) : undefined,
    healthy !== undefined ? () => model.setHealthy(group, healthy) : undefined,
  ]);
}

/** Reads `world.autoScaling` into a model on the world's clock and answers Auto Scaling calls from it. */
export function installAutoScaling(world: World): AutoScalingModel {
  const specs = ((world.spec.autoScaling as { groups?: Spec[] } | undefined)?.groups ?? []);
  const model = new AutoScalingModel({ now: () => world.clock.now(), later: (seconds, change) => world.later(seconds, change) }, world.env);
  for (const [i, spec] of specs.entries()) {
    const where = `world.autoScaling.groups[${i}]`;
    if (typeof spec?.name !== 'string' || spec.name.length === 0) throw new Error(`${where}.name: must be a non-empty string`);
    if (spec.afterEnforcing !== undefined && spec.afterEnforcing !== 'holds' && spec.afterEnforcing !== 'collapses') {
      throw new Error(`${where}.afterEnforcing: must be holds or collapses`);
    }
    const healthCheckType = spec.healthCheckType ?? 'EC2';
    const invalid = typeof healthCheckType === 'string' ? healthCheckTypeError(healthCheckType) : 'must be a string';
    if (invalid) throw new Error(`${where}.healthCheckType: ${invalid}`);
    if (spec.trafficSources !== undefined && !Array.isArray(spec.trafficSources)) throw new Error(`${where}.trafficSources: must list { identifier, type }`);
    const trafficSources = (spec.trafficSources ?? []).map((source, j) => {
      const at = `${where}.trafficSources[${j}]`;
      if (typeof source?.identifier !== 'string' || source.identifier.length === 0) throw new Error(`${at}.identifier: must be a non-empty string`);
      if (source.type !== undefined && !TRAFFIC_SOURCE_TYPES.includes(source.type)) throw new Error(`${at}.type: must be one of ${TRAFFIC_SOURCE_TYPES.join(', ')}`);
      // The SDK doc: Type is required when the identifier is a Classic Load Balancer's name (not an ARN).
      if (source.type === undefined && !source.identifier.startsWith('arn:')) throw new Error(`${at}.type: required for a Classic Load Balancer name (type: elb)`);
      return { Identifier: source.identifier, ...(source.type !== undefined ? { Type: source.type } : {}) };
    });
    model.addGroup({
      name: spec.name,
      healthCheckType,
      gracePeriod: spec.gracePeriod ?? 0,
      ...(spec.minSize !== undefined ? { minSize: spec.minSize } : {}),
      ...(spec.healthy !== undefined ? { healthy: spec.healthy } : {}),
      ...(spec.targetGroups !== undefined ? { targetGroups: spec.targetGroups } : {}),
      trafficSources,
      tags: { ...(spec.tags ?? {}) },
      collapses: spec.afterEnforcing === 'collapses',
      collapseAfter: parseDuration(spec.collapseAfter ?? '60s', `${where}.collapseAfter`),
    });
  }
  bindOperations(world.stub(AutoScalingClient), model.operations, (operation, input, mutating, answer) => world.answer('autoscaling', operation, input, mutating, answer));
  world.changes.set('autoScaling', (change, where) => readChange(model, change, where));
  return model;
}

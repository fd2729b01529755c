import {
  AutoScalingClient, DescribeAutoScalingGroupsCommand, UpdateAutoScalingGroupCommand, type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import { parseDuration } from '../duration';
import type { World } from '../world';

/**
 * `world.autoScaling.groups[]`: `{ name, healthCheckType (EC2), gracePeriod (0), minSize (2),
 * healthy (= minSize), targetGroups (one ARN by default, [] for none), tags {}, afterEnforcing:
 * holds | collapses (default holds), collapseAfter (60s) }`.
 *
 * `collapses` plays a broken health check path: `collapseAfter` after HealthCheckType becomes ELB
 * every instance fails its ELB check, so healthy in-service capacity drops to 0 (below MinSize).
 * Back on EC2 checks, the instances are healthy again `collapseAfter` later.
 */
interface SimGroup {
  readonly name: string;
  healthCheckType: string;
  gracePeriod: number;
  readonly minSize: number;
  /** Healthy in service when nothing is wrong (the spec's `healthy`). */
  readonly normallyHealthy: number;
  healthy: number;
  readonly targetGroups: string[];
  readonly tags: Record<string, string>;
  readonly collapses: boolean;
  readonly collapseAfter: number;
  /** Bumped on every change of HealthCheckType, so a scheduled collapse or recovery of an older setting does nothing. */
  generation: number;
}

type Spec = {
  name: string; healthCheckType?: string; gracePeriod?: number; minSize?: number; healthy?: number;
  targetGroups?: string[]; tags?: Record<string, string>; afterEnforcing?: 'holds' | 'collapses'; collapseAfter?: string | number;
};

const failure = (name: string, message: string) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });

export function installAutoScaling(world: World): void {
  const specs = ((world.spec.autoScaling as { groups?: Spec[] } | undefined)?.groups ?? []);
  const groups = new Map<string, SimGroup>();
  for (const [i, spec] of specs.entries()) {
    const where = `world.autoScaling.groups[${i}]`;
    if (typeof spec?.name !== 'string' || spec.name.length === 0) throw new Error(`${where}.name: must be a non-empty string`);
    if (spec.afterEnforcing !== undefined && spec.afterEnforcing !== 'holds' && spec.afterEnforcing !== 'collapses') {
      throw new Error(`${where}.afterEnforcing: must be holds or collapses`);
    }
    const minSize = spec.minSize ?? 2;
    const healthy = spec.healthy ?? minSize;
    groups.set(spec.name, {
      name: spec.name,
      healthCheckType: spec.healthCheckType ?? 'EC2',
      gracePeriod: spec.gracePeriod ?? 0,
      minSize,
      normallyHealthy: healthy,
      healthy,
      targetGroups: spec.targetGroups
        ?? [`arn:aws:elasticloadbalancing:${world.env.region}:${world.env.account}:targetgroup/${spec.name}/0123456789abcdef`],
      tags: { ...(spec.tags ?? {}) },
      collapses: spec.afterEnforcing === 'collapses',
      collapseAfter: parseDuration(spec.collapseAfter ?? '60s', `${where}.collapseAfter`),
      generation: 0,
    });
  }

  const describe = (g: SimGroup): AutoScalingGroup => {
    const size = Math.max(g.minSize, g.normallyHealthy);
    return {
      AutoScalingGroupName: g.name,
      AutoScalingGroupARN: `arn:aws:autoscaling:${world.env.region}:${world.env.account}:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/${g.name}`,
      HealthCheckType: g.healthCheckType,
      HealthCheckGracePeriod: g.gracePeriod,
      MinSize: g.minSize,
      MaxSize: Math.max(10, size),
      DesiredCapacity: size,
      DefaultCooldown: 300,
      AvailabilityZones: [`${world.env.region}a`, `${world.env.region}b`],
      CreatedTime: new Date(0),
      TargetGroupARNs: [...g.targetGroups],
      LoadBalancerNames: [],
      Tags: Object.entries(g.tags).map(([Key, Value]) => ({ Key, Value, ResourceId: g.name, ResourceType: 'auto-scaling-group', PropagateAtLaunch: false })),
      Instances: Array.from({ length: size }, (_, i) => ({
        InstanceId: `i-${g.name}-${i}`,
        LifecycleState: 'InService',
        HealthStatus: i < g.healthy ? 'Healthy' : 'Unhealthy',
        AvailabilityZone: `${world.env.region}${i % 2 === 0 ? 'a' : 'b'}`,
        ProtectedFromScaleIn: false,
      })),
    } as AutoScalingGroup;
  };

  const autoScaling = world.stub(AutoScalingClient);

  autoScaling.on(DescribeAutoScalingGroupsCommand).callsFake((input: { AutoScalingGroupNames?: string[]; Filters?: Array<{ Name?: string; Values?: string[] }> }) =>
    world.answer('autoscaling', 'DescribeAutoScalingGroups', input, false, () => {
      const matches = [...groups.values()].filter((g) => {
        if (input.AutoScalingGroupNames && !input.AutoScalingGroupNames.includes(g.name)) return false;
        return (input.Filters ?? []).every((f) => {
          const values = f.Values ?? [];
          if (f.Name?.startsWith('tag:')) return values.includes(g.tags[f.Name.slice(4)]);
          if (f.Name === 'tag-key') return values.some((k) => k in g.tags);
          if (f.Name === 'tag-value') return Object.values(g.tags).some((v) => values.includes(v));
          return true;
        });
      });
      return { AutoScalingGroups: matches.map(describe) };
    }));

  autoScaling.on(UpdateAutoScalingGroupCommand).callsFake((input: { AutoScalingGroupName: string; HealthCheckType?: string; HealthCheckGracePeriod?: number }) =>
    world.answer('autoscaling', 'UpdateAutoScalingGroup', input, true, () => {
      const g = groups.get(input.AutoScalingGroupName);
      if (!g) throw failure('ValidationError', `AutoScalingGroup name not found - AutoScalingGroup ${input.AutoScalingGroupName} not found`);
      if (input.HealthCheckType !== undefined && !['EC2', 'ELB', 'VPC_LATTICE', 'EBS'].includes(input.HealthCheckType)) {
        throw failure('ValidationError', `Health check type ${input.HealthCheckType} is not valid`);
      }
      if (input.HealthCheckGracePeriod !== undefined) g.gracePeriod = input.HealthCheckGracePeriod;
      if (input.HealthCheckType !== undefined && input.HealthCheckType !== g.healthCheckType) {
        g.healthCheckType = input.HealthCheckType;
        const generation = ++g.generation;
        if (g.collapses) {
          // ELB checks on a broken health check path: every instance is marked unhealthy (and replaced, failing again).
          // Back on EC2 checks: the instances count as healthy again.
          const healthyThen = g.healthCheckType === 'ELB' ? 0 : g.normallyHealthy;
          world.later(g.collapseAfter, () => {
            if (g.generation === generation) g.healthy = healthyThen;
          });
        }
      }
      return {};
    }));
}

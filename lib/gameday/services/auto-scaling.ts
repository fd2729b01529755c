import {
  AutoScalingClient, DescribeAutoScalingGroupsCommand, UpdateAutoScalingGroupCommand, type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import { parseDuration } from '../duration';
import type { World } from '../world';

/**
 * The members AWS documents for HealthCheckType. node_modules/@aws-sdk/client-auto-scaling/
 * dist-types/models/models_0.d.ts, `UpdateAutoScalingGroupType.HealthCheckType` (and
 * `CreateAutoScalingGroupType.HealthCheckType`): "A comma-separated value string of one or more
 * health check types. The valid values are EC2, EBS, ELB, and VPC_LATTICE."
 */
export const HEALTH_CHECK_TYPES = ['EC2', 'EBS', 'ELB', 'VPC_LATTICE'];

/**
 * Why AWS would refuse this HealthCheckType, or nothing. Follows the SDK doc quoted on
 * {@link HEALTH_CHECK_TYPES}: one or more members, comma-separated, each one of the four (upper
 * case, as documented); an empty value or an empty member is not "one or more". Spaces around a
 * member are tolerated (the doc does not say; the value is kept exactly as given either way). The
 * message text is ours; the error code is the API's common `ValidationError` (HTTP 400,
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/CommonErrors.html).
 */
export function healthCheckTypeError(value: string): string | undefined {
  const members = value.split(',').map((m) => m.trim());
  const bad = members.filter((m) => !HEALTH_CHECK_TYPES.includes(m));
  if (value.trim().length === 0 || bad.length > 0) {
    return `Invalid HealthCheckType '${value}': must be one or more comma-separated values of ${HEALTH_CHECK_TYPES.join(', ')}`;
  }
  return undefined;
}

/** Whether a (valid) HealthCheckType list includes `type`: the list semantics of the SDK doc above. */
export const includesHealthCheck = (value: string, type: string): boolean => value.split(',').map((m) => m.trim()).includes(type);

/**
 * The traffic source types the SDK documents (models_0.d.ts, `TrafficSourceIdentifier.Type`):
 * `elb` (a Classic Load Balancer name), `elbv2` (an ALB, NLB or GWLB target group ARN),
 * `vpc-lattice` (a VPC Lattice target group ARN). `Type` is "Required if the identifier is the
 * name of a Classic Load Balancer".
 */
export const TRAFFIC_SOURCE_TYPES = ['elb', 'elbv2', 'vpc-lattice'];

/**
 * `world.autoScaling.groups[]`: `{ name, healthCheckType (EC2), gracePeriod (0), minSize (2),
 * healthy (= minSize), targetGroups (one ARN by default, [] for none), trafficSources ([]; each
 * { identifier, type } as attached with AttachTrafficSources), tags {}, afterEnforcing: holds |
 * collapses (default holds), collapseAfter (60s) }`.
 *
 * `healthCheckType` is a comma-separated list, as AWS keeps it (`EBS,ELB`); see
 * {@link healthCheckTypeError} for what is accepted.
 *
 * `collapses` plays a broken health check path: `collapseAfter` after HealthCheckType comes to
 * include ELB every instance fails its ELB check, so healthy in-service capacity drops to 0 (below
 * MinSize). Once the list no longer includes ELB (the rollback), the instances are healthy again
 * `collapseAfter` later.
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
  /** As attached with AttachTrafficSources: shown in `TrafficSources` only (see describe). */
  readonly trafficSources: Array<{ Identifier: string; Type?: string }>;
  readonly tags: Record<string, string>;
  readonly collapses: boolean;
  readonly collapseAfter: number;
  /** Bumped on every change of HealthCheckType, so a scheduled collapse or recovery of an older setting does nothing. */
  generation: number;
}

type Spec = {
  name: string; healthCheckType?: string; gracePeriod?: number; minSize?: number; healthy?: number;
  targetGroups?: string[]; trafficSources?: Array<{ identifier?: string; type?: string }>; tags?: Record<string, string>;
  afterEnforcing?: 'holds' | 'collapses'; collapseAfter?: string | number;
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
    const minSize = spec.minSize ?? 2;
    const healthy = spec.healthy ?? minSize;
    groups.set(spec.name, {
      name: spec.name,
      healthCheckType,
      gracePeriod: spec.gracePeriod ?? 0,
      minSize,
      normallyHealthy: healthy,
      healthy,
      targetGroups: spec.targetGroups
        ?? [`arn:aws:elasticloadbalancing:${world.env.region}:${world.env.account}:targetgroup/${spec.name}/0123456789abcdef`],
      trafficSources,
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
      // AutoScalingGroup.TrafficSources (SDK doc: "The traffic sources associated with this Auto Scaling group"),
      // TrafficSourceIdentifier { Identifier, Type }. Sources attached with AttachTrafficSources are shown here only:
      // the SDK doc of DescribeLoadBalancerTargetGroups says it does not describe them, and no doc says they are
      // copied into TargetGroupARNs. Whether AWS also lists TargetGroupARNs here is not documented; the runbook
      // reads both fields, so the world keeps each where the scenario attached it.
      TrafficSources: g.trafficSources.map((t) => ({ ...t })),
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
      // UpdateAutoScalingGroupType.HealthCheckType (SDK doc): a comma-separated list of EC2, EBS, ELB, VPC_LATTICE;
      // anything else is refused with a ValidationError before anything changes.
      if (input.HealthCheckType !== undefined) {
        const invalid = healthCheckTypeError(input.HealthCheckType);
        if (invalid) throw failure('ValidationError', invalid);
      }
      if (input.HealthCheckGracePeriod !== undefined) g.gracePeriod = input.HealthCheckGracePeriod;
      // The group keeps exactly the string given: the update replaces the list, it does not merge into it (the SDK doc:
      // "Only specify EC2 if you must clear a value that was previously set"; AWS's runbook AWSSupportRemediator-
      // EnableAutoScalingGroupElbHealthCheck sends the existing types plus ELB to keep them).
      if (input.HealthCheckType !== undefined && input.HealthCheckType !== g.healthCheckType) {
        g.healthCheckType = input.HealthCheckType;
        const generation = ++g.generation;
        if (g.collapses) {
          // ELB checks on a broken health check path: every instance is marked unhealthy (and replaced, failing again).
          // Without ELB in the list: the instances count as healthy again.
          const healthyThen = includesHealthCheck(g.healthCheckType, 'ELB') ? 0 : g.normallyHealthy;
          world.later(g.collapseAfter, () => {
            if (g.generation === generation) g.healthy = healthyThen;
          });
        }
      }
      return {};
    }));
}

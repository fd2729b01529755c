import {
  DescribeAutoScalingGroupsCommand, UpdateAutoScalingGroupCommand, type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import type { ModelClock, ModelEnv } from './clock';
import { awsError, type ModelOperations } from './operations';

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

/** An Auto Scaling group as the model keeps it. */
export interface AsgGroup {
  readonly name: string;
  /** A comma-separated list, as AWS keeps it (`EBS,ELB`). */
  healthCheckType: string;
  gracePeriod: number;
  readonly minSize: number;
  /** Healthy in service when nothing is wrong. */
  readonly normallyHealthy: number;
  healthy: number;
  readonly targetGroups: string[];
  /** As attached with AttachTrafficSources: shown in `TrafficSources` only (see describe). */
  readonly trafficSources: Array<{ Identifier: string; Type?: string }>;
  readonly tags: Record<string, string>;
  /**
   * A broken health check path: `collapseAfter` seconds after HealthCheckType comes to include ELB
   * every instance fails its ELB check, so healthy in-service capacity drops to 0 (below MinSize).
   * Once the list no longer includes ELB (the rollback), the instances are healthy again
   * `collapseAfter` later.
   */
  collapses: boolean;
  collapseAfter: number;
  /** Bumped on every change of HealthCheckType, so a scheduled collapse or recovery of an older setting does nothing. */
  generation: number;
}

/**
 * Amazon EC2 Auto Scaling groups for the ELB health-check runbook and its sweep:
 * DescribeAutoScalingGroups (names and tag filters) and UpdateAutoScalingGroup (HealthCheckType,
 * HealthCheckGracePeriod), and how healthy capacity follows the health checks over time. Used by
 * the game-day world (lib/gameday/services/auto-scaling.ts) and the workflow tests
 * (test/support/fake-auto-scaling.ts). Each behaviour follows the SDK doc comment of
 * @aws-sdk/client-auto-scaling (dist-types/models/models_0.d.ts) or the page named beside it.
 */
export class AutoScalingModel {
  readonly groups = new Map<string, AsgGroup>();

  readonly operations: ModelOperations = {
    DescribeAutoScalingGroups: {
      command: DescribeAutoScalingGroupsCommand, mutating: false,
      answer: (input: { AutoScalingGroupNames?: string[]; Filters?: Array<{ Name?: string; Values?: string[] }> }) => this.describeAutoScalingGroups(input),
    },
    UpdateAutoScalingGroup: {
      command: UpdateAutoScalingGroupCommand, mutating: true,
      answer: (input: { AutoScalingGroupName: string; HealthCheckType?: string; HealthCheckGracePeriod?: number }) => this.updateAutoScalingGroup(input),
    },
  };

  constructor(private readonly clock: ModelClock, private readonly env: ModelEnv) {}

  /** A group behind one target group, EC2 health checks, MinSize 2 all healthy, capacity holding, unless said. */
  addGroup(spec: Partial<Omit<AsgGroup, 'generation' | 'normallyHealthy'>> & { name: string }): AsgGroup {
    const invalid = healthCheckTypeError(spec.healthCheckType ?? 'EC2');
    if (invalid) throw new Error(`group ${spec.name}: ${invalid}`);
    const minSize = spec.minSize ?? 2;
    const healthy = spec.healthy ?? minSize;
    const group: AsgGroup = {
      healthCheckType: 'EC2', gracePeriod: 0, minSize,
      targetGroups: [`arn:aws:elasticloadbalancing:${this.env.region}:${this.env.account}:targetgroup/${spec.name}/0123456789abcdef`],
      trafficSources: [], tags: {}, collapses: false, collapseAfter: 60,
      ...spec, healthy, normallyHealthy: healthy, generation: 0,
    };
    this.groups.set(group.name, group);
    return group;
  }

  /** DescribeAutoScalingGroups: by AutoScalingGroupNames and Filters (Filter.Name: `tag:<key>`, `tag-key`, `tag-value`). */
  describeAutoScalingGroups(input: { AutoScalingGroupNames?: string[]; Filters?: Array<{ Name?: string; Values?: string[] }> }): { AutoScalingGroups: AutoScalingGroup[] } {
    const matches = [...this.groups.values()].filter((g) => {
      if (input.AutoScalingGroupNames && !input.AutoScalingGroupNames.includes(g.name)) return false;
      return (input.Filters ?? []).every((f) => {
        const values = f.Values ?? [];
        if (f.Name?.startsWith('tag:')) return values.includes(g.tags[f.Name.slice(4)]);
        if (f.Name === 'tag-key') return values.some((k) => k in g.tags);
        if (f.Name === 'tag-value') return Object.values(g.tags).some((v) => values.includes(v));
        return true;
      });
    });
    return { AutoScalingGroups: matches.map((g) => this.describe(g)) };
  }

  updateAutoScalingGroup(input: { AutoScalingGroupName: string; HealthCheckType?: string; HealthCheckGracePeriod?: number }): Record<string, never> {
    const g = this.groups.get(input.AutoScalingGroupName);
    // CommonErrors: ValidationError, "The input fails to satisfy the constraints specified by an AWS service" (400).
    if (!g) throw awsError('ValidationError', `AutoScalingGroup name not found - AutoScalingGroup ${input.AutoScalingGroupName} not found`);
    // UpdateAutoScalingGroupType.HealthCheckType (SDK doc): a comma-separated list of EC2, EBS, ELB, VPC_LATTICE;
    // anything else is refused with a ValidationError before anything changes.
    if (input.HealthCheckType !== undefined) {
      const invalid = healthCheckTypeError(input.HealthCheckType);
      if (invalid) throw awsError('ValidationError', invalid);
    }
    if (input.HealthCheckGracePeriod !== undefined) g.gracePeriod = input.HealthCheckGracePeriod;
    // The group keeps exactly the string given: the update replaces the list, it does not merge into it (the SDK doc:
    // "Only specify EC2 if you must clear a value that was previously set"; AWS's runbook AWSSupportRemediator-
    // EnableAutoScalingGroupElbHealthCheck sends the existing types plus ELB to keep them).
    if (input.HealthCheckType !== undefined) this.setHealthCheckType(g, input.HealthCheckType);
    return {};
  }

  /**
   * The group's HealthCheckType becomes `type` (a valid list), whoever changed it: UpdateAutoScalingGroup,
   * or someone else (a timeline change). A collapsing group's capacity follows it.
   */
  setHealthCheckType(g: AsgGroup, type: string): void {
    if (type === g.healthCheckType) return;
    g.healthCheckType = type;
    const generation = ++g.generation;
    if (!g.collapses) return;
    // EC2 Auto Scaling User Guide, health checks: with ELB checks an instance the load balancer reports unhealthy
    // is marked unhealthy and replaced; on a broken health check path every instance (and each replacement) fails.
    // Without ELB in the list: the instances count as healthy again.
    const healthyThen = includesHealthCheck(g.healthCheckType, 'ELB') ? 0 : g.normallyHealthy;
    this.clock.later(g.collapseAfter, () => {
      if (g.generation === generation) g.healthy = healthyThen;
    });
  }

  /** How many instances the group has in service ({@link describe}): max(MinSize, the healthy ones when nothing is wrong). */
  size(g: AsgGroup): number {
    return Math.max(g.minSize, g.normallyHealthy);
  }

  /**
   * Healthy in-service capacity changes (instances fail their health checks, or recover): `healthy`
   * of the group's instances are Healthy, the rest Unhealthy (Instance.HealthStatus: "Unhealthy
   * means that the instance is unhealthy and that Amazon EC2 Auto Scaling should terminate and
   * replace it"; the model keeps them Unhealthy, as a broken health check path does).
   */
  setHealthy(g: AsgGroup, healthy: number): void {
    g.healthy = Math.min(healthy, this.size(g));
  }

  /**
   * DeleteAutoScalingGroup: the group is gone. DescribeAutoScalingGroups leaves a name it does not
   * know out of its answer (its AutoScalingGroupNames "If you omit this property, all Auto Scaling
   * groups are described"; no error is documented for an unknown name), and UpdateAutoScalingGroup
   * answers the ValidationError above. The model skips "Delete in progress" (AutoScalingGroup.Status).
   */
  deleteGroup(g: AsgGroup): void {
    this.groups.delete(g.name);
  }

  private describe(g: AsgGroup): AutoScalingGroup {
    const size = this.size(g);
    const { region, account } = this.env;
    return {
      AutoScalingGroupName: g.name,
      AutoScalingGroupARN: `arn:aws:autoscaling:${region}:${account}:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/${g.name}`,
      HealthCheckType: g.healthCheckType,
      HealthCheckGracePeriod: g.gracePeriod,
      MinSize: g.minSize,
      MaxSize: Math.max(10, size),
      DesiredCapacity: size,
      DefaultCooldown: 300,
      AvailabilityZones: [`${region}a`, `${region}b`],
      CreatedTime: new Date(0),
      TargetGroupARNs: [...g.targetGroups],
      LoadBalancerNames: [],
      // AutoScalingGroup.TrafficSources (SDK doc: "The traffic sources associated with this Auto Scaling group"),
      // TrafficSourceIdentifier { Identifier, Type }. Sources attached with AttachTrafficSources are shown here only:
      // the SDK doc of DescribeLoadBalancerTargetGroups says it does not describe them, and no doc says they are
      // copied into TargetGroupARNs. Whether AWS also lists TargetGroupARNs here is not documented; the runbook
      // reads both fields, so the model keeps each where it was attached.
      TrafficSources: g.trafficSources.map((t) => ({ ...t })),
      Tags: Object.entries(g.tags).map(([Key, Value]) => ({ Key, Value, ResourceId: g.name, ResourceType: 'auto-scaling-group', PropagateAtLaunch: false })),
      // Instance.HealthStatus: "The last reported health status of the instance. Healthy means that the instance is
      // healthy and should remain in service. Unhealthy means that ... Amazon EC2 Auto Scaling should terminate and replace it."
      Instances: Array.from({ length: size }, (_, i) => ({
        InstanceId: `i-${g.name}-${i}`,
        LifecycleState: 'InService',
        HealthStatus: i < g.healthy ? 'Healthy' : 'Unhealthy',
        AvailabilityZone: `${region}${i % 2 === 0 ? 'a' : 'b'}`,
        ProtectedFromScaleIn: false,
      })),
    } as AutoScalingGroup;
  }
}

import {
  AutoScalingClient, DescribeAutoScalingGroupsCommand, UpdateAutoScalingGroupCommand, type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import { healthCheckTypeError, includesHealthCheck } from '../../lib/gameday/services/auto-scaling';

interface FakeGroup {
  /** A comma-separated list, as AWS keeps it (`EBS,ELB`). */
  healthCheckType: string;
  gracePeriod: number;
  minSize: number;
  healthy: number;
  targetGroups: string[];
  /** As attached with AttachTrafficSources (`TrafficSourceIdentifier`: `Identifier`, `Type` elb | elbv2 | vpc-lattice). */
  trafficSources: Array<{ Identifier: string; Type?: string }>;
  tags: Record<string, string>;
}

/**
 * Simulated EC2 Auto Scaling for workflow tests: groups that take UpdateAutoScalingGroup, and
 * whose healthy capacity holds or collapses after ELB health checks are enforced. HealthCheckType
 * follows the game day's world (lib/gameday/services/auto-scaling.ts, which cites the SDK doc for
 * each rule): a comma-separated list of EC2, EBS, ELB, VPC_LATTICE, kept exactly as written.
 */
export class FakeAutoScaling {
  readonly client = mockClient(AutoScalingClient);
  readonly groups = new Map<string, FakeGroup>();
  /** What enforcing ELB checks does: `holds`, or `collapses` (a broken health check path: instances replaced). */
  afterEnforcing: 'holds' | 'collapses' = 'holds';
  /** The next this-many UpdateAutoScalingGroup calls are throttled. */
  throttledUpdates = 0;
  /** Called with each UpdateAutoScalingGroup (1-based): an error to answer with instead, or nothing. */
  updateFault?: (call: number, input: Record<string, unknown>) => Error | undefined;
  private updateCalls = 0;

  constructor() {
    this.install();
  }

  reset(): void {
    this.client.reset();
    this.groups.clear();
    this.afterEnforcing = 'holds';
    this.throttledUpdates = 0;
    this.updateFault = undefined;
    this.updateCalls = 0;
    this.updates.length = 0;
    this.install();
  }

  restore(): void {
    this.client.restore();
  }

  /** A group behind a target group, with EC2-only health checks, 2 of 2 healthy, MinSize 2. */
  addGroup(name: string, overrides: Partial<FakeGroup> = {}): FakeGroup {
    const group: FakeGroup = {
      healthCheckType: 'EC2', gracePeriod: 0, minSize: 2, healthy: 2,
      targetGroups: [`arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/${name}/0123456789abcdef`], trafficSources: [], tags: {}, ...overrides,
    };
    const invalid = healthCheckTypeError(group.healthCheckType);
    if (invalid) throw new Error(`addGroup ${name}: ${invalid}`);
    this.groups.set(name, group);
    return group;
  }

  /** UpdateAutoScalingGroup calls that went through (throttled ones excluded). */
  readonly updates: Array<Record<string, unknown>> = [];

  private describe(name: string, g: FakeGroup): AutoScalingGroup {
    return {
      AutoScalingGroupName: name, HealthCheckType: g.healthCheckType, HealthCheckGracePeriod: g.gracePeriod,
      MinSize: g.minSize, MaxSize: 10, DesiredCapacity: g.minSize, DefaultCooldown: 300, AvailabilityZones: ['eu-west-1a'], CreatedTime: new Date(0),
      TargetGroupARNs: g.targetGroups, LoadBalancerNames: [],
      // AutoScalingGroup.TrafficSources (models_0.d.ts): sources attached with AttachTrafficSources, shown here only
      // (DescribeLoadBalancerTargetGroups' SDK doc: it does not describe target groups attached that way).
      TrafficSources: g.trafficSources.map((t) => ({ ...t })),
      Tags: Object.entries(g.tags).map(([Key, Value]) => ({ Key, Value, ResourceId: name, ResourceType: 'auto-scaling-group', PropagateAtLaunch: false })),
      Instances: Array.from({ length: g.minSize }, (_, i) => ({
        InstanceId: `i-${name}-${i}`, LifecycleState: 'InService', HealthStatus: i < g.healthy ? 'Healthy' : 'Unhealthy',
        AvailabilityZone: 'eu-west-1a', ProtectedFromScaleIn: false,
      })),
    } as AutoScalingGroup;
  }

  private install(): void {
    this.client.on(DescribeAutoScalingGroupsCommand).callsFake((input) => {
      const tagFilter = (input.Filters ?? []).find((f: { Name: string }) => f.Name.startsWith('tag:'));
      const entries = [...this.groups.entries()].filter(([name, g]) => {
        if (input.AutoScalingGroupNames && !input.AutoScalingGroupNames.includes(name)) return false;
        if (tagFilter && !tagFilter.Values.includes(g.tags[tagFilter.Name.slice(4)])) return false;
        return true;
      });
      return { AutoScalingGroups: entries.map(([name, g]) => this.describe(name, g)) };
    });
    this.client.on(UpdateAutoScalingGroupCommand).callsFake((input) => {
      const fault = this.updateFault?.(++this.updateCalls, input);
      if (fault) throw fault;
      if (this.throttledUpdates > 0) {
        this.throttledUpdates -= 1;
        throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $fault: 'client', $metadata: { httpStatusCode: 400 } });
      }
      // UpdateAutoScalingGroupType.HealthCheckType (models_0.d.ts): "A comma-separated value string of one or more
      // health check types. The valid values are EC2, EBS, ELB, and VPC_LATTICE": anything else is a ValidationError
      // (the API's common error for a parameter that fails its constraints, HTTP 400), and nothing changes.
      const invalid = input.HealthCheckType !== undefined ? healthCheckTypeError(input.HealthCheckType) : undefined;
      if (invalid) throw Object.assign(new Error(invalid), { name: 'ValidationError', $fault: 'client', $metadata: { httpStatusCode: 400 } });
      this.updates.push({ ...input });
      const group = this.groups.get(input.AutoScalingGroupName)!;
      // Exactly the string given: the update replaces the list, it never merges into it.
      if (input.HealthCheckType !== undefined) group.healthCheckType = input.HealthCheckType;
      if (input.HealthCheckGracePeriod !== undefined) group.gracePeriod = input.HealthCheckGracePeriod;
      if (includesHealthCheck(group.healthCheckType, 'ELB') && this.afterEnforcing === 'collapses') group.healthy = 0;
      return { $metadata: { requestId: `asg-req-${this.updateCalls}`, httpStatusCode: 200 } };
    });
  }
}

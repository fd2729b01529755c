import type { AutoScalingGroup, TrafficSourceIdentifier } from '@aws-sdk/client-auto-scaling';

/**
 * The one place that decides whether an Auto Scaling group has ELB health checks (the runbook's
 * plan and verification, and the sweep, all call it).
 *
 * `HealthCheckType` is a list, not one value. node_modules/@aws-sdk/client-auto-scaling/dist-types/
 * models/models_0.d.ts says so on `AutoScalingGroup.HealthCheckType` ("One or more comma-separated
 * health check types for the Auto Scaling group") and on `UpdateAutoScalingGroupType.HealthCheckType`
 * ("A comma-separated value string of one or more health check types. The valid values are EC2, EBS,
 * ELB, and VPC_LATTICE. EC2 is the default health check and cannot be disabled ... Only specify EC2
 * if you must clear a value that was previously set."). AWS's own remediation runbook does what this
 * does (https://docs.aws.amazon.com/systems-manager-automation-runbooks/latest/userguide/automation-awssupportremediator-enableautoscalinggroupelbhealthcheck.html):
 * a group that "already includes ELB in its health check types" is left alone, and otherwise ELB is
 * appended to the existing types ("resulting in EBS,ELB"); "Because EC2 is the default and cannot be
 * disabled, it does not appear in the value alongside other types."
 */

/** The members AWS documents for `HealthCheckType` (SDK doc on `UpdateAutoScalingGroupType.HealthCheckType`). */
export const HEALTH_CHECK_TYPES = ['EC2', 'EBS', 'ELB', 'VPC_LATTICE'] as const;

/** The entries of a `HealthCheckType` value: split on commas, trimmed, empties dropped; nothing at all means `EC2` (the default). */
export function healthCheckTypes(value: string | undefined): string[] {
  const entries = (value ?? '').split(',').map((t) => t.trim()).filter((t) => t.length > 0);
  return entries.length > 0 ? entries : ['EC2'];
}

/** Whether the value includes `ELB`, compared exactly as AWS returns it (upper case). */
export const includesElb = (value: string | undefined): boolean => healthCheckTypes(value).includes('ELB');

/** Entries that are not one of {@link HEALTH_CHECK_TYPES} (this runbook does not rewrite a value it does not understand). */
export const unrecognizedHealthCheckTypes = (value: string | undefined): string[] =>
  healthCheckTypes(value).filter((t) => !(HEALTH_CHECK_TYPES as readonly string[]).includes(t));

/**
 * The value that adds ELB checks and keeps every other one: the existing entries in their order
 * (duplicates once), then `ELB`. `EC2` is dropped, as AWS's runbook writes it: EC2 checks are
 * always on and the value does not list EC2 beside other types. `EC2` -> `ELB`, `EBS` -> `EBS,ELB`,
 * `VPC_LATTICE,EBS` -> `VPC_LATTICE,EBS,ELB`.
 */
export function withElbHealthCheck(value: string | undefined): string {
  const kept = healthCheckTypes(value).filter((t, i, all) => t !== 'EC2' && t !== 'ELB' && all.indexOf(t) === i);
  return [...kept, 'ELB'].join(',');
}

/**
 * Where the group's traffic comes from, by who health-checks it. A group reports load balancers in
 * three fields of `DescribeAutoScalingGroups` (SDK doc on `AutoScalingGroup`): `LoadBalancerNames`
 * (Classic Load Balancers), `TargetGroupARNs` (ELBv2 target groups) and `TrafficSources` (from
 * `AttachTrafficSources`: `TrafficSourceIdentifier` with `Identifier` and `Type`, where `Type` is
 * `elb` for a Classic Load Balancer name, `elbv2` for an Application, Network or Gateway Load
 * Balancer target group ARN, `vpc-lattice` for a VPC Lattice target group ARN; it is "Required if
 * the identifier is the name of a Classic Load Balancer"). The SDK doc of
 * DescribeLoadBalancerTargetGroups notes that it does not describe target groups attached with
 * AttachTrafficSources, so a target group may appear only in `TrafficSources`: all three are read.
 */
export interface TrafficTargets {
  /** Classic Load Balancer names and ELBv2 target group ARNs (deduplicated across the three fields): what `ELB` health checks use. */
  readonly elb: string[];
  /** VPC Lattice target groups: checked by `VPC_LATTICE` health checks, which ELB health checks do not cover. */
  readonly vpcLattice: string[];
  /** Traffic sources of a type this runbook does not know (`Type:Identifier`): never counted as a load balancer. */
  readonly unrecognized: string[];
}

/** A traffic source's kind: its `Type`, or when absent, what its ARN names. */
function kindOf(source: TrafficSourceIdentifier): 'elb' | 'vpc-lattice' | undefined {
  const type = source.Type ?? (/^arn:[^:]+:vpc-lattice:/.test(source.Identifier ?? '') ? 'vpc-lattice'
    : /^arn:[^:]+:elasticloadbalancing:/.test(source.Identifier ?? '') ? 'elbv2' : undefined);
  if (type === 'elb' || type === 'elbv2') return 'elb';
  if (type === 'vpc-lattice') return 'vpc-lattice';
  return undefined;
}

export function trafficTargets(group: AutoScalingGroup): TrafficTargets {
  const elb = new Set<string>([...(group.LoadBalancerNames ?? []), ...(group.TargetGroupARNs ?? [])]);
  const vpcLattice = new Set<string>();
  const unrecognized: string[] = [];
  for (const source of group.TrafficSources ?? []) {
    if (!source.Identifier) continue;
    const kind = kindOf(source);
    if (kind === 'elb') elb.add(source.Identifier);
    else if (kind === 'vpc-lattice') vpcLattice.add(source.Identifier);
    else unrecognized.push(`${source.Type ?? '(no type)'}:${source.Identifier}`);
  }
  return { elb: [...elb], vpcLattice: [...vpcLattice], unrecognized };
}

/**
 * The compliance of one group, in this order:
 * - `nothing-to-enforce`: no Classic Load Balancer and no ELBv2 target group, in any of the three
 *   fields. A group behind VPC Lattice only lands here on purpose: ELB health checks would see
 *   nothing there, and Lattice's own `VPC_LATTICE` health checks are not this runbook's to turn on.
 * - `compliant`: `HealthCheckType` includes `ELB` (whatever else it lists).
 * - `unsupported`: it lists a type AWS does not document (a newer AWS type, or a case AWS does not
 *   return): refused rather than rewritten.
 * - `non-compliant`: behind a load balancer without ELB checks; `fix` is the value to write.
 */
export type Compliance =
  | { readonly status: 'nothing-to-enforce'; readonly reason: string; readonly targets: TrafficTargets }
  | { readonly status: 'compliant'; readonly reason: string; readonly targets: TrafficTargets }
  | { readonly status: 'unsupported'; readonly reason: string; readonly targets: TrafficTargets }
  | { readonly status: 'non-compliant'; readonly reason: string; readonly targets: TrafficTargets; readonly current: string; readonly fix: string };

export function elbHealthCheckCompliance(group: AutoScalingGroup): Compliance {
  const targets = trafficTargets(group);
  const current = group.HealthCheckType || 'EC2';
  if (targets.elb.length === 0) {
    const lattice = targets.vpcLattice.length > 0
      ? `only VPC Lattice target group(s) are attached (${targets.vpcLattice.length}); ELB health checks would see nothing there, and VPC_LATTICE health checks are not this runbook's to enforce`
      : 'no load balancer or target group is attached, so ELB health checks would see nothing';
    const other = targets.unrecognized.length > 0 ? ` (traffic sources of an unknown type are not counted: ${targets.unrecognized.join(', ')})` : '';
    return { status: 'nothing-to-enforce', reason: `nothing to enforce: ${lattice}${other}`, targets };
  }
  if (includesElb(current)) {
    return { status: 'compliant', reason: `already compliant: HealthCheckType ${current}, grace period ${group.HealthCheckGracePeriod ?? 0}s`, targets };
  }
  const unknown = unrecognizedHealthCheckTypes(current);
  if (unknown.length > 0) {
    return {
      status: 'unsupported',
      reason: `HealthCheckType ${current} lists ${unknown.join(', ')}, not one of ${HEALTH_CHECK_TYPES.join(', ')}: not rewriting a value this runbook does not understand`,
      targets,
    };
  }
  return {
    status: 'non-compliant',
    reason: `behind ${targets.elb.length} load balancer target(s) but its health checks (${current}) do not include ELB`,
    targets,
    current,
    fix: withElbHealthCheck(current),
  };
}

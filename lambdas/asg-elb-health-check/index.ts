import {
  AutoScalingClient, DescribeAutoScalingGroupsCommand, UpdateAutoScalingGroupCommand, type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import { describeError } from '../shared/errors';
import type { MutationGate } from '../shared/mutation-gate';
import { runbookHandler, type ActOutput, type CheckResult, type RollbackOutput, type RunbookSteps } from '../shared/runbook-steps';
import type { Plan, WorkflowState } from '../shared/types';
import { elbHealthCheckCompliance, includesElb, trafficTargets, withElbHealthCheck } from './health-check-types';
import { resolveAsgElbHealthCheckOptions, type AsgElbHealthCheckOptions } from './options';

export type { AsgElbHealthCheckOptions } from './options';

/** Health-check settings: before enforcement (what a rollback restores, exactly) and as enforced. */
export interface HealthCheckSettings {
  /** A comma-separated list (`EBS,ELB`), exactly as AWS returned it or as written. */
  readonly HealthCheckType: string;
  readonly HealthCheckGracePeriod: number;
}

const autoScaling = new AutoScalingClient({});

function optionsOf(state: WorkflowState): AsgElbHealthCheckOptions {
  return resolveAsgElbHealthCheckOptions(state.runbook.options as Partial<AsgElbHealthCheckOptions>);
}

async function describeGroup(name: string): Promise<AutoScalingGroup | undefined> {
  const out = await autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
  return out.AutoScalingGroups?.find((g) => g.AutoScalingGroupName === name);
}

/** Instances that count as capacity: in service and healthy. */
const healthyInService = (g: AutoScalingGroup): number =>
  (g.Instances ?? []).filter((i) => i.LifecycleState === 'InService' && i.HealthStatus === 'Healthy').length;

function readingsOf(g: AutoScalingGroup): Record<string, unknown> {
  const targets = trafficTargets(g);
  return {
    healthCheckType: g.HealthCheckType,
    healthCheckGracePeriod: g.HealthCheckGracePeriod,
    minSize: g.MinSize,
    desiredCapacity: g.DesiredCapacity,
    inService: (g.Instances ?? []).filter((i) => i.LifecycleState === 'InService').length,
    healthyInService: healthyInService(g),
    loadBalancerTargets: targets.elb.length,
    ...(targets.vpcLattice.length > 0 ? { vpcLatticeTargets: targets.vpcLattice.length } : {}),
  };
}

/** Configured by name, or carrying the opt-in tag; anything else is not this runbook's to change. */
function allowListRefusal(name: string, g: AutoScalingGroup, options: AsgElbHealthCheckOptions): string | undefined {
  if (options.autoScalingGroups.includes(name)) return undefined;
  const tag = options.optInTag;
  if (tag && (g.Tags ?? []).some((t) => t.Key === tag.key && t.Value === tag.value)) return undefined;
  return `Auto Scaling group ${name} is neither configured${tag ? ` nor tagged ${tag.key}=${tag.value}` : ' (and no opt-in tag is configured)'}`;
}

const decide = (decision: Plan['decision'], reason: string, summary: string, details: Record<string, unknown>, plannedCalls?: Plan['plannedCalls']): Plan =>
  ({ decision, reason, summary, details, ...(plannedCalls ? { plannedCalls } : {}) });

async function update(gate: MutationGate, name: string, settings: HealthCheckSettings): Promise<void> {
  const parameters = { AutoScalingGroupName: name, ...settings };
  await gate.call({ service: 'autoscaling', operation: 'UpdateAutoScalingGroup', target: name, parameters },
    () => autoScaling.send(new UpdateAutoScalingGroupCommand(parameters)));
}

export const steps: RunbookSteps = {
  async plan(state) {
    const name = state.incident!.target!.id;
    const options = optionsOf(state);
    const group = await describeGroup(name);
    if (!group) return decide('escalate', `Auto Scaling group ${name} not found`, 'nothing to enforce', {});
    const readings = readingsOf(group);
    const refusal = allowListRefusal(name, group, options);
    if (refusal) return decide('escalate', refusal, 'not changing a group this runbook was not given', readings);
    // One rule for the plan and the sweep (health-check-types.ts): which traffic ELB checks see, and whether HealthCheckType lists ELB.
    const compliance = elbHealthCheckCompliance(group);
    if (compliance.status === 'nothing-to-enforce' || compliance.status === 'compliant') return decide('noop', compliance.reason, 'no change', readings);
    if (compliance.status === 'unsupported') return decide('escalate', compliance.reason, 'not changing health checks this runbook does not understand', readings);
    const previous: HealthCheckSettings = { HealthCheckType: compliance.current, HealthCheckGracePeriod: group.HealthCheckGracePeriod ?? 0 };
    const planned: HealthCheckSettings = { HealthCheckType: compliance.fix, HealthCheckGracePeriod: options.healthCheckGracePeriod };
    return decide('act', `${name} is ${compliance.reason}`,
      `UpdateAutoScalingGroup ${name}: HealthCheckType ${previous.HealthCheckType} -> ${planned.HealthCheckType}, HealthCheckGracePeriod ${previous.HealthCheckGracePeriod} -> ${planned.HealthCheckGracePeriod}s`,
      { ...readings, previous, planned, loadBalancers: compliance.targets.elb, ...(compliance.targets.vpcLattice.length > 0 ? { vpcLattice: compliance.targets.vpcLattice } : {}) },
      [{ batch: 0, service: 'autoscaling', operation: 'UpdateAutoScalingGroup', target: name }]);
  },

  async act(state, gate): Promise<ActOutput> {
    const name = state.incident!.target!.id;
    const previous = state.plan!.details.previous as HealthCheckSettings | undefined;
    if (!previous?.HealthCheckType) throw new Error(`no recorded previous health-check settings for ${name}: not guessing which checks to keep`);
    // The recorded list plus ELB: every check the group had stays (EBS,ELB, not ELB).
    const applied: HealthCheckSettings = { HealthCheckType: withElbHealthCheck(previous.HealthCheckType), HealthCheckGracePeriod: optionsOf(state).healthCheckGracePeriod };
    await update(gate, name, applied);
    return {
      summary: `set ${name} to HealthCheckType ${applied.HealthCheckType} (ELB health checks added to ${previous.HealthCheckType}) with a ${applied.HealthCheckGracePeriod}s grace period`,
      batch: 0,
      moreBatches: false,
      details: { previous, applied },
    };
  },

  async check(state): Promise<CheckResult> {
    const name = state.incident!.target!.id;
    const applied = state.act!.details.applied as HealthCheckSettings;
    let group: AutoScalingGroup | undefined;
    try {
      group = await describeGroup(name);
    } catch (error) {
      return { verdict: 'inconclusive', reason: `${name} could not be read: ${describeError(error)}`, readings: {} };
    }
    if (!group) return { verdict: 'inconclusive', reason: `Auto Scaling group ${name} not found`, readings: {} };
    const readings = readingsOf(group);
    const healthy = healthyInService(group);
    const minSize = group.MinSize ?? 0;
    // Checked first: a collapsing group is the danger, whatever the settings read.
    if (healthy < minSize) {
      return { verdict: 'failure', reason: `healthy in-service capacity ${healthy} fell below MinSize ${minSize} after enforcing ELB health checks (a broken health check path would start a replacement storm)`, readings };
    }
    // The list includes ELB (the same rule as the plan's), and the grace period is the one set.
    if (!includesElb(group.HealthCheckType) || group.HealthCheckGracePeriod !== applied.HealthCheckGracePeriod) {
      return { verdict: 'pending', reason: `settings not visible yet: ${group.HealthCheckType}, ${group.HealthCheckGracePeriod}s`, readings };
    }
    return { verdict: 'success', reason: `ELB health checks with a ${applied.HealthCheckGracePeriod}s grace period in effect; ${healthy} healthy in service (MinSize ${minSize}); HealthCheckType ${group.HealthCheckType}`, readings };
  },

  async rollback(state, gate): Promise<RollbackOutput> {
    const name = state.incident!.target!.id;
    const previous = state.act?.details.previous as HealthCheckSettings | undefined;
    if (!previous?.HealthCheckType || previous.HealthCheckGracePeriod === undefined) {
      throw new Error(`no recorded previous health-check settings for ${name}: not guessing what to restore`);
    }
    // Exactly the recorded string (EBS, EC2, VPC_LATTICE,EBS ...), never a recomputed one.
    await update(gate, name, { HealthCheckType: previous.HealthCheckType, HealthCheckGracePeriod: previous.HealthCheckGracePeriod });
    return { status: 'rolled-back', summary: `restored ${name} to ${previous.HealthCheckType} health checks with a ${previous.HealthCheckGracePeriod}s grace period` };
  },
};

export const handler = runbookHandler(steps);

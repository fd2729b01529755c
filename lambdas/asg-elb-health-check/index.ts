import {
  AutoScalingClient, DescribeAutoScalingGroupsCommand, UpdateAutoScalingGroupCommand, type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import { describeError } from '../shared/errors';
import type { MutationGate } from '../shared/mutation-gate';
import { runbookHandler, type ActOutput, type CheckResult, type RollbackOutput, type RunbookSteps } from '../shared/runbook-steps';
import type { Plan, WorkflowState } from '../shared/types';

/** Settings the construct puts in the runbook's options. */
export interface AsgHealthCheckOptions {
  readonly healthCheckGracePeriod: number;
  /** Groups configured by name (alarm path, and allowed without the tag). */
  readonly autoScalingGroups: string[];
  /** Groups carrying this tag are allowed too (sweep and manual starts). */
  readonly optInTag?: { readonly key: string; readonly value: string };
}

/** The health-check settings before enforcement: what a rollback restores. */
export interface HealthCheckSettings {
  readonly HealthCheckType: string;
  readonly HealthCheckGracePeriod: number;
}

const autoScaling = new AutoScalingClient({});

function optionsOf(state: WorkflowState): AsgHealthCheckOptions {
  const o = state.runbook.options as Partial<AsgHealthCheckOptions>;
  return { healthCheckGracePeriod: o.healthCheckGracePeriod ?? 300, autoScalingGroups: o.autoScalingGroups ?? [], optInTag: o.optInTag };
}

async function describeGroup(name: string): Promise<AutoScalingGroup | undefined> {
  const out = await autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }));
  return out.AutoScalingGroups?.find((g) => g.AutoScalingGroupName === name);
}

/** Instances that count as capacity: in service and healthy. */
const healthyInService = (g: AutoScalingGroup): number =>
  (g.Instances ?? []).filter((i) => i.LifecycleState === 'InService' && i.HealthStatus === 'Healthy').length;

function readingsOf(g: AutoScalingGroup): Record<string, unknown> {
  return {
    healthCheckType: g.HealthCheckType,
    healthCheckGracePeriod: g.HealthCheckGracePeriod,
    minSize: g.MinSize,
    desiredCapacity: g.DesiredCapacity,
    inService: (g.Instances ?? []).filter((i) => i.LifecycleState === 'InService').length,
    healthyInService: healthyInService(g),
  };
}

/** Configured by name, or carrying the opt-in tag; anything else is not this runbook's to change. */
function allowListRefusal(name: string, g: AutoScalingGroup, options: AsgHealthCheckOptions): string | undefined {
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
    const targetGroups = group.TargetGroupARNs ?? [];
    const loadBalancers = group.LoadBalancerNames ?? [];
    if (targetGroups.length + loadBalancers.length === 0) {
      return decide('noop', 'nothing to enforce: no load balancer or target group is attached, so ELB health checks would see nothing', 'no change', readings);
    }
    if (group.HealthCheckType === 'ELB') {
      return decide('noop', `already compliant: HealthCheckType ELB, grace period ${group.HealthCheckGracePeriod ?? 0}s`, 'no change', readings);
    }
    const previous: HealthCheckSettings = { HealthCheckType: group.HealthCheckType ?? 'EC2', HealthCheckGracePeriod: group.HealthCheckGracePeriod ?? 0 };
    return decide('act', `${name} is behind ${targetGroups.length + loadBalancers.length} load balancer target(s) but uses ${previous.HealthCheckType} health checks only`,
      `UpdateAutoScalingGroup ${name}: HealthCheckType ${previous.HealthCheckType} -> ELB, HealthCheckGracePeriod ${previous.HealthCheckGracePeriod} -> ${options.healthCheckGracePeriod}s`,
      { ...readings, previous, targetGroupARNs: targetGroups, loadBalancerNames: loadBalancers },
      [{ batch: 0, service: 'autoscaling', operation: 'UpdateAutoScalingGroup', target: name }]);
  },

  async act(state, gate): Promise<ActOutput> {
    const name = state.incident!.target!.id;
    const applied: HealthCheckSettings = { HealthCheckType: 'ELB', HealthCheckGracePeriod: optionsOf(state).healthCheckGracePeriod };
    await update(gate, name, applied);
    return {
      summary: `set ${name} to ELB health checks with a ${applied.HealthCheckGracePeriod}s grace period`,
      batch: 0,
      moreBatches: false,
      details: { previous: state.plan!.details.previous, applied },
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
    if (group.HealthCheckType !== applied.HealthCheckType || group.HealthCheckGracePeriod !== applied.HealthCheckGracePeriod) {
      return { verdict: 'pending', reason: `settings not visible yet: ${group.HealthCheckType}, ${group.HealthCheckGracePeriod}s`, readings };
    }
    return { verdict: 'success', reason: `ELB health checks with a ${applied.HealthCheckGracePeriod}s grace period in effect; ${healthy} healthy in service (MinSize ${minSize})`, readings };
  },

  async rollback(state, gate): Promise<RollbackOutput> {
    const name = state.incident!.target!.id;
    const previous = state.act?.details.previous as HealthCheckSettings | undefined;
    if (!previous?.HealthCheckType || previous.HealthCheckGracePeriod === undefined) {
      throw new Error(`no recorded previous health-check settings for ${name}: not guessing what to restore`);
    }
    await update(gate, name, { HealthCheckType: previous.HealthCheckType, HealthCheckGracePeriod: previous.HealthCheckGracePeriod });
    return { status: 'rolled-back', summary: `restored ${name} to ${previous.HealthCheckType} health checks with a ${previous.HealthCheckGracePeriod}s grace period` };
  },
};

export const handler = runbookHandler(steps);

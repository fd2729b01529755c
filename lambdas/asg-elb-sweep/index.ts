import { AutoScalingClient, DescribeAutoScalingGroupsCommand, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { sha256Hex } from '../shared/canonical-json';
import { describeError } from '../shared/errors';
import { readKillSwitch } from '../shared/guards';
import { appendEntry } from '../shared/ledger';
import { actorName, logger } from '../shared/observability';
import { platformSettings } from '../shared/settings';
import { elbHealthCheckCompliance, type Compliance } from '../asg-elb-health-check/health-check-types';

const autoScaling = new AutoScalingClient({});
const stepFunctions = new SFNClient({});
/** Names listed per category in the ledger entry; counts are always complete. */
const MAX_LISTED = 200;

/** What the construct puts in the sweep function's environment. */
export interface SweepSettings {
  readonly runbook: string;
  readonly stateMachineArn: string;
  readonly tag: { readonly key: string; readonly value: string };
  readonly maxPerSweep: number;
  readonly killSwitch: { readonly global: string; readonly runbook: string };
}

export function sweepSettings(env = process.env): SweepSettings {
  const value = (name: string): string => {
    if (!env[name]) throw new Error(`environment variable ${name} is not set`);
    return env[name]!;
  };
  const maxPerSweep = Number(value('MEDIC_SWEEP_MAX_PER_SWEEP'));
  if (!Number.isInteger(maxPerSweep) || maxPerSweep < 1) throw new Error('MEDIC_SWEEP_MAX_PER_SWEEP must be a whole number of at least 1');
  return {
    runbook: value('MEDIC_SWEEP_RUNBOOK'),
    stateMachineArn: value('MEDIC_SWEEP_STATE_MACHINE_ARN'),
    tag: { key: value('MEDIC_SWEEP_TAG_KEY'), value: value('MEDIC_SWEEP_TAG_VALUE') },
    maxPerSweep,
    killSwitch: { global: value('MEDIC_SWEEP_KILL_SWITCH_GLOBAL'), runbook: value('MEDIC_SWEEP_KILL_SWITCH_RUNBOOK') },
  };
}

export interface SweepResult {
  readonly sweepId: string;
  readonly scanned: number;
  readonly started: Array<{ autoScalingGroupName: string; executionArn: string }>;
  readonly deferred: string[];
  readonly skipped?: string;
}

async function optedInGroups(tag: SweepSettings['tag']): Promise<AutoScalingGroup[]> {
  const groups: AutoScalingGroup[] = [];
  let NextToken: string | undefined;
  do {
    const out = await autoScaling.send(new DescribeAutoScalingGroupsCommand({ Filters: [{ Name: `tag:${tag.key}`, Values: [tag.value] }], NextToken }));
    groups.push(...(out.AutoScalingGroups ?? []));
    NextToken = out.NextToken;
  } while (NextToken);
  return groups.sort((a, b) => (a.AutoScalingGroupName ?? '').localeCompare(b.AutoScalingGroupName ?? ''));
}

const listed = (names: string[]) => ({ count: names.length, names: names.slice(0, MAX_LISTED) });

/** Execution names allow letters, digits, `-` and `_`, at most 80; the hash keeps them unique and stable per sweep. */
function executionName(sweepTime: string, group: string): string {
  return `sweep-${sweepTime}-${group.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 30)}-${sha256Hex(group).slice(0, 12)}`;
}

/**
 * The periodic sweep: every opted-in Auto Scaling group behind a load balancer whose health checks
 * do not include ELB (the runbook's own rule, `elbHealthCheckCompliance`) becomes its own
 * incident, started through the runbook's own workflow (so admission, leases, rate limit and
 * mode apply to each). A group behind VPC Lattice only counts as without a load balancer. At
 * most `maxPerSweep` are started; the rest are deferred to the next sweep and listed in the
 * ledger. Execution names derive from the sweep's scheduled time, so a redelivered invocation
 * starts nothing twice.
 */
export async function handler(event: { time?: string }, context?: Context): Promise<SweepResult> {
  const settings = sweepSettings();
  const { ledgerTable } = platformSettings();
  const scheduledAt = new Date(Date.parse(event?.time ?? '') || Date.now());
  const sweepTime = scheduledAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  const sweepId = `${settings.runbook}-sweep-${sweepTime}`;
  const recordSweep = (detail: Record<string, unknown>) => appendEntry({
    table: ledgerTable, incidentId: sweepId, phase: 'swept', runbook: settings.runbook, actor: actorName(context),
    detail: { optInTag: settings.tag, maxPerSweep: settings.maxPerSweep, ...detail },
  });

  // Each started incident would be denied anyway; one entry says why instead of N escalations.
  let killSwitch;
  try {
    killSwitch = await readKillSwitch(settings);
  } catch (error) {
    killSwitch = { engaged: true, reason: `kill switch could not be read (failing closed): ${describeError(error)}` };
  }
  if (killSwitch.engaged) {
    await recordSweep({ skipped: killSwitch.reason });
    return { sweepId, scanned: 0, started: [], deferred: [], skipped: killSwitch.reason };
  }

  const groups = await optedInGroups(settings.tag);
  // The same rule as the runbook's plan, from one function: a group the plan would act on is started, nothing else.
  const status = new Map<AutoScalingGroup, Compliance['status']>(groups.map((g) => [g, elbHealthCheckCompliance(g).status]));
  const names = (wanted: Compliance['status']) => groups.filter((g) => status.get(g) === wanted).map((g) => g.AutoScalingGroupName!);
  const nonCompliant = names('non-compliant');
  const chosen = nonCompliant.slice(0, settings.maxPerSweep);
  const deferred = nonCompliant.slice(settings.maxPerSweep);
  const started: SweepResult['started'] = [];
  try {
    for (const group of chosen) {
      const out = await stepFunctions.send(new StartExecutionCommand({
        stateMachineArn: settings.stateMachineArn,
        name: executionName(sweepTime, group),
        input: JSON.stringify({ autoScalingGroupName: group, trigger: 'schedule', reason: `sweep ${sweepTime}: load balancer attached, health checks without ELB` }),
      }));
      started.push({ autoScalingGroupName: group, executionArn: out.executionArn! });
    }
  } catch (error) {
    logger.error('sweep could not start every incident', { error: describeError(error) });
    await recordSweep({ scanned: groups.length, started, failedToStart: chosen.slice(started.length), error: describeError(error) });
    throw error;
  }
  await recordSweep({
    scanned: groups.length,
    compliant: listed(names('compliant')),
    withoutLoadBalancer: listed(names('nothing-to-enforce')),
    // HealthCheckType lists a type AWS does not document: the runbook would refuse it, so no incident is started.
    unsupported: listed(names('unsupported')),
    started,
    deferred: listed(deferred),
  });
  logger.info('sweep done', { sweepId, scanned: groups.length, started: started.length, deferred: deferred.length });
  return { sweepId, scanned: groups.length, started, deferred };
}

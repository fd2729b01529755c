import { DescribeAlarmsCommand, GetMetricDataCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { DescribeInstanceInformationCommand, GetCommandInvocationCommand, SendCommandCommand, type InstanceInformationStringFilter } from '@aws-sdk/client-ssm';
import { cloudWatch, ssm } from '../shared/clients';
import { describeError } from '../shared/errors';
import { runbookHandler, type CheckResult, type RunbookSteps } from '../shared/runbook-steps';
import type { ActResult, Plan, WorkflowState } from '../shared/types';

/** Settings the construct puts in the runbook's options. */
export interface DiskPruneOptions {
  /** Name of the medic-disk-prune Command document the stack registered. */
  readonly documentName: string;
  /** Document parameters (logRoot, logPatterns, ...), each already checked against its allowedPattern at synth time. */
  readonly documentParameters: Record<string, string>;
  /** How long Run Command may wait to deliver the command to the instance. */
  readonly deliveryTimeoutSeconds: number;
  /** Instances allowed by ID. */
  readonly instances: string[];
  /** Instances carrying this tag are allowed too. */
  readonly instanceTag?: { readonly key: string; readonly value: string };
}

/** The script's last output line. */
export interface PruneSummary {
  readonly dryRun: boolean;
  readonly deleted: number;
  readonly wouldDelete: number;
  readonly bytesFreed: number;
  readonly skippedOpen: number;
  readonly limitReached: boolean;
  readonly refusedRoots: string[];
  readonly errors: string[];
  readonly files: string[];
}

const RUNNING = new Set(['Pending', 'InProgress', 'Delayed']);
const MAX_OUTPUT_CHARS = 1500;

function optionsOf(state: WorkflowState): DiskPruneOptions {
  return state.runbook.options as unknown as DiskPruneOptions;
}

async function managedInstance(id: string, extra: InstanceInformationStringFilter[] = []) {
  const out = await ssm().send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [id] }, ...extra] }));
  return out.InstanceInformationList?.find((i) => i.InstanceId === id);
}

/** The summary line, if the output ends with one. */
export function parseSummary(output: string | undefined): PruneSummary | undefined {
  const last = (output ?? '').trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(last) as PruneSummary;
    return typeof parsed?.bytesFreed === 'number' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const tail = (text: string | undefined): string => (text ?? '').trim().slice(-MAX_OUTPUT_CHARS);

function breaches(alarm: MetricAlarm, value: number): boolean {
  const t = alarm.Threshold ?? 0;
  switch (alarm.ComparisonOperator) {
    case 'GreaterThanThreshold': return value > t;
    case 'GreaterThanOrEqualToThreshold': return value >= t;
    case 'LessThanThreshold': return value < t;
    case 'LessThanOrEqualToThreshold': return value <= t;
    default: throw new Error(`alarm ${alarm.AlarmName} uses ${alarm.ComparisonOperator}, which this runbook cannot compare`);
  }
}

/** The alarm's own metric, newest datapoint at or after `since`. */
async function latestDatapoint(alarm: MetricAlarm, since: Date): Promise<{ value: number; at: Date } | undefined> {
  const period = alarm.Period ?? 60;
  const out = await cloudWatch().send(new GetMetricDataCommand({
    StartTime: new Date(since.getTime() - period * 1000),
    EndTime: new Date(Date.now() + 60_000),
    ScanBy: 'TimestampDescending',
    MetricDataQueries: [{
      Id: 'disk',
      MetricStat: {
        Metric: { Namespace: alarm.Namespace, MetricName: alarm.MetricName, Dimensions: alarm.Dimensions },
        Period: period,
        Stat: alarm.Statistic ?? alarm.ExtendedStatistic ?? 'Maximum',
      },
    }],
  }));
  const result = out.MetricDataResults?.[0];
  const points = (result?.Timestamps ?? []).map((at, i) => ({ at, value: result!.Values![i] })).filter((p) => p.at.getTime() >= since.getTime());
  return points.sort((a, b) => b.at.getTime() - a.at.getTime())[0];
}

export const steps: RunbookSteps = {
  async plan(state) {
    const id = state.incident!.target!.id;
    const options = optionsOf(state);
    const refuse = (reason: string, details: Record<string, unknown> = {}): Plan => ({ decision: 'escalate', reason, summary: 'nothing was pruned', details });
    const info = await managedInstance(id);
    if (!info) return refuse(`instance ${id} is not SSM-managed (no registered SSM agent, or no instance profile allowing it)`);
    const details = { pingStatus: info.PingStatus, platform: info.PlatformName, agentVersion: info.AgentVersion };
    if (info.PingStatus !== 'Online') return refuse(`the SSM agent on ${id} is ${info.PingStatus}, so a command would not run`, details);
    if (info.PlatformType !== 'Linux') return refuse(`instance ${id} runs ${info.PlatformType}; the prune document is for Linux`, details);
    if (!options.instances.includes(id)) {
      const tag = options.instanceTag;
      const tagged = tag ? await managedInstance(id, [{ Key: `tag:${tag.key}`, Values: [tag.value] }]) : undefined;
      if (!tagged) return refuse(`instance ${id} is not in the allow-list${tag ? ` and is not tagged ${tag.key}=${tag.value}` : ''}`, details);
    }
    const p = options.documentParameters;
    return {
      decision: 'act',
      reason: `${id} is managed and online, and its disk alarm fired`,
      summary: `SendCommand ${options.documentName} to ${id}: prune ${p.logPatterns} under ${p.logRoot} and files in ${p.tmpRoots} older than ${p.olderThanDays} days, at most ${p.maxDeleteMB} MiB`,
      details: { ...details, documentParameters: p },
    };
  },

  async act(state): Promise<ActResult> {
    const id = state.incident!.target!.id;
    const options = optionsOf(state);
    const parameters = {
      DocumentName: options.documentName,
      InstanceIds: [id],
      Parameters: Object.fromEntries(Object.entries(options.documentParameters).map(([k, v]) => [k, [v]])),
      TimeoutSeconds: options.deliveryTimeoutSeconds,
      Comment: `medic ${state.incident!.incidentId}`.slice(0, 100),
    };
    const out = await ssm().send(new SendCommandCommand(parameters));
    const commandId = out.Command?.CommandId;
    if (!commandId) throw new Error('SendCommand returned no command id');
    return {
      summary: `sent ${options.documentName} to ${id} (command ${commandId})`,
      calls: [{ service: 'ssm', operation: 'SendCommand', parameters, result: { commandId } }],
      batch: 0,
      moreBatches: false,
      details: { commandId, requestedAt: new Date().toISOString() },
    };
  },

  async check(state): Promise<CheckResult> {
    const id = state.incident!.target!.id;
    const { commandId, requestedAt } = state.act!.details as { commandId: string; requestedAt: string };
    let invocation;
    try {
      invocation = await ssm().send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: id }));
    } catch (error) {
      // Run Command needs a moment before the invocation exists.
      if ((error as Error).name === 'InvocationDoesNotExist') return { verdict: 'pending', reason: `command ${commandId} not registered on ${id} yet`, readings: {} };
      return { verdict: 'inconclusive', reason: `command ${commandId} could not be read: ${describeError(error)}`, readings: {} };
    }
    const status = invocation.Status ?? 'unknown';
    const summary = parseSummary(invocation.StandardOutputContent);
    const readings: Record<string, unknown> = { commandStatus: status, responseCode: invocation.ResponseCode, summary: summary && { ...summary, files: summary.files.slice(0, 10) } };
    if (RUNNING.has(status)) return { verdict: 'pending', reason: `command ${status}`, readings };
    if (status !== 'Success') {
      const output = tail(invocation.StandardErrorContent) || tail(invocation.StandardOutputContent) || 'no output';
      return { verdict: 'failure', reason: `the prune command ${status} (exit ${invocation.ResponseCode}): ${output}`, readings };
    }
    if (!summary) return { verdict: 'failure', reason: `the prune command succeeded but printed no summary: ${tail(invocation.StandardOutputContent)}`, readings };

    const alarmName = state.incident!.trigger?.name;
    try {
      const alarm = (await cloudWatch().send(new DescribeAlarmsCommand({ AlarmNames: [alarmName!] }))).MetricAlarms?.[0];
      if (!alarm?.MetricName) return { verdict: 'inconclusive', reason: `alarm ${alarmName} (a metric alarm) not found, so its metric cannot be read`, readings };
      const finished = invocation.ExecutionEndDateTime ? new Date(invocation.ExecutionEndDateTime) : new Date(requestedAt);
      const point = await latestDatapoint(alarm, finished);
      const freed = `freed ${mb(summary.bytesFreed)} (${summary.deleted} file(s))`;
      if (!point) return { verdict: 'pending', reason: `${freed}; waiting for a ${alarm.MetricName} datapoint after the prune`, readings };
      readings.metric = { name: alarm.MetricName, value: point.value, at: point.at.toISOString(), threshold: alarm.Threshold };
      if (breaches(alarm, point.value)) {
        return { verdict: 'pending', reason: `${freed}, still ${point.value.toFixed(1)} ${alarm.MetricName} (threshold ${alarm.Threshold}): something else is filling the disk`, readings };
      }
      return { verdict: 'success', reason: `${freed}; ${alarm.MetricName} ${point.value.toFixed(1)} is back within the threshold ${alarm.Threshold}`, readings };
    } catch (error) {
      return { verdict: 'inconclusive', reason: `the disk metric could not be read: ${describeError(error)}`, readings };
    }
  },
};

export const handler = runbookHandler(steps);

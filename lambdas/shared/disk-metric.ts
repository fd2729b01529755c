import { DescribeAlarmsCommand, GetMetricDataCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { cloudWatch } from './clients';
import { describeError } from './errors';
import type { CheckResult } from './runbook-steps';

/** The prune script's last output line (ssm-documents/medic-disk-prune.yaml). */
export interface PruneSummary {
  readonly dryRun: boolean;
  readonly deleted: number;
  readonly wouldDelete: number;
  readonly bytesFreed: number;
  readonly skippedOpen: number;
  readonly limitReached: boolean;
  readonly refusedRoots: string[];
  /** At most 20 errors are listed; this counts them all (absent from summaries of older document versions). */
  readonly errorCount?: number;
  readonly errors: string[];
  readonly files: string[];
}

/** The summary, if the output ends with one. */
export function parseSummary(output: string | undefined): PruneSummary | undefined {
  const last = (output ?? '').trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(last) as PruneSummary;
    return typeof parsed?.bytesFreed === 'number' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export const PLUGIN_ERROR_HEADER = '\n----------ERROR-------\n';
export const PLUGIN_OUTPUT_TRUNCATED = '\n---Output truncated---';

/**
 * The stdout part of a plugin's `Output` in ListCommandInvocations (Details=true). The API caps
 * `Output` at 2,500 characters (API reference, CommandPlugin: "Length Constraints: Maximum length
 * of 2500"); SSM Agent builds it (aws/amazon-ssm-agent, agent/framework/processor/executer/
 * iohandler/iohandler.go, TruncateOutput with MaximumPluginOutputSize = 2500) as stdout, then,
 * when there is stderr, `\n----------ERROR-------\n` and stderr, cutting stdout with
 * `\n---Output truncated---` and stderr with `\n---Error truncated----` to fit. So the summary,
 * the script's last stdout line, is the last line of this part only when stdout was not cut.
 */
export function pluginStdout(output: string | undefined): string {
  const text = output ?? '';
  const at = text.indexOf(PLUGIN_ERROR_HEADER);
  return at >= 0 ? text.slice(0, at) : text;
}

export const megabytes = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

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

/**
 * After a prune: is the triggering alarm's metric back within its threshold, judged only by a
 * datapoint newer than `since` (the command's end)? `freed` says what the prune did, for the reason;
 * `stillAbove` says what a reading still over the threshold means.
 */
export async function verifyDiskMetric(
  alarmName: string | undefined, since: Date, freed: string, readings: Record<string, unknown>, stillAbove = 'something else is filling the disk',
): Promise<CheckResult> {
  try {
    const alarm = alarmName ? (await cloudWatch().send(new DescribeAlarmsCommand({ AlarmNames: [alarmName] }))).MetricAlarms?.[0] : undefined;
    if (!alarm?.MetricName) return { verdict: 'inconclusive', reason: `alarm ${alarmName} (a metric alarm) not found, so its metric cannot be read`, readings };
    const point = await latestDatapoint(alarm, since);
    if (!point) return { verdict: 'pending', reason: `${freed}; waiting for a ${alarm.MetricName} datapoint after the prune`, readings };
    const withMetric = { ...readings, metric: { name: alarm.MetricName, value: point.value, at: point.at.toISOString(), threshold: alarm.Threshold } };
    if (breaches(alarm, point.value)) {
      return { verdict: 'pending', reason: `${freed}, still ${point.value.toFixed(1)} ${alarm.MetricName} (threshold ${alarm.Threshold}): ${stillAbove}`, readings: withMetric };
    }
    return { verdict: 'success', reason: `${freed}; ${alarm.MetricName} ${point.value.toFixed(1)} is back within the threshold ${alarm.Threshold}`, readings: withMetric };
  } catch (error) {
    return { verdict: 'inconclusive', reason: `the disk metric could not be read: ${describeError(error)}`, readings };
  }
}

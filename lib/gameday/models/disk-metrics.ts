import { GetMetricDataCommand, type GetMetricDataCommandInput, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import type { ModelClock } from './clock';
import type { ManagedInstance, ManagedInstancesModel } from './managed-instances';
import type { ModelOperations } from './operations';

/**
 * The CloudWatch agent's `disk_used_percent` (namespace CWAgent) of the managed instances, by
 * `InstanceId` or by `AutoScalingGroupName` (the agent's append_dimensions,
 * AmazonCloudWatch/latest/monitoring/CloudWatch-Agent-Configuration-File-Details.html), as
 * GetMetricData returns it. An instance's disk is `diskUsedPercent` until a prune succeeded on
 * it, `afterPrune` from then, or what a timeline change made it since (whichever came last).
 * Used by the game-day world (lib/gameday/services/ec2-disk.ts) and the workflow tests
 * (test/support/fake-disk.ts).
 */
export class DiskMetricsModel {
  readonly operations: ModelOperations = {
    GetMetricData: { command: GetMetricDataCommand, mutating: false, answer: (input: GetMetricDataCommandInput) => this.getMetricData(input) },
  };

  constructor(private readonly clock: ModelClock, private readonly fleet: ManagedInstancesModel) {}

  /** The disk of an instance at model time `at` (ms): what the latest of its prune and its disk changes by then left it at. */
  diskAt(instance: ManagedInstance, at: number): number {
    const events = [
      ...(instance.prunedAt !== undefined ? [{ at: instance.prunedAt, usedPercent: instance.afterPrune }] : []),
      ...(instance.diskChanges ?? []),
    ].filter((e) => e.at <= at);
    // The later event wins; at the same moment a change made then comes after the prune that ended then.
    const latest = events.reduce<{ at: number; usedPercent: number } | undefined>((last, e) => (last === undefined || e.at >= last.at ? e : last), undefined);
    return latest?.usedPercent ?? instance.diskUsedPercent;
  }

  /**
   * GetMetricData: per query, one datapoint per Period from StartTime to EndTime (none in the
   * future), newest first unless ScanBy TimestampAscending ("TimestampDescending returns the
   * newest data first"); a group's value is its fullest disk (the alarm's Maximum); StatusCode
   * Complete. Another metric has no datapoints.
   */
  getMetricData(input: GetMetricDataCommandInput) {
    const now = this.clock.now();
    return {
      MetricDataResults: (input.MetricDataQueries ?? []).map((query): MetricDataResult => {
        const metric = query.MetricStat?.Metric;
        const dimensions = Object.fromEntries((metric?.Dimensions ?? []).map((d) => [d.Name, d.Value]));
        const members = metric?.Namespace === 'CWAgent' && metric.MetricName === 'disk_used_percent'
          ? [...this.fleet.instances.values()].filter((i) => (dimensions.InstanceId === undefined || dimensions.InstanceId === i.id)
            && (dimensions.AutoScalingGroupName === undefined || dimensions.AutoScalingGroupName === i.autoScalingGroup)
            && (dimensions.InstanceId !== undefined || dimensions.AutoScalingGroupName !== undefined))
          : [];
        const period = (query.MetricStat?.Period ?? 60) * 1000;
        const from = input.StartTime ? new Date(input.StartTime).getTime() : now - 3 * period;
        const to = Math.min(now, input.EndTime ? new Date(input.EndTime).getTime() : now);
        const timestamps: Date[] = [];
        const values: number[] = [];
        if (members.length > 0) {
          for (let at = to; at >= from; at -= period) {
            timestamps.push(new Date(at));
            values.push(Math.max(...members.map((m) => this.diskAt(m, at))));
          }
        }
        if (input.ScanBy === 'TimestampAscending') {
          timestamps.reverse();
          values.reverse();
        }
        return { Id: query.Id, Label: metric?.MetricName, Timestamps: timestamps, Values: values, StatusCode: 'Complete' };
      }),
    };
  }
}

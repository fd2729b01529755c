import { DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import type { ModelClock, ModelEnv } from './clock';
import type { ModelOperations } from './operations';

/** What the model says about an alarm's metric (the game day's `world.alarms` spec); absent fields are not described. */
export interface AlarmMetric {
  readonly namespace?: string;
  readonly metric?: string;
  readonly dimensions?: Record<string, string>;
  readonly threshold?: number;
}

/**
 * CloudWatch metric alarms the runbooks read (DescribeAlarms): their state, when it last changed,
 * and recoveries scheduled after an action. Used by the game-day world (lib/gameday/services/core.ts)
 * and the workflow tests (test/support/fake-aws.ts). Each behaviour follows the SDK doc comment of
 * @aws-sdk/client-cloudwatch (dist-types) named beside it.
 */
export class AlarmsModel {
  private readonly states = new Map<string, { state: string; since: Date }>();
  private readonly metrics = new Map<string, AlarmMetric>();

  readonly operations: ModelOperations = {
    DescribeAlarms: { command: DescribeAlarmsCommand, mutating: false, answer: (input: { AlarmNames?: string[] }) => this.describeAlarms(input) },
  };

  constructor(private readonly clock: ModelClock, private readonly env: ModelEnv) {}

  /** An alarm whose metric is described (game-day alarms); an alarm only ever `set` is described by name and state. */
  define(name: string, metric: AlarmMetric, state = 'OK'): void {
    this.metrics.set(name, metric);
    this.set(name, state);
  }

  names(): string[] {
    return [...this.states.keys()];
  }

  state(name: string): string {
    return this.states.get(name)?.state ?? 'OK';
  }

  /** When the alarm last changed state (MetricAlarm.StateTransitionedTimestamp), if it exists. */
  since(name: string): Date | undefined {
    return this.states.get(name)?.since;
  }

  /**
   * Sets an alarm's state as changed at `since` (default now). A set is a transition even from the
   * same state: the runbooks compare the event's time with StateTransitionedTimestamp, and a timeline
   * alarm event or a test's fire() is such a transition.
   */
  set(name: string, state: string, since = new Date(this.clock.now())): void {
    this.states.set(name, { state, since });
  }

  /** The alarm returns to OK `seconds` from now, unless it is OK already (an action that works). */
  recoverAfter(name: string, seconds: number): void {
    if (this.state(name) !== 'OK') this.clock.later(seconds, () => this.set(name, 'OK'));
  }

  /** DescribeAlarms with AlarmNames: the named alarms that exist; a name with no alarm is left out, not an error. */
  describeAlarms(input: { AlarmNames?: string[] }): { MetricAlarms: MetricAlarm[] } {
    return { MetricAlarms: (input.AlarmNames ?? []).filter((n) => this.states.has(n)).map((n) => this.describe(n)) };
  }

  private describe(name: string): MetricAlarm {
    const { state, since } = this.states.get(name)!;
    const metric = this.metrics.get(name);
    return {
      AlarmName: name,
      // MetricAlarm.StateValue: "The state value for the alarm"; StateTransitionedTimestamp: "The date and time that
      // the alarm's StateValue most recently changed"; StateUpdatedTimestamp: "the last time that the alarm's state changed".
      StateValue: state as MetricAlarm['StateValue'],
      StateTransitionedTimestamp: since,
      StateUpdatedTimestamp: since,
      ...(metric ? {
        AlarmArn: `arn:aws:cloudwatch:${this.env.region}:${this.env.account}:alarm:${name}`,
        Namespace: metric.namespace,
        MetricName: metric.metric,
        Dimensions: Object.entries(metric.dimensions ?? {}).map(([Name, Value]) => ({ Name, Value })),
        Threshold: metric.threshold,
        ComparisonOperator: 'GreaterThanThreshold',
        Statistic: 'Maximum',
        Period: 60,
        EvaluationPeriods: 1,
      } as const : {}),
    };
  }
}

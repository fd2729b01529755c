/**
 * What CloudWatch publishes to an SNS topic of an alarm action when a metric alarm goes to ALARM:
 * the Subject `ALARM: "<name>" in <region name>` and a JSON Message (AlarmName, AlarmDescription,
 * AWSAccountId, NewStateValue, NewStateReason, StateChangeTime, Region, AlarmArn, OldStateValue,
 * the actions and the Trigger: the alarm's metric or metric-math definition).
 */

/** The region names CloudWatch writes in alarm notifications; another region is written as its code. */
const REGION_NAMES: Record<string, string> = {
  'us-east-1': 'US East (N. Virginia)', 'us-east-2': 'US East (Ohio)', 'us-west-1': 'US West (N. California)', 'us-west-2': 'US West (Oregon)',
  'ca-central-1': 'Canada (Central)', 'sa-east-1': 'South America (Sao Paulo)',
  'eu-west-1': 'EU (Ireland)', 'eu-west-2': 'EU (London)', 'eu-west-3': 'EU (Paris)', 'eu-central-1': 'EU (Frankfurt)',
  'eu-central-2': 'EU (Zurich)', 'eu-north-1': 'EU (Stockholm)', 'eu-south-1': 'EU (Milan)', 'eu-south-2': 'EU (Spain)',
  'ap-northeast-1': 'Asia Pacific (Tokyo)', 'ap-northeast-2': 'Asia Pacific (Seoul)', 'ap-northeast-3': 'Asia Pacific (Osaka)',
  'ap-southeast-1': 'Asia Pacific (Singapore)', 'ap-southeast-2': 'Asia Pacific (Sydney)', 'ap-southeast-3': 'Asia Pacific (Jakarta)',
  'ap-south-1': 'Asia Pacific (Mumbai)', 'ap-east-1': 'Asia Pacific (Hong Kong)',
  'me-south-1': 'Middle East (Bahrain)', 'me-central-1': 'Middle East (UAE)', 'af-south-1': 'Africa (Cape Town)', 'il-central-1': 'Israel (Tel Aviv)',
};

/** SNS refuses a longer Subject, so CloudWatch cuts it. */
const SUBJECT_LIMIT = 100;

const COMPARISON_TEXT: Record<string, string> = {
  GreaterThanThreshold: 'greater than',
  GreaterThanOrEqualToThreshold: 'greater than or equal to',
  LessThanThreshold: 'less than',
  LessThanOrEqualToThreshold: 'less than or equal to',
};

/** What the message says of the alarm, from its template properties (resolved). */
export interface AlarmDefinition {
  readonly name: string;
  readonly arn: string;
  readonly description?: string;
  readonly account: string;
  readonly region: string;
  /** The `AWS::CloudWatch::Alarm` properties, intrinsics resolved. */
  readonly properties: Record<string, any>;
  readonly periodSeconds: number;
}

/** CloudWatch's timestamp form, `2026-11-22T03:17:22.318+0000`. */
export const cloudWatchTime = (atMs: number): string => new Date(atMs).toISOString().replace('Z', '+0000');

/** A datapoint's time as state reasons write it, `22/11/26 03:15:00`. */
function datapointTime(atMs: number): string {
  const d = new Date(atMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}/${two(d.getUTCMonth() + 1)}/${two(d.getUTCFullYear() % 100)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

const number = (n: number): string => (Number.isInteger(n) ? n.toFixed(1) : String(n));
const dimensions = (list: any[] | undefined) => (list ?? []).map((d) => ({ value: String(d.Value), name: String(d.Name) }));

/** The message's Trigger: the alarm's metric, or its metric-math queries. */
function trigger(p: Record<string, any>, periodSeconds: number): Record<string, unknown> {
  const evaluation = {
    Period: periodSeconds, EvaluationPeriods: p.EvaluationPeriods, ...(p.DatapointsToAlarm !== undefined ? { DatapointsToAlarm: p.DatapointsToAlarm } : {}),
    ComparisonOperator: p.ComparisonOperator, Threshold: p.Threshold, TreatMissingData: p.TreatMissingData ?? '', EvaluateLowSampleCountPercentile: p.EvaluateLowSampleCountPercentile ?? '',
  };
  if (!p.Metrics) {
    return {
      MetricName: p.MetricName, Namespace: p.Namespace, StatisticType: 'Statistic', Statistic: String(p.Statistic).toUpperCase(), Unit: p.Unit ?? null,
      Dimensions: dimensions(p.Dimensions), ...evaluation,
    };
  }
  const metrics = (p.Metrics as any[]).map((m) => (m.MetricStat
    ? {
      Id: m.Id,
      MetricStat: { Metric: { Dimensions: dimensions(m.MetricStat.Metric.Dimensions), MetricName: m.MetricStat.Metric.MetricName, Namespace: m.MetricStat.Metric.Namespace }, Period: m.MetricStat.Period, Stat: m.MetricStat.Stat },
      ReturnData: m.ReturnData ?? false,
    }
    : { Expression: m.Expression, Id: m.Id, ...(m.Label !== undefined ? { Label: m.Label } : {}), ReturnData: m.ReturnData ?? true }));
  return { ...evaluation, Metrics: metrics };
}

/**
 * The notification of an alarm going from OK to ALARM at `atMs` on a datapoint of `value` in the
 * period starting at `periodStartMs`, as CloudWatch publishes it to each SNS topic of its
 * AlarmActions (`actions`: the resolved ARNs of each action list).
 */
export function alarmNotification(alarm: AlarmDefinition, atMs: number, value: number, periodStartMs: number,
  actions: { ok: string[]; alarm: string[]; insufficientData: string[] }): { subject: string; message: string } {
  const p = alarm.properties;
  const region = REGION_NAMES[alarm.region] ?? alarm.region;
  const datapoints = p.DatapointsToAlarm ?? p.EvaluationPeriods;
  const reason = `Threshold Crossed: 1 out of the last ${p.EvaluationPeriods} datapoints [${number(value)} (${datapointTime(periodStartMs)})] was `
    + `${COMPARISON_TEXT[p.ComparisonOperator] ?? p.ComparisonOperator} the threshold (${number(p.Threshold)}) `
    + `(minimum ${datapoints} datapoint${datapoints === 1 ? '' : 's'} for OK -> ALARM transition).`;
  const message = {
    AlarmName: alarm.name,
    AlarmDescription: alarm.description ?? null,
    AWSAccountId: alarm.account,
    NewStateValue: 'ALARM',
    NewStateReason: reason,
    StateChangeTime: cloudWatchTime(atMs),
    Region: region,
    AlarmArn: alarm.arn,
    OldStateValue: 'OK',
    OKActions: actions.ok,
    AlarmActions: actions.alarm,
    InsufficientDataActions: actions.insufficientData,
    Trigger: trigger(p, alarm.periodSeconds),
  };
  return { subject: `ALARM: "${alarm.name}" in ${region}`.slice(0, SUBJECT_LIMIT), message: JSON.stringify(message) };
}

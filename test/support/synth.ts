import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { MedicConfig } from '../../lib/config';
import { MedicStack } from '../../lib/medic-stack';
import type { CommonRunbookEntry } from '../../lib/platform/config-schema';
import { RUNBOOK_KINDS } from '../../lib/runbooks';

/** Synthesizes the reference stack for a config, without bundling (tests run the handler sources). */
export function synthStack(config: MedicConfig): { stack: MedicStack; template: Template } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new MedicStack(app, config.stackName, { config, env: config.env });
  return { stack, template: Template.fromStack(stack) };
}

export const ACCOUNT = '111111111111';
export const REGION = 'eu-west-1';
export const alarmArn = (name: string): string => `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}`;
/** An ACM certificate ARN in the test account and region; `n` picks one of the test certificates. */
export const certificateArn = (n: number): string => `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/${String(n).padStart(8, '0')}-1234-4321-abcd-0123456789ab`;

/** Runbooks of a config that alarms start (each has an alarm rule, a dead-letter queue and its alarm). */
export function alarmRunbookNames(config: MedicConfig): string[] {
  const entries = RUNBOOK_KINDS.flatMap((kind) => (config.runbooks[kind.configKey] ?? []) as CommonRunbookEntry[]);
  return entries.filter((r) => (r.alarmArns ?? []).length > 0).map((r) => r.name!);
}

/** A config with one runbook per mode and strategy the tests exercise. */
export const testConfig: MedicConfig = {
  stackName: 'MedicTest',
  env: { account: ACCOUNT, region: REGION },
  runbooks: {
    ecsTaskRestart: [
      {
        name: 'api-restart',
        mode: 'auto',
        alarmArns: [alarmArn('prod-api-5xx')],
        services: [{ clusterName: 'prod', serviceName: 'api' }, { clusterName: 'prod', serviceName: 'web' }],
        policy: { maxAttempts: 3, windowMinutes: 60, maxConcurrent: 2 },
        verification: { initialDelaySeconds: 60, intervalSeconds: 30, maxChecks: 4, requiredConsecutiveSuccesses: 2 },
      },
      {
        name: 'api-observe',
        mode: 'observe',
        alarmArns: [alarmArn('prod-api-latency')],
        services: [{ clusterName: 'prod', serviceName: 'api' }],
      },
      {
        name: 'api-approve',
        mode: 'approve',
        approval: { approvers: [`arn:aws:iam::${ACCOUNT}:role/on-call`, `arn:aws:iam::${ACCOUNT}:role/api-owners`], minApprovals: 2, timeoutMinutes: 20 },
        alarmArns: [alarmArn('prod-api-errors')],
        services: [{ clusterName: 'prod', serviceName: 'api' }],
      },
      {
        name: 'worker-batches',
        mode: 'auto',
        alarmArns: [alarmArn('prod-worker-stuck')],
        services: [{ clusterName: 'prod', serviceName: 'worker' }],
        strategy: 'stopTasks',
        maxStopPercent: 25,
        verification: { initialDelaySeconds: 30, intervalSeconds: 15, maxChecks: 3, requiredConsecutiveSuccesses: 1 },
      },
    ],
    rdsFailoverDrill: [
      {
        name: 'orders-drill',
        mode: 'auto',
        dbInstances: ['orders-db'],
        dbClusters: ['orders-aurora'],
        targetReaders: { 'orders-aurora': 'orders-aurora-2' },
        guardAlarmArns: [alarmArn('prod-api-5xx'), alarmArn('prod-db-connection-errors')],
        schedules: [{ dbInstanceIdentifier: 'orders-db', expression: 'cron(0 10 ? * TUE *)' }],
        window: { days: ['TUE'], startHourUtc: 9, endHourUtc: 12 },
        verification: { initialDelaySeconds: 30, intervalSeconds: 15, maxChecks: 6, requiredConsecutiveSuccesses: 2 },
      },
    ],
    asgElbHealthCheck: [
      {
        name: 'web-elb-health',
        mode: 'auto',
        alarmArns: [alarmArn('web-tg-unhealthy-hosts')],
        changeCalendar: 'release-freeze',
        autoScalingGroups: ['web-asg'],
        targetGroups: { 'targetgroup/web/0123456789abcdef': 'web-asg' },
        sweepMinutes: 60,
        maxPerSweep: 5,
        policy: { maxAttempts: 2, windowMinutes: 60, maxConcurrent: 10 },
        verification: { initialDelaySeconds: 60, intervalSeconds: 60, maxChecks: 5, requiredConsecutiveSuccesses: 3 },
      },
      {
        name: 'web-elb-observe',
        mode: 'observe',
        alarmArns: [alarmArn('web-5xx')],
        autoScalingGroups: ['web-asg'],
      },
    ],
    diskPrune: [
      {
        name: 'disk-prune',
        mode: 'auto',
        alarmArns: [alarmArn('web-disk-full')],
        instances: ['i-0123456789abcdef0'],
        optInTag: { key: 'medic:disk-prune', value: 'true' },
        prune: { olderThanDays: '3' },
        verification: { initialDelaySeconds: 60, intervalSeconds: 60, maxChecks: 4, requiredConsecutiveSuccesses: 1 },
      },
    ],
    diskPruneFleet: [
      {
        name: 'disk-prune-fleet',
        mode: 'auto',
        alarmArns: [alarmArn('web-fleet-disk-full')],
        autoScalingGroups: ['web-asg'],
        maxConcurrency: '25%',
        maxErrors: '1',
        verification: { initialDelaySeconds: 60, intervalSeconds: 60, maxChecks: 4, requiredConsecutiveSuccesses: 1 },
      },
    ],
    certificateRenewal: [
      {
        name: 'cert-renewal',
        mode: 'auto',
        alarmArns: [alarmArn('cert-days-to-expiry')],
        certificates: [certificateArn(1), certificateArn(2)],
        hostedZones: { 'example.com': 'Z0123456789EXAMPLE' },
        renewalHorizonHours: 2,
        resendValidationEmail: true,
      },
    ],
  },
};

/** An alarm state timestamp as CloudWatch writes it in events (`2026-11-22T03:17:22.318+0000`). */
export const alarmTimestamp = (at: Date): string => at.toISOString().replace('Z', '+0000');

/** An EventBridge "CloudWatch Alarm State Change" event, as EventBridge delivers it; the change happened now unless `timestamp` says. */
export function alarmEvent(options: {
  alarm: string;
  timestamp?: string;
  state?: string;
  dimensions?: Record<string, string>;
  account?: string;
  region?: string;
}): Record<string, unknown> {
  const account = options.account ?? ACCOUNT;
  const region = options.region ?? REGION;
  const timestamp = options.timestamp ?? alarmTimestamp(new Date());
  return {
    version: '0',
    id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account,
    time: timestamp.replace(/\.\d+\+0000$/, 'Z'),
    region,
    resources: [`arn:aws:cloudwatch:${region}:${account}:alarm:${options.alarm}`],
    detail: {
      alarmName: options.alarm,
      state: {
        value: options.state ?? 'ALARM',
        reason: 'Threshold Crossed: 1 out of the last 1 datapoints [12.0 (22/11/26 03:16:00)] was greater than the threshold (5.0).',
        timestamp,
      },
      previousState: { value: 'OK', timestamp: '2026-11-21T10:00:00.000+0000' },
      configuration: {
        metrics: [{
          id: 'm1',
          metricStat: {
            metric: { namespace: 'AWS/ApplicationELB', name: 'HTTPCode_Target_5XX_Count', dimensions: options.dimensions ?? { ClusterName: 'prod', ServiceName: 'api' } },
            period: 60,
            stat: 'Sum',
          },
          returnData: true,
        }],
      },
    },
  };
}

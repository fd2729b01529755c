import { App, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { DiskPruneRunbook } from '../../lib/runbooks/disk-prune';
import { EcsTaskRestartRunbook } from '../../lib/runbooks/ecs-task-restart';
import { MedicPlatform } from '../../lib/platform/platform';
import { ACCOUNT, REGION } from '../support/synth';

/** Alarms defined in the stack whose kind a runbook cannot act on fail at synth time, not at the first incident. */

const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new Stack(app, 'AlarmKinds', { env: { account: ACCOUNT, region: REGION } });
const platform = new MedicPlatform(stack, 'Platform');
const diskMetric = new cloudwatch.Metric({ namespace: 'CWAgent', metricName: 'disk_used_percent', dimensionsMap: { InstanceId: 'i-0123456789abcdef0', path: '/' } });
const singleMetric = new cloudwatch.Alarm(stack, 'Disk', { metric: diskMetric, threshold: 90, evaluationPeriods: 1 });
const math = new cloudwatch.Alarm(stack, 'DiskMath', {
  metric: new cloudwatch.MathExpression({ expression: 'm1 * 1.1', usingMetrics: { m1: diskMetric } }), threshold: 90, evaluationPeriods: 1,
});
const composite = new cloudwatch.CompositeAlarm(stack, 'Composite', { alarmRule: cloudwatch.AlarmRule.anyOf(singleMetric, math) });
let n = 0;
const disk = (alarm: cloudwatch.IAlarm) => () => new DiskPruneRunbook(stack, `Prune${++n}`, { platform, name: `prune-${n}`, alarms: [alarm], instances: ['i-0123456789abcdef0'] });
const ecs = (alarm: cloudwatch.IAlarm) => () => new EcsTaskRestartRunbook(stack, `Restart${++n}`, {
  platform, name: `restart-${n}`, alarms: [alarm], services: [{ clusterName: 'prod', serviceName: 'api' }],
});

test('a single-metric alarm is accepted', () => {
  expect(disk(singleMetric)).not.toThrow();
});

test('a metric-math alarm on a runbook that verifies by reading the alarm\'s metric: a synth error naming it', () => {
  expect(disk(math)).toThrow(/alarm AlarmKinds\/DiskMath is a metric-math alarm; this runbook verifies by reading the alarm's one metric/);
});

test('a metric-math alarm on a runbook that reads the alarm\'s state is accepted', () => {
  expect(ecs(math)).not.toThrow();
});

test('a composite alarm names no resource: a synth error for every runbook', () => {
  expect(ecs(composite)).toThrow(/composite alarm AlarmKinds\/Composite names no resource/);
  expect(disk(composite)).toThrow(/composite alarm/);
});

import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { MedicPlatform } from '../../lib/platform/platform';
import { RdsFailoverDrillRunbook, type RdsFailoverDrillRunbookProps } from '../../lib/runbooks/rds-failover-drill';
import { ACCOUNT, REGION, alarmArn, synthStack, testConfig } from '../support/synth';

const drillConfig = testConfig.runbooks.rdsFailoverDrill![0];
const { template } = synthStack(testConfig);
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;

/** The drill's state machine and its definition text (tokens dropped: only literal settings are read). */
function drillMachine(): { properties: Record<string, any>; settings: Record<string, any>; states: Record<string, any> } {
  const machines = Object.values(resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine' && r.Properties.StateMachineName === `medic-${drillConfig.name}`);
  expect(machines).toHaveLength(1);
  const properties = machines[0].Properties;
  const join = properties.DefinitionString['Fn::Join'] as [string, unknown[]];
  const text = join[1].map((p) => (typeof p === 'string' ? p : 'TOKEN')).join(join[0]);
  const definition = JSON.parse(text) as { States: Record<string, any> };
  return { properties, settings: definition.States['Load runbook settings'].Parameters.runbook, states: definition.States };
}

describe('the drill state machine', () => {
  const { properties, settings, states } = drillMachine();

  test('is called medic-<name> and documents its input in its comment', () => {
    const comment = JSON.parse((properties.DefinitionString['Fn::Join'][1] as unknown[]).filter((p) => typeof p === 'string').join('').replace(/TOKEN/g, '')).Comment;
    expect(comment).toMatch(/\{"dbInstanceIdentifier": "orders-db"\} or \{"dbClusterIdentifier": "orders-aurora"\}/);
    expect(comment).toMatch(/"dryRun": true/);
    expect(comment).toMatch(/"allowPendingReboot": true \(go ahead although parameter changes wait in pending-reboot/);
  });

  test('is started by hand: its settings carry the typed-input allow-lists, and no alarm rule targets it', () => {
    expect(settings).toMatchObject({
      name: 'orders-drill',
      kind: 'rds-failover-drill',
      trigger: 'manual',
      alarmArns: [],
      manualTargets: {
        dbInstanceIdentifier: { type: 'rds-instance', allowed: ['orders-db'] },
        dbClusterIdentifier: { type: 'rds-cluster', allowed: ['orders-aurora'] },
      },
    });
    expect(settings.target).toBeUndefined();
    const alarmRules = Object.values(resources).filter((r) => r.Type === 'AWS::Events::Rule' && r.Properties.EventPattern?.source?.[0] === 'aws.cloudwatch');
    expect(alarmRules.map((r) => r.Properties.Description)).not.toContainEqual(expect.stringContaining('orders-drill'));
  });

  test('carries the guard alarms, target readers, window and time budgets to the handler', () => {
    expect(settings.options).toEqual({
      guardAlarmNames: ['prod-api-5xx', 'prod-db-connection-errors'],
      targetReaders: { 'orders-aurora': 'orders-aurora-2' },
      window: { days: ['TUE'], startHourUtc: 9, endHourUtc: 12 },
      failoverTimeoutSeconds: 900,
      guardRecoverySeconds: 300,
    });
    expect(settings.policy).toMatchObject({ maxAttempts: 2, windowSeconds: 86400, maxConcurrent: 1 });
  });

  test('has no Roll back state (a failover is not undone) and polls with Wait states', () => {
    expect(states['Roll back']).toBeUndefined();
    expect(states['Wait between checks']).toEqual(expect.objectContaining({ Type: 'Wait', Seconds: 15 }));
    expect(states['Wait before verifying']).toEqual(expect.objectContaining({ Type: 'Wait', Seconds: 30 }));
  });
});

describe('the schedule', () => {
  // The drill's schedules (the platform has its own, e.g. the daily ledger export).
  const drillSchedules = (all: Record<string, { Type: string; Properties?: any }>) =>
    Object.values(all).filter((r) => r.Type === 'AWS::Scheduler::Schedule' && /failover drill/.test(String(r.Properties?.Description)));
  const schedules = drillSchedules(resources);

  test('starts the drill with the scheduled database and the schedule marker, at the configured time, without retries', () => {
    expect(schedules).toHaveLength(1);
    const { Properties: p } = schedules[0];
    expect(p.ScheduleExpression).toBe('cron(0 10 ? * TUE *)');
    expect(JSON.parse(p.Target.Input)).toEqual({ dbInstanceIdentifier: 'orders-db', trigger: 'schedule', reason: 'scheduled drill' });
    expect(p.Target.RetryPolicy).toMatchObject({ MaximumRetryAttempts: 0 });
    expect(p.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
  });

  test('there is none unless configured', () => {
    const { template: unscheduled } = synthStack({ ...testConfig, runbooks: { rdsFailoverDrill: [{ ...drillConfig, schedules: undefined }] } });
    expect(drillSchedules(unscheduled.toJSON().Resources)).toHaveLength(0);
  });
});

describe('synth-time guards', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'DrillGuards', { env: { account: ACCOUNT, region: REGION } });
  const platform = new MedicPlatform(stack, 'Platform');
  const guard = cloudwatch.Alarm.fromAlarmArn(stack, 'Guard', alarmArn('guard'));
  let n = 0;
  const build = (overrides: Partial<RdsFailoverDrillRunbookProps>) => () => {
    n += 1;
    return new RdsFailoverDrillRunbook(stack, `Drill${n}`, { platform, name: `drill-${n}`, dbInstances: ['orders-db'], guardAlarms: [guard], ...overrides });
  };
  const window = { days: ['TUE'], startHourUtc: 9, endHourUtc: 12 };

  test('the defaults and boundary values are accepted (so the failures below are the setting\'s)', () => {
    expect(build({})).not.toThrow();
    expect(build({ dbInstances: [], dbClusters: ['c1'], targetReaders: { c1: 'c1-reader' } })).not.toThrow();
    expect(build({ schedules: [{ dbInstanceIdentifier: 'orders-db', expression: 'cron(0 10 ? * TUE *)' }], window })).not.toThrow();
    expect(build({ failoverTimeout: Duration.minutes(1), guardRecoveryTime: Duration.seconds(0) })).not.toThrow();
    expect(build({ failoverTimeout: Duration.minutes(30), guardRecoveryTime: Duration.minutes(15) })).not.toThrow();
  });

  test.each<[string, Partial<RdsFailoverDrillRunbookProps>, RegExp]>([
    ['no database', { dbInstances: [] }, /list at least one database in dbInstances or dbClusters/],
    ['an invalid identifier', { dbInstances: ['orders_db;'] }, /"orders_db;" is not a valid RDS identifier/],
    ['a target reader for an unlisted cluster', { targetReaders: { other: 'r1' } }, /targetReaders names cluster "other", which is not in dbClusters/],
    ['a schedule without a window', { schedules: [{ dbInstanceIdentifier: 'orders-db', expression: 'cron(0 10 ? * TUE *)' }] }, /schedules need a window/],
    ['a schedule for an unlisted database', { window, schedules: [{ dbInstanceIdentifier: 'billing-db', expression: 'cron(0 10 ? * TUE *)' }] }, /scheduled instance billing-db is not in dbInstances/],
    ['a schedule naming no database', { window, schedules: [{ expression: 'cron(0 10 ? * TUE *)' }] }, /exactly one of dbInstanceIdentifier and dbClusterIdentifier/],
    ['a schedule that is not an expression', { window, schedules: [{ dbInstanceIdentifier: 'orders-db', expression: 'every tuesday' }] }, /is not cron\(\.\.\.\), rate\(\.\.\.\) or at\(\.\.\.\)/],
    ['a window on an unknown day', { window: { ...window, days: ['TUESDAY'] } }, /window\.days must list days from MON/],
    ['a window that ends before it starts', { window: { ...window, startHourUtc: 12, endHourUtc: 9 } }, /0 <= startHourUtc < endHourUtc <= 24/],
    ['a failover timeout under a minute', { failoverTimeout: Duration.seconds(30) }, /failoverTimeout must be between 1 and 30 minutes/],
    ['a failover timeout over 30 minutes', { failoverTimeout: Duration.minutes(31) }, /failoverTimeout must be between 1 and 30 minutes/],
    ['a guard recovery time over 15 minutes', { guardRecoveryTime: Duration.minutes(16) }, /guardRecoveryTime must be at most 15 minutes/],
  ])('%s is a synth error', (_, overrides, message) => {
    expect(build(overrides)).toThrow(message);
  });

  test('FailoverDBCluster is also granted on each configured target reader\'s db ARN (and only when the drill may act)', () => {
    /** The drill's RDS statements, synthesized in a stack of its own (the shared one is synthesized last). */
    const rdsStatements = (overrides: Partial<RdsFailoverDrillRunbookProps>) => {
      const own = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'DrillReaders', { env: { account: ACCOUNT, region: REGION } });
      new RdsFailoverDrillRunbook(own, 'Drill', { platform: new MedicPlatform(own, 'Platform'), dbClusters: ['c1', 'c2'], targetReaders: { c1: 'c1-reader', c2: 'c2-reader' }, ...overrides });
      return Object.values(Template.fromStack(own).findResources('AWS::IAM::Policy'))
        .flatMap((r) => r.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>)
        .map((st) => ({ actions: ([] as string[]).concat(st.Action), resources: ([] as unknown[]).concat(st.Resource).map((r) => JSON.stringify(r)) }))
        .filter((st) => st.actions.some((a) => a.startsWith('rds:')));
    };
    const failover = rdsStatements({ mode: 'auto' }).filter((st) => st.actions.includes('rds:FailoverDBCluster'));
    const resources = failover.flatMap((st) => st.resources).join(' ');
    expect(resources).toMatch(/:cluster:c1"/);
    expect(resources).toMatch(/:cluster:c2"/);
    const readerStatement = failover.find((st) => st.resources.some((r) => r.includes(':db:')))!;
    expect(readerStatement.actions).toEqual(['rds:FailoverDBCluster']);
    expect(readerStatement.resources.join(' ')).toMatch(/:db:c1-reader".*:db:c2-reader"/);
    expect(readerStatement.resources).toHaveLength(2);
    const observe = rdsStatements({ mode: 'observe' });
    expect(observe.flatMap((st) => st.actions).filter((a) => /Failover|Reboot/.test(a))).toEqual([]);
    expect(observe.flatMap((st) => st.resources).join(' ')).not.toMatch(/:db:c1-reader/);
  });

  test('a drill cannot be attached to an alarm', () => {
    const drill = build({})();
    expect(() => drill.runbook.attachTo(guard)).toThrow(/is started by hand, not by alarms/);
  });

  test('a stack with only drills synthesizes (no alarm rule is required)', () => {
    expect(() => Template.fromStack(stack)).not.toThrow();
  });
});

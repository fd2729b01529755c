import { verifyChain } from '../../lambdas/shared/ledger';
import { phases } from '../support/ledger-reader';
import { WorkflowHarness } from './harness';

/**
 * Events as CloudWatch and people really send them, through the synthesized workflows: alarms
 * whose actions are suppressed or muted, alarm kinds a runbook cannot verify, and hand-typed
 * inputs that are not valid.
 */

const h = new WorkflowHarness();
beforeAll(() => h.start());
afterAll(() => h.stop());
beforeEach(async () => {
  await h.freshWorld();
  h.aws.addService('prod', 'api', 4);
});

describe('suppressed and muted alarms', () => {
  test.each([
    ['a composite actions suppressor (WaitPeriod)', (d: Record<string, any>) => { d.state.actionsSuppressedBy = 'WaitPeriod'; d.state.actionsSuppressedReason = 'Actions suppressed by WaitPeriod'; }],
    ['an alarm mute rule', (d: Record<string, any>) => { d.muteDetail = { muteRuleName: 'saturday-maintenance' }; }],
  ])('%s: recorded as suppressed, nothing done, nobody paged', async (_, edit) => {
    const event = h.fire('prod-api-5xx');
    edit(event.detail as Record<string, any>);
    const run = await h.workflow('api-restart').run(event);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.statesEntered.at(-1)).toBe('Alarm actions suppressed or muted (not acted on)');
    expect(h.aws.mutations()).toHaveLength(0);
    expect(h.aws.published()).toHaveLength(0);
    const [entries] = [...(await h.ledger()).values()];
    expect(phases(entries)).toEqual(['suppressed']);
    expect(JSON.parse(entries[0].detail).reason).toMatch(/medic does not act, as the alarm's own actions do not$/);
    expect(verifyChain(entries[0].incidentId, entries)).toBeUndefined();
  });
});

describe('a hand-typed input that is not valid', () => {
  test.each([
    ['the console\'s default input', { Comment: 'Insert your JSON here' }, /unknown input key\(s\) "Comment"/],
    ['a typo', { dbInstanceIdentifier: 'orders-db', dryrun: true }, /unknown input key\(s\) "dryrun"/],
    ['a database outside the allow-list', { dbInstanceIdentifier: 'billing-db' }, /rds-instance billing-db is not in runbook orders-drill's allow-list/],
  ])('%s: the execution fails with the usage message, it is recorded, and nobody is paged', async (_, input, usage) => {
    const run = await h.workflow('orders-drill').run(input);
    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('Medic.InputRefused');
    expect(run.error?.message).toMatch(usage);
    expect(run.tasks).toEqual(['Validate event']);
    expect(h.aws.published()).toHaveLength(0);
    const [entries] = [...(await h.ledger()).values()];
    expect(phases(entries)).toEqual(['rejected']);
  });

  test('an alarm event the runbook cannot read is still escalated: it is not a person at the console', async () => {
    const run = await h.workflow('api-restart').run(h.fire('someone-elses-alarm'));
    expect(run.error?.name).toBe('Medic.Escalated');
    expect(h.aws.published()).toHaveLength(1);
  });
});

describe('alarm kinds a runbook cannot verify are refused before anything is done', () => {
  test('a metric-math disk alarm: rejected at Validate with the kind named, no command sent', async () => {
    const event = h.fire('web-disk-full', { dimensions: { InstanceId: 'i-0123456789abcdef0' } });
    (event.detail as Record<string, any>).configuration.metrics.push(
      { id: 'e1', expression: 'm1 * 1.1', returnData: true },
    );
    const run = await h.workflow('disk-prune').run(event);
    expect(run.status).toBe('FAILED');
    expect(run.tasks).toEqual(['Validate event', 'Escalate']);
    expect(h.aws.published()[0].Message).toMatch(/alarm web-disk-full is a metric-math or anomaly-detection alarm; runbook disk-prune verifies by reading the alarm's one metric/);
  });

  test('a composite alarm on an ECS runbook: rejected, nothing restarted', async () => {
    const event = h.fire('prod-api-5xx');
    (event.detail as Record<string, any>).configuration = { alarmRule: 'ALARM(a) OR ALARM(b)' };
    const run = await h.workflow('api-restart').run(event);
    expect(run.status).toBe('FAILED');
    expect(h.aws.mutations()).toHaveLength(0);
    expect(h.aws.published()[0].Message).toMatch(/a composite alarm/);
  });
});

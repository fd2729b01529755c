import { parseManualInput } from '../../lambdas/validate/manual-input';
import type { ExecutionInfo, RunbookSpec } from '../../lambdas/shared/types';
import { drillRunbookSpec } from '../support/fixtures';
import { ACCOUNT, REGION } from '../support/synth';

const drill: RunbookSpec = drillRunbookSpec();
const execution: ExecutionInfo = {
  id: `arn:aws:states:${REGION}:${ACCOUNT}:execution:medic-rds-failover-drill:drill-1`,
  name: 'drill-1',
  startedAt: '2026-11-22T10:00:05.123Z',
};

const accepted = (input: unknown) => {
  const parsed = parseManualInput(input, drill, execution);
  if (!parsed.ok) throw new Error(`rejected: ${parsed.reason}`);
  return parsed;
};
const reason = (input: unknown): string => {
  const parsed = parseManualInput(input, drill, execution);
  if (parsed.ok) throw new Error('accepted');
  return parsed.reason;
};

describe('parseManualInput (a drill started from the console or a schedule)', () => {
  test('an instance identifier becomes an rds-instance target with its ARN', () => {
    const parsed = accepted({ dbInstanceIdentifier: 'orders-db', reason: 'quarterly drill' });
    expect(parsed.target).toEqual({
      type: 'rds-instance', id: 'orders-db', arn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:orders-db`,
      region: REGION, account: ACCOUNT, dimensions: { dbInstanceIdentifier: 'orders-db' },
    });
    expect(parsed.trigger).toMatchObject({ kind: 'manual', source: execution.id, at: execution.startedAt, reason: 'quarterly drill' });
    expect(parsed.trigger.startedBy).toContain('CloudTrail');
    expect(parsed.dryRun).toBe(false);
    expect(parsed.incidentId).toMatch(/^rds-failover-drill-20261122T100005Z-[0-9a-f]{12}$/);
  });

  test('a cluster identifier becomes an rds-cluster target', () => {
    expect(accepted({ dbClusterIdentifier: 'orders-aurora' }).target.arn).toBe(`arn:aws:rds:${REGION}:${ACCOUNT}:cluster:orders-aurora`);
  });

  test('dryRun: true is read; the schedule marker makes a schedule trigger', () => {
    expect(accepted({ dbInstanceIdentifier: 'orders-db', dryRun: true }).dryRun).toBe(true);
    const scheduled = accepted({ dbInstanceIdentifier: 'orders-db', trigger: 'schedule' });
    expect(scheduled.trigger).toMatchObject({ kind: 'schedule', startedBy: 'schedule' });
  });

  test('different executions are different incidents', () => {
    const other = parseManualInput({ dbInstanceIdentifier: 'orders-db' }, drill, { ...execution, id: `${execution.id}-2` });
    expect(other.ok && other.incidentId).not.toBe(accepted({ dbInstanceIdentifier: 'orders-db' }).incidentId);
  });

  test.each([
    ['no target', {}, /no target: give exactly one of "dbInstanceIdentifier" or "dbClusterIdentifier"/],
    ['two targets', { dbInstanceIdentifier: 'orders-db', dbClusterIdentifier: 'orders-aurora' }, /more than one target/],
    ['a database outside the allow-list', { dbInstanceIdentifier: 'payments-db' }, /rds-instance payments-db is not in runbook rds-failover-drill's allow-list \(orders-db\)/],
    ['an identifier that is not one', { dbInstanceIdentifier: 'orders db; drop' }, /must be a rds-instance identifier/],
    ['a non-string identifier', { dbInstanceIdentifier: 42 }, /must be a rds-instance identifier/],
    ['a misspelt key', { dbInstanceIdentifier: 'orders-db', dryrun: true }, /unknown input key\(s\) "dryrun"/],
    ['dryRun as a string', { dbInstanceIdentifier: 'orders-db', dryRun: 'true' }, /"dryRun" must be true or false/],
    ['a reason that is too long', { dbInstanceIdentifier: 'orders-db', reason: 'x'.repeat(501) }, /"reason" must be text of at most 500/],
    ['a forged trigger', { dbInstanceIdentifier: 'orders-db', trigger: 'alarm' }, /"trigger" may only be "schedule"/],
    ['not an object', ['orders-db'], /the input must be a JSON object/],
    ['an oversized input', { dbInstanceIdentifier: 'orders-db', reason: 'x'.repeat(9000) }, /over the 8192-byte limit/],
  ])('refuses %s', (_name, input, expected) => {
    expect(reason(input)).toMatch(expected);
  });
});

describe('parseManualInput: "allowPendingReboot", a flag of rds-failover-drill runbooks only', () => {
  test('true is carried on the trigger (so on the incident and its received entry); false or absent leaves it off', () => {
    expect(accepted({ dbInstanceIdentifier: 'orders-db', allowPendingReboot: true }).trigger).toMatchObject({ kind: 'manual', allowPendingReboot: true });
    expect(accepted({ dbInstanceIdentifier: 'orders-db', allowPendingReboot: false }).trigger).not.toHaveProperty('allowPendingReboot');
    expect(accepted({ dbInstanceIdentifier: 'orders-db' }).trigger).not.toHaveProperty('allowPendingReboot');
    expect(accepted({ dbInstanceIdentifier: 'orders-db', allowPendingReboot: true, dryRun: true })).toMatchObject({ dryRun: true, trigger: { allowPendingReboot: true } });
  });

  test.each([
    ['as a string', { dbInstanceIdentifier: 'orders-db', allowPendingReboot: 'true' }, /^"allowPendingReboot" must be true or false \(without quotes\)$/],
    ['as a number', { dbInstanceIdentifier: 'orders-db', allowPendingReboot: 1 }, /^"allowPendingReboot" must be true or false/],
    ['misspelt', { dbInstanceIdentifier: 'orders-db', allowPendingReboots: true }, /^unknown input key\(s\) "allowPendingReboots": .*optionally "reason" \(text\), "dryRun" \(true\/false\) and "allowPendingReboot" \(true\/false\)$/],
    ['in another case', { dbInstanceIdentifier: 'orders-db', allowpendingreboot: true }, /unknown input key\(s\) "allowpendingreboot"/],
  ])('refuses it %s', (_name, input, expected) => {
    expect(reason(input)).toMatch(expected);
  });

  test('another kind of runbook refuses it as an unknown key, and its usage does not offer it', () => {
    const other: RunbookSpec = drillRunbookSpec({}, { kind: 'asg-elb-health-check' });
    const parsed = parseManualInput({ dbInstanceIdentifier: 'orders-db', allowPendingReboot: true }, other, execution);
    expect(parsed).toEqual({ ok: false, reason: expect.stringMatching(/^unknown input key\(s\) "allowPendingReboot": .*optionally "reason" \(text\) and "dryRun" \(true\/false\)$/) });
  });
});

describe('parseManualInput: an allow-list by tag', () => {
  const byTag: RunbookSpec = drillRunbookSpec({}, {
    manualTargets: { autoScalingGroupName: { type: 'autoscaling-group', pattern: '[A-Za-z0-9._ -]{1,255}', arnTemplate: 'arn:{partition}:autoscaling:{region}:{account}:autoScalingGroup:*:autoScalingGroupName/{id}', allowed: ['web-asg'], allowedByTag: { key: 'medic:enforce-elb-health-check', value: 'true' } } },
  });
  const withoutTag: RunbookSpec = { ...byTag, manualTargets: { autoScalingGroupName: { ...byTag.manualTargets!.autoScalingGroupName, allowedByTag: undefined } } };

  test('accepts a group outside the static list (the runbook checks the tag before acting)', () => {
    const parsed = parseManualInput({ autoScalingGroupName: 'shop-1' }, byTag, execution);
    expect(parsed.ok && parsed.target.arn).toBe(`arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/shop-1`);
  });

  test('without the tag allow-list the same group is rejected, and the pattern applies either way', () => {
    expect(parseManualInput({ autoScalingGroupName: 'shop-1' }, withoutTag, execution)).toMatchObject({ ok: false, reason: expect.stringMatching(/not in runbook .* allow-list \(web-asg\)/) });
    expect(parseManualInput({ autoScalingGroupName: 'shop:1' }, byTag, execution)).toMatchObject({ ok: false, reason: expect.stringMatching(/must be a autoscaling-group identifier/) });
  });
});

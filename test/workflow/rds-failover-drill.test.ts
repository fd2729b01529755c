import { verifyChain, type LedgerEntry } from '../../lambdas/shared/ledger';
import { FakeRds } from '../support/fake-rds';
import { phases } from '../support/ledger-reader';
import { synthStack, testConfig } from '../support/synth';
import { WorkflowHarness } from './harness';

const h = new WorkflowHarness();
const rds = new FakeRds(h.clock);
const GUARDS = ['prod-api-5xx', 'prod-db-connection-errors'];

beforeAll(() => h.start());
afterAll(async () => {
  rds.restore();
  await h.stop();
});
beforeEach(async () => {
  await h.freshWorld();
  rds.reset();
  rds.addInstance('orders-db');
  rds.addCluster('orders-aurora', 'orders-aurora-1', ['orders-aurora-2', 'orders-aurora-3']);
  for (const guard of GUARDS) h.aws.setAlarm(guard, 'OK');
});

const drill = () => h.workflow('orders-drill');
const detailOf = (entries: LedgerEntry[], phase: string): Record<string, any> => {
  const entry = entries.find((e) => e.phase === phase);
  if (!entry) throw new Error(`no ${phase} entry in ${phases(entries).join(',')}`);
  return JSON.parse(entry.detail);
};

describe('RDS failover drill workflow (synthesized definition, real handlers, dynalite)', () => {
  test('happy path, instance: one reboot with failover, measured, verified, reported', async () => {
    const run = await drill().run({ dbInstanceIdentifier: 'orders-db', reason: 'quarterly drill' });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output?.outcome).toMatchObject({ outcome: 'resolved', reportPublished: true });
    expect(rds.failovers()).toEqual([{ operation: 'RebootDBInstance', input: { DBInstanceIdentifier: 'orders-db', ForceFailover: true } }]);
    // Its Step Functions cost: 11 transitions up to the first check, 3 per further check, 3 to finish (3k + 11 for k checks).
    const loop = ['Verified?', 'Wait between checks', 'Verify'];
    expect(run.statesEntered).toEqual([
      'Load runbook settings', 'Validate event', 'Event accepted?', 'Admit', 'Admitted?', 'Plan', 'Plan decision?',
      'Act or only observe?', 'Act', 'Wait before verifying', 'Verify', ...loop, ...loop, ...loop, 'Verified?', 'Complete', 'Done',
    ]);

    const entries = await h.incident('orders-drill-');
    // two readings still rebooting (30 s and 45 s after the reboot; it takes 50 s), then two consecutive healthy readings
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'acting', 'acted', 'checked', 'checked', 'checked', 'checked', 'verified', 'completed']);
    expect(verifyChain(entries[0].incidentId, entries)).toBeUndefined();
    expect(detailOf(entries, 'planned').details.preState).toEqual({ kind: 'instance', primaryAz: 'eu-west-1a', secondaryAz: 'eu-west-1b' });
    const report = detailOf(entries, 'completed').report;
    expect(report).toMatchObject({ verdict: 'PASSED', figures: { database: 'orders-db', after: 'eu-west-1b', failoverSeconds: expect.any(Number) } });

    const [message] = h.aws.published();
    expect(message.Subject).toBe('[medic] RDS failover drill of orders-db: PASSED');
    expect(message.Message).toContain('PRIMARY AZ: eu-west-1a -> eu-west-1b');
    expect(message.Message).toContain('(reason: quarterly drill)');
    expect(message.Message).toMatch(/STARTED: a manual start by an operator \(see the StartExecution event of .* in CloudTrail\)/);
    expect(message.Message).toContain('GUARD TIMELINE: ');
  });

  test('happy path, cluster: FailoverDBCluster to the configured reader, writer change verified', async () => {
    const run = await drill().run({ dbClusterIdentifier: 'orders-aurora' });
    expect(run.status).toBe('SUCCEEDED');
    expect(rds.failovers()).toEqual([{ operation: 'FailoverDBCluster', input: { DBClusterIdentifier: 'orders-aurora', TargetDBInstanceIdentifier: 'orders-aurora-2' } }]);
    const report = detailOf(await h.incident('orders-drill-'), 'completed').report;
    expect(report.figures).toMatchObject({ kind: 'cluster', after: 'orders-aurora-2', before: { writer: 'orders-aurora-1' } });
    expect(h.aws.published()[0].Message).toContain('WRITER: orders-aurora-1 -> orders-aurora-2');
  });

  test('the database never comes back: verification fails after its checks, escalated with what was measured', async () => {
    rds.behaviour = 'never-available';
    const run = await drill().run({ dbInstanceIdentifier: 'orders-db' });
    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('Medic.Escalated');
    const entries = await h.incident('orders-drill-');
    expect(phases(entries)).not.toContain('completed');
    expect(detailOf(entries, 'verification-failed').reason).toMatch(/^not verified after 6 check\(s\): waiting: orders-db is rebooting, primary still eu-west-1a$/);
    const [message] = h.aws.published();
    expect(message.Subject).toContain('verification failed');
    expect(message.Message).toMatch(/MEASURED: \{.*"requestedAt":"[^"]+".*"status":"rebooting"/);
    expect(message.Message).toContain('The action is not reversible');
  });

  test('rebooted without failing over: never verified (the drill keeps reading in case the AZ is reported late), escalated', async () => {
    rds.behaviour = 'reboots-in-place';
    const run = await drill().run({ dbInstanceIdentifier: 'orders-db' });
    expect(run.status).toBe('FAILED');
    expect(detailOf(await h.incident('orders-drill-'), 'verification-failed').reason)
      .toBe('not verified after 6 check(s): waiting: orders-db is available again, primary still eu-west-1a (RDS may report the new AZ after the status; reading again until the failover timeout)');
  });

  test('the new AZ is reported one reading after the status is available again: verified, not "did not fail over"', async () => {
    // Available again 50 s after the reboot (between the readings at 45 s and 60 s); the AZ fields catch up 20 s later (by 75 s).
    rds.azSettlesSeconds = 20;
    const run = await drill().run({ dbInstanceIdentifier: 'orders-db' });
    expect(run.status).toBe('SUCCEEDED');
    const entries = await h.incident('orders-drill-');
    // rebooting twice, available in the old AZ once, then the new AZ on two readings in a row
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'acting', 'acted', 'checked', 'checked', 'checked', 'checked', 'checked', 'verified', 'completed']);
    const checks = entries.filter((e) => e.phase === 'checked').map((e) => JSON.parse(e.detail));
    expect(checks[2].reason).toMatch(/^waiting: orders-db is available again, primary still eu-west-1a/);
    const report = detailOf(entries, 'completed').report;
    expect(report).toMatchObject({ verdict: 'PASSED', figures: { after: 'eu-west-1b' } });
    // the failover time runs to the first available reading, not to the reading that showed the new AZ
    expect(checks[1].readings.availableAt).toBeUndefined();
    expect(checks[2].readings.availableAt).toEqual(expect.any(String));
    expect(report.figures.availableAt).toBe(checks[2].readings.availableAt);
  });

  test('an RDS for MySQL Multi-AZ DB cluster with a configured target reader: refused at preflight, no FailoverDBCluster, the page says how to fix it', async () => {
    rds.addCluster('orders-aurora', 'orders-aurora-1', ['orders-aurora-2', 'orders-aurora-3'], { engine: 'mysql' });
    const run = await drill().run({ dbClusterIdentifier: 'orders-aurora' });
    expect(run.status).toBe('FAILED');
    expect(rds.failovers()).toEqual([]);
    expect(phases(await h.incident('orders-drill-'))).toEqual(['received', 'admitted', 'planned', 'escalated']);
    const [message] = h.aws.published();
    expect(message.Message).toContain('drill refused: cluster orders-aurora is an RDS for MySQL Multi-AZ DB cluster, which does not support promoting a chosen reader');
    expect(message.Message).toContain('remove "orders-aurora" from the drill\'s targetReaders');
  });

  test('an RDS for PostgreSQL Multi-AZ DB cluster takes the configured target reader: failed over to it', async () => {
    rds.addCluster('orders-aurora', 'orders-aurora-1', ['orders-aurora-2', 'orders-aurora-3'], { engine: 'postgres' });
    const run = await drill().run({ dbClusterIdentifier: 'orders-aurora' });
    expect(run.status).toBe('SUCCEEDED');
    expect(rds.failovers()).toEqual([{ operation: 'FailoverDBCluster', input: { DBClusterIdentifier: 'orders-aurora', TargetDBInstanceIdentifier: 'orders-aurora-2' } }]);
  });

  test('a parameter group pending reboot: refused without the flag; with "allowPendingReboot": true the drill runs, the flag is on the incident, the reboot applies the change', async () => {
    rds.addInstance('orders-db', { parameterGroups: [{ name: 'orders-pg', status: 'pending-reboot' }] });
    const refused = await drill().run({ dbInstanceIdentifier: 'orders-db' }, 'drill-refused');
    expect(refused.status).toBe('FAILED');
    expect(rds.failovers()).toEqual([]);
    expect(h.aws.published()[0].Message).toContain('drill refused: DB parameter group orders-pg of orders-db is pending-reboot');

    const allowed = await drill().run({ dbInstanceIdentifier: 'orders-db', allowPendingReboot: true }, 'drill-allowed');
    expect(allowed.status).toBe('SUCCEEDED');
    expect(rds.failovers()).toEqual([{ operation: 'RebootDBInstance', input: { DBInstanceIdentifier: 'orders-db', ForceFailover: true } }]);
    const entries = [...(await h.ledger()).values()].find((e) => phases(e).includes('completed'))!;
    expect(detailOf(entries, 'received').trigger).toMatchObject({ kind: 'manual', allowPendingReboot: true });
    expect(detailOf(entries, 'planned').details).toMatchObject({ allowPendingReboot: true, pendingReboot: expect.stringContaining('orders-pg') });
    expect(rds.instances.get('orders-db')!.parameterGroups).toEqual([{ name: 'orders-pg', status: 'in-sync' }]);
  });

  test('"allowPendingReboot" as a string is rejected at validation, like "dryRun"', async () => {
    const run = await drill().run({ dbInstanceIdentifier: 'orders-db', allowPendingReboot: 'yes' });
    expect(run.status).toBe('FAILED');
    expect(rds.client.calls()).toHaveLength(0);
    const [entries] = [...(await h.ledger()).values()];
    expect(detailOf(entries, 'rejected').reason).toBe('"allowPendingReboot" must be true or false (without quotes)');
  });

  test('two drills of one database started together: one runs, the other is refused, one reboot', async () => {
    const [a, b] = await Promise.all([
      drill().run({ dbInstanceIdentifier: 'orders-db' }, 'drill-a'),
      drill().run({ dbInstanceIdentifier: 'orders-db' }, 'drill-b'),
    ]);
    expect([a.status, b.status].sort()).toEqual(['FAILED', 'SUCCEEDED']);
    expect(rds.failovers()).toHaveLength(1);
    const incidents = [...(await h.ledger()).values()];
    expect(incidents).toHaveLength(2);
    const refused = incidents.find((entries) => phases(entries).includes('denied'))!;
    expect(phases(refused)).toEqual(['received', 'denied', 'escalated']);
    // The target lease, not the rate limit (2 a day) or the runbook's cap (also 1), refuses it: the database is busy.
    expect(detailOf(refused, 'denied').reason).toMatch(/^another incident is in flight on arn:aws:rds:eu-west-1:111111111111:db:orders-db: orders-drill-/);
  });

  test('dryRun: every preflight runs, the report says what would happen, no reboot', async () => {
    const run = await drill().run({ dbInstanceIdentifier: 'orders-db', dryRun: true });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output?.outcome.outcome).toBe('observed');
    expect(rds.failovers()).toEqual([]);
    const entries = await h.incident('orders-drill-');
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'completed']);
    expect(detailOf(entries, 'received').dryRun).toBe(true);
    expect(detailOf(entries, 'planned').wouldAct).toMatch(/^RebootDBInstance ForceFailover=true on orders-db/);
    const [message] = h.aws.published();
    expect(message.Subject).toBe('[medic] RDS failover drill of orders-db: DRY RUN: every preflight passed');
    expect(message.Message).toContain('WOULD DO: RebootDBInstance ForceFailover=true on orders-db');
  });

  test('dry runs do not use up the daily attempts: two rehearsals, then both real drills are admitted', async () => {
    for (let i = 0; i < 2; i++) expect((await drill().run({ dbInstanceIdentifier: 'orders-db', dryRun: true })).status).toBe('SUCCEEDED');
    rds.addInstance('orders-db');
    expect((await drill().run({ dbInstanceIdentifier: 'orders-db' })).status).toBe('SUCCEEDED');
    expect((await drill().run({ dbInstanceIdentifier: 'orders-db' })).status).toBe('SUCCEEDED');
    expect(rds.failovers()).toHaveLength(2);
    // the third real drill of the day is over maxAttempts (2)
    const third = await drill().run({ dbInstanceIdentifier: 'orders-db' });
    expect(third.status).toBe('FAILED');
    expect(rds.failovers()).toHaveLength(2);
    expect(h.aws.published().at(-1)?.Message).toMatch(/rate limit: 2 admission\(s\) for arn:aws:rds:eu-west-1:111111111111:db:orders-db in the last 86400s, by any runbook \(max 2\)/);
  });

  test('approve mode needs an approval gate: without approvers the stack does not synthesize', () => {
    const approveConfig = { ...testConfig, runbooks: { rdsFailoverDrill: [{ ...testConfig.runbooks.rdsFailoverDrill![0], name: 'approve-drill', mode: 'approve' as const }] } };
    expect(() => synthStack(approveConfig)).toThrow(/approve-drill.*approval/);
  });

  test('a guard alarm in ALARM: refused before anything is touched, with the reason', async () => {
    h.aws.setAlarm('prod-db-connection-errors', 'ALARM');
    const run = await drill().run({ dbInstanceIdentifier: 'orders-db' });
    expect(run.status).toBe('FAILED');
    expect(rds.failovers()).toEqual([]);
    const entries = await h.incident('orders-drill-');
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'escalated']);
    expect(h.aws.published()[0].Message).toContain('drill refused: guard alarm(s) not OK before the drill: prod-db-connection-errors is ALARM');
  });

  test('a database outside the allow-list, or a mistyped key: rejected at validation, recorded, no RDS call at all', async () => {
    for (const input of [{ dbInstanceIdentifier: 'billing-db' }, { dbInstanceIdentifier: 'orders-db', dryrun: true }]) {
      const run = await drill().run(input);
      expect(run.status).toBe('FAILED');
    }
    expect(rds.client.calls()).toHaveLength(0);
    const rejected = [...(await h.ledger()).values()].map((entries) => detailOf(entries, 'rejected').reason as string);
    expect(rejected.sort()).toEqual([
      expect.stringMatching(/rds-instance billing-db is not in runbook orders-drill's allow-list/),
      expect.stringMatching(/unknown input key\(s\) "dryrun"/),
    ].sort());
  });
});

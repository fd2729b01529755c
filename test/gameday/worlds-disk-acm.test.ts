import { ACMClient, DescribeCertificateCommand, RenewCertificateCommand, ResendValidationEmailCommand, SearchCertificatesCommand } from '@aws-sdk/client-acm';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import {
  CancelCommandCommand, DescribeInstanceInformationCommand, GetCommandInvocationCommand, ListCommandInvocationsCommand, ListCommandsCommand, SendCommandCommand, SSMClient,
} from '@aws-sdk/client-ssm';
import type { ScenarioReport } from '../../lib/gameday/report';
import { installAcm } from '../../lib/gameday/services/acm';
import { installEc2Disk } from '../../lib/gameday/services/ec2-disk';
import { gameDayRunner, line, simulatedWorld } from './support';

/**
 * The EC2 disk and ACM parts of the game-day world: the bundled disk-prune and certificate
 * scenarios run in-process (synthesized stack, real handlers, simulated time) and meet their
 * expectations, and the simulated services behave as docs/gameday.md says on their own.
 */

const gameDay = gameDayRunner('disk-acm');
const run = gameDay.run;
const operations = (r: ScenarioReport): string[] => r.calls.map((c) => `${c.service}:${c.operation}`);

const INSTANCE = 'i-0123456789abcdef0';
const PRIVATE_CERT = 'arn:aws:acm:eu-west-1:111111111111:certificate/11111111-2222-4333-8444-555555555555';
const DNS_CERT = 'arn:aws:acm:eu-west-1:111111111111:certificate/22222222-2222-4333-8444-555555555555';
const IMPORTED_CERT = 'arn:aws:acm:eu-west-1:111111111111:certificate/33333333-2222-4333-8444-555555555555';
const ZONE = 'Z0123456789EXAMPLE';
/** ACM's record shapes (lambdas/certificate-renewal/validation-record.ts). */
const RECORD_NAME = /^_[0-9a-f]{32}\.www\.example\.com\.$/;
const RECORD_VALUE = /^_[0-9a-f]{32}\.[a-z]{10}\.acm-validations\.aws\.$/;

describe('disk prune scenarios', () => {
  test('disk-prune-frees-space: one command, disk back to 70 %, resolved', async () => {
    const r = await run('disk-prune-frees-space.yaml');
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.incidents.map((i) => [i.runbook, i.outcome])).toEqual([['web-disk-prune', 'resolved']]);
    expect(operations(r)).toEqual(['ssm:SendCommand']);
    expect(r.calls[0].parameters).toMatchObject({ InstanceIds: [INSTANCE], Parameters: expect.objectContaining({ logRoot: ['/var/log'], dryRun: ['false'] }) });
    expect(line(r, /DETECT/)).toBe(`03:17:00 DETECT web-1-disk-full ALARM (ec2-instance ${INSTANCE})`);
    expect(line(r, /VERIFY pending/)).toBe('03:18:00 VERIFY pending: command InProgress');
    expect(line(r, /VERIFY success/)).toMatch(/^03:19:00 VERIFY success: freed 12\.0 MB \(4 file\(s\)\); disk_used_percent 70\.0 is back within the threshold 90/);
    expect(line(r, /RESOLVED/)).toBe('03:20:00 RESOLVED in 3m00s (simulated)');
  }, 120_000);

  test('disk-prune-still-full: pruned once, the disk stays at 96 %, escalated', async () => {
    const r = await run('disk-prune-still-full.yaml');
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.incidents.map((i) => [i.runbook, i.outcome])).toEqual([['web-disk-prune', 'escalated']]);
    expect(operations(r)).toEqual(['ssm:SendCommand']);
    expect(line(r, /VERIFY FAILED/)).toBe('03:32:00 VERIFY FAILED not verified after 15 check(s): freed 12.0 MB (4 file(s)), '
      + 'still 96.0 disk_used_percent (threshold 90): something else is filling the disk');
    expect(line(r, /ESCALATE/)).toMatch(/something else is filling the disk/);
    expect(line(r, /RESOLVED/)).toBeUndefined();
    expect(r.notifications.map((n) => n.subject)).toEqual([`[medic] web-disk-prune: verification failed (${INSTANCE})`]);
  }, 120_000);

  test('disk-prune-fleet: one capped SendCommand to the group\'s tag, run two at a time, resolved', async () => {
    const r = await run('disk-prune-fleet.yaml');
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.incidents.map((i) => [i.runbook, i.outcome])).toEqual([['web-fleet-disk-prune', 'resolved']]);
    expect(operations(r)).toEqual(['ssm:SendCommand']);
    expect(r.calls[0].parameters).toMatchObject({ Targets: [{ Key: 'tag:aws:autoscaling:groupName', Values: ['web-asg'] }], MaxConcurrency: '50%', MaxErrors: '1' });
    expect(r.calls[0].parameters.InstanceIds).toBeUndefined();
    expect(line(r, /VERIFY pending/)).toBe('03:18:00 VERIFY pending: fleet command InProgress: 2 of 3 done');
    // 12 + 12 + 8 MiB across the three members; the fleet metric is its fullest disk after the prune.
    expect(line(r, /VERIFY success/)).toMatch(/^03:19:00 VERIFY success: freed 32\.0 MB \(12 file\(s\)\) across 3 instance\(s\); disk_used_percent 72\.0 is back/);
    expect(line(r, /RESOLVED/)).toBe('03:20:00 RESOLVED in 3m00s (simulated)');
  }, 120_000);

  test('disk-prune-fleet-undelivered: one member never receives the command; the others are pruned and the metric is back, so resolved, reporting the member not reached', async () => {
    const r = await run('disk-prune-fleet-undelivered.yaml');
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.incidents.map((i) => [i.runbook, i.outcome])).toEqual([['web-fleet-disk-prune', 'resolved']]);
    expect(operations(r)).toEqual(['ssm:SendCommand']);
    // Checked at once: Run Command does not list a command for its first seconds.
    expect(line(r, /VERIFY pending/)).toMatch(/^03:17:00 VERIFY pending: command \S+ not listed yet$/);
    // The offline member holds the command InProgress (Delayed) until it expires: 300 s delivery timeout + the document's 600 s.
    expect(line(r, /VERIFY pending: fleet command InProgress: 3 of 4/)).toBe('03:19:00 VERIFY pending: fleet command InProgress: 3 of 4 done (x13, until 03:31:00)');
    // 12 + 12 + 200 MiB: the 200 MiB summary (67 files, 40 listed) was cut in ListCommandInvocations and read with GetCommandInvocation.
    expect(line(r, /VERIFY success/)).toBe('03:32:00 VERIFY success: freed 224.0 MB (75 file(s)) across 3 instance(s); not run on i-0ccccccccccccccc4 (DeliveryTimedOut); '
      + 'disk_used_percent 72.0 is back within the threshold 90 (x2, until 03:33:00)');
    expect(line(r, /RESOLVED/)).toBe('03:33:00 RESOLVED in 16m00s (simulated)');
    expect(r.notifications.map((n) => n.subject)).toEqual(['[medic] Fleet disk prune of aws:autoscaling:groupName=web-asg: RESOLVED, 1 instance(s) not reached']);
  }, 120_000);

  test('disk-prune-fleet-freeze-mid-batch: the calendar closes while Run Command works through the fleet; medic cancels its command, escalates, and says how far it got', async () => {
    const r = await run('disk-prune-fleet-freeze-mid-batch.yaml');
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.incidents.map((i) => [i.runbook, i.outcome])).toEqual([['web-fleet-disk-prune', 'escalated']]);
    expect(operations(r)).toEqual(['ssm:SendCommand', 'ssm:CancelCommand']);
    const commandId = (r.calls[1].parameters as { CommandId: string }).CommandId;
    // Made during the freeze: stopping a change is what the freeze asks for.
    // (Each scenario of a game day runs on a simulated day of its own: the time of day is what is known.)
    expect(r.calls[1]).toMatchObject({ at: expect.stringMatching(/T03:18:00\.000Z$/), runbook: 'web-fleet-disk-prune', guards: { changeCalendar: 'CLOSED' }, parameters: { CommandId: commandId } });
    expect(line(r, /VERIFY/)).toMatch(/^03:18:00 VERIFY failure: change calendar release-freeze is CLOSED \(change freeze\) while the prune command was running: medic cancelled command /);
    const [page] = r.notifications;
    expect(page.subject).toBe('[medic] web-fleet-disk-prune: verification failed (web-asg)');
    expect(page.message).toContain(`medic cancelled command ${commandId} (request id gameday-`);
    expect(page.message).toContain('WHAT TO DO: The prune was stopped; it had finished on 1 of 3 instance(s).');
  }, 120_000);

  test('a single-instance prune checked at once meets InvocationDoesNotExist first (Run Command is eventually consistent), waits, and resolves', async () => {
    const scenario = gameDay.load('disk-prune-frees-space.yaml');
    const [runbook] = scenario.config!.runbooks.diskPrune!;
    const r = await gameDay.runScenario({
      ...scenario, config: { ...scenario.config!, runbooks: { diskPrune: [{ ...runbook, verification: { initialDelaySeconds: 0, intervalSeconds: 30 } }] } },
    });
    expect(r.failures).toEqual([]);
    expect(r.incidents.map((i) => [i.runbook, i.outcome])).toEqual([['web-disk-prune', 'resolved']]);
    expect(line(r, /VERIFY pending/)).toMatch(new RegExp(`^03:17:00 VERIFY pending: command \\S+ not registered on ${INSTANCE} yet$`));
    expect(line(r, /VERIFY pending: command InProgress/)).toMatch(/^03:17:30 VERIFY pending: command InProgress/);
    expect(line(r, /RESOLVED/)).toMatch(/RESOLVED/);
  }, 120_000);
});

describe('certificate renewal scenarios', () => {
  test('cert-private-renewed: ACM expiry event, RenewCertificate once, renewed after 10 minutes, resolved', async () => {
    const r = await run('cert-private-renewed.yaml');
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.incidents.map((i) => [i.runbook, i.outcome])).toEqual([['cert-renewal', 'resolved']]);
    expect(r.calls.map((c) => [`${c.service}:${c.operation}`, c.parameters])).toEqual([['acm:RenewCertificate', { CertificateArn: PRIVATE_CERT }]]);
    expect(line(r, /DETECT/)).toBe(`03:17:00 DETECT ACM Certificate Approaching Expiration (acm-certificate ${PRIVATE_CERT})`);
    expect(line(r, /VERIFY pending/)).toMatch(/^03:19:00 VERIFY pending: renewal PENDING_AUTO_RENEWAL, expiry still /);
    expect(line(r, /VERIFY success/)).toMatch(/^03:34:00 VERIFY success: renewed: expiry moved from \S+ to \S+ \(394 days left\)$/);
    expect(line(r, /RESOLVED/)).toBe('03:34:00 RESOLVED in 17m00s (simulated)');
  }, 120_000);

  test('cert-dns-record-restored: the missing validation CNAME is UPSERTed, nothing else, and the renewal succeeds', async () => {
    const r = await run('cert-dns-record-restored.yaml');
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.incidents.map((i) => [i.runbook, i.outcome])).toEqual([['cert-renewal', 'resolved']]);
    expect(operations(r)).toEqual(['route53:ChangeResourceRecordSets']);
    const change = r.calls[0].parameters as { HostedZoneId: string; ChangeBatch: { Changes: Array<Record<string, any>> } };
    expect(change.HostedZoneId).toBe(ZONE);
    expect(change.ChangeBatch.Changes).toEqual([
      { Action: 'UPSERT', ResourceRecordSet: { Name: expect.stringMatching(RECORD_NAME), Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: expect.stringMatching(RECORD_VALUE) }] } },
    ]);
    expect(line(r, /DETECT/)).toBe(`03:17:00 DETECT web-cert-days-to-expiry ALARM (acm-certificate ${DNS_CERT})`);
    expect(line(r, /PLAN/)).toMatch(/^03:17:00 PLAN act: UPSERT 1 validation CNAME\(s\) in example\.com \(Z0123456789EXAMPLE\): _[0-9a-f]{32}\.www\.example\.com\. CNAME /);
    expect(line(r, /VERIFY pending/)).toMatch(/^03:19:00 VERIFY pending: renewal PENDING_VALIDATION/);
    expect(line(r, /VERIFY success/)).toMatch(/^03:49:00 VERIFY success: renewed: expiry moved/);
    expect(line(r, /RESOLVED/)).toBe('03:49:00 RESOLVED in 32m00s (simulated)');
  }, 120_000);

  test('cert-imported-escalated: read only, escalated with the re-import', async () => {
    const r = await run('cert-imported-escalated.yaml');
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.incidents.map((i) => [i.runbook, i.outcome])).toEqual([['cert-renewal', 'escalated']]);
    expect(r.calls).toEqual([]);
    expect(line(r, /PLAN/)).toMatch(/^03:17:00 PLAN escalate: imported certificates cannot be renewed by ACM; it expires \S+ \(20 days\)$/);
    expect(line(r, / ACT /)).toBeUndefined();
    expect(line(r, /ESCALATE/)).toMatch(/^03:17:00 ESCALATE .*imported certificates cannot be renewed by ACM/);
    expect(r.notifications).toHaveLength(1);
    expect(r.incidents[0].target).toBe(IMPORTED_CERT);
  }, 120_000);

  test('cert-action-required-dns-restored: ACM\'s "Renewal Action Required" event starts the runbook, which restores the missing CNAME', async () => {
    const r = await run('cert-action-required-dns-restored.yaml');
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.incidents.map((i) => [i.runbook, i.outcome])).toEqual([['cert-renewal', 'resolved']]);
    expect(operations(r)).toEqual(['route53:ChangeResourceRecordSets']);
    expect(line(r, /DETECT/)).toBe('03:17:00 DETECT ACM Certificate Renewal Action Required (acm-certificate arn:aws:acm:eu-west-1:111111111111:certificate/44444444-2222-4333-8444-555555555555)');
    expect(line(r, /PLAN/)).toMatch(/^03:17:00 PLAN act: UPSERT 1 validation CNAME\(s\) in example\.com \(Z0123456789EXAMPLE\): _[0-9a-f]{32}\.www\.example\.com\. CNAME /);
    expect(line(r, /RESOLVED/)).toBe('03:49:00 RESOLVED in 32m00s (simulated)');
  }, 120_000);

  test('cert-private-not-exported: Plan reads Exported false and escalates; RenewCertificate is never sent', async () => {
    const r = await run('cert-private-not-exported.yaml');
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.incidents.map((i) => [i.runbook, i.outcome])).toEqual([['cert-renewal', 'escalated']]);
    expect(r.calls).toEqual([]);
    expect(line(r, /PLAN/)).toBe('03:17:00 PLAN escalate: the private certificate has not been exported: RenewCertificate renews only exported certificates and ACM would refuse it');
    expect(line(r, / ACT /)).toBeUndefined();
    expect(r.notifications).toHaveLength(1);
  }, 120_000);

  test('cert-http-validation-escalated: HTTP validation is not read as DNS: no CNAME written although the zone is configured', async () => {
    const r = await run('cert-http-validation-escalated.yaml');
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.incidents.map((i) => [i.runbook, i.outcome])).toEqual([['cert-renewal', 'escalated']]);
    expect(r.calls).toEqual([]);
    expect(line(r, /PLAN/)).toMatch(/^03:17:00 PLAN escalate: HTTP validation is pending for www\.example\.com \(the certificate is managed by CLOUDFRONT\)/);
    expect(r.notifications).toHaveLength(1);
  }, 120_000);
});

describe('the simulated services on their own', () => {
  const world = async (spec: Record<string, unknown>) => simulatedWorld(spec, installEc2Disk, installAcm);

  test('a fleet command runs MaxConcurrency at a time, stops after MaxErrors, and the metric moves only where a prune succeeded', async () => {
    const { w, clock, advance } = await world({
      ec2: {
        instances: [
          { id: 'i-1', autoScalingGroup: 'web-asg', command: 'Failed', commandTakes: '30s' },
          { id: 'i-2', autoScalingGroup: 'web-asg', commandTakes: '30s', afterPrune: 60 },
          { id: 'i-3', autoScalingGroup: 'web-asg', commandTakes: '30s' },
          { id: 'i-4', autoScalingGroup: 'web-asg', managed: false },
          { id: 'i-9', autoScalingGroup: 'other-asg', diskUsedPercent: 50 },
        ],
      },
    });
    const ssm = new SSMClient({ region: 'eu-west-1' });
    const cloudWatch = new CloudWatchClient({ region: 'eu-west-1' });
    const disk = async (dimensions: Record<string, string>) => {
      const out = await cloudWatch.send(new GetMetricDataCommand({
        StartTime: new Date(clock.now() - 120_000), EndTime: new Date(clock.now() + 60_000), ScanBy: 'TimestampDescending',
        MetricDataQueries: [{ Id: 'disk', MetricStat: { Metric: { Namespace: 'CWAgent', MetricName: 'disk_used_percent', Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })) }, Period: 60, Stat: 'Maximum' } }],
      }));
      const [result] = out.MetricDataResults!;
      return result.Timestamps!.map((t, i) => [t.toISOString().slice(11, 19), result.Values![i]]);
    };
    try {
      const managed = await ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'tag:aws:autoscaling:groupName', Values: ['web-asg'] }] }));
      expect(managed.InstanceInformationList!.map((i) => [i.InstanceId, i.PingStatus, i.PlatformType])).toEqual([['i-1', 'Online', 'Linux'], ['i-2', 'Online', 'Linux'], ['i-3', 'Online', 'Linux']]);
      const { Command } = await ssm.send(new SendCommandCommand({
        DocumentName: 'medic-disk-prune', Targets: [{ Key: 'tag:aws:autoscaling:groupName', Values: ['web-asg'] }], MaxConcurrency: '2', MaxErrors: '0',
      }));
      expect(Command).toMatchObject({ TargetCount: 3, Status: 'Pending' });
      expect(w.calls.map((c) => c.operation)).toEqual(['SendCommand']);
      const listed = async () => (await ssm.send(new ListCommandsCommand({ CommandId: Command!.CommandId }))).Commands![0];
      await advance(10);
      expect(await listed()).toMatchObject({ Status: 'InProgress', CompletedCount: 0 });
      await advance(30);
      // i-1 failed at 30 s: with MaxErrors 0, i-3 (which would have started then) never starts.
      expect(await listed()).toMatchObject({ Status: 'Failed', TargetCount: 3, CompletedCount: 3, ErrorCount: 1 });
      const invocations = (await ssm.send(new ListCommandInvocationsCommand({ CommandId: Command!.CommandId, Details: true }))).CommandInvocations!;
      // i-3 was never sent: StatusDetails Terminated ("subsequent command invocations were canceled by the system").
      expect(invocations.map((i) => [i.InstanceId, i.Status, i.StatusDetails])).toEqual([['i-1', 'Failed', 'Failed'], ['i-2', 'Success', 'Success'], ['i-3', 'Cancelled', 'Terminated']]);
      expect(JSON.parse(invocations[1].CommandPlugins![0].Output!.trim())).toMatchObject({ deleted: 4, bytesFreed: 12 * 1024 * 1024, errors: [] });
      expect(JSON.parse(invocations[0].CommandPlugins![0].Output!.trim())).toMatchObject({ deleted: 0, bytesFreed: 0, errors: [expect.stringMatching(/^cannot delete /)] });
      const i2 = await ssm.send(new GetCommandInvocationCommand({ CommandId: Command!.CommandId, InstanceId: 'i-2' }));
      expect(i2).toMatchObject({ Status: 'Success', ResponseCode: 0, ExecutionEndDateTime: '2026-11-22T03:17:30.000Z' });
      await expect(ssm.send(new GetCommandInvocationCommand({ CommandId: Command!.CommandId, InstanceId: 'i-9' }))).rejects.toMatchObject({ name: 'InvocationDoesNotExist' });
      // Datapoints every period back to the start, newest at now: i-2 reads 95 until its prune ended at 03:17:30, 60 after.
      expect(await disk({ InstanceId: 'i-2', path: '/' })).toEqual([['03:17:40', 60], ['03:16:40', 95], ['03:15:40', 95]]);
      // The group's value is its fullest member: i-1 and i-3 were not pruned.
      expect((await disk({ AutoScalingGroupName: 'web-asg', path: '/' }))[0]).toEqual(['03:17:40', 95]);
      expect(await disk({ InstanceId: 'i-nope' })).toEqual([]);
      await expect(ssm.send(new SendCommandCommand({ DocumentName: 'medic-disk-prune', InstanceIds: ['i-4'] }))).rejects.toMatchObject({ name: 'InvalidInstanceId' });
    } finally {
      w.restore();
    }
  });

  test('CancelCommand, as documented: invocations not yet ended go Cancelling, then Cancelled; a pending one never runs nor prunes; the counts follow', async () => {
    const { w, clock, advance } = await world({
      ec2: {
        instances: [
          { id: 'i-1', autoScalingGroup: 'web-asg', commandTakes: '45s', afterPrune: 60 },
          { id: 'i-2', autoScalingGroup: 'web-asg', commandTakes: '45s', afterPrune: 60 },
          { id: 'i-3', autoScalingGroup: 'web-asg', commandTakes: '45s', afterPrune: 60 },
        ],
      },
    });
    const ssm = new SSMClient({ region: 'eu-west-1' });
    try {
      const { Command } = await ssm.send(new SendCommandCommand({
        DocumentName: 'medic-disk-prune', Targets: [{ Key: 'tag:aws:autoscaling:groupName', Values: ['web-asg'] }], MaxConcurrency: '1', MaxErrors: '1',
      }));
      const id = Command!.CommandId!;
      const listed = async () => (await ssm.send(new ListCommandsCommand({ CommandId: id }))).Commands![0];
      const invocations = async () => (await ssm.send(new ListCommandInvocationsCommand({ CommandId: id, Details: true }))).CommandInvocations!
        .map((i) => [i.InstanceId, i.Status, i.StatusDetails, i.CommandPlugins?.[0]?.ResponseCode ?? null]);
      // Not registered yet: like the other calls, the id is unknown for its first seconds.
      await expect(ssm.send(new CancelCommandCommand({ CommandId: id }))).rejects.toMatchObject({ name: 'InvalidCommandId' });
      await advance(60);
      expect(await listed()).toMatchObject({ Status: 'InProgress', CompletedCount: 1, TargetCount: 3 });
      await expect(ssm.send(new CancelCommandCommand({ CommandId: id, InstanceIds: ['i-9'] }))).rejects.toMatchObject({ name: 'InvalidInstanceId' });
      await expect(ssm.send(new CancelCommandCommand({ CommandId: 'nope' }))).rejects.toMatchObject({ name: 'InvalidCommandId' });
      expect(await ssm.send(new CancelCommandCommand({ CommandId: id }))).toMatchObject({ $metadata: expect.anything() });
      expect(w.calls.map((c) => c.operation)).toEqual(['SendCommand', 'CancelCommand']);
      expect(await listed()).toMatchObject({ Status: 'Cancelling', CompletedCount: 1 });
      expect(await invocations()).toEqual([['i-1', 'Success', 'Success', 0], ['i-2', 'Cancelling', 'Cancelling', -1], ['i-3', 'Cancelling', 'Cancelling', null]]);
      await advance(120);
      // Cancelled is terminal: it counts as completed, not as an error.
      expect(await listed()).toMatchObject({ Status: 'Cancelled', StatusDetails: 'Cancelled', CompletedCount: 3, ErrorCount: 0, TargetCount: 3 });
      expect(await invocations()).toEqual([['i-1', 'Success', 'Success', 0], ['i-2', 'Cancelled', 'Cancelled', -1], ['i-3', 'Cancelled', 'Cancelled', null]]);
      expect(await ssm.send(new GetCommandInvocationCommand({ CommandId: id, InstanceId: 'i-2' }))).toMatchObject({ Status: 'Cancelled', ResponseCode: -1, StandardOutputContent: '' });
      // Only i-1 was pruned: i-3 never started, and i-2 was stopped part-way (counted as freeing nothing).
      const cloudWatch = new CloudWatchClient({ region: 'eu-west-1' });
      const latest = async (instance: string) => (await cloudWatch.send(new GetMetricDataCommand({
        StartTime: new Date(clock.now() - 120_000), EndTime: new Date(clock.now() + 60_000), ScanBy: 'TimestampDescending',
        MetricDataQueries: [{ Id: 'disk', MetricStat: { Metric: { Namespace: 'CWAgent', MetricName: 'disk_used_percent', Dimensions: [{ Name: 'InstanceId', Value: instance }, { Name: 'path', Value: '/' }] }, Period: 60, Stat: 'Maximum' } }],
      }))).MetricDataResults![0].Values![0];
      expect([await latest('i-1'), await latest('i-2'), await latest('i-3')]).toEqual([60, 95, 95]);
    } finally {
      w.restore();
    }
  });

  test('Run Command, as documented: a new command is invisible for its first seconds; an offline member is Delayed, then DeliveryTimedOut when the command expires; Output is cut at 2,500 characters', async () => {
    const { w, clock, advance } = await world({
      ec2: {
        instances: [
          { id: 'i-1', autoScalingGroup: 'web-asg', commandTakes: '30s', bytesFreed: 200 * 1024 * 1024 },
          { id: 'i-2', autoScalingGroup: 'web-asg', online: false },
          { id: 'i-3', autoScalingGroup: 'web-asg', commandTakes: '30s' },
        ],
      },
    });
    const ssm = new SSMClient({ region: 'eu-west-1' });
    try {
      const { Command } = await ssm.send(new SendCommandCommand({
        DocumentName: 'medic-disk-prune', Targets: [{ Key: 'tag:aws:autoscaling:groupName', Values: ['web-asg'] }], MaxConcurrency: '2', MaxErrors: '1', TimeoutSeconds: 300,
      }));
      const id = Command!.CommandId!;
      const listed = async () => (await ssm.send(new ListCommandsCommand({ CommandId: id }))).Commands;
      const invocations = async () => (await ssm.send(new ListCommandInvocationsCommand({ CommandId: id, Details: true }))).CommandInvocations!;
      // GetCommandInvocation's doc: "The Run Command API follows an eventual consistency model".
      expect(await listed()).toEqual([]);
      expect(await invocations()).toEqual([]);
      await expect(ssm.send(new GetCommandInvocationCommand({ CommandId: id, InstanceId: 'i-1' }))).rejects.toMatchObject({ name: 'InvocationDoesNotExist' });
      await advance(2);
      expect((await listed())![0]).toMatchObject({ Status: 'InProgress', TargetCount: 3, CompletedCount: 0 });
      expect((await ssm.send(new GetCommandInvocationCommand({ CommandId: id, InstanceId: 'i-1' })))).toMatchObject({ Status: 'InProgress', ResponseCode: -1, StandardOutputContent: '' });

      // i-1 and i-2 take the two slots; i-2 never takes the command, so i-3 waits for i-1's slot.
      await advance(40);
      expect((await invocations()).map((i) => [i.InstanceId, i.Status, i.StatusDetails, i.CommandPlugins!.length])).toEqual([
        ['i-1', 'Success', 'Success', 1], ['i-2', 'InProgress', 'Delayed', 0], ['i-3', 'InProgress', 'InProgress', 1],
      ]);
      // i-1 deleted 67 files and lists 40 paths: a summary over 2,500 characters, cut in its Output as SSM Agent cuts it, whole in GetCommandInvocation.
      const output = (await invocations())[0].CommandPlugins![0].Output!;
      expect(output).toHaveLength(2500);
      expect(output.endsWith('\n---Output truncated---')).toBe(true);
      const whole = await ssm.send(new GetCommandInvocationCommand({ CommandId: id, InstanceId: 'i-1' }));
      expect(JSON.parse(whole.StandardOutputContent!.trim())).toMatchObject({ deleted: 67, bytesFreed: 200 * 1024 * 1024, errorCount: 0 });
      expect(JSON.parse(whole.StandardOutputContent!.trim()).files).toHaveLength(40);

      // The command expires at TimeoutSeconds + the document's 600 s execution timeout: i-2 is then DeliveryTimedOut, not an error.
      await advance(900 - 42 - 1);
      expect((await listed())![0]).toMatchObject({ Status: 'InProgress', CompletedCount: 2 });
      await advance(1);
      expect(clock.now()).toBe(Date.parse('2026-11-22T03:32:00Z'));
      expect((await listed())![0]).toMatchObject({
        Status: 'TimedOut', StatusDetails: 'DeliveryTimedOut', TargetCount: 3, CompletedCount: 3, ErrorCount: 0, DeliveryTimedOutCount: 1,
        ExpiresAfter: new Date('2026-11-22T03:32:00Z'),
      });
      expect((await ssm.send(new GetCommandInvocationCommand({ CommandId: id, InstanceId: 'i-2' })))).toMatchObject({ Status: 'TimedOut', StatusDetails: 'DeliveryTimedOut', ResponseCode: -1, StandardOutputContent: '' });
      expect(w.calls.map((c) => c.operation)).toEqual(['SendCommand']);
    } finally {
      w.restore();
    }
  });

  test('Route 53 lists a zone in DNS order and changes it all or nothing; a restored validation record lets ACM renew', async () => {
    const { w, advance } = await world({
      acm: {
        certificates: [
          { arn: DNS_CERT, domains: ['example.com', 'www.example.com'], inUseBy: ['arn:aws:cloudfront::111111111111:distribution/E2QWRUHEXAMPLE'], records: { 'www.example.com': 'missing' }, afterAction: { after: '5m' } },
          { arn: IMPORTED_CERT, type: 'IMPORTED', domains: ['legacy.example.com'] },
        ],
        zones: { [ZONE]: [{ name: 'example.com', type: 'NS', values: ['ns-1.awsdns-01.org.'] }, { name: 'www.example.com', type: 'CNAME', value: 'web.example.net.' }] },
      },
    });
    const acm = new ACMClient({ region: 'eu-west-1' });
    const route53 = new Route53Client({ region: 'eu-west-1' });
    try {
      const before = (await acm.send(new DescribeCertificateCommand({ CertificateArn: DNS_CERT }))).Certificate!;
      expect(before).toMatchObject({ Type: 'AMAZON_ISSUED', Status: 'ISSUED', RenewalEligibility: 'ELIGIBLE', RenewalSummary: { RenewalStatus: 'PENDING_VALIDATION' } });
      const [apex, www] = before.RenewalSummary!.DomainValidationOptions!;
      expect([apex.ValidationStatus, www.ValidationStatus]).toEqual(['SUCCESS', 'PENDING_VALIDATION']);
      expect(www.ResourceRecord).toEqual({ Name: expect.stringMatching(RECORD_NAME), Type: 'CNAME', Value: expect.stringMatching(RECORD_VALUE) });
      // The same domain always gets the same record.
      expect((await acm.send(new DescribeCertificateCommand({ CertificateArn: DNS_CERT }))).Certificate!.DomainValidationOptions![1].ResourceRecord).toEqual(www.ResourceRecord);

      const zone = async () => (await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: ZONE }))).ResourceRecordSets!.map((s) => `${s.Name} ${s.Type}`);
      expect(await zone()).toEqual(['example.com. NS', apex.ResourceRecord!.Name + ' CNAME', 'www.example.com. CNAME']);
      const lookup = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: ZONE, StartRecordName: www.ResourceRecord!.Name, StartRecordType: 'CNAME', MaxItems: 1 }));
      // In DNS order a name's children come after it: nothing sorts at or after the missing record, so the lookup finds nothing.
      expect(lookup.ResourceRecordSets).toEqual([]);
      expect(lookup.IsTruncated).toBe(false);

      const upsert = { Action: 'UPSERT' as const, ResourceRecordSet: { Name: www.ResourceRecord!.Name, Type: 'CNAME' as const, TTL: 300, ResourceRecords: [{ Value: www.ResourceRecord!.Value }] } };
      await expect(route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: ZONE, ChangeBatch: { Changes: [upsert, { Action: 'DELETE', ResourceRecordSet: { Name: 'nope.example.com.', Type: 'A' } }] } })))
        .rejects.toMatchObject({ name: 'InvalidChangeBatch' });
      await expect(route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: ZONE, ChangeBatch: { Changes: [upsert, upsert] } }))).rejects.toMatchObject({ name: 'InvalidChangeBatch' });
      expect(await zone()).toHaveLength(3);
      expect(w.calls).toEqual([]);

      await route53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: ZONE, ChangeBatch: { Changes: [upsert] } }));
      expect(await zone()).toHaveLength(4);
      expect(w.calls.map((c) => `${c.service}:${c.operation}`)).toEqual(['route53:ChangeResourceRecordSets']);
      await advance(299);
      expect((await acm.send(new DescribeCertificateCommand({ CertificateArn: DNS_CERT }))).Certificate!.NotAfter).toEqual(before.NotAfter);
      await advance(1);
      const after = (await acm.send(new DescribeCertificateCommand({ CertificateArn: DNS_CERT }))).Certificate!;
      expect(after.RenewalSummary).toMatchObject({ RenewalStatus: 'SUCCESS', UpdatedAt: new Date('2026-11-22T03:22:00Z') });
      expect(after.NotAfter).toEqual(new Date(Date.parse('2026-11-22T03:22:00Z') + 395 * 86_400_000));

      // ACM renews on request only certificates that have been exported (force-certificate-renewal.html): never an imported one.
      await expect(acm.send(new RenewCertificateCommand({ CertificateArn: IMPORTED_CERT }))).rejects.toMatchObject({ name: 'ValidationException' });
      await expect(acm.send(new DescribeCertificateCommand({ CertificateArn: `${DNS_CERT.slice(0, -1)}0` }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      expect(w.calls).toHaveLength(1);
    } finally {
      w.restore();
    }
  });
  test('RenewCertificate: refused (ValidationException) unless the certificate has been exported, private or exportable public', async () => {
    const arn = (n: number) => `arn:aws:acm:eu-west-1:111111111111:certificate/${n}${n}${n}${n}${n}${n}${n}${n}-2222-4333-8444-555555555555`;
    const { w, advance } = await world({
      acm: {
        certificates: [
          { arn: arn(1), type: 'PRIVATE', domains: ['internal.example.com'], inUseBy: ['arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/internal/0123456789abcdef'], exported: false },
          { arn: arn(2), type: 'PRIVATE', domains: ['device.example.com'], afterAction: { after: '5m' } }, // exported by default, used by nothing
          { arn: arn(3), type: 'PRIVATE', domains: ['lab.example.com'], exported: false }, // neither used nor exported
          { arn: arn(4), domains: ['example.com'], inUseBy: ['arn:aws:cloudfront::111111111111:distribution/E2QWRUHEXAMPLE'] },
          { arn: arn(5), domains: ['api.example.com'], exportable: true, exported: true, afterAction: { after: '5m' } },
          { arn: arn(6), domains: ['app.example.com'], exportable: true },
        ],
      },
    });
    const acm = new ACMClient({ region: 'eu-west-1' });
    const describe = async (n: number) => (await acm.send(new DescribeCertificateCommand({ CertificateArn: arn(n) }))).Certificate!;
    const search = async (n: number) => (await acm.send(new SearchCertificatesCommand({ FilterStatement: { Filter: { CertificateArn: arn(n) } } }))).Results!;
    const renew = (n: number) => acm.send(new RenewCertificateCommand({ CertificateArn: arn(n) }));
    try {
      // Eligibility (acm-renewal.html): in use or exported; DescribeCertificate does not say which, nor whether it was exported.
      expect((await describe(1)).RenewalEligibility).toBe('ELIGIBLE');
      expect((await describe(3)).RenewalEligibility).toBe('INELIGIBLE');
      expect(await describe(1)).not.toHaveProperty('Exported');
      // SearchCertificates' AcmCertificateMetadata does.
      expect((await search(1))[0]).toMatchObject({ CertificateArn: arn(1), CertificateMetadata: { AcmCertificateMetadata: { Exported: false, InUse: true, RenewalEligibility: 'ELIGIBLE', Type: 'PRIVATE' } } });
      expect((await search(5))[0].CertificateMetadata!.AcmCertificateMetadata).toMatchObject({ Exported: true, ExportOption: 'ENABLED', Type: 'AMAZON_ISSUED', ValidationMethod: 'DNS' });
      expect(await acm.send(new SearchCertificatesCommand({ FilterStatement: { Filter: { CertificateArn: `${arn(1).slice(0, -1)}0` } } }))).toMatchObject({ Results: [] });
      expect((await describe(5)).Options).toEqual({ Export: 'ENABLED' });
      expect((await describe(4)).Options).toEqual({ Export: 'DISABLED' });

      await expect(renew(1)).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/has not been exported/) });
      await expect(renew(3)).rejects.toMatchObject({ name: 'ValidationException' });
      await expect(renew(4)).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/not exportable/) });
      await expect(renew(6)).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/has not been exported/) });
      expect(w.calls).toEqual([]); // a refused call changed nothing
      await renew(2);
      await renew(5);
      expect(w.calls.map((c) => c.parameters.CertificateArn)).toEqual([arn(2), arn(5)]);
      const before = (await describe(5)).NotAfter!;
      await advance(300);
      expect((await describe(2)).RenewalSummary).toMatchObject({ RenewalStatus: 'SUCCESS' });
      expect((await describe(5)).NotAfter!.getTime()).toBeGreaterThan(before.getTime());
    } finally {
      w.restore();
    }
  });

  test('HTTP validation (CloudFront): HttpRedirect per domain, ManagedBy CLOUDFRONT, no DNS record, no email to resend', async () => {
    const HTTP_CERT = 'arn:aws:acm:eu-west-1:111111111111:certificate/77777777-2222-4333-8444-555555555555';
    const { w } = await world({
      acm: { certificates: [{ arn: HTTP_CERT, domains: ['example.com', 'www.example.com'], inUseBy: ['arn:aws:cloudfront::111111111111:distribution/E2QWRUHEXAMPLE'], validation: 'http', records: { 'www.example.com': 'missing' } }] },
    });
    const acm = new ACMClient({ region: 'eu-west-1' });
    try {
      const cert = (await acm.send(new DescribeCertificateCommand({ CertificateArn: HTTP_CERT }))).Certificate!;
      expect(cert).toMatchObject({ ManagedBy: 'CLOUDFRONT', RenewalSummary: { RenewalStatus: 'PENDING_VALIDATION' } });
      const [apex, www] = cert.RenewalSummary!.DomainValidationOptions!;
      expect([apex.ValidationMethod, apex.ValidationStatus, www.ValidationStatus]).toEqual(['HTTP', 'SUCCESS', 'PENDING_VALIDATION']);
      expect(www.ResourceRecord).toBeUndefined();
      expect(www.HttpRedirect).toEqual({
        RedirectFrom: expect.stringMatching(/^http:\/\/www\.example\.com\/\.well-known\/pki-validation\/[0-9a-f]{32}\.txt$/),
        RedirectTo: expect.stringMatching(/^https:\/\/validation\.eu-west-1\.acm-validations\.aws\/111111111111\/\.well-known\/pki-validation\/[0-9a-f]{32}\.txt$/),
      });
      await expect(acm.send(new ResendValidationEmailCommand({ CertificateArn: HTTP_CERT, Domain: 'www.example.com', ValidationDomain: 'example.com' }))).rejects.toMatchObject({ name: 'InvalidStateException' });
      await expect(acm.send(new RenewCertificateCommand({ CertificateArn: HTTP_CERT }))).rejects.toMatchObject({ name: 'ValidationException' });
    } finally {
      w.restore();
    }
    // HTTP validation does not support wildcard domains (http-validation.html), nor other certificate types.
    await expect(world({ acm: { certificates: [{ arn: HTTP_CERT, domains: ['*.example.com'], validation: 'http' }] } })).rejects.toThrow(/http validation does not support wildcard domains/);
    await expect(world({ acm: { certificates: [{ arn: HTTP_CERT, type: 'PRIVATE', domains: ['example.com'], validation: 'http' }] } })).rejects.toThrow(/only for AMAZON_ISSUED/);
    await expect(world({ acm: { certificates: [{ arn: HTTP_CERT, domains: ['example.com'], exported: true }] } })).rejects.toThrow(/only a private or an exportable/);
  });
});

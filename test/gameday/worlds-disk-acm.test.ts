import { ACMClient, DescribeCertificateCommand, RenewCertificateCommand } from '@aws-sdk/client-acm';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import {
  DescribeInstanceInformationCommand, GetCommandInvocationCommand, ListCommandInvocationsCommand, ListCommandsCommand, SendCommandCommand, SSMClient,
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
      expect(invocations.map((i) => [i.InstanceId, i.Status])).toEqual([['i-1', 'Failed'], ['i-2', 'Success'], ['i-3', 'Cancelled']]);
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

      // ACM renews on request only private certificates.
      await expect(acm.send(new RenewCertificateCommand({ CertificateArn: IMPORTED_CERT }))).rejects.toMatchObject({ name: 'ValidationException' });
      await expect(acm.send(new DescribeCertificateCommand({ CertificateArn: `${DNS_CERT.slice(0, -1)}0` }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      expect(w.calls).toHaveLength(1);
    } finally {
      w.restore();
    }
  });
});

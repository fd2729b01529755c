import {
  DescribeCertificateCommand, RenewCertificateCommand, ResendValidationEmailCommand, SearchCertificatesCommand, type DomainStatus, type ResourceRecord,
} from '@aws-sdk/client-acm';
import { ChangeResourceRecordSetsCommand, type ResourceRecordSet } from '@aws-sdk/client-route-53';
import type { AfterAction } from '../../lib/gameday/models/acm-certificate';
import type { NewCertificate } from '../../lib/gameday/models/acm';
import { dnsOrder } from '../../lib/gameday/models/route53';
import { verifyChain, type LedgerEntry } from '../../lambdas/shared/ledger';
import { FakeAcm } from '../support/fake-acm';
import { phases } from '../support/ledger-reader';
import { ACCOUNT, REGION, certificateArn } from '../support/synth';
import { WorkflowHarness } from './harness';
import { compactTime } from '../../lambdas/validate/alarm-event';

/**
 * The simulated world: ACM and Route 53 are the game day's models (test/support/fake-acm.ts) on
 * the harness clock, which each Wait state moves by its seconds. The runbook (test config) checks
 * 2 minutes after acting, then every 15 minutes; ACM completes a renewal `afterAction.seconds`
 * after medic acted (a restored validation record, RenewCertificate).
 */
const h = new WorkflowHarness();
const fake = new FakeAcm(h.clock);
const acm = fake.acmClient;
const route53 = fake.route53Client;

const ZONE_ID = 'Z0123456789EXAMPLE';
const ALB = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:loadbalancer/app/web/0123456789abcdef`;
const CLOUDFRONT = `arn:aws:cloudfront::${ACCOUNT}:distribution/E2QWRUHEXAMPLE`;
/** ACM's validation records for example.com and www.example.com: `_<32 hex>.<domain>.` -> `_<32 hex>.<label>.acm-validations.aws.`. */
const APEX_RECORD = { Name: '_3f1c2a9b7d4e5f60718293a4b5c6d7e8.example.com.', Type: 'CNAME' as const, Value: '_9a8b7c6d5e4f30211203f4e5d6c7b8a9.zfyfvmchrl.acm-validations.aws.' };
const WWW_RECORD = { Name: '_0a1b2c3d4e5f60718293a4b5c6d7e8f9.www.example.com.', Type: 'CNAME' as const, Value: '_f9e8d7c6b5a4938271605f4e3d2c1b0a.mhbtsbpdnt.acm-validations.aws.' };

/** Renewed (or failed) 10 minutes after medic acted: after the first check (2 min), before the second (17 min). */
const settles = (status: 'SUCCESS' | 'FAILED' = 'SUCCESS', reason?: string, seconds = 600): AfterAction => ({ seconds, status, ...(reason ? { reason } : {}) });

/** A private certificate (exported, as private certificates are unless said) used by the ALB, renewed by ACM 10 minutes after RenewCertificate. */
function privateCertificate(arn: string, daysLeft = 20, overrides: Partial<NewCertificate> = {}) {
  return fake.acm.addCertificate({ arn, type: 'PRIVATE', domains: ['internal.example.com', 'api.internal.example.com'], daysLeft, inUseBy: [ALB], afterAction: settles(), ...overrides });
}

/** A domain of a DNS-validated certificate: its name, ACM's record for it, and its status in the renewal (PENDING_VALIDATION: the record is not in place). */
type DnsDomain = [domain: string, record: ResourceRecord, renewal: DomainStatus];

/** An Amazon-issued, DNS-validated certificate (by default example.com and www.example.com), its renewal waiting for validation. */
function dnsCertificate(arn: string, domains: DnsDomain[] = [['example.com', APEX_RECORD, 'SUCCESS'], ['www.example.com', WWW_RECORD, 'PENDING_VALIDATION']], overrides: Partial<NewCertificate> = {}) {
  return fake.acm.addCertificate({
    arn, domains: domains.map(([domain]) => domain), inUseBy: [ALB, CLOUDFRONT], afterAction: settles(),
    validationRecords: Object.fromEntries(domains.map(([domain, record]) => [domain, { name: record.Name!, value: record.Value! }])),
    records: Object.fromEntries(domains.map(([domain, , status]) => [domain, status === 'SUCCESS' ? 'present' : 'missing'])),
    ...overrides,
  });
}

function importedCertificate(arn: string) {
  return fake.acm.addCertificate({ arn, type: 'IMPORTED', domains: ['legacy.example.com'], inUseBy: [ALB] });
}

const cname = (Name: string, Value: string, TTL = 300): ResourceRecordSet => ({ Name, Type: 'CNAME', TTL, ResourceRecords: [{ Value }] });
const zone = () => fake.zone(ZONE_ID).records;

/** The example.com zone: the apex validation record is there, www's went missing. */
function seedZone(): void {
  fake.addZone(ZONE_ID, 'example.com', [
    { Name: 'example.com.', Type: 'NS', TTL: 172800, ResourceRecords: [{ Value: 'ns-1.awsdns-01.org.' }, { Value: 'ns-2.awsdns-02.com.' }] },
    { Name: 'example.com.', Type: 'A', AliasTarget: { HostedZoneId: 'Z32O12XQLNTSW2', DNSName: 'web-123.eu-west-1.elb.amazonaws.com.', EvaluateTargetHealth: true } },
    cname(APEX_RECORD.Name, APEX_RECORD.Value),
    cname('www.example.com.', 'web-123.eu-west-1.elb.amazonaws.com.', 60),
    // Sorts right after the missing record, so a lookup that trusted the first row would be fooled.
    { Name: 'zeta.example.com.', Type: 'TXT', TTL: 300, ResourceRecords: [{ Value: '"v=spf1 -all"' }] },
  ]);
}

const snapshot = (): Record<string, ResourceRecordSet> => structuredClone(Object.fromEntries(zone()));
const DAY_MS = 86_400_000;

beforeAll(() => h.start());
afterAll(async () => {
  fake.restore();
  await h.stop();
});
beforeEach(async () => {
  await h.freshWorld();
  fake.reset();
  seedZone();
  privateCertificate(certificateArn(1));
});

/** When the ACM event and the DaysToExpiry alarm of these tests happened: a minute ago, so they are fresh evidence. */
const EVENT_TIME = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
const ALARM_TIME = new Date(EVENT_TIME.getTime() + 30_000);

/** ACM's expiry warning, as EventBridge delivers it. */
function acmEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '0', id: '9c95e8e4-96a4-ef3f-b739-b6aa5b193afb', 'detail-type': 'ACM Certificate Approaching Expiration', source: 'aws.acm',
    account: ACCOUNT, time: EVENT_TIME.toISOString().replace(/\.\d+Z$/, 'Z'), region: REGION, resources: [certificateArn(1)],
    detail: { DaysToExpiry: 20, CommonName: 'example.com' },
    ...overrides,
  };
}
const daysToExpiryAlarm = () => h.fire('cert-days-to-expiry', { dimensions: { CertificateArn: certificateArn(2) }, at: ALARM_TIME });
const renew = (input: unknown) => h.workflow('cert-renewal').run(input);
/** Incident ids: runbook, trigger time (the ACM event's, or the alarm state's), digest. */
const EVENT_INCIDENT = `cert-renewal-${compactTime(EVENT_TIME.toISOString())}-`;
const ALARM_INCIDENT = `cert-renewal-${compactTime(ALARM_TIME.toISOString())}-`;

const detailOf = (entries: LedgerEntry[], phase: string): Record<string, any> => {
  const entry = entries.find((e) => e.phase === phase);
  if (!entry) throw new Error(`no ${phase} entry in ${phases(entries).join(',')}`);
  return JSON.parse(entry.detail);
};
const operations = (mock: typeof acm | typeof route53): string[] => mock.calls().map((c) => (c.args[0] as object).constructor.name.replace(/Command$/, ''));
/** Every call that changes something in ACM or Route 53. */
const mutations = () => [
  ...acm.commandCalls(RenewCertificateCommand).map((c) => ({ operation: 'RenewCertificate', input: c.args[0].input })),
  ...acm.commandCalls(ResendValidationEmailCommand).map((c) => ({ operation: 'ResendValidationEmail', input: c.args[0].input })),
  ...route53.commandCalls(ChangeResourceRecordSetsCommand).map((c) => ({ operation: 'ChangeResourceRecordSets', input: c.args[0].input })),
];
const readsOnly = () => {
  expect(mutations()).toEqual([]);
  expect(operations(acm).filter((op) => !['DescribeCertificate', 'ListTagsForCertificate', 'SearchCertificates'].includes(op))).toEqual([]);
  expect(operations(route53).filter((op) => op !== 'ListResourceRecordSets')).toEqual([]);
};
const escalation = (): string => {
  const published = h.aws.published();
  expect(published).toHaveLength(1);
  return published[0].Message!;
};

describe('certificate renewal workflow (synthesized definition, real handlers, dynalite)', () => {
  test('ACM event, private certificate with 20 days left: renewed once, verified when the expiry moves', async () => {
    const expiryBefore = fake.acm.certificates.get(certificateArn(1))!.notAfter.toISOString();
    const run = await renew(acmEvent());
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output?.outcome.outcome).toBe('resolved');
    expect(mutations()).toEqual([{ operation: 'RenewCertificate', input: { CertificateArn: certificateArn(1) } }]);
    const entries = await h.incident(EVENT_INCIDENT);
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'acting', 'acted', 'checked', 'checked', 'verified', 'completed']);
    expect(verifyChain(entries[0].incidentId, entries)).toBeUndefined();
    const received = detailOf(entries, 'received');
    expect(received.target).toMatchObject({ type: 'acm-certificate', id: certificateArn(1), arn: certificateArn(1) });
    expect(received.trigger).toMatchObject({ kind: 'event', source: 'aws.acm', name: 'ACM Certificate Approaching Expiration', reason: 'DaysToExpiry 20, CommonName example.com' });
    expect(detailOf(entries, 'planned')).toMatchObject({ decision: 'act', reason: 'private certificate with 20 days left (ELIGIBLE, exported)', details: { exported: true } });
    const checks = entries.filter((e) => e.phase === 'checked').map((e) => JSON.parse(e.detail));
    expect(checks.map((c) => [c.verdict, c.readings.renewalStatus])).toEqual([['pending', 'PENDING_AUTO_RENEWAL'], ['success', 'SUCCESS']]);
    // ACM issued the new certificate when the renewal completed (10 minutes after acting), 395 days from then: the check,
    // later, reads 394 full days left (395 if it ran within the same millisecond).
    const renewedCert = fake.acm.certificates.get(certificateArn(1))!;
    const verified = /^renewed: expiry moved from (\S+) to (\S+) \((\d+) days left\)$/.exec(detailOf(entries, 'verified').reason);
    expect(verified?.slice(1, 3)).toEqual([expiryBefore, renewedCert.notAfter.toISOString()]);
    expect(renewedCert.notAfter.getTime() - renewedCert.notBefore.getTime()).toBe(395 * DAY_MS);
    expect([394, 395]).toContain(Number(verified?.[3]));
    expect(h.aws.published()).toEqual([]);
  });

  test('DaysToExpiry alarm, DNS-validated certificate whose validation CNAME went missing: exactly that record restored, nothing else', async () => {
    // ACM validates and renews 20 minutes after the record is back: pending at the checks 2 and 17 minutes after acting, renewed at 32.
    dnsCertificate(certificateArn(2), undefined, { afterAction: settles('SUCCESS', undefined, 1200) });
    const before = snapshot();
    const run = await renew(daysToExpiryAlarm());
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output?.outcome.outcome).toBe('resolved');
    expect(mutations()).toHaveLength(1);
    const [{ input: change }] = route53.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0]);
    expect(change.HostedZoneId).toBe(ZONE_ID);
    expect(change.ChangeBatch!.Changes).toEqual([
      { Action: 'UPSERT', ResourceRecordSet: { Name: WWW_RECORD.Name, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: WWW_RECORD.Value }] } },
    ]);
    expect(change.ChangeBatch!.Comment).toMatch(new RegExp(`^medic ${ALARM_INCIDENT}`));
    // The zone is what it was, plus ACM's record.
    expect(snapshot()).toEqual({ ...before, [dnsOrder(WWW_RECORD.Name, 'CNAME')]: cname(WWW_RECORD.Name, WWW_RECORD.Value) });

    const entries = await h.incident(ALARM_INCIDENT);
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'acting', 'acted', 'checked', 'checked', 'checked', 'verified', 'completed']);
    expect(verifyChain(entries[0].incidentId, entries)).toBeUndefined();
    expect(detailOf(entries, 'received')).toMatchObject({ trigger: { kind: 'alarm', name: 'cert-days-to-expiry' }, target: { type: 'acm-certificate', arn: certificateArn(2) } });
    expect(detailOf(entries, 'planned').details.found).toEqual({ [WWW_RECORD.Name]: 'missing' });
    expect(entries.filter((e) => e.phase === 'checked').map((e) => JSON.parse(e.detail).readings.renewalStatus)).toEqual(['PENDING_VALIDATION', 'PENDING_VALIDATION', 'SUCCESS']);
    // The model's ACM issues the renewed certificate as it reports SUCCESS, so the check sees the expiry move.
    expect(detailOf(entries, 'verified').reason).toMatch(/^renewed: expiry moved from \S+ to \S+ \(39[45] days left\)$/);
    expect(h.aws.published()).toEqual([]);
  });

  test('apex and wildcard share ACM\'s validation record: the missing record is restored with a single UPSERT', async () => {
    // ACM gives example.com and *.example.com the same CNAME, so the two validations name one record.
    zone().delete(dnsOrder(APEX_RECORD.Name, 'CNAME'));
    dnsCertificate(certificateArn(2), [['example.com', APEX_RECORD, 'PENDING_VALIDATION'], ['*.example.com', APEX_RECORD, 'PENDING_VALIDATION']]);
    const run = await renew(daysToExpiryAlarm());
    expect(route53.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input.ChangeBatch!.Changes)).toEqual([
      [{ Action: 'UPSERT', ResourceRecordSet: { Name: APEX_RECORD.Name, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: APEX_RECORD.Value }] } }],
    ]);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output?.outcome.outcome).toBe('resolved');
    expect(zone().get(dnsOrder(APEX_RECORD.Name, 'CNAME'))).toEqual(cname(APEX_RECORD.Name, APEX_RECORD.Value));
  });

  test('Route 53 refuses the change: escalated, and the message does not claim the record was restored', async () => {
    dnsCertificate(certificateArn(2));
    fake.changeRefused = 'AccessDenied';
    const before = snapshot();
    const run = await renew(daysToExpiryAlarm());
    expect(run.status).toBe('FAILED');
    expect(snapshot()).toEqual(before);
    expect(phases(await h.incident(ALARM_INCIDENT))).toEqual(['received', 'admitted', 'planned', 'acting', 'act-failed', 'escalated']);
    const message = escalation();
    expect(message).toContain('WHAT FAILED: AccessDenied');
    expect(message).toContain('REFUSED by the service (not executed): ChangeResourceRecordSets Z0123456789EXAMPLE: AccessDenied');
    // The human is told to make sure the record exists, not that medic restored it.
    expect(message).toContain(`WHAT TO DO: Make sure these records exist and resolve publicly: ${WWW_RECORD.Name} CNAME ${WWW_RECORD.Value}`);
    expect(message).not.toMatch(/restored/);
  });

  test('ACM reports the renewal FAILED after medic renewed: escalated with what to do, days left, domains and users', async () => {
    // The private CA refuses within a minute: FAILED by the first check, 2 minutes after RenewCertificate.
    privateCertificate(certificateArn(1), 20, { afterAction: settles('FAILED', 'PCA_INVALID_STATE', 60) });
    const run = await renew(acmEvent());
    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('Medic.Escalated');
    expect(mutations()).toEqual([{ operation: 'RenewCertificate', input: { CertificateArn: certificateArn(1) } }]);
    const entries = await h.incident(EVENT_INCIDENT);
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'acting', 'acted', 'checked', 'verification-failed', 'escalated']);
    expect(verifyChain(entries[0].incidentId, entries)).toBeUndefined();
    expect(detailOf(entries, 'verification-failed').reason).toBe('ACM\'s renewal FAILED after medic acted: PCA_INVALID_STATE');
    const message = escalation();
    expect(message).toContain('WHAT TO DO: The private CA refused (PCA_INVALID_STATE): check it is ACTIVE');
    expect(message).toContain('ABOUT THE TARGET:');
    expect(message).toMatch(/days left: 20 \(expires \S+\)/);
    expect(message).toContain('domains: internal.example.com, api.internal.example.com');
    expect(message).toContain(`used by: ${ALB}`);
    expect(message).toContain('renewal: FAILED (PCA_INVALID_STATE)');
  });

  test('renewal still PENDING_VALIDATION at the horizon: escalated after the 8 checks', async () => {
    // ACM never completes the renewal, although the record is restored.
    dnsCertificate(certificateArn(1), undefined, { afterAction: 'never' });
    const run = await renew(acmEvent());
    expect(run.status).toBe('FAILED');
    expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(1);
    expect(acm.commandCalls(DescribeCertificateCommand)).toHaveLength(1 + 8);
    const entries = await h.incident(EVENT_INCIDENT);
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'acting', 'acted', ...Array(8).fill('checked'), 'verification-failed', 'escalated']);
    expect(detailOf(entries, 'verification-failed').reason).toMatch(/^not verified after 8 check\(s\): renewal PENDING_VALIDATION, expiry still \S+$/);
    const message = escalation();
    expect(message).toContain('not verified after 8 check(s)');
    expect(message).toContain(`WHAT TO DO: Make sure these records exist and resolve publicly: ${WWW_RECORD.Name} CNAME ${WWW_RECORD.Value}`);
  });

  test('imported certificate: nothing ACM or medic can renew, escalated with its expiry, its users and re-import', async () => {
    const cert = importedCertificate(certificateArn(1));
    const run = await renew(acmEvent());
    expect(run.status).toBe('FAILED');
    readsOnly();
    const entries = await h.incident(EVENT_INCIDENT);
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'escalated']);
    const expires = cert.notAfter.toISOString();
    expect(detailOf(entries, 'planned')).toMatchObject({ decision: 'escalate', reason: `imported certificates cannot be renewed by ACM; it expires ${expires} (20 days)` });
    const message = escalation();
    expect(message).toContain(`WHAT TO DO: Get a new certificate for legacy.example.com from its issuer and re-import it over the same ARN before ${expires}`);
    expect(message).toContain(`aws acm import-certificate --certificate-arn ${certificateArn(1)}`);
    expect(message).toContain(`used by: ${ALB}`);
    expect(message).toContain(`days left: 20 (expires ${expires})`);
  });

  test.each([
    ['a name outside ACM\'s shape (www itself)', { ...WWW_RECORD, Name: 'www.example.com.' }, /refusing the validation record name "www\.example\.com\."/],
    ['a value outside acm-validations.aws', { ...WWW_RECORD, Value: 'evil.example.net.' }, /refusing the validation record value "evil\.example\.net\."/],
  ])('a validation record with %s is refused: escalated, no Route 53 change', async (_, www, refusal) => {
    // The apex record is missing too and valid: one bad record must stop the whole repair.
    zone().delete(dnsOrder(APEX_RECORD.Name, 'CNAME'));
    dnsCertificate(certificateArn(2), [['example.com', APEX_RECORD, 'PENDING_VALIDATION'], ['www.example.com', www, 'PENDING_VALIDATION']]);
    const before = snapshot();
    const run = await renew(daysToExpiryAlarm());
    expect(run.status).toBe('FAILED');
    readsOnly();
    expect(route53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);
    expect(snapshot()).toEqual(before);
    const entries = await h.incident(ALARM_INCIDENT);
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'escalated']);
    expect(detailOf(entries, 'planned')).toMatchObject({ decision: 'escalate', summary: 'no DNS change made' });
    expect(detailOf(entries, 'planned').reason).toMatch(refusal);
    expect(escalation()).toMatch(refusal);
  });

  test.each([
    ['a certificate not in the allow-list', acmEvent({ resources: [certificateArn(3)] }), `acm-certificate ${certificateArn(3)} is not in runbook cert-renewal's allow-list`],
    ['an event from another account', acmEvent({ account: '222222222222', resources: [certificateArn(1).replace(ACCOUNT, '222222222222')] }),
      'the event is from account 222222222222; runbook cert-renewal acts only in 111111111111'],
  ])('%s: rejected, no ACM or Route 53 call', async (_, event, reason) => {
    const run = await renew(event);
    expect(run.status).toBe('FAILED');
    expect(acm.calls()).toHaveLength(0);
    expect(route53.calls()).toHaveLength(0);
    const entries = await h.incident('cert-renewal-rejected-');
    expect(phases(entries)).toEqual(['rejected', 'escalated']);
    expect(detailOf(entries, 'rejected').reason).toBe(reason);
    expect(escalation()).toContain(`WHAT FAILED: ${reason}`);
  });

  test('the same ACM event delivered twice: the second run is a duplicate, the certificate is renewed once', async () => {
    const wf = h.workflow('cert-renewal');
    const first = await wf.run(acmEvent(), 'delivery-1');
    const second = await wf.run(acmEvent(), 'delivery-2');
    expect([first.status, second.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(first.output?.outcome.outcome).toBe('resolved');
    expect(second.output?.incident.status).toBe('duplicate');
    expect(second.tasks).toEqual(['Validate event']);
    expect(acm.commandCalls(RenewCertificateCommand)).toHaveLength(1);
    const ledger = await h.ledger();
    const duplicates = [...ledger.keys()].filter((id) => id.includes('.duplicate.'));
    expect(duplicates).toEqual([expect.stringMatching(new RegExp(`^${EVENT_INCIDENT}[0-9a-f]{12}\\.duplicate\\.delivery-2$`))]);
    expect(phases(ledger.get(duplicates[0]))).toEqual(['duplicate']);
    expect(phases(await h.incident(EVENT_INCIDENT))).toContain('completed');
  });

  test('not due (300 days left): recorded as no action needed, nothing changed', async () => {
    privateCertificate(certificateArn(1), 300);
    const run = await renew(acmEvent());
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output?.outcome.outcome).toBe('no-action-needed');
    readsOnly();
    const entries = await h.incident(EVENT_INCIDENT);
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'completed']);
    expect(detailOf(entries, 'planned')).toMatchObject({ decision: 'noop', reason: expect.stringMatching(/^not due: 300 days left/) });
    expect(h.aws.published()).toEqual([]);
  });
  test('ACM Certificate Renewal Action Required for a missing DNS validation record: accepted by the synthesized definition, exactly that record restored', async () => {
    // The documented event (https://docs.aws.amazon.com/acm/latest/userguide/supported-events.html): the certificate in
    // resources, ACM's reason in the detail. It is the case the runbook repairs: ACM's renewal waits for a DNS record.
    const cert = dnsCertificate(certificateArn(1));
    const run = await renew(acmEvent({
      'detail-type': 'ACM Certificate Renewal Action Required',
      detail: {
        CertificateType: 'AMAZON_ISSUED', CommonName: 'example.com', DomainValidationMethod: 'DNS', RenewalStatusReason: 'PENDING_DOMAIN_VALIDATION',
        DaysToExpiry: 20, CertificateExpirationDate: cert.notAfter.toISOString(), InUse: true, Exported: false,
      },
    }));
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output?.outcome.outcome).toBe('resolved');
    expect(route53.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input.ChangeBatch!.Changes)).toEqual([
      [{ Action: 'UPSERT', ResourceRecordSet: { Name: WWW_RECORD.Name, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: WWW_RECORD.Value }] } }],
    ]);
    expect(acm.commandCalls(RenewCertificateCommand)).toHaveLength(0);
    const entries = await h.incident(EVENT_INCIDENT);
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'acting', 'acted', 'checked', 'checked', 'verified', 'completed']);
    expect(detailOf(entries, 'received').trigger).toMatchObject({
      kind: 'event', source: 'aws.acm', name: 'ACM Certificate Renewal Action Required', reason: expect.stringContaining('RenewalStatusReason PENDING_DOMAIN_VALIDATION'),
    });
    expect(h.aws.published()).toEqual([]);
  });

  test('private certificate in use but never exported: escalated with what to do, RenewCertificate never called', async () => {
    privateCertificate(certificateArn(1), 20, { exported: false });
    const run = await renew(acmEvent());
    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('Medic.Escalated');
    readsOnly();
    expect(acm.commandCalls(SearchCertificatesCommand).map((c) => c.args[0].input)).toEqual([{ FilterStatement: { Filter: { CertificateArn: certificateArn(1) } }, MaxResults: 10 }]);
    const entries = await h.incident(EVENT_INCIDENT);
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'escalated']);
    expect(detailOf(entries, 'planned')).toMatchObject({
      decision: 'escalate', reason: 'the private certificate has not been exported: RenewCertificate renews only exported certificates and ACM would refuse it', details: { exported: false },
    });
    const message = escalation();
    expect(message).toContain('WHAT TO DO: ACM renews a private certificate that an AWS service uses by itself, from 60 days before expiry');
    expect(message).toContain(`aws acm-pca list-permissions --certificate-authority-arn ${fake.acm.describe(certificateArn(1)).CertificateAuthorityArn}`);
    expect(message).toContain('ABOUT THE TARGET:');
  });

  test('HTTP-validated CloudFront certificate whose redirect is gone: escalated with the redirect to restore, no DNS lookup or change', async () => {
    // HTTP validation: ACM's redirect per domain (HttpRedirect), the certificate managed by CloudFront; the redirect is gone.
    fake.acm.addCertificate({ arn: certificateArn(1), domains: ['example.com'], method: 'HTTP', records: 'missing', inUseBy: [CLOUDFRONT] });
    expect(fake.acm.describe(certificateArn(1))).toMatchObject({ ManagedBy: 'CLOUDFRONT', RenewalSummary: { RenewalStatus: 'PENDING_VALIDATION' } });
    const run = await renew(acmEvent());
    expect(run.status).toBe('FAILED');
    readsOnly();
    expect(route53.calls()).toHaveLength(0);
    const entries = await h.incident(EVENT_INCIDENT);
    expect(phases(entries)).toEqual(['received', 'admitted', 'planned', 'escalated']);
    expect(detailOf(entries, 'planned').reason).toMatch(/^HTTP validation is pending for example\.com \(the certificate is managed by CLOUDFRONT\)/);
    const message = escalation();
    expect(message).toContain('WHAT TO DO: Restore the HTTP redirect from each first URL to the second: http://example.com/.well-known/pki-validation/');
    expect(message).toContain('managed by: CLOUDFRONT');
  });
});

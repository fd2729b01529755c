import 'aws-sdk-client-mock-jest';
import {
  ACMClient, DescribeCertificateCommand, ListTagsForCertificateCommand, RenewCertificateCommand, ResendValidationEmailCommand, SearchCertificatesCommand,
  type AcmCertificateMetadata, type CertificateDetail, type DomainValidation,
} from '@aws-sdk/client-acm';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, Route53Client, type ResourceRecordSet } from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { RENEW_WITHIN_DAYS_BY_TYPE, steps, type CertificateRenewalOptions, type PlannedAction } from '../../lambdas/certificate-renewal/index';
import {
  hostedZoneFor, lookUpRecord, readValidationRecord, upsertChange, VALIDATION_RECORD_TTL, type ValidationRecord,
} from '../../lambdas/certificate-renewal/validation-record';
import type { ActResult, Plan, WorkflowState } from '../../lambdas/shared/types';
import { ecsRunbookSpec, receivedIncident, workflowState } from '../support/fixtures';
import { ACCOUNT, REGION, certificateArn } from '../support/synth';
import { actThrough } from '../support/gate';

const acm = mockClient(ACMClient);
const route53 = mockClient(Route53Client);
beforeEach(() => {
  acm.reset();
  route53.reset();
});
afterAll(() => {
  acm.restore();
  route53.restore();
});

const ARN = certificateArn(1);
const ZONE_ID = 'Z0123456789EXAMPLE';
const INCIDENT_ID = 'cert-renewal-20261122T031722Z-0123456789ab';
const DAY = 86_400_000;
const ELB_ARN = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:loadbalancer/app/web/0123456789abcdef`;
const TAG = { key: 'medic:renew', value: 'true' };
const OPTIONS: CertificateRenewalOptions = { certificates: [ARN], hostedZones: { 'example.com': ZONE_ID }, renewWithinDays: 45, resendValidationEmail: false };

/** 32 lowercase hex digits, as in ACM's record names and values. */
const HEX = '0123456789abcdef0123456789abcdef';
const HEX2 = 'fedcba9876543210fedcba9876543210';
/** ACM's validation record for example.com, exactly as DescribeCertificate gives it. */
const RECORD = { Name: `_${HEX}.example.com.`, Type: 'CNAME', Value: `_${HEX2}.mzlfeqexyx.acm-validations.aws.` } as const;
/** The same record as the runbook reads it. */
const READ: ValidationRecord = { domain: 'example.com', name: RECORD.Name, value: RECORD.Value };
/** The only change medic may make for {@link READ}. */
const UPSERT = { Action: 'UPSERT', ResourceRecordSet: { Name: RECORD.Name, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: RECORD.Value }] } };

/** `n` days from now, plus a minute so that the whole days counted by the runbook are exactly `n`. */
const daysFromNow = (n: number): Date => new Date(Date.now() + n * DAY + 60_000);

/** A state of runbook `cert-renewal` for certificate `arn` (default: the allow-listed certificateArn(1)). */
function state(extra: { arn?: string; options?: Partial<CertificateRenewalOptions>; plan?: Plan; act?: ActResult } = {}): WorkflowState {
  const { arn = ARN, options = {}, ...later } = extra;
  return workflowState({
    runbook: ecsRunbookSpec({ name: 'cert-renewal', kind: 'certificate-renewal', target: undefined, options: { ...OPTIONS, ...options } }),
    incident: receivedIncident({
      incidentId: INCIDENT_ID,
      runbook: 'cert-renewal',
      target: { type: 'acm-certificate', id: arn, arn, region: REGION, account: ACCOUNT, dimensions: {} },
    }),
    ...later,
  });
}

/** A DNS validation of example.com pending, with ACM's record; `ResourceRecord` fields override one by one. */
function dnsValidation(overrides: Omit<Partial<DomainValidation>, 'ResourceRecord'> & { ResourceRecord?: Record<string, string> } = {}): DomainValidation {
  const { ResourceRecord, ...rest } = overrides;
  return {
    DomainName: 'example.com', ValidationDomain: 'example.com', ValidationMethod: 'DNS', ValidationStatus: 'PENDING_VALIDATION',
    ...rest,
    ResourceRecord: { ...RECORD, ...ResourceRecord },
  } as DomainValidation;
}

/** An email validation pending for `domain`, validated at example.com's contacts. */
const emailValidation = (domain: string): DomainValidation => ({
  DomainName: domain, ValidationDomain: 'example.com', ValidationMethod: 'EMAIL', ValidationStatus: 'PENDING_VALIDATION',
  ValidationEmails: ['admin@example.com', 'hostmaster@example.com'],
});

/**
 * An Amazon-issued, DNS-validated certificate for example.com, ISSUED, 20 days left, used by a
 * load balancer, eligible, with ACM renewing it (PENDING_AUTO_RENEWAL) and validation pending;
 * `validations` replace the renewal's domain validations.
 */
function certificate(overrides: Partial<CertificateDetail> & { validations?: DomainValidation[] } = {}): CertificateDetail {
  const { validations = [dnsValidation()], ...rest } = overrides;
  return {
    CertificateArn: ARN, DomainName: 'example.com', SubjectAlternativeNames: ['example.com'],
    Type: 'AMAZON_ISSUED', Status: 'ISSUED', NotAfter: daysFromNow(20), InUseBy: [ELB_ARN], RenewalEligibility: 'ELIGIBLE',
    DomainValidationOptions: [dnsValidation({ ValidationStatus: 'SUCCESS' })],
    RenewalSummary: { RenewalStatus: 'PENDING_AUTO_RENEWAL', DomainValidationOptions: validations, UpdatedAt: new Date(Date.now() - DAY) },
    ...rest,
  } as CertificateDetail;
}

/** A private certificate (no DNS validation), ISSUED, eligible, 20 days left. */
const privateCertificate = (overrides: Partial<CertificateDetail> = {}): CertificateDetail =>
  certificate({ Type: 'PRIVATE', DomainValidationOptions: undefined, RenewalSummary: undefined, ...overrides });

const describes = (cert: CertificateDetail): void => { acm.on(DescribeCertificateCommand).resolves({ Certificate: cert }); };
/**
 * What SearchCertificates (FilterStatement { Filter: { CertificateArn } }) answers for `arn`:
 * AcmCertificateMetadata with these fields, or no result at all (`undefined`).
 */
const searchFinds = (metadata: AcmCertificateMetadata | undefined, arn = ARN): void => {
  acm.on(SearchCertificatesCommand).resolves({ Results: metadata ? [{ CertificateArn: arn, CertificateMetadata: { AcmCertificateMetadata: metadata } }] : [] });
};
/** ACM says the certificate has (or has not) been exported. */
const exportedIs = (exported: boolean, arn = ARN): void => searchFinds({ Exported: exported, Type: 'PRIVATE', RenewalEligibility: 'ELIGIBLE', Status: 'ISSUED' }, arn);
const searches = () => acm.commandCalls(SearchCertificatesCommand).map((c) => c.args[0].input);
/** What ListResourceRecordSets returns: the record sets at or after the record asked for (at most one). */
const zoneHas = (...sets: ResourceRecordSet[]): void => {
  route53.on(ListResourceRecordSetsCommand).resolves({ ResourceRecordSets: sets, IsTruncated: false, MaxItems: 1 });
};
const cname = (name: string, ...values: string[]): ResourceRecordSet => ({ Name: name, Type: 'CNAME', TTL: 300, ResourceRecords: values.map((Value) => ({ Value })) });
const awsError = (name: string): Error => Object.assign(new Error(`${name} (test)`), { name });

/** Nothing was changed: no renewal, no email, no DNS change. */
function expectNoMutation(): void {
  expect(acm).not.toHaveReceivedCommand(RenewCertificateCommand);
  expect(acm).not.toHaveReceivedCommand(ResendValidationEmailCommand);
  expect(route53).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
}

const lookups = () => route53.commandCalls(ListResourceRecordSetsCommand).map((c) => c.args[0].input);
const changes = () => route53.commandCalls(ChangeResourceRecordSetsCommand).map((c) => c.args[0].input);

describe('plan', () => {
  afterEach(() => expectNoMutation()); // Plan is read-only, whatever it decides.

  describe('private certificates', () => {
    const CA = `arn:aws:acm-pca:${REGION}:${ACCOUNT}:certificate-authority/11111111-2222-3333-4444-555555555555`;

    test('ISSUED, eligible, exported, 20 days left: act with a renew action and a briefing', async () => {
      describes(privateCertificate());
      exportedIs(true);
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('act');
      expect(plan.reason).toBe('private certificate with 20 days left (ELIGIBLE, exported)');
      expect(plan.summary).toBe(`RenewCertificate ${ARN}`);
      expect(plan.details.action).toEqual({ kind: 'renew' });
      expect(plan.plannedCalls).toEqual([{ batch: 0, service: 'acm', operation: 'RenewCertificate', target: ARN }]);
      expect(plan.details).toMatchObject({ type: 'PRIVATE', status: 'ISSUED', daysLeft: 20, domains: 'example.com', inUseBy: [ELB_ARN], exported: true });
      // Exported is not in DescribeCertificate's CertificateDetail: it is read from SearchCertificates, for this one ARN.
      expect(searches()).toEqual([{ FilterStatement: { Filter: { CertificateArn: ARN } }, MaxResults: 10 }]);
      expect(plan.briefing!.facts).toEqual(expect.arrayContaining([
        `certificate: ${ARN} (PRIVATE, ISSUED)`,
        expect.stringMatching(/^days left: 20 \(expires \d{4}-\d\d-\d\dT/),
        'domains: example.com',
        `used by: ${ELB_ARN}`,
      ]));
      expect(plan.briefing!.action).toMatch(`aws acm renew-certificate --certificate-arn ${ARN}`);
      expect(acm).toHaveReceivedCommandWith(DescribeCertificateCommand, { CertificateArn: ARN });
      expect(route53.calls()).toHaveLength(0);
    });

    test('INELIGIBLE: escalate, telling to issue a new private certificate', async () => {
      describes(privateCertificate({ RenewalEligibility: 'INELIGIBLE' }));
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.reason).toMatch(/INELIGIBLE/);
      expect(plan.details.action).toBeUndefined();
      expect(plan.briefing!.action).toMatch(/^Issue a new private certificate for example\.com/);
      expect(searches()).toEqual([]);
    });

    // RenewCertificate: "You can only renew certificates that have been previously exported"
    // (acm/latest/userguide/force-certificate-renewal.html). ELIGIBLE alone does not say it: an
    // in-use certificate is ELIGIBLE too (acm-renewal.html).
    test('ELIGIBLE because a load balancer uses it, but never exported: escalate (ACM would refuse RenewCertificate), naming the CA to check', async () => {
      describes(privateCertificate({ CertificateAuthorityArn: CA }));
      exportedIs(false);
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.reason).toBe('the private certificate has not been exported: RenewCertificate renews only exported certificates and ACM would refuse it');
      expect(plan.details.action).toBeUndefined();
      expect(plan.plannedCalls).toBeUndefined();
      expect(plan.details.exported).toBe(false);
      expect(plan.briefing!.action).toMatch(/^ACM renews a private certificate that an AWS service uses by itself, from 60 days before expiry, and has not done so with 20 days left/);
      expect(plan.briefing!.action).toContain(`aws acm-pca list-permissions --certificate-authority-arn ${CA}`);
    });

    test('ELIGIBLE, used by nothing and not exported (which ACM\'s rules do not allow): escalate, not renew', async () => {
      describes(privateCertificate({ InUseBy: [] }));
      exportedIs(false);
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.briefing!.action).toMatch(/^ACM reports it ELIGIBLE although nothing uses it and it has not been exported/);
    });

    test.each<[string, () => void, RegExp]>([
      ['SearchCertificates does not return it', () => searchFinds(undefined), /SearchCertificates did not return the certificate/],
      ['the result is another certificate', () => searchFinds({ Exported: true }, certificateArn(9)), /SearchCertificates did not return the certificate/],
      ['the result has no Exported flag', () => searchFinds({ Type: 'PRIVATE', RenewalEligibility: 'ELIGIBLE' }), /gave no Exported flag/],
      ['SearchCertificates is denied', () => acm.on(SearchCertificatesCommand).rejects(Object.assign(awsError('AccessDeniedException'), { $metadata: { httpStatusCode: 400 } })), /SearchCertificates failed: AccessDeniedException/],
    ])('whether it was exported cannot be read (%s): escalate rather than guess', async (_, arrange, reason) => {
      describes(privateCertificate());
      arrange();
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.reason).toMatch(/^cannot tell whether the private certificate has been exported \(/);
      expect(plan.reason).toMatch(reason);
      expect(plan.details.exported).toBe('unknown');
      expect(plan.briefing!.action).toMatch(`If it has been exported, renew it by hand (aws acm renew-certificate --certificate-arn ${ARN})`);
    });

    test('a throttled SearchCertificates propagates (the workflow retries Plan)', async () => {
      describes(privateCertificate());
      acm.on(SearchCertificatesCommand).rejects(awsError('ThrottlingException'));
      await expect(steps.plan(state())).rejects.toMatchObject({ name: 'ThrottlingException' });
    });

    test('no RenewalEligibility in the answer: escalate, without searching or renewing', async () => {
      describes(privateCertificate({ RenewalEligibility: undefined }));
      exportedIs(true);
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.reason).toBe('ACM does not say whether the private certificate is eligible for renewal (RenewalEligibility undefined): medic does not guess');
      expect(searches()).toEqual([]);
    });
  });

  describe('Amazon-issued, DNS-validated', () => {
    test.each([
      ['the zone has nothing at or after that name', []],
      ['the zone has the next name instead', [cname(`_${HEX2}.example.com.`, RECORD.Value)]],
      ['the zone has a TXT record of that name', [{ Name: RECORD.Name, Type: 'TXT', TTL: 300, ResourceRecords: [{ Value: '"x"' }] }]],
    ] as Array<[string, ResourceRecordSet[]]>)('validation record missing (%s): act, restoring exactly that record in its zone', async (_, sets) => {
      describes(certificate());
      zoneHas(...sets);
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('act');
      expect(plan.reason).toMatch(/validation record\(s\) are not in place/);
      expect(plan.reason).toContain(`${RECORD.Name} (missing)`);
      const expected: PlannedAction = { kind: 'restore-records', zones: [{ zone: { domain: 'example.com', zoneId: ZONE_ID }, records: [READ] }] };
      expect(plan.details.action).toEqual(expected);
      expect(plan.details.found).toEqual({ [RECORD.Name]: 'missing' });
      expect(plan.summary).toBe(`UPSERT 1 validation CNAME(s) in example.com (${ZONE_ID}): ${RECORD.Name} CNAME ${RECORD.Value}`);
      expect(lookups()).toEqual([{ HostedZoneId: ZONE_ID, StartRecordName: RECORD.Name, StartRecordType: 'CNAME', MaxItems: 1 }]);
    });

    test('record present with ACM\'s value and ACM renewing (PENDING_AUTO_RENEWAL): defer, no change', async () => {
      describes(certificate());
      zoneHas(cname(RECORD.Name, RECORD.Value));
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('defer');
      expect(plan.reason).toMatch(/PENDING_AUTO_RENEWAL/);
      expect(plan.details.action).toBeUndefined();
      expect(lookups()).toHaveLength(1);
    });

    test('record present, compared case-insensitively and without regard to the trailing dot', async () => {
      describes(certificate());
      zoneHas(cname(RECORD.Name.toUpperCase(), RECORD.Value.toUpperCase().replace(/\.$/, '')));
      expect((await steps.plan(state())).decision).toBe('defer');
    });

    test('record present and renewal SUCCESS: defer until the new expiry is visible', async () => {
      describes(certificate({ RenewalSummary: { RenewalStatus: 'SUCCESS', DomainValidationOptions: [dnsValidation({ ValidationStatus: 'SUCCESS' })], UpdatedAt: new Date() } }));
      zoneHas(cname(RECORD.Name, RECORD.Value));
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('defer');
      expect(plan.reason).toMatch(/renewal succeeded/);
    });

    test('record present and renewal FAILED with CAA_ERROR: escalate, telling to fix CAA', async () => {
      describes(certificate({ RenewalSummary: { RenewalStatus: 'FAILED', RenewalStatusReason: 'CAA_ERROR', DomainValidationOptions: [dnsValidation()], UpdatedAt: new Date() } }));
      zoneHas(cname(RECORD.Name, RECORD.Value));
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.reason).toBe('ACM\'s renewal FAILED: CAA_ERROR');
      expect(plan.briefing!.action).toMatch(/CAA record for amazon\.com/);
      expect(plan.briefing!.facts).toContain('renewal: FAILED (CAA_ERROR)');
    });

    test.each([
      ['NO_AVAILABLE_CONTACTS', /no address to send validation email/],
      ['ADDITIONAL_VERIFICATION_REQUIRED', /AWS Support/],
      ['PCA_INVALID_STATE', /private CA refused \(PCA_INVALID_STATE\)/],
      ['DOMAIN_NOT_ALLOWED', /failed with DOMAIN_NOT_ALLOWED: request a new certificate for example\.com/],
      [undefined, /renewal in the ACM console/],
    ])('renewal FAILED (%s): escalate with the matching action', async (reason, action) => {
      describes(certificate({ RenewalSummary: { RenewalStatus: 'FAILED', RenewalStatusReason: reason as never, DomainValidationOptions: [dnsValidation()], UpdatedAt: new Date() } }));
      zoneHas(cname(RECORD.Name, RECORD.Value));
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.reason).toMatch(/^ACM's renewal FAILED/);
      expect(plan.briefing!.action).toMatch(action);
    });

    test('record present but renewal PENDING_VALIDATION: escalate (DNS delegation or CAA to check)', async () => {
      describes(certificate({ RenewalSummary: { RenewalStatus: 'PENDING_VALIDATION', DomainValidationOptions: [dnsValidation()], UpdatedAt: new Date() } }));
      zoneHas(cname(RECORD.Name, RECORD.Value));
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.reason).toMatch(/PENDING_VALIDATION although every validation record/);
      expect(plan.briefing!.action).toMatch(/resolve publicly/);
    });

    test('no renewal started, validation in place (read from DomainValidationOptions): escalate', async () => {
      describes(certificate({ RenewalSummary: undefined }));
      zoneHas(cname(RECORD.Name, RECORD.Value));
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.reason).toBe('ACM has not started renewing it with 20 days left');
      expect(lookups()).toHaveLength(1); // the certificate's own validation records are checked too
      expect(searches()).toEqual([]); // not exportable: whether it was exported is not asked
    });

    // Exportable public certificates (Options.Export ENABLED) can be renewed on request once
    // exported, for a fee (force-certificate-renewal.html): medic tells a human how, it does not spend.
    test.each<[string, boolean, RegExp]>([
      ['exported', true, /^Force a renewal by hand, which ACM charges for on exportable public certificates: aws acm renew-certificate --certificate-arn /],
      ['not exported', false, /^It has not been exported, so it cannot be renewed on request \(RenewCertificate renews only exported certificates\): request a new certificate/],
    ])('exportable public certificate (%s), no renewal started: escalate with what a human can do, no RenewCertificate', async (_, exported, action) => {
      describes(certificate({ RenewalSummary: undefined, Options: { Export: 'ENABLED' } }));
      zoneHas(cname(RECORD.Name, RECORD.Value));
      searchFinds({ Exported: exported, Type: 'AMAZON_ISSUED', ExportOption: 'ENABLED' });
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.reason).toBe(`ACM has not started renewing it with 20 days left; it is an exportable public certificate and it has ${exported ? '' : 'not '}been exported`);
      expect(plan.briefing!.action).toMatch(action);
      expect(plan.briefing!.facts).toContain('exportable: yes (Options.Export ENABLED)');
      expect(plan.details).toMatchObject({ exportOption: 'ENABLED', exported });
    });

    test('record present with a different value: act (UPSERT replaces it), showing the value found', async () => {
      describes(certificate());
      zoneHas(cname(RECORD.Name, '_00000000000000000000000000000000.Old.acm-validations.aws'));
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('act');
      expect(plan.details.found).toEqual({ [RECORD.Name]: 'CNAME _00000000000000000000000000000000.old.acm-validations.aws.' });
      expect((plan.details.action as PlannedAction).kind).toBe('restore-records');
      expect(plan.details.action).toEqual({ kind: 'restore-records', zones: [{ zone: { domain: 'example.com', zoneId: ZONE_ID }, records: [READ] }] });
    });

    test('a record with two values counts as different', async () => {
      describes(certificate());
      zoneHas(cname(RECORD.Name, RECORD.Value, 'other.example.net.'));
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('act');
      expect(plan.details.found).toEqual({ [RECORD.Name]: `CNAME ${RECORD.Value} other.example.net.` });
    });

    test('records in two configured zones: one entry per zone, each with its own records', async () => {
      const eu = dnsValidation({ DomainName: 'eu.example.com', ResourceRecord: { Name: `_${HEX}.eu.example.com.` } });
      describes(certificate({ SubjectAlternativeNames: ['example.com', 'eu.example.com'], validations: [dnsValidation(), eu] }));
      zoneHas();
      const plan = await steps.plan(state({ options: { hostedZones: { 'example.com': ZONE_ID, 'eu.example.com': 'Z2EU' } } }));
      expect(plan.decision).toBe('act');
      expect(plan.details.action).toEqual({
        kind: 'restore-records',
        zones: [
          { zone: { domain: 'example.com', zoneId: ZONE_ID }, records: [READ] },
          { zone: { domain: 'eu.example.com', zoneId: 'Z2EU' }, records: [{ domain: 'eu.example.com', name: `_${HEX}.eu.example.com.`, value: RECORD.Value }] },
        ],
      });
      expect(lookups().map((l) => [l.HostedZoneId, l.StartRecordName])).toEqual([[ZONE_ID, RECORD.Name], ['Z2EU', `_${HEX}.eu.example.com.`]]);
    });

    test.each(['PENDING_AUTO_RENEWAL', 'SUCCESS'] as const)('%s with 7 days or fewer left is escalated, not deferred', async (status) => {
      describes(certificate({ NotAfter: daysFromNow(7), validations: [dnsValidation({ ValidationStatus: 'SUCCESS' })], RenewalSummary: { RenewalStatus: status, DomainValidationOptions: [dnsValidation({ ValidationStatus: 'SUCCESS' })], UpdatedAt: new Date() } }));
      zoneHas(cname(RECORD.Name, RECORD.Value));
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.reason).toBe(`ACM reports ${status} but the certificate still expires in 7 days`);
      expectNoMutation();
    });

    test('an apex and its wildcard share one record: looked up and restored once', async () => {
      describes(certificate({ SubjectAlternativeNames: ['example.com', '*.example.com'], validations: [dnsValidation(), dnsValidation({ DomainName: '*.example.com' })] }));
      zoneHas();
      const plan = await steps.plan(state());
      expect(plan.details.action).toEqual({ kind: 'restore-records', zones: [{ zone: { domain: 'example.com', zoneId: ZONE_ID }, records: [READ] }] });
      expect(lookups()).toHaveLength(1);
    });

    test('pending validation of a domain without a configured zone: escalate with the exact record, nothing looked up for it', async () => {
      const other = { Name: `_${HEX}.other.org.`, Type: 'CNAME', Value: `_${HEX2}.abcdefghij.acm-validations.aws.` };
      describes(certificate({ DomainName: 'other.org', SubjectAlternativeNames: ['other.org'], validations: [dnsValidation({ DomainName: 'other.org', ValidationDomain: 'other.org', ResourceRecord: other })] }));
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.reason).toMatch(/DNS validation is pending for other\.org and no hosted zone is configured/);
      expect(plan.briefing!.action).toContain(`${other.Name} CNAME ${other.Value}`);
      expect(plan.details.records).toEqual([{ domain: 'other.org', name: other.Name, value: other.Value }]);
      expect(route53.calls()).toHaveLength(0);
    });

    test('managed and unmanaged domains together: escalate listing both, looking up only the managed record', async () => {
      const other = { Name: `_${HEX}.other.org.`, Type: 'CNAME', Value: `_${HEX2}.abcdefghij.acm-validations.aws.` };
      describes(certificate({ validations: [dnsValidation(), dnsValidation({ DomainName: 'other.org', ResourceRecord: other })] }));
      zoneHas();
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.briefing!.action).toContain(`${other.Name} CNAME ${other.Value}`);
      expect(plan.briefing!.action).toContain(`${RECORD.Name} CNAME ${RECORD.Value}`);
      expect(lookups().map((l) => l.StartRecordName)).toEqual([RECORD.Name]);
    });

    test('an unmanaged domain already validated needs nothing: the renewal status decides', async () => {
      const other = { Name: `_${HEX}.other.org.` };
      describes(certificate({ validations: [dnsValidation({ DomainName: 'other.org', ValidationStatus: 'SUCCESS', ResourceRecord: other })] }));
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('defer');
      expect(route53.calls()).toHaveLength(0);
    });

    const control = [
      ['apex name', { Name: 'example.com.' }],
      ['www name', { Name: 'www.example.com.' }],
      ['name in another domain', { Name: `_${HEX}.evil.com.` }],
      ['name under another domain', { Name: `_${HEX}.example.com.evil.com.` }],
      ['name of a subdomain not validated', { Name: `_${HEX}.www.example.com.` }],
      ['31 hex digits', { Name: `_${HEX.slice(1)}.example.com.` }],
      ['33 hex digits', { Name: `_${HEX}0.example.com.` }],
      ['non-hex label', { Name: `_${HEX.slice(1)}g.example.com.` }],
      ['a newline in the name', { Name: `_${HEX}.example.com.\nwww.example.com.` }],
      ['a NUL in the name', { Name: `_${HEX}\u0000.example.com.` }],
      ['a tab in the name', { Name: `_${HEX}\t.example.com.` }],
      ['type A', { Type: 'A' }],
      ['type TXT', { Type: 'TXT' }],
      ['value outside acm-validations.aws', { Value: 'attacker.example.net.' }],
      ['value under a look-alike domain', { Value: `_${HEX2}.acm-validations.aws.evil.com.` }],
      ['value with a newline', { Value: `_${HEX2}.x.acm-validations.aws.\nevil.` }],
    ] as Array<[string, Record<string, string>]>;
    test.each(control)('malformed validation record (%s): refused, escalated, no Route 53 call', async (_, record) => {
      describes(certificate({ validations: [dnsValidation({ ResourceRecord: record })] }));
      zoneHas();
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.reason).toMatch(/^refusing /);
      expect(plan.reason).not.toMatch(/[\u0000-\u001f]/); // untrusted text is quoted with control characters escaped
      expect(plan.summary).toBe('no DNS change made');
      expect(plan.details.action).toBeUndefined();
      expect(plan.briefing!.action).toMatch(/refused to write one that does not have ACM's shape/);
      expect(route53.calls()).toHaveLength(0);
    });

    test('malformed domain name: refused', async () => {
      describes(certificate({ validations: [dnsValidation({ DomainName: 'example.com; rm -rf /' })] }));
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.reason).toMatch(/^refusing the validation of domain "example\.com; rm -rf \/"/);
      expect(route53.calls()).toHaveLength(0);
    });

    test('a DNS validation without a record: escalated, no Route 53 call', async () => {
      describes(certificate({ validations: [{ ...dnsValidation(), ResourceRecord: undefined }] }));
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.reason).toBe('ACM gave no DNS validation record for example.com');
      expect(route53.calls()).toHaveLength(0);
    });

    test('INELIGIBLE and used by nothing: escalate, saying nothing uses it', async () => {
      describes(certificate({ RenewalEligibility: 'INELIGIBLE', InUseBy: [] }));
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.reason).toMatch(/INELIGIBLE.*nothing uses it/);
      expect(plan.briefing!.facts).toContain('used by: nothing (no AWS resource uses it)');
      expect(plan.briefing!.action).toMatch(/^If it is still needed, associate it/);
      expect(route53.calls()).toHaveLength(0);
    });

    test('INELIGIBLE while in use: escalate, telling to replace it', async () => {
      describes(certificate({ RenewalEligibility: 'INELIGIBLE' }));
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.reason).not.toMatch(/nothing uses it/);
      expect(plan.briefing!.action.startsWith(`Request a new certificate for example.com and replace this one on ${ELB_ARN} before `)).toBe(true);
    });
  });

  describe('Amazon-issued, email-validated', () => {
    const emailCertificate = () => certificate({
      SubjectAlternativeNames: ['example.com', 'www.example.com'],
      validations: [emailValidation('example.com'), emailValidation('www.example.com'), { ...emailValidation('old.example.com'), ValidationStatus: 'SUCCESS' }],
    });

    test('pending and resending not enabled: escalate, naming the recipients', async () => {
      describes(emailCertificate());
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.reason).toBe('email validation is pending for example.com, www.example.com: ACM waits for someone to approve it');
      expect(plan.briefing!.action).toMatch(/^Approve the validation email sent to admin@example\.com, hostmaster@example\.com for example\.com, www\.example\.com/);
      expect(plan.details.action).toBeUndefined();
      expect(route53.calls()).toHaveLength(0);
    });

    test('pending and resending enabled: act with resend-email for the pending domains only', async () => {
      describes(emailCertificate());
      const plan = await steps.plan(state({ options: { resendValidationEmail: true } }));
      expect(plan.decision).toBe('act');
      expect(plan.details.action).toEqual({
        kind: 'resend-email',
        domains: [{ domain: 'example.com', validationDomain: 'example.com' }, { domain: 'www.example.com', validationDomain: 'example.com' }],
      });
      expect(plan.summary).toMatch(/to admin@example\.com, hostmaster@example\.com/);
    });
  });

  // ValidationMethod HTTP (SDK enum), with DomainValidation.HttpRedirect: "for certificates
  // requested through Amazon CloudFront"; "ACM automatically renews your certificate as long as
  // the certificate is in use with CloudFront and your redirect remains in place" (http-validation.html).
  describe('Amazon-issued, HTTP-validated (CloudFront)', () => {
    const TOKEN = '1eabe938a4fe077b31e1ff62b781c123';
    const FROM = `http://example.com/.well-known/pki-validation/${TOKEN}.txt`;
    const TO = `https://validation.us-east-1.acm-validations.aws/${ACCOUNT}/.well-known/pki-validation/${TOKEN}.txt`;
    const httpValidation = (ValidationStatus: DomainValidation['ValidationStatus']): DomainValidation => ({
      DomainName: 'example.com', ValidationDomain: 'example.com', ValidationMethod: 'HTTP', ValidationStatus, HttpRedirect: { RedirectFrom: FROM, RedirectTo: TO },
    });
    const CLOUDFRONT = `arn:aws:cloudfront::${ACCOUNT}:distribution/E2QWRUHEXAMPLE`;
    const httpCertificate = (status: DomainValidation['ValidationStatus'], renewal = 'PENDING_VALIDATION') => certificate({
      ManagedBy: 'CLOUDFRONT', InUseBy: [CLOUDFRONT], DomainValidationOptions: [httpValidation('SUCCESS')],
      RenewalSummary: { RenewalStatus: renewal as never, DomainValidationOptions: [httpValidation(status)], UpdatedAt: new Date() },
    });

    test('pending: escalate with the redirect to restore; not read as DNS (no Route 53 call) nor email', async () => {
      describes(httpCertificate('PENDING_VALIDATION'));
      const plan = await steps.plan(state({ options: { resendValidationEmail: true } }));
      expect(plan.decision).toBe('escalate');
      expect(plan.reason).toBe('HTTP validation is pending for example.com (the certificate is managed by CLOUDFRONT): the CA cannot fetch the validation token, and medic does not change CloudFront or web servers');
      expect(plan.briefing!.action).toMatch(/^Restore the HTTP redirect from each first URL to the second: /);
      expect(plan.briefing!.action).toContain(`${FROM} -> ${TO}`);
      expect(plan.briefing!.facts).toContain('managed by: CLOUDFRONT');
      expect(plan.details).toMatchObject({ managedBy: 'CLOUDFRONT', httpRedirects: [{ domain: 'example.com', redirectFrom: FROM, redirectTo: TO }] });
      expect(plan.details.action).toBeUndefined();
      expect(route53.calls()).toHaveLength(0);
      expect(searches()).toEqual([]);
    });

    test('a pending HTTP validation without HttpRedirect: escalate, saying ACM gave none', async () => {
      describes(certificate({ validations: [{ ...httpValidation('PENDING_VALIDATION'), HttpRedirect: undefined }] }));
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.briefing!.action).toContain('example.com: ACM gave no HttpRedirect');
    });

    test('validated but the renewal still PENDING_VALIDATION: escalate about the redirect, never about CNAMEs', async () => {
      describes(httpCertificate('SUCCESS'));
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.reason).toBe('renewal is PENDING_VALIDATION although every HTTP validation reports SUCCESS');
      expect(plan.briefing!.action).toContain(`${FROM} -> ${TO}`);
      expect(plan.briefing!.action).not.toMatch(/CNAME/);
      expect(route53.calls()).toHaveLength(0);
    });

    test('validated and ACM renewing it: defer, as for DNS', async () => {
      describes(httpCertificate('SUCCESS', 'PENDING_AUTO_RENEWAL'));
      expect((await steps.plan(state())).decision).toBe('defer');
    });

    test('a pending validation by a method medic does not know: escalate rather than guess', async () => {
      describes(certificate({ validations: [{ ...dnsValidation(), ValidationMethod: 'CARRIER_PIGEON' as never }] }));
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.reason).toBe('validation of example.com by CARRIER_PIGEON is pending, and medic does not know that method');
      expect(route53.calls()).toHaveLength(0);
    });
  });

  describe('imported and unusable certificates', () => {
    test('IMPORTED: escalate with expiry, users and re-import instructions', async () => {
      const notAfter = daysFromNow(10);
      describes(certificate({ Type: 'IMPORTED', NotAfter: notAfter, RenewalSummary: undefined, DomainValidationOptions: undefined, RenewalEligibility: 'INELIGIBLE' }));
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.reason).toBe(`imported certificates cannot be renewed by ACM; it expires ${notAfter.toISOString()} (10 days)`);
      expect(plan.briefing!.facts).toEqual(expect.arrayContaining([`days left: 10 (expires ${notAfter.toISOString()})`, `used by: ${ELB_ARN}`]));
      expect(plan.briefing!.action).toMatch(/re-import it over the same ARN/);
      expect(plan.briefing!.action).toContain(`aws acm import-certificate --certificate-arn ${ARN}`);
      expect(route53.calls()).toHaveLength(0);
    });

    test.each(['EXPIRED', 'REVOKED', 'FAILED', 'VALIDATION_TIMED_OUT'])('status %s: escalate, it cannot be renewed', async (status) => {
      describes(certificate({ Status: status as never, NotAfter: status === 'EXPIRED' ? daysFromNow(-3) : daysFromNow(20) }));
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.reason).toBe(`the certificate is ${status}, so it cannot be renewed`);
      expect(plan.briefing!.action).toMatch(/^Request a new certificate for example\.com/);
      expect(route53.calls()).toHaveLength(0);
    });

    test('no expiry date: escalate', async () => {
      describes(certificate({ NotAfter: undefined }));
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('escalate');
      expect(plan.reason).toBe('ACM reports no expiry date for it');
      expect(plan.briefing!.facts).toContain('days left: unknown (expires unknown)');
    });

    test('unknown type: escalate', async () => {
      describes(certificate({ Type: 'SOMETHING_NEW' as never }));
      expect(await steps.plan(state())).toMatchObject({ decision: 'escalate', reason: 'unknown certificate type SOMETHING_NEW' });
    });
  });

  describe('nothing to do', () => {
    test('certificate not found: noop', async () => {
      acm.on(DescribeCertificateCommand).rejects(awsError('ResourceNotFoundException'));
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('noop');
      expect(plan.reason).toBe(`certificate ${ARN} does not exist (deleted, or in another region): nothing to renew`);
    });

    test('any other DescribeCertificate error propagates (the workflow retries it)', async () => {
      acm.on(DescribeCertificateCommand).rejects(awsError('ThrottlingException'));
      await expect(steps.plan(state())).rejects.toMatchObject({ name: 'ThrottlingException' });
    });

    test.each([
      ['Amazon-issued', certificate({ NotAfter: daysFromNow(200) })],
      ['private', privateCertificate({ NotAfter: daysFromNow(200) })],
      ['imported', certificate({ Type: 'IMPORTED', NotAfter: daysFromNow(200) })],
    ])('not due (%s, 200 days left): noop, no lookup', async (_, cert) => {
      describes(cert);
      const plan = await steps.plan(state());
      expect(plan.decision).toBe('noop');
      expect(plan.reason).toMatch(/^not due: 200 days left/);
      expect(plan.reason).toMatch(/more than the 45-day renewal window \(already renewed, or ACM's own renewal still has time\)$/);
      expect(route53.calls()).toHaveLength(0);
      expect(searches()).toEqual([]);
    });

    test('the renewal window comes from the options', async () => {
      describes(privateCertificate({ NotAfter: daysFromNow(20) }));
      expect((await steps.plan(state({ options: { renewWithinDays: 10 } }))).decision).toBe('noop');
    });

    // ACM's expiry events start "45 days prior to expiration for private/imported certificates and
    // 30 days prior to expiration for public certificates" (acm/latest/userguide/supported-events.html).
    test('without renewWithinDays the window follows ACM\'s events: 30 days for Amazon-issued, 45 for private and imported', async () => {
      expect(RENEW_WITHIN_DAYS_BY_TYPE).toEqual({ AMAZON_ISSUED: 30, PRIVATE: 45, IMPORTED: 45 });
      const byType = { ...OPTIONS, renewWithinDays: undefined };
      describes(certificate({ NotAfter: daysFromNow(40) }));
      const amazon = await steps.plan(state({ options: byType }));
      expect(amazon.decision).toBe('noop');
      expect(amazon.reason).toMatch(/^not due: 40 days left \(expires \S+\), more than the 30-day renewal window of AMAZON_ISSUED certificates/);
      expect(amazon.details.renewWithinDays).toBe(30);
      expect(route53.calls()).toHaveLength(0);

      describes(certificate({ NotAfter: daysFromNow(30), validations: [dnsValidation({ ValidationStatus: 'SUCCESS' })] }));
      zoneHas(cname(RECORD.Name, RECORD.Value));
      expect((await steps.plan(state({ options: byType }))).decision).toBe('defer'); // 30 days left: due

      describes(privateCertificate({ NotAfter: daysFromNow(40) }));
      exportedIs(true);
      expect((await steps.plan(state({ options: byType }))).decision).toBe('act');
      describes(privateCertificate({ NotAfter: daysFromNow(46) }));
      expect((await steps.plan(state({ options: byType }))).reason).toMatch(/more than the 45-day renewal window of PRIVATE certificates/);

      describes(certificate({ Type: 'IMPORTED', NotAfter: daysFromNow(40), RenewalSummary: undefined, DomainValidationOptions: undefined, RenewalEligibility: 'INELIGIBLE' }));
      expect((await steps.plan(state({ options: byType }))).decision).toBe('escalate');
    });

    test('a renewWithinDays in the options applies to every type', async () => {
      describes(certificate({ NotAfter: daysFromNow(40), validations: [dnsValidation({ ValidationStatus: 'SUCCESS' })] }));
      zoneHas(cname(RECORD.Name, RECORD.Value));
      const plan = await steps.plan(state({ options: { renewWithinDays: 45 } }));
      expect(plan.decision).toBe('defer');
    });
  });

  describe('allow-list', () => {
    const OTHER = certificateArn(2);

    test('not listed and no tag configured: refused before reading the certificate', async () => {
      const plan = await steps.plan(state({ arn: OTHER }));
      expect(plan).toMatchObject({ decision: 'escalate', reason: `certificate ${OTHER} is not in the allow-list` });
      expect(plan.details).toEqual({});
      expect(acm.calls()).toHaveLength(0);
      expect(route53.calls()).toHaveLength(0);
    });

    test('not listed but carrying the configured tag: allowed', async () => {
      acm.on(ListTagsForCertificateCommand).resolves({ Tags: [{ Key: 'team', Value: 'web' }, { Key: TAG.key, Value: TAG.value }] });
      describes(privateCertificate({ CertificateArn: OTHER }));
      exportedIs(true, OTHER);
      const plan = await steps.plan(state({ arn: OTHER, options: { optInTag: TAG } }));
      expect(plan.decision).toBe('act');
      expect(acm).toHaveReceivedCommandWith(ListTagsForCertificateCommand, { CertificateArn: OTHER });
      expect(acm).toHaveReceivedCommandWith(DescribeCertificateCommand, { CertificateArn: OTHER });
    });

    test.each([
      ['no tags', []],
      ['the key with another value', [{ Key: TAG.key, Value: 'false' }]],
      ['the value under another key', [{ Key: 'medic:other', Value: TAG.value }]],
    ])('not listed and tagged with %s: refused before reading the certificate', async (_, tags) => {
      acm.on(ListTagsForCertificateCommand).resolves({ Tags: tags });
      const plan = await steps.plan(state({ arn: OTHER, options: { optInTag: TAG } }));
      expect(plan).toMatchObject({ decision: 'escalate', reason: `certificate ${OTHER} is neither in the allow-list nor tagged medic:renew=true` });
      expect(acm).not.toHaveReceivedCommand(DescribeCertificateCommand);
    });

    test('listed: the tag is not even read', async () => {
      describes(privateCertificate());
      exportedIs(true);
      expect((await steps.plan(state({ options: { optInTag: TAG } }))).decision).toBe('act');
      expect(acm).not.toHaveReceivedCommand(ListTagsForCertificateCommand);
    });

    test('tag lookup errors other than not-found propagate', async () => {
      acm.on(ListTagsForCertificateCommand).rejects(awsError('ThrottlingException'));
      await expect(steps.plan(state({ arn: OTHER, options: { optInTag: TAG } }))).rejects.toMatchObject({ name: 'ThrottlingException' });
      expect(acm).not.toHaveReceivedCommand(DescribeCertificateCommand);
    });

    test('tags not found and the certificate not found: noop', async () => {
      acm.on(ListTagsForCertificateCommand).rejects(awsError('ResourceNotFoundException'));
      acm.on(DescribeCertificateCommand).rejects(awsError('ResourceNotFoundException'));
      expect((await steps.plan(state({ arn: OTHER, options: { optInTag: TAG } }))).decision).toBe('noop');
    });

    // The allow-list must fail closed: a not-found from the tag lookup does not prove the tag.
    test('tags not found but the certificate then described: never acted on', async () => {
      acm.on(ListTagsForCertificateCommand).rejects(awsError('ResourceNotFoundException'));
      describes(privateCertificate({ CertificateArn: OTHER }));
      const plan = await steps.plan(state({ arn: OTHER, options: { optInTag: TAG } }));
      expect(plan.decision).not.toBe('act');
      expect(plan.details.action).toBeUndefined();
    });
  });
});

describe('act', () => {
  const NOT_AFTER = daysFromNow(20).toISOString();
  const planOf = (action?: PlannedAction): Plan => ({ decision: 'act', reason: '', summary: '', details: { notAfter: NOT_AFTER, ...(action ? { action } : {}) } });
  const changed = { ChangeInfo: { Id: '/change/C0123', Status: 'PENDING', SubmittedAt: new Date() } } as const;

  test('renew: exactly one RenewCertificate for the certificate, recorded with the time and prior expiry', async () => {
    acm.on(RenewCertificateCommand).resolves({});
    const before = Date.now();
    const result = await actThrough(steps, state({ plan: planOf({ kind: 'renew' }) }));
    expect(acm.commandCalls(RenewCertificateCommand).map((c) => c.args[0].input)).toEqual([{ CertificateArn: ARN }]);
    expect(acm.calls()).toHaveLength(1);
    expect(route53.calls()).toHaveLength(0);
    expect(result.calls).toMatchObject([{ service: 'acm', operation: 'RenewCertificate', parameters: { CertificateArn: ARN } }]);
    expect(result).toMatchObject({ batch: 0, moreBatches: false });
    expect(result.details.notAfterBefore).toBe(NOT_AFTER);
    expect(Date.parse(result.details.actedAt as string)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(result.details.actedAt as string)).toBeLessThanOrEqual(Date.now());
  });

  test('a throttled renewal propagates with its name, so the workflow can tell it was not executed', async () => {
    acm.on(RenewCertificateCommand).rejects(awsError('ThrottlingException'));
    await expect(actThrough(steps, state({ plan: planOf({ kind: 'renew' }) }))).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  test('a renewal ACM refuses (ValidationException, e.g. a certificate not exported) propagates with its name: a refusal, not an unknown outcome', async () => {
    acm.on(RenewCertificateCommand).rejects(Object.assign(awsError('ValidationException'), { $fault: 'client', $metadata: { httpStatusCode: 400 } }));
    await expect(actThrough(steps, state({ plan: planOf({ kind: 'renew' }) }))).rejects.toMatchObject({ name: 'ValidationException' });
    expect(acm.commandCalls(RenewCertificateCommand)).toHaveLength(1);
  });

  test('restore-records: one UPSERT of exactly ACM\'s record, nothing deleted or created', async () => {
    route53.on(ChangeResourceRecordSetsCommand).resolves(changed);
    const action: PlannedAction = { kind: 'restore-records', zones: [{ zone: { domain: 'example.com', zoneId: ZONE_ID }, records: [READ] }] };
    const result = await actThrough(steps, state({ plan: planOf(action) }));
    const sent = changes();
    expect(sent).toHaveLength(1);
    expect(sent[0].HostedZoneId).toBe(ZONE_ID);
    expect(sent[0].ChangeBatch!.Changes).toEqual([UPSERT]);
    expect(sent[0].ChangeBatch!.Comment).toBe(`medic ${INCIDENT_ID}: restore ACM validation record(s) of ${ARN}`);
    expect(acm.calls()).toHaveLength(0);
    expect(result.calls).toMatchObject([{ service: 'route53', operation: 'ChangeResourceRecordSets', parameters: sent[0], result: { changeId: '/change/C0123', status: 'PENDING' } }]);
    expect(result.details.notAfterBefore).toBe(NOT_AFTER);
  });

  test('restore-records from a real plan: the plan\'s record and zone, end to end', async () => {
    describes(certificate());
    zoneHas();
    const plan = await steps.plan(state());
    route53.on(ChangeResourceRecordSetsCommand).resolves(changed);
    await actThrough(steps, state({ plan }));
    expect(changes().map((c) => [c.HostedZoneId, c.ChangeBatch!.Changes])).toEqual([[ZONE_ID, [UPSERT]]]);
  });

  test('restore-records in two zones: one change per zone, each with only its records', async () => {
    route53.on(ChangeResourceRecordSetsCommand).resolves(changed);
    const eu: ValidationRecord = { domain: 'eu.example.com', name: `_${HEX}.eu.example.com.`, value: RECORD.Value };
    const www: ValidationRecord = { domain: 'www.example.com', name: `_${HEX2}.www.example.com.`, value: RECORD.Value };
    const action: PlannedAction = {
      kind: 'restore-records',
      zones: [{ zone: { domain: 'example.com', zoneId: ZONE_ID }, records: [READ, www] }, { zone: { domain: 'eu.example.com', zoneId: 'Z2EU' }, records: [eu] }],
    };
    const result = await actThrough(steps, state({ plan: planOf(action) }));
    const upsert = (r: ValidationRecord) => ({ Action: 'UPSERT', ResourceRecordSet: { Name: r.name, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: r.value }] } });
    expect(changes().map((c) => [c.HostedZoneId, c.ChangeBatch!.Changes])).toEqual([[ZONE_ID, [upsert(READ), upsert(www)]], ['Z2EU', [upsert(eu)]]]);
    expect(result.calls.map((c) => c.operation)).toEqual(['ChangeResourceRecordSets', 'ChangeResourceRecordSets']);
  });

  test.each([
    ['a www CNAME', { domain: 'example.com', name: 'www.example.com.', value: 'attacker.example.net.' }],
    ['the apex', { domain: 'example.com', name: 'example.com.', value: RECORD.Value }],
    ['ACM\'s name pointing elsewhere', { domain: 'example.com', name: RECORD.Name, value: 'attacker.example.net.' }],
    ['a name outside its domain', { domain: 'evil.com', name: RECORD.Name, value: RECORD.Value }],
  ] as Array<[string, ValidationRecord]>)('restore-records with %s smuggled into the plan: throws, no change sent', async (_, record) => {
    route53.on(ChangeResourceRecordSetsCommand).resolves(changed);
    const action: PlannedAction = { kind: 'restore-records', zones: [{ zone: { domain: 'example.com', zoneId: ZONE_ID }, records: [READ, record] }] };
    await expect(actThrough(steps, state({ plan: planOf(action) }))).rejects.toThrow(/^refusing /);
    expect(route53).not.toHaveReceivedCommand(ChangeResourceRecordSetsCommand);
  });

  test('a smuggled record in a later zone: nothing is written in any zone', async () => {
    route53.on(ChangeResourceRecordSetsCommand).resolves(changed);
    const bad: ValidationRecord = { domain: 'eu.example.com', name: 'eu.example.com.', value: 'attacker.example.net.' };
    const action: PlannedAction = {
      kind: 'restore-records',
      zones: [{ zone: { domain: 'example.com', zoneId: ZONE_ID }, records: [READ] }, { zone: { domain: 'eu.example.com', zoneId: 'Z2EU' }, records: [bad] }],
    };
    await expect(actThrough(steps, state({ plan: planOf(action) }))).rejects.toThrow(/^refusing /);
    expect(changes()).toEqual([]);
  });

  test('resend-email: one ResendValidationEmail per domain', async () => {
    acm.on(ResendValidationEmailCommand).resolves({});
    const action: PlannedAction = {
      kind: 'resend-email',
      domains: [{ domain: 'example.com', validationDomain: 'example.com' }, { domain: 'www.example.com', validationDomain: 'example.com' }],
    };
    const result = await actThrough(steps, state({ plan: planOf(action) }));
    const expected = [
      { CertificateArn: ARN, Domain: 'example.com', ValidationDomain: 'example.com' },
      { CertificateArn: ARN, Domain: 'www.example.com', ValidationDomain: 'example.com' },
    ];
    expect(acm.commandCalls(ResendValidationEmailCommand).map((c) => c.args[0].input)).toEqual(expected);
    expect(result.calls).toMatchObject(expected.map((parameters) => ({ service: 'acm', operation: 'ResendValidationEmail', parameters })));
    expect(acm).not.toHaveReceivedCommand(RenewCertificateCommand);
    expect(route53.calls()).toHaveLength(0);
  });

  test.each([
    ['no action', undefined],
    ['an unknown action', { kind: 'delete-certificate' } as unknown as PlannedAction],
  ])('a plan with %s: act throws, nothing sent', async (_, action) => {
    await expect(actThrough(steps, state({ plan: planOf(action) }))).rejects.toThrow(/the plan names no certificate action/);
    expect(acm.calls()).toHaveLength(0);
    expect(route53.calls()).toHaveLength(0);
  });
});

describe('check', () => {
  const BEFORE = daysFromNow(20);
  const ACTED_AT = new Date(Date.now() - 3_600_000);
  const acted: ActResult = { summary: '', calls: [], batch: 0, moreBatches: false, details: { actedAt: ACTED_AT.toISOString(), notAfterBefore: BEFORE.toISOString() } };
  const checking = () => state({ act: acted });
  const AFTER_ACT = new Date(ACTED_AT.getTime() + 60_000);
  const BEFORE_ACT = new Date(ACTED_AT.getTime() - 60_000);
  /** The certificate as it was when medic acted, with this renewal summary. */
  const unchanged = (RenewalStatus?: string, UpdatedAt?: Date, RenewalStatusReason?: string): CertificateDetail =>
    certificate({ NotAfter: BEFORE, RenewalSummary: RenewalStatus ? { RenewalStatus, UpdatedAt, RenewalStatusReason } as never : undefined });

  afterEach(() => expectNoMutation()); // Check is read-only.

  test('expiry moved later: success', async () => {
    const renewed = daysFromNow(395);
    describes(certificate({ NotAfter: renewed }));
    const result = await steps.check(checking());
    expect(result.verdict).toBe('success');
    expect(result.reason).toBe(`renewed: expiry moved from ${BEFORE.toISOString()} to ${renewed.toISOString()} (395 days left)`);
    expect(result.readings).toMatchObject({ notAfter: renewed.toISOString(), daysLeft: 395 });
  });

  test('renewal SUCCESS reported after medic acted: success', async () => {
    describes(unchanged('SUCCESS', AFTER_ACT));
    const result = await steps.check(checking());
    expect(result.verdict).toBe('success');
    expect(result.reason).toBe(`ACM reports the renewal SUCCESS at ${AFTER_ACT.toISOString()}`);
  });

  test.each([
    ['before medic acted', BEFORE_ACT],
    ['at an unknown time', undefined],
  ])('renewal SUCCESS reported %s: pending, not success', async (_, at) => {
    describes(unchanged('SUCCESS', at));
    const result = await steps.check(checking());
    expect(result.verdict).toBe('pending');
    expect(result.reason).toMatch(/^renewal SUCCESS, expiry still /);
  });

  test('renewal FAILED after medic acted: failure, with a briefing', async () => {
    describes(unchanged('FAILED', AFTER_ACT, 'CAA_ERROR'));
    const result = await steps.check(checking());
    expect(result.verdict).toBe('failure');
    expect(result.reason).toBe('ACM\'s renewal FAILED after medic acted: CAA_ERROR');
    expect(result.briefing!.action).toMatch(/CAA record/);
    expect(result.briefing!.facts).toContain('renewal: FAILED (CAA_ERROR)');
    expect(result.readings).toMatchObject({ renewalStatus: 'FAILED', renewalStatusReason: 'CAA_ERROR', renewalUpdatedAt: AFTER_ACT.toISOString() });
  });

  test('renewal FAILED before medic acted (stale): pending', async () => {
    describes(unchanged('FAILED', BEFORE_ACT, 'CAA_ERROR'));
    const result = await steps.check(checking());
    expect(result.verdict).toBe('pending');
    expect(result.reason).toMatch(/^renewal FAILED \(CAA_ERROR\)/);
    expect(result.briefing).toBeUndefined();
  });

  test.each(['PENDING_VALIDATION', 'PENDING_AUTO_RENEWAL'])('renewal %s: pending, naming the status', async (status) => {
    describes(unchanged(status, AFTER_ACT));
    const result = await steps.check(checking());
    expect(result.verdict).toBe('pending');
    expect(result.reason).toBe(`renewal ${status}, expiry still ${BEFORE.toISOString()}`);
  });

  test('no renewal summary: pending, not started', async () => {
    describes(unchanged());
    expect(await steps.check(checking())).toMatchObject({ verdict: 'pending', reason: `renewal not started, expiry still ${BEFORE.toISOString()}` });
  });

  test('DescribeCertificate fails: inconclusive, never success', async () => {
    acm.on(DescribeCertificateCommand).rejects(awsError('ThrottlingException'));
    const result = await steps.check(checking());
    expect(result.verdict).toBe('inconclusive');
    expect(result.reason).toMatch(`certificate ${ARN} could not be read`);
  });

  test('certificate not found: inconclusive', async () => {
    acm.on(DescribeCertificateCommand).rejects(awsError('ResourceNotFoundException'));
    expect(await steps.check(checking())).toEqual({ verdict: 'inconclusive', reason: `certificate ${ARN} not found`, readings: {} });
  });
});

describe('validation-record helpers', () => {
  test('hostedZoneFor picks the longest matching suffix, on label boundaries only', () => {
    const zones = { 'example.com': 'Z1', 'eu.example.com': 'Z2', 'notexample.com': 'Z3' };
    expect(hostedZoneFor(`_${HEX}.example.com.`, zones)).toEqual({ domain: 'example.com', zoneId: 'Z1' });
    expect(hostedZoneFor(`_${HEX}.eu.example.com.`, zones)).toEqual({ domain: 'eu.example.com', zoneId: 'Z2' });
    expect(hostedZoneFor(`_${HEX}.www.eu.example.com.`, zones)).toEqual({ domain: 'eu.example.com', zoneId: 'Z2' });
    expect(hostedZoneFor('example.com.', zones)).toEqual({ domain: 'example.com', zoneId: 'Z1' });
    expect(hostedZoneFor(`_${HEX}.notexample.com.`, { 'example.com': 'Z1' })).toBeUndefined();
    expect(hostedZoneFor(`_${HEX}.other.org.`, zones)).toBeUndefined();
    expect(hostedZoneFor(`_${HEX}.example.com.`, {})).toBeUndefined();
  });

  test('readValidationRecord reads ACM\'s record', () => {
    expect(readValidationRecord(dnsValidation())).toEqual({ ok: true, record: READ });
  });

  test('readValidationRecord: a wildcard domain validates with the record of its base domain', () => {
    expect(readValidationRecord(dnsValidation({ DomainName: '*.example.com' }))).toEqual({ ok: true, record: READ });
  });

  test('readValidationRecord normalises upper case and a missing trailing dot', () => {
    const shouting = dnsValidation({ DomainName: 'EXAMPLE.com', ResourceRecord: { Name: RECORD.Name.toUpperCase().slice(0, -1), Value: RECORD.Value.toUpperCase().slice(0, -1) } });
    expect(readValidationRecord(shouting)).toEqual({ ok: true, record: READ });
  });

  test('readValidationRecord refuses a record of a wildcard\'s subdomain form', () => {
    const read = readValidationRecord(dnsValidation({ DomainName: '*.example.com', ResourceRecord: { Name: `_${HEX}.*.example.com.` } }));
    expect(read.ok).toBe(false);
  });

  test('lookUpRecord: present, missing or different', async () => {
    const client = new Route53Client({});
    zoneHas(cname(RECORD.Name, RECORD.Value));
    expect(await lookUpRecord(client, ZONE_ID, READ)).toEqual({ state: 'present' });
    zoneHas(cname(`_${HEX2}.example.com.`, RECORD.Value));
    expect(await lookUpRecord(client, ZONE_ID, READ)).toEqual({ state: 'missing' });
    zoneHas(cname(RECORD.Name, 'Old.Example.net'));
    expect(await lookUpRecord(client, ZONE_ID, READ)).toEqual({ state: 'different', current: ['old.example.net.'] });
    zoneHas({ Name: RECORD.Name, Type: 'CNAME', AliasTarget: { HostedZoneId: 'Z', DNSName: 'x.', EvaluateTargetHealth: false } });
    expect(await lookUpRecord(client, ZONE_ID, READ)).toEqual({ state: 'different', current: [] });
  });

  test('upsertChange: only UPSERT of an ACM-shaped CNAME with the short TTL', () => {
    expect(VALIDATION_RECORD_TTL).toBe(300);
    expect(upsertChange(READ)).toEqual(UPSERT);
    expect(() => upsertChange({ ...READ, name: 'www.example.com.' })).toThrow(/^refusing the validation record name/);
    expect(() => upsertChange({ ...READ, value: 'attacker.example.net.' })).toThrow(/^refusing the validation record value/);
  });
});

import { describeTrigger } from '../../lambdas/shared/trigger';
import type { RunbookSpec } from '../../lambdas/shared/types';
import { isRunbookServiceEvent, parseResourceEvent } from '../../lambdas/validate/resource-event';
import { accepted, rejection } from '../support/parsed';
import { ecsRunbookSpec } from '../support/fixtures';
import { ACCOUNT, REGION, alarmEvent, certificateArn } from '../support/synth';

const CERT_PATTERN = `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/[0-9a-f-]{36}`;

/** The detail types the certificate runbook listens to (https://docs.aws.amazon.com/acm/latest/userguide/supported-events.html). */
const DETAIL_TYPES = ['ACM Certificate Approaching Expiration', 'ACM Certificate Renewal Action Required'];

/** A certificate renewal runbook started by ACM's events, allowed to act on certificate 1 (and tagged ones with `byTag`). */
function spec(byTag = false, detailTypes = DETAIL_TYPES): RunbookSpec {
  return ecsRunbookSpec({
    name: 'cert-renewal',
    kind: 'certificate-renewal',
    eventTarget: {
      source: 'aws.acm',
      detailTypes,
      type: 'acm-certificate',
      arnPattern: CERT_PATTERN,
      allowed: [certificateArn(1)],
      ...(byTag ? { allowedByTag: { key: 'medic:renew', value: 'true' } } : {}),
    },
  });
}

/** ACM's event as EventBridge delivers it. */
function acmEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '0',
    id: '9c95e8e4-96a4-ef3f-b739-b6aa5b193afb',
    'detail-type': 'ACM Certificate Approaching Expiration',
    source: 'aws.acm',
    account: ACCOUNT,
    time: '2026-11-22T06:51:08Z',
    region: REGION,
    resources: [certificateArn(1)],
    detail: { DaysToExpiry: 20, CommonName: 'example.com' },
    ...overrides,
  };
}

describe('parseResourceEvent', () => {
  test('an allow-listed certificate: target is the certificate, trigger the event, with its detail in words', () => {
    const parsed = accepted(parseResourceEvent(acmEvent(), spec()));
    expect(parsed.target).toEqual({ type: 'acm-certificate', id: certificateArn(1), arn: certificateArn(1), region: REGION, account: ACCOUNT, dimensions: {} });
    expect(parsed.trigger).toEqual({
      kind: 'event', source: 'aws.acm', name: 'ACM Certificate Approaching Expiration', at: '2026-11-22T06:51:08.000Z', reason: 'DaysToExpiry 20, CommonName example.com',
    });
    expect(parsed.incidentId).toMatch(/^cert-renewal-20261122T065108Z-[0-9a-f]{12}$/);
    expect(describeTrigger(parsed.trigger)).toBe('aws.acm event "ACM Certificate Approaching Expiration" at 2026-11-22T06:51:08.000Z: DaysToExpiry 20, CommonName example.com');
  });

  test('redelivery is the same incident; the next day\'s event is a new one', () => {
    const first = accepted(parseResourceEvent(acmEvent(), spec()));
    expect(accepted(parseResourceEvent(acmEvent({ id: 'another-delivery-id' }), spec())).incidentId).toBe(first.incidentId);
    expect(accepted(parseResourceEvent(acmEvent({ time: '2026-11-23T06:51:08Z' }), spec())).incidentId).not.toBe(first.incidentId);
  });

  test('a certificate outside the allow-list is rejected, unless tags may allow it (the plan then checks the tag)', () => {
    const other = acmEvent({ resources: [certificateArn(3)] });
    expect(rejection(parseResourceEvent(other, spec()))).toBe(`acm-certificate ${certificateArn(3)} is not in runbook cert-renewal's allow-list`);
    expect(accepted(parseResourceEvent(other, spec(true))).target.arn).toBe(certificateArn(3));
  });

  // The documented shape of "ACM Certificate Renewal Action Required" (supported-events.html): the certificate in
  // `resources`, the reason ACM's own renewal stopped in the detail.
  const actionRequired = (overrides: Record<string, unknown> = {}) => acmEvent({
    'detail-type': 'ACM Certificate Renewal Action Required',
    detail: {
      CertificateType: 'AMAZON_ISSUED', CommonName: 'example.com', DomainValidationMethod: 'DNS', RenewalStatusReason: 'PENDING_DOMAIN_VALIDATION',
      DaysToExpiry: 30, CertificateExpirationDate: '2026-12-22T06:51:08Z', InUse: true, Exported: false,
    },
    ...overrides,
  });

  test('"ACM Certificate Renewal Action Required" is accepted like the expiry event, named by its own detail type', () => {
    const parsed = accepted(parseResourceEvent(actionRequired(), spec()));
    expect(parsed.target.arn).toBe(certificateArn(1));
    expect(parsed.trigger).toEqual({
      kind: 'event', source: 'aws.acm', name: 'ACM Certificate Renewal Action Required', at: '2026-11-22T06:51:08.000Z',
      reason: 'CertificateType AMAZON_ISSUED, CommonName example.com, DomainValidationMethod DNS, RenewalStatusReason PENDING_DOMAIN_VALIDATION, '
        + 'DaysToExpiry 30, CertificateExpirationDate 2026-12-22T06:51:08Z, InUse true, Exported false',
    });
    expect(parsed.incidentId).toMatch(/^cert-renewal-20261122T065108Z-[0-9a-f]{12}$/);
  });

  test('a detail type the runbook does not list is rejected, naming the ones it accepts', () => {
    expect(rejection(parseResourceEvent(actionRequired(), spec(false, ['ACM Certificate Approaching Expiration']))))
      .toBe('not a "ACM Certificate Approaching Expiration" event of aws.acm (source "aws.acm", detail-type "ACM Certificate Renewal Action Required")');
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    ['another detail type', { 'detail-type': 'ACM Certificate Expired' }, /^not a "ACM Certificate Approaching Expiration" or "ACM Certificate Renewal Action Required" event of aws\.acm \(source "aws\.acm", detail-type "ACM Certificate Expired"\)$/],
    ['no detail type', { 'detail-type': undefined }, /^not a .* event of aws\.acm \(source "aws\.acm", detail-type "undefined"\)$/],
    ['a detail type that is not a string', { 'detail-type': ['ACM Certificate Approaching Expiration'] }, /^not a "ACM Certificate Approaching Expiration" or/],
    ['another source', { source: 'aws.cloudwatch' }, /^not a "ACM Certificate Approaching Expiration" or "ACM Certificate Renewal Action Required" event of aws\.acm/],
    ['another account', { account: '222222222222' }, /account 222222222222; runbook cert-renewal acts only in 111111111111/],
    ['another region', { region: 'us-east-1' }, /region us-east-1; runbook cert-renewal acts only in eu-west-1/],
    ['no resource', { resources: [] }, /exactly one resource/],
    ['two resources', { resources: [certificateArn(1), certificateArn(2)] }, /exactly one resource/],
    ['a resource that is not a string', { resources: [{ arn: certificateArn(1) }] }, /exactly one resource/],
    ['a certificate of another account', { resources: [certificateArn(1).replace(ACCOUNT, '222222222222')] }, /is not a acm-certificate ARN/],
    ['not a certificate ARN', { resources: [`arn:aws:acm:${REGION}:${ACCOUNT}:certificate/../../etc`] }, /is not a acm-certificate ARN/],
    ['a time that is not a date', { time: 'yesterday' }, /event time "yesterday" is not a date/],
  ])('rejects %s', (_name, overrides, reason) => {
    expect(rejection(parseResourceEvent(acmEvent(overrides), spec(true)))).toMatch(reason);
  });

  test('rejects an oversized event and one that is not an object', () => {
    expect(rejection(parseResourceEvent(acmEvent({ detail: { padding: 'x'.repeat(70 * 1024) } }), spec()))).toMatch(/over the 65536-byte limit/);
    expect(rejection(parseResourceEvent([acmEvent()], spec()))).toBe('the event is not a JSON object');
  });
});

describe('isRunbookServiceEvent', () => {
  test('only events from the runbook\'s service source go to this parser; alarm events do not', () => {
    expect(isRunbookServiceEvent(acmEvent(), spec())).toBe(true);
    expect(isRunbookServiceEvent(alarmEvent({ alarm: 'cert-days-to-expiry' }), spec())).toBe(false);
    expect(isRunbookServiceEvent(acmEvent(), ecsRunbookSpec())).toBe(false);
  });
});

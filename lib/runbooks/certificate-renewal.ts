import { Duration, Stack, Token } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { MedicFunction } from '../platform/function';
import { acknowledge } from '../platform/nag';
import { matchesUnlessToken, withDefaults } from '../platform/policy';
import { Runbook, type RunbookCommonProps } from '../platform/runbook';
import { alarmArns, bool, commonSettings, list, nameMap, num, object, runbookName, tag, text } from '../platform/config-schema';
import type { z } from 'zod';
import { commonRunbookProps, defineRunbookKind } from '../platform/runbook-kind';
import { CERTIFICATE_RENEWAL_DEFAULTS, RENEW_WITHIN_DAYS_BY_TYPE, type CertificateRenewalOptions } from '../../lambdas/certificate-renewal/options';

/** Properties of a {@link CertificateRenewalRunbook}. */
export interface CertificateRenewalRunbookProps extends RunbookCommonProps {
  /**
   * ACM certificates this runbook may act on (in the stack's account and region): ARNs, or the
   * certificates themselves (`acm.ICertificate`, whose ARN may be a token).
   * @default - none: only certificates carrying `optInTag`
   */
  readonly certificates?: Array<string | acm.ICertificate>;
  /**
   * Certificates carrying this tag may be acted on too: the plan checks the tag, and IAM allows
   * `RenewCertificate` and `ResendValidationEmail` only on certificates that carry it.
   * @default - no tag opt-in
   */
  readonly optInTag?: { readonly key: string; readonly value: string };
  /**
   * Route 53 public hosted zones medic may restore missing ACM validation records in, by domain:
   * `{ 'example.com': 'Z0123456789ABCDEFGHIJ' }`, or the zone itself (`route53.IHostedZone`,
   * whose id may be a token). The grant allows only `UPSERT` of `CNAME` records named
   * `_*.<domain>`; without a zone for a domain, a missing record is escalated with the exact
   * record to create.
   * @default - none
   */
  readonly hostedZones?: Record<string, string | route53.IHostedZone>;
  /**
   * Start on ACM's own events: `ACM Certificate Approaching Expiration` (daily, from 45 days
   * before expiry for private and imported certificates and 30 days for public ones, by default)
   * and `ACM Certificate Renewal Action Required` (when ACM's own renewal failed for a reason a
   * customer must fix, such as a missing DNS validation record). Alarms on
   * `AWS/CertificateManager` `DaysToExpiry` can be attached as well, with `alarms` or `attachTo`.
   * @default true
   */
  readonly acmEvents?: boolean;
  /**
   * A certificate with more than this left is not due: recorded, no action. Applies to every
   * certificate type when set.
   * @default - by type, from when ACM's own expiry events start: 30 days for Amazon-issued (public)
   * certificates, 45 days for private and imported ones
   */
  readonly renewWithin?: Duration;
  /**
   * How long to wait for ACM to renew after medic acted (renewal is asynchronous, and ACM
   * retries DNS validation on its own schedule): 30 minutes to 48 hours. With `acmEvents`, at
   * most 23 hours, so an incident is done before the next daily event for the same certificate.
   * @default Duration.hours(12)
   */
  readonly renewalHorizon?: Duration;
  /**
   * For Amazon-issued certificates validated by email: resend the validation email
   * (`ResendValidationEmail`) instead of only escalating.
   * @default false
   */
  readonly resendValidationEmail?: boolean;
}

const ZONE_ID = /^Z[A-Z0-9]{1,31}$/;
/** The generic workflow's cap on verification checks (see lib/platform/policy.ts). */
const MAX_CHECKS = 200;
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Certificate renewal for ACM. Started by ACM's expiry and renewal-action-required events or by
 * `DaysToExpiry` alarms, it reads the certificate and does what can help for its kind: a
 * private certificate that has been exported is renewed (`RenewCertificate`, which ACM refuses
 * for a never-exported one); an Amazon-issued, DNS-validated one whose validation record went
 * missing gets that exact record restored in a configured Route 53 zone; email and HTTP
 * validation, imported certificates and anything else escalate with days left, domains, where
 * the certificate is used and the one thing a human must do. Verification waits, with Wait
 * states, until the expiry date moves or ACM reports the renewal `SUCCESS`.
 */
export class CertificateRenewalRunbook extends Construct {
  public readonly runbook: Runbook;
  public readonly stepFunction: MedicFunction;

  constructor(scope: Construct, id: string, props: CertificateRenewalRunbookProps) {
    super(scope, id);
    const { name } = props;
    const certificates = (props.certificates ?? []).map((c) => (typeof c === 'string' ? c : c.certificateArn));
    const hostedZones = Object.fromEntries(Object.entries(props.hostedZones ?? {}).map(([domain, zone]) => [domain, typeof zone === 'string' ? zone : zone.hostedZoneId]));
    const acmEvents = props.acmEvents ?? true;
    const renewWithinDays = props.renewWithin?.toDays();
    const resendValidationEmail = props.resendValidationEmail ?? CERTIFICATE_RENEWAL_DEFAULTS.resendValidationEmail;
    const horizon = props.renewalHorizon ?? Duration.hours(12);
    const certificateArnPattern = this.certificateArnPattern();
    validate(name, props, certificates, hostedZones, certificateArnPattern, acmEvents, renewWithinDays, horizon);

    this.stepFunction = new MedicFunction(this, 'Steps', {
      handler: 'certificate-renewal',
      description: `medic runbook ${name}: ACM certificate renewal (plan, act, verify)`,
      environment: props.platform.handlerEnvironment(),
    });
    const mayAct = (props.mode ?? 'observe') !== 'observe';
    this.grantAcm(certificates, props.optInTag, mayAct, resendValidationEmail === true);
    this.grantRoute53(hostedZones, mayAct);

    const initialDelay = props.verification?.initialDelay ?? Duration.minutes(2);
    const interval = props.verification?.interval ?? Duration.minutes(15);
    const derivedChecks = Math.max(1, Math.ceil((horizon.toSeconds() - initialDelay.toSeconds()) / interval.toSeconds()));
    if (props.verification?.maxChecks === undefined && derivedChecks > MAX_CHECKS) {
      throw new Error(`runbook ${name}: a renewalHorizon of ${horizon.toHours({ integral: false })} hours checked every ${interval.toSeconds()} s takes `
        + `${derivedChecks} checks, more than ${MAX_CHECKS}; lengthen verification.interval or shorten renewalHorizon`);
    }
    this.runbook = new Runbook(this, 'Runbook', {
      ...props,
      kind: 'certificate-renewal',
      stepFunction: this.stepFunction,
      // Neither a renewal nor a restored validation record can be undone, nor needs to be.
      reversible: false,
      // The horizon plus an hour for the other steps.
      timeout: props.timeout ?? Duration.seconds(horizon.toSeconds() + 3600),
      // The expiry date moving is definitive, so one reading suffices. `DaysToExpiry` alarms are
      // not waited for: ACM publishes the metric once a day.
      verification: withDefaults({ initialDelay, interval, maxChecks: derivedChecks, requiredConsecutiveSuccesses: 1 }, props.verification),
      options: {
        certificates,
        ...(props.optInTag ? { optInTag: props.optInTag } : {}),
        hostedZones,
        // Without it, the handler's defaults by certificate type (RENEW_WITHIN_DAYS_BY_TYPE).
        ...(renewWithinDays !== undefined ? { renewWithinDays } : {}),
        resendValidationEmail: resendValidationEmail === true,
      } satisfies CertificateRenewalOptions,
      target: {
        type: 'acm-certificate',
        dimensions: { CertificateArn: certificateArnPattern },
        idTemplate: '{CertificateArn}',
        arnTemplate: '{CertificateArn}',
        allowed: certificates.map((arn) => ({ CertificateArn: arn })),
        ...(props.optInTag ? { allowedByTag: props.optInTag } : {}),
      },
      ...(acmEvents ? {
        eventTarget: {
          source: 'aws.acm',
          // https://docs.aws.amazon.com/acm/latest/userguide/supported-events.html: both name the
          // certificate in `resources`. "Renewal Action Required" is sent when ACM's automatic
          // renewal failed and a customer must act (CAA, a pending DNS validation, ...). "ACM
          // Certificate Expired" is not listened to: an expired certificate cannot be renewed.
          detailTypes: ['ACM Certificate Approaching Expiration', 'ACM Certificate Renewal Action Required'],
          type: 'acm-certificate',
          arnPattern: certificateArnPattern,
          allowed: certificates,
          ...(props.optInTag ? { allowedByTag: props.optInTag } : {}),
        },
      } : {}),
    });
  }

  /** See {@link Runbook.attachTo}. */
  public attachTo(...args: Parameters<Runbook['attachTo']>): this {
    this.runbook.attachTo(...args);
    return this;
  }

  /** Certificates of this stack's partition, account and region (any, where those are unresolved tokens). */
  private certificateArnPattern(): string {
    const stack = Stack.of(this);
    const pin = (value: string, any: string) => (Token.isUnresolved(value) ? any : escapeRegex(value));
    return `arn:${pin(stack.partition, 'aws[a-z-]*')}:acm:${pin(stack.region, '[a-z0-9-]+')}:${pin(stack.account, '[0-9]{12}')}:certificate/[0-9a-f-]{36}`;
  }

  /**
   * Reads on the configured certificates (on every certificate of the account and region when a
   * tag may allow others: reading reveals nothing medic acts on); renewal and email resends only
   * on the configured ARNs or on certificates carrying the tag, and not at all in observe mode.
   */
  private grantAcm(certificates: string[], tag: CertificateRenewalRunbookProps['optInTag'], mayAct: boolean, mayResend: boolean): void {
    const stack = Stack.of(this);
    const fn = this.stepFunction;
    const anyCertificate = stack.formatArn({ service: 'acm', resource: 'certificate', resourceName: '*' });
    const reads = ['acm:DescribeCertificate', 'acm:ListTagsForCertificate'];
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: reads, resources: tag ? [anyCertificate] : certificates }));
    // Whether a certificate has been exported (RenewCertificate renews only those) is not in
    // DescribeCertificate: only SearchCertificates' AcmCertificateMetadata.Exported says it. The
    // action has no resource-level permission (Service Authorization Reference: List, Resource
    // "*"), so it is pinned to the stack's region, where the certificates are.
    fn.addToRolePolicy(new iam.PolicyStatement({
      actions: ['acm:SearchCertificates'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:RequestedRegion': stack.region } },
    }));
    const writes = ['acm:RenewCertificate', ...(mayResend ? ['acm:ResendValidationEmail'] : [])];
    if (mayAct && certificates.length > 0) fn.addToRolePolicy(new iam.PolicyStatement({ actions: writes, resources: certificates }));
    if (mayAct && tag) {
      fn.addToRolePolicy(new iam.PolicyStatement({
        actions: writes,
        resources: [anyCertificate], // tagged certificates are only known by their tag, which the condition requires
        conditions: { StringEquals: { [`aws:ResourceTag/${tag.key}`]: tag.value } },
      }));
    }
    if (tag) {
      acknowledge(fn, [`IAM5[Resource::${anyCertificate}]`],
        'Certificates opted in by tag are only known by their tag: reads are on the account\'s certificates, and renewals carry the aws:ResourceTag condition.');
    }
  }

  /** Record lookups in the configured zones; changes only as UPSERTs of `_*.<domain>` CNAMEs, never in observe mode. */
  private grantRoute53(hostedZones: Record<string, string>, mayAct: boolean): void {
    const entries = Object.entries(hostedZones);
    if (entries.length === 0) return;
    const fn = this.stepFunction;
    const zoneArn = (zoneId: string) => `arn:${Stack.of(this).partition}:route53:::hostedzone/${zoneId}`;
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['route53:ListResourceRecordSets'], resources: entries.map(([, zone]) => zoneArn(zone)) }));
    if (!mayAct) return;
    for (const [domain, zone] of entries) {
      fn.addToRolePolicy(new iam.PolicyStatement({
        actions: ['route53:ChangeResourceRecordSets'],
        resources: [zoneArn(zone)],
        conditions: {
          'ForAllValues:StringEquals': {
            'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
            'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME'],
          },
          'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': [`_*.${domain}`] },
        },
      }));
    }
  }
}

function validate(
  name: string, props: CertificateRenewalRunbookProps, certificates: string[], hostedZones: Record<string, string>,
  certificateArnPattern: string, acmEvents: boolean, renewWithinDays: number | undefined, horizon: Duration,
): void {
  const arnPattern = new RegExp(`^${certificateArnPattern}$`);
  for (const arn of certificates) {
    if (!matchesUnlessToken(arn, arnPattern)) throw new Error(`runbook ${name}: "${arn}" is not an ACM certificate ARN of this stack's account and region (${certificateArnPattern})`);
  }
  const tag = props.optInTag;
  if (tag && (!tag.key || !tag.value)) throw new Error(`runbook ${name}: optInTag needs a key and a value`);
  if (certificates.length === 0 && !tag) throw new Error(`runbook ${name}: list certificates, or set optInTag to allow certificates by tag`);
  for (const [domain, zone] of Object.entries(hostedZones)) {
    if (!matchesUnlessToken(domain, DOMAIN)) throw new Error(`runbook ${name}: hostedZones key "${domain}" is not a lowercase domain name without a trailing dot`);
    if (!matchesUnlessToken(zone, ZONE_ID)) throw new Error(`runbook ${name}: hostedZones["${domain}"] = "${zone}" is not a Route 53 hosted zone id (Z...)`);
  }
  if (renewWithinDays !== undefined && (!Number.isInteger(renewWithinDays) || renewWithinDays < 1 || renewWithinDays > 90)) {
    throw new Error(`runbook ${name}: renewWithin must be 1 to 90 whole days (got ${renewWithinDays}); ACM's expiry events start at most 45 days before expiry`);
  }
  const hours = horizon.toSeconds() / 3600;
  if (horizon.toSeconds() < 1800 || hours > 48) throw new Error(`runbook ${name}: renewalHorizon must be between 30 minutes and 48 hours (got ${hours} hours)`);
  if (acmEvents && hours > 23) {
    throw new Error(`runbook ${name}: renewalHorizon of ${hours} hours overlaps ACM's next daily expiry event for the same certificate, `
      + 'which the target lease would deny and escalate; keep it at most 23 hours, or set acmEvents to false and use DaysToExpiry alarms');
  }
}

// ---- its entry in the config file (`runbooks.certificateRenewal`) and the registry of kinds ----

const certificateRenewalSchema = object({
  name: runbookName(),
  alarmArns: alarmArns(' (DaysToExpiry, dimension CertificateArn); default none').optional(),
  ...commonSettings,
  certificates: list(text()).optional().describe('Certificate ARNs (this account and region) it may act on.'),
  optInTag: tag('certificates carrying it may be acted on too').optional(),
  hostedZones: nameMap('domains to Route 53 hosted zone ids').optional()
    .describe('Domain -> Route 53 hosted zone id, where a missing validation record may be restored.'),
  acmEvents: bool().optional().describe('Start on ACM\'s expiry and renewal-action events (default true).'),
  renewWithinDays: num().optional().describe(`A certificate with more days left is not due (default by type: ${RENEW_WITHIN_DAYS_BY_TYPE.AMAZON_ISSUED} Amazon-issued, `
    + `${RENEW_WITHIN_DAYS_BY_TYPE.PRIVATE} private and imported).`),
  renewalHorizonHours: num().optional().describe('How long verification waits for ACM after acting (default 12).'),
  resendValidationEmail: bool().optional().describe(`Resend the validation email of email-validated certificates (default ${CERTIFICATE_RENEWAL_DEFAULTS.resendValidationEmail}).`),
}).meta({ id: 'CertificateRenewal', description: 'ACM certificate renewal: from ACM\'s expiry events and from DaysToExpiry alarms.' });

export type CertificateRenewalConfig = z.infer<typeof certificateRenewalSchema>;

/** ACM certificate renewal in the config-driven stack: each entry of `runbooks.certificateRenewal` is one CertificateRenewalRunbook. */
export const certificateRenewalKind = defineRunbookKind({
  kind: 'certificate-renewal',
  configKey: 'certificateRenewal',
  handler: 'certificate-renewal',
  schema: certificateRenewalSchema,
  build: (scope, id, entry, platform) => new CertificateRenewalRunbook(scope, id, {
    ...commonRunbookProps(scope, platform, entry),
    certificates: entry.certificates,
    optInTag: entry.optInTag,
    hostedZones: entry.hostedZones,
    acmEvents: entry.acmEvents,
    renewWithin: entry.renewWithinDays === undefined ? undefined : Duration.days(entry.renewWithinDays),
    renewalHorizon: entry.renewalHorizonHours === undefined ? undefined : Duration.hours(entry.renewalHorizonHours),
    resendValidationEmail: entry.resendValidationEmail,
  }),
});

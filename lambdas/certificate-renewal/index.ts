import {
  ACMClient, DescribeCertificateCommand, ListTagsForCertificateCommand, RenewCertificateCommand, ResendValidationEmailCommand, SearchCertificatesCommand,
  type CertificateDetail, type DomainValidation,
} from '@aws-sdk/client-acm';
import { ChangeResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { describeError, isTransient } from '../shared/errors';
import { runbookHandler, type ActOutput, type CheckResult, type RunbookSteps } from '../shared/runbook-steps';
import type { Briefing, Plan, PlannedCall, WorkflowState } from '../shared/types';
import { RENEW_WITHIN_DAYS_BY_TYPE, resolveCertificateRenewalOptions, type CertificateRenewalOptions } from './options';
import { hostedZoneFor, lookUpRecord, readValidationRecord, upsertChange, type HostedZone, type ValidationRecord } from './validation-record';

export { RENEW_WITHIN_DAYS_BY_TYPE, type CertificateRenewalOptions } from './options';

/** What Act does, decided by Plan and carried in its details. */
export type PlannedAction =
  | { readonly kind: 'renew' }
  | { readonly kind: 'restore-records'; readonly zones: Array<{ readonly zone: HostedZone; readonly records: ValidationRecord[] }> }
  | { readonly kind: 'resend-email'; readonly domains: Array<{ readonly domain: string; readonly validationDomain: string }> };

const acm = new ACMClient({});
const route53 = new Route53Client({});
const DAY_MS = 86_400_000;
/** Closer to expiry than this, "ACM is on it" is no longer a reason to wait quietly. */
const URGENT_DAYS = 7;

/** The window of a certificate type not in RENEW_WITHIN_DAYS_BY_TYPE (a new one): looked at (and escalated) rather than ignored. */
const LONGEST_WINDOW_DAYS = Math.max(...Object.values(RENEW_WITHIN_DAYS_BY_TYPE));

/** The renewal window that applies to a certificate of `type`, and whether it is the per-type default. */
function renewalWindow(type: string | undefined, options: CertificateRenewalOptions): { readonly days: number; readonly byType: boolean } {
  if (options.renewWithinDays !== undefined) return { days: options.renewWithinDays, byType: false };
  return { days: RENEW_WITHIN_DAYS_BY_TYPE[String(type)] ?? LONGEST_WINDOW_DAYS, byType: true };
}

function optionsOf(state: WorkflowState): CertificateRenewalOptions {
  return resolveCertificateRenewalOptions(state.runbook.options as Partial<CertificateRenewalOptions>);
}

async function describeCertificate(arn: string): Promise<CertificateDetail | undefined> {
  try {
    return (await acm.send(new DescribeCertificateCommand({ CertificateArn: arn }))).Certificate;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

/** What a human needs to know about the certificate, in the words of the escalation. */
interface About {
  readonly daysLeft: number;
  readonly expires: string;
  readonly domains: string;
  readonly usedBy: string;
  readonly facts: string[];
}

function about(arn: string, cert: CertificateDetail, now = Date.now()): About {
  const notAfter = cert.NotAfter ? new Date(cert.NotAfter) : undefined;
  const daysLeft = notAfter ? Math.floor((notAfter.getTime() - now) / DAY_MS) : Number.NaN;
  const expires = notAfter ? notAfter.toISOString() : 'unknown';
  const domains = (cert.SubjectAlternativeNames?.length ? cert.SubjectAlternativeNames : [cert.DomainName ?? '?']).join(', ');
  const inUse = cert.InUseBy ?? [];
  const usedBy = inUse.length ? inUse.join(', ') : 'nothing (no AWS resource uses it)';
  const renewal = cert.RenewalSummary;
  return {
    daysLeft,
    expires,
    domains,
    usedBy,
    facts: [
      `certificate: ${arn} (${cert.Type ?? 'unknown type'}, ${cert.Status ?? 'unknown status'})`,
      `days left: ${Number.isNaN(daysLeft) ? 'unknown' : daysLeft} (expires ${expires})`,
      `domains: ${domains}`,
      `used by: ${usedBy}`,
      ...(cert.ManagedBy ? [`managed by: ${cert.ManagedBy}`] : []),
      ...(cert.Options?.Export === 'ENABLED' ? ['exportable: yes (Options.Export ENABLED)'] : []),
      ...(renewal?.RenewalStatus ? [`renewal: ${renewal.RenewalStatus}${renewal.RenewalStatusReason ? ` (${renewal.RenewalStatusReason})` : ''}`] : []),
    ],
  };
}

/** The way out when ACM cannot renew: a new certificate in place of this one. */
const replacement = (a: About): string => `request a new certificate for ${a.domains} and replace this one on ${a.usedBy} before ${a.expires}`;

/** What to do about a failed renewal, by ACM's `RenewalStatusReason` (FailureReason values). */
function actionForFailure(reason: string | undefined, a: About): string {
  const replace = replacement(a);
  switch (reason) {
    case 'CAA_ERROR': return `Allow Amazon to issue for ${a.domains}: add a CAA record for amazon.com (or remove the restrictive ones) in the domains' DNS; ACM then retries, or ${replace}.`;
    case 'NO_AVAILABLE_CONTACTS': return `ACM found no address to send validation email to: ${replace}, validated by DNS.`;
    case 'ADDITIONAL_VERIFICATION_REQUIRED': return `Amazon needs more information before it issues for ${a.domains}: open a case with AWS Support, and meanwhile ${replace}.`;
    case undefined: return `Look at the certificate's renewal in the ACM console; if it cannot be renewed, ${replace}.`;
    default:
      if (reason.startsWith('PCA_')) return `The private CA refused (${reason}): check it is ACTIVE, not expired, and allows acm.amazonaws.com to issue; then renew again.`;
      return `ACM's renewal failed with ${reason}: ${replace}.`;
  }
}

/** Configured by ARN, or carrying the configured tag; anything else is not this runbook's to touch. */
async function allowListRefusal(arn: string, options: CertificateRenewalOptions): Promise<string | undefined> {
  if (options.certificates.includes(arn)) return undefined;
  const tag = options.optInTag;
  if (!tag) return `certificate ${arn} is not in the allow-list`;
  const out = await acm.send(new ListTagsForCertificateCommand({ CertificateArn: arn }));
  if ((out.Tags ?? []).some((t) => t.Key === tag.key && t.Value === tag.value)) return undefined;
  return `certificate ${arn} is neither in the allow-list nor tagged ${tag.key}=${tag.value}`;
}

/** The calls Act makes for a planned action: one per certificate, zone or domain. */
function plannedCallsOf(action: PlannedAction, arn: string): PlannedCall[] {
  switch (action.kind) {
    case 'renew': return [{ batch: 0, service: 'acm', operation: 'RenewCertificate', target: arn }];
    case 'restore-records': return action.zones.map(({ zone }) => ({ batch: 0, service: 'route53', operation: 'ChangeResourceRecordSets', target: zone.zoneId }));
    case 'resend-email': return action.domains.map(({ domain }) => ({ batch: 0, service: 'acm', operation: 'ResendValidationEmail', target: domain }));
  }
}

const decide = (decision: Plan['decision'], reason: string, summary: string, details: Record<string, unknown>, briefing?: Briefing): Plan =>
  ({ decision, reason, summary, details, ...(briefing ? { briefing } : {}) });

/**
 * DNS validation: every record ACM asks for must be in place. Records in a configured hosted
 * zone are looked up and restored when missing or different; a pending validation outside the
 * configured zones needs a human, who is told the exact records. Undefined when nothing needs
 * repairing.
 */
async function planDnsRepair(validations: DomainValidation[], options: CertificateRenewalOptions, a: About, details: Record<string, unknown>): Promise<Plan | undefined> {
  const toRestore: Array<{ zone: HostedZone; record: ValidationRecord; found: string }> = [];
  const unmanaged: ValidationRecord[] = [];
  for (const option of validations) {
    if (option.ValidationMethod !== 'DNS') continue;
    const read = readValidationRecord(option);
    if (!read.ok) {
      return decide('escalate', read.reason, 'no DNS change made', details,
        { facts: a.facts, action: `Look at the certificate's validation records in the ACM console: medic refused to write one that does not have ACM's shape. If they look wrong, request a new certificate for ${a.domains}.` });
    }
    // An apex and its wildcard share one record: list it once (Route 53 refuses a batch that changes a record twice).
    if ([...unmanaged, ...toRestore.map((r) => r.record)].some((r) => r.name === read.record.name)) continue;
    const zone = hostedZoneFor(read.record.name, options.hostedZones);
    if (!zone) {
      if (option.ValidationStatus !== 'SUCCESS') unmanaged.push(read.record);
      continue;
    }
    const found = await lookUpRecord(route53, zone.zoneId, read.record);
    if (found.state !== 'present') toRestore.push({ zone, record: read.record, found: found.state === 'missing' ? 'missing' : `CNAME ${found.current.join(' ')}` });
  }
  const listing = (records: ValidationRecord[]) => records.map((r) => `${r.name} CNAME ${r.value}`).join('; ');
  if (unmanaged.length > 0) {
    const all = [...unmanaged, ...toRestore.map((r) => r.record)];
    return decide('escalate', `DNS validation is pending for ${unmanaged.map((r) => r.domain).join(', ')} and no hosted zone is configured for them`,
      'no DNS change made', { ...details, records: all },
      { facts: a.facts, action: `Create these DNS records (or make them resolve) in the domains' DNS: ${listing(all)}. ACM retries validation by itself.` });
  }
  if (toRestore.length === 0) return undefined;
  const zones = [...new Set(toRestore.map((r) => r.zone.zoneId))].map((zoneId) => ({
    zone: toRestore.find((r) => r.zone.zoneId === zoneId)!.zone,
    records: toRestore.filter((r) => r.zone.zoneId === zoneId).map((r) => r.record),
  }));
  const action: PlannedAction = { kind: 'restore-records', zones };
  return decide('act', `ACM's DNS validation record(s) are not in place: ${toRestore.map((r) => `${r.record.name} (${r.found})`).join(', ')}`,
    `UPSERT ${toRestore.length} validation CNAME(s) in ${zones.map((z) => `${z.zone.domain} (${z.zone.zoneId})`).join(', ')}: ${listing(toRestore.map((r) => r.record))}`,
    { ...details, action, found: Object.fromEntries(toRestore.map((r) => [r.record.name, r.found])) },
    // True whether or not the UPSERT went through: this briefing is also read when Act failed.
    { facts: a.facts, action: `Make sure these records exist and resolve publicly: ${listing(toRestore.map((r) => r.record))} (medic's UPSERT is in the ledger entry "acted", or its error in "act-failed"); check that the domains are delegated to these zones and that no CAA record forbids amazon.com; if it still does not renew, ${replacement(a)}.` });
}

/** Amazon-issued and nothing medic can repair: what ACM's own renewal status says. */
async function planFromRenewalStatus(arn: string, cert: CertificateDetail, validations: DomainValidation[], a: About, details: Record<string, unknown>): Promise<Plan> {
  const renewal = cert.RenewalSummary;
  if ((renewal?.RenewalStatus === 'PENDING_AUTO_RENEWAL' || renewal?.RenewalStatus === 'SUCCESS') && a.daysLeft <= URGENT_DAYS) {
    return decide('escalate', `ACM reports ${renewal.RenewalStatus} but the certificate still expires in ${a.daysLeft} days`, 'no change', details,
      { facts: a.facts, action: `Watch the renewal in the ACM console; if the expiry date has not moved within a day, ${replacement(a)}.` });
  }
  switch (renewal?.RenewalStatus) {
    case 'PENDING_AUTO_RENEWAL':
      return decide('defer', 'ACM is renewing it (PENDING_AUTO_RENEWAL) and its validation is in place', 'no change', details);
    case 'SUCCESS':
      return decide('defer', `ACM reports the renewal succeeded (${renewal.UpdatedAt ? new Date(renewal.UpdatedAt).toISOString() : 'time unknown'}); the new expiry date is not visible yet`, 'no change', details);
    case 'FAILED':
      return decide('escalate', `ACM's renewal FAILED: ${renewal.RenewalStatusReason ?? 'no reason given'}`, 'no change', details,
        { facts: a.facts, action: actionForFailure(renewal.RenewalStatusReason, a) });
    case 'PENDING_VALIDATION':
      // HTTP validation has no record to resolve: what ACM fetches is a URL (DomainValidation.HttpRedirect).
      if (validations.some((v) => v.ValidationMethod === 'HTTP')) {
        return decide('escalate', 'renewal is PENDING_VALIDATION although every HTTP validation reports SUCCESS', 'no change', details,
          { facts: a.facts, action: `Check that each of these URLs still redirects to (or returns the content of) the second: ${httpListing(validations.filter((v) => v.ValidationMethod === 'HTTP'))}, and that the certificate is still in use with CloudFront; then watch the renewal in the ACM console; if it does not move within a day, ${replacement(a)}.` });
      }
      return decide('escalate', 'renewal is PENDING_VALIDATION although every validation record medic can see is in place', 'no change', details,
        { facts: a.facts, action: `Check that the validation CNAMEs of ${a.domains} resolve publicly (dig CNAME <record name>) from the zones the domains are delegated to, and that no CAA record forbids amazon.com.` });
    default: {
      const reason = `ACM has not started renewing it with ${a.daysLeft} days left`;
      if (cert.Options?.Export !== 'ENABLED') return decide('escalate', reason, 'no change', details, { facts: a.facts, action: actionForFailure(undefined, a) });
      // An exportable public certificate can be renewed on request, but only once it has been
      // exported, and ACM charges for it (force-certificate-renewal.html): a human's call, told how.
      const exported = await readExportState(arn);
      const known = exported.known ? (exported.exported ? 'it has been exported' : 'it has not been exported') : `whether it has been exported is unknown (${exported.reason})`;
      const action = exported.known && !exported.exported
        ? `It has not been exported, so it cannot be renewed on request (RenewCertificate renews only exported certificates): ${replacement(a)}.`
        : `Force a renewal by hand, which ACM charges for on exportable public certificates: aws acm renew-certificate --certificate-arn ${arn} (ACM refuses it for a certificate not exported); if it does not renew, ${replacement(a)}.`;
      return decide('escalate', `${reason}; it is an exportable public certificate and ${known}`, 'no change', { ...details, exported: exported.known ? exported.exported : 'unknown' },
        { facts: a.facts, action });
    }
  }
}

/** `RedirectFrom -> RedirectTo` of each HTTP validation, as DescribeCertificate gives them. */
function httpListing(validations: DomainValidation[]): string {
  return validations.map((v) => (v.HttpRedirect?.RedirectFrom && v.HttpRedirect.RedirectTo
    ? `${v.HttpRedirect.RedirectFrom} -> ${v.HttpRedirect.RedirectTo}`
    : `${String(v.DomainName)}: ACM gave no HttpRedirect`)).join('; ');
}

/**
 * HTTP validation (certificates requested through CloudFront, `ManagedBy: CLOUDFRONT`): the CA
 * sends GET requests to `HttpRedirect.RedirectFrom`, which must return the content of, or
 * redirect to, `RedirectTo` (DomainValidation.HttpRedirect in the SDK; API_HttpRedirect.html).
 * "ACM automatically renews your certificate as long as the certificate is in use with
 * CloudFront and your redirect remains in place" (acm/latest/userguide/http-validation.html).
 * There is no DNS record to restore and no email to resend: the redirect lives in the
 * distribution or the web server the domain points at, which medic does not change.
 */
function planHttpValidation(pending: DomainValidation[], cert: CertificateDetail, a: About, details: Record<string, unknown>): Plan {
  const domains = pending.map((v) => String(v.DomainName)).join(', ');
  const managed = cert.ManagedBy ? ` (the certificate is managed by ${cert.ManagedBy})` : '';
  return decide('escalate', `HTTP validation is pending for ${domains}${managed}: the CA cannot fetch the validation token, and medic does not change CloudFront or web servers`,
    'no change',
    { ...details, httpRedirects: pending.map((v) => ({ domain: v.DomainName, redirectFrom: v.HttpRedirect?.RedirectFrom, redirectTo: v.HttpRedirect?.RedirectTo })) },
    {
      facts: a.facts,
      action: `Restore the HTTP redirect from each first URL to the second: ${httpListing(pending)} (a CloudFront cache behaviour for /.well-known/pki-validation/* `
        + `on the distribution that serves ${domains} returning that redirect, or the same redirect on the web server the domains point at). ACM renews by itself once `
        + `the redirects are in place and the certificate is in use with CloudFront; if it has not renewed within a day, ${replacement(a)}.`,
    });
}

/** Whether ACM says the certificate has been exported, or why that is unknown. */
type ExportState = { readonly known: true; readonly exported: boolean } | { readonly known: false; readonly reason: string };

/**
 * Whether the certificate has been exported. DescribeCertificate's CertificateDetail has no such
 * field (RenewalEligibility is ELIGIBLE for a certificate in use as well as for an exported one:
 * acm-renewal.html); SearchCertificates' AcmCertificateMetadata.Exported "indicates whether the
 * certificate has been exported" (ListCertificates' CertificateSummary.Exported says the same,
 * but cannot be asked for one certificate). Throttling and 5xx errors propagate (the workflow
 * retries Plan); any other answer that does not say it is unknown, and the caller escalates.
 */
async function readExportState(arn: string): Promise<ExportState> {
  let results;
  try {
    results = (await acm.send(new SearchCertificatesCommand({ FilterStatement: { Filter: { CertificateArn: arn } }, MaxResults: 10 }))).Results ?? [];
  } catch (error) {
    if (isTransient(error)) throw error;
    return { known: false, reason: `SearchCertificates failed: ${describeError(error)}` };
  }
  const metadata = results.find((r) => r.CertificateArn === arn)?.CertificateMetadata?.AcmCertificateMetadata;
  if (!metadata) return { known: false, reason: 'SearchCertificates did not return the certificate' };
  if (typeof metadata.Exported !== 'boolean') return { known: false, reason: 'SearchCertificates gave no Exported flag for it' };
  return { known: true, exported: metadata.Exported };
}

/**
 * A private certificate. `RenewCertificate` "renews an eligible ACM certificate"; "you can only
 * renew certificates that have been previously exported" (force-certificate-renewal.html,
 * sdk-renew.html: "only exported private certificates can be renewed with this function"), so a
 * certificate ELIGIBLE only because an AWS service uses it is refused. Plan reads both and
 * escalates, with what to do, whatever RenewCertificate would refuse or whatever it cannot tell.
 */
async function planPrivate(arn: string, cert: CertificateDetail, a: About, details: Record<string, unknown>): Promise<Plan> {
  const ca = cert.CertificateAuthorityArn;
  const checkCa = `check that ${ca ?? 'its private CA'} is ACTIVE and still lets acm.amazonaws.com IssueCertificate, GetCertificate and ListPermissions `
    + `(aws acm-pca list-permissions --certificate-authority-arn ${ca ?? '<the CA\'s ARN>'})`;
  if (cert.RenewalEligibility === 'INELIGIBLE') {
    return decide('escalate', 'ACM reports the private certificate INELIGIBLE for renewal (ACM renews only private certificates that an AWS service uses or that were exported since they were issued or last renewed)',
      'no change', details,
      { facts: a.facts, action: `Issue a new private certificate for ${a.domains} from the private CA and replace this one on ${a.usedBy} before ${a.expires}.` });
  }
  if (cert.RenewalEligibility !== 'ELIGIBLE') {
    return decide('escalate', `ACM does not say whether the private certificate is eligible for renewal (RenewalEligibility ${String(cert.RenewalEligibility)}): medic does not guess`,
      'no change', details, { facts: a.facts, action: `Look at the certificate in the ACM console; if it has been exported, renew it by hand (aws acm renew-certificate --certificate-arn ${arn}) after you ${checkCa}; otherwise ${replacement(a)}.` });
  }
  const exported = await readExportState(arn);
  const withExport = { ...details, exported: exported.known ? exported.exported : 'unknown' };
  if (!exported.known) {
    return decide('escalate', `cannot tell whether the private certificate has been exported (${exported.reason}); RenewCertificate renews only exported certificates, so medic does not call it`,
      'no change', withExport, { facts: a.facts, action: `If it has been exported, renew it by hand (aws acm renew-certificate --certificate-arn ${arn}) after you ${checkCa}; if not, ${replacement(a)}.` });
  }
  if (!exported.exported) {
    const inUse = (cert.InUseBy ?? []).length > 0;
    return decide('escalate', 'the private certificate has not been exported: RenewCertificate renews only exported certificates and ACM would refuse it', 'no change', withExport, {
      facts: a.facts,
      action: inUse
        ? `ACM renews a private certificate that an AWS service uses by itself, from 60 days before expiry, and has not done so with ${a.daysLeft} days left: ${checkCa}; ACM then retries on its own schedule. If it has not renewed within a day, ${replacement(a)}.`
        : `ACM reports it ELIGIBLE although nothing uses it and it has not been exported: look at it in the ACM console; if it is still needed, ${replacement(a)}.`,
    });
  }
  const action: PlannedAction = { kind: 'renew' };
  return withPlannedCalls(decide('act', `private certificate with ${a.daysLeft} days left (ELIGIBLE, exported)`, `RenewCertificate ${arn}`, { ...withExport, action },
    { facts: a.facts, action: `Renew it by hand (aws acm renew-certificate --certificate-arn ${arn}) after you ${checkCa}; if it cannot be renewed, ${replacement(a)}.` }), arn);
}

function planEmailValidation(pending: DomainValidation[], options: CertificateRenewalOptions, a: About, details: Record<string, unknown>): Plan {
  const domains = pending.map((v) => ({ domain: String(v.DomainName), validationDomain: String(v.ValidationDomain ?? v.DomainName) }));
  const recipients = [...new Set(pending.flatMap((v) => v.ValidationEmails ?? []))].join(', ') || 'the domains\' contacts';
  const approve = `Approve the validation email sent to ${recipients} for ${domains.map((d) => d.domain).join(', ')} before ${a.expires}, or replace the certificate with a DNS-validated one.`;
  if (!options.resendValidationEmail) {
    return decide('escalate', `email validation is pending for ${domains.map((d) => d.domain).join(', ')}: ACM waits for someone to approve it`, 'no email resent', details,
      { facts: a.facts, action: approve });
  }
  const action: PlannedAction = { kind: 'resend-email', domains };
  return decide('act', `email validation is pending for ${domains.map((d) => d.domain).join(', ')}`,
    `ResendValidationEmail for ${domains.map((d) => d.domain).join(', ')} (to ${recipients})`, { ...details, action }, { facts: a.facts, action: approve });
}

/** An `act` plan lists the calls its action makes. */
function withPlannedCalls(plan: Plan, arn: string): Plan {
  const action = plan.details.action as PlannedAction | undefined;
  return plan.decision === 'act' && action ? { ...plan, plannedCalls: plannedCallsOf(action, arn) } : plan;
}

export const steps: RunbookSteps = {
  async plan(state) {
    const arn = state.incident!.target!.arn;
    const options = optionsOf(state);
    const gone = decide('noop', `certificate ${arn} does not exist (deleted, or in another region): nothing to renew`, 'no change', {});
    let refusal: string | undefined;
    try {
      refusal = await allowListRefusal(arn, options);
    } catch (error) {
      // Never read as "allowed": a certificate whose tags cannot be found is not acted on.
      if ((error as Error).name === 'ResourceNotFoundException') return gone;
      throw error;
    }
    if (refusal) return decide('escalate', refusal, 'not touching a certificate this runbook was not given', {});
    const cert = await describeCertificate(arn);
    if (!cert) return gone;
    const a = about(arn, cert);
    const details: Record<string, unknown> = {
      type: cert.Type, status: cert.Status, notAfter: a.expires, daysLeft: a.daysLeft, domains: a.domains, inUseBy: cert.InUseBy ?? [],
      renewalEligibility: cert.RenewalEligibility, renewalStatus: cert.RenewalSummary?.RenewalStatus, renewalStatusReason: cert.RenewalSummary?.RenewalStatusReason,
      ...(cert.ManagedBy ? { managedBy: cert.ManagedBy } : {}), ...(cert.Options?.Export ? { exportOption: cert.Options.Export } : {}),
    };
    const replace = `${replacement(a).charAt(0).toUpperCase()}${replacement(a).slice(1)}.`;
    if (cert.Status !== 'ISSUED') return decide('escalate', `the certificate is ${cert.Status}, so it cannot be renewed`, 'no change', details, { facts: a.facts, action: replace });
    if (Number.isNaN(a.daysLeft)) return decide('escalate', 'ACM reports no expiry date for it', 'no change', details, { facts: a.facts, action: replace });
    const window = renewalWindow(cert.Type, options);
    if (a.daysLeft > window.days) {
      return decide('noop', `not due: ${a.daysLeft} days left (expires ${a.expires}), more than the ${window.days}-day renewal window`
        + `${window.byType ? ` of ${String(cert.Type)} certificates` : ''} (already renewed, or ACM's own renewal still has time)`, 'no change', { ...details, renewWithinDays: window.days });
    }
    switch (cert.Type) {
      case 'IMPORTED':
        return decide('escalate', `imported certificates cannot be renewed by ACM; it expires ${a.expires} (${a.daysLeft} days)`, 'no change', details, {
          facts: a.facts,
          action: `Get a new certificate for ${a.domains} from its issuer and re-import it over the same ARN before ${a.expires} `
            + `(aws acm import-certificate --certificate-arn ${arn} --certificate ... --private-key ... --certificate-chain ...); ${a.usedBy} then serve it without changes.`,
        });
      case 'PRIVATE':
        return planPrivate(arn, cert, a, details);
      case 'AMAZON_ISSUED': {
        if (cert.RenewalEligibility === 'INELIGIBLE') {
          const unused = (cert.InUseBy ?? []).length === 0;
          return decide('escalate', `ACM will not renew it: RenewalEligibility is INELIGIBLE${unused ? ' (ACM renews only certificates that an AWS resource uses or that were exported since they were issued or last renewed, and nothing uses it)' : ''}`,
            'no change', details, { facts: a.facts, action: unused ? 'If it is still needed, associate it with the resource that should serve it (ACM then renews it); otherwise let it expire or delete it.' : replace });
        }
        const validations = cert.RenewalSummary?.DomainValidationOptions ?? cert.DomainValidationOptions ?? [];
        const pending = validations.filter((v) => v.ValidationStatus !== 'SUCCESS');
        // ValidationMethod is DNS, EMAIL or HTTP (the SDK's ValidationMethod enum); each needs its own repair.
        const unknownMethod = pending.filter((v) => !['DNS', 'EMAIL', 'HTTP'].includes(String(v.ValidationMethod)));
        if (unknownMethod.length > 0) {
          return decide('escalate', `validation of ${unknownMethod.map((v) => `${String(v.DomainName)} by ${String(v.ValidationMethod ?? 'an unnamed method')}`).join(', ')} is pending, and medic does not know that method`,
            'no change', details, { facts: a.facts, action: `Look at the certificate's domain validation in the ACM console and complete it before ${a.expires}; if it cannot be, ${replacement(a)}.` });
        }
        const pendingHttp = pending.filter((v) => v.ValidationMethod === 'HTTP');
        if (pendingHttp.length > 0) return planHttpValidation(pendingHttp, cert, a, details);
        const pendingEmail = pending.filter((v) => v.ValidationMethod === 'EMAIL');
        if (pendingEmail.length > 0) return withPlannedCalls(planEmailValidation(pendingEmail, options, a, details), arn);
        const plan = (await planDnsRepair(validations, options, a, details)) ?? (await planFromRenewalStatus(arn, cert, validations, a, details));
        return withPlannedCalls(plan, arn);
      }
      default:
        return decide('escalate', `unknown certificate type ${String(cert.Type)}`, 'no change', details, { facts: a.facts, action: replace });
    }
  },

  async act(state, gate): Promise<ActOutput> {
    const arn = state.incident!.target!.arn;
    const action = state.plan!.details.action as PlannedAction | undefined;
    const actedAt = new Date().toISOString();
    switch (action?.kind) {
      case 'renew': {
        const parameters = { CertificateArn: arn };
        await gate.call({ service: 'acm', operation: 'RenewCertificate', target: arn, parameters }, () => acm.send(new RenewCertificateCommand(parameters)));
        break;
      }
      case 'restore-records': {
        // Every change is built (and re-checked) before the first is sent: a bad record changes nothing anywhere.
        const batches = action.zones.map(({ zone, records }) => ({
          HostedZoneId: zone.zoneId,
          ChangeBatch: { Comment: `medic ${state.incident!.incidentId}: restore ACM validation record(s) of ${arn}`.slice(0, 256), Changes: records.map(upsertChange) },
        }));
        for (const parameters of batches) {
          await gate.call({ service: 'route53', operation: 'ChangeResourceRecordSets', target: parameters.HostedZoneId, parameters },
            () => route53.send(new ChangeResourceRecordSetsCommand(parameters)), (out) => ({ changeId: out.ChangeInfo?.Id, status: out.ChangeInfo?.Status }));
        }
        break;
      }
      case 'resend-email':
        for (const { domain, validationDomain } of action.domains) {
          const parameters = { CertificateArn: arn, Domain: domain, ValidationDomain: validationDomain };
          await gate.call({ service: 'acm', operation: 'ResendValidationEmail', target: domain, parameters }, () => acm.send(new ResendValidationEmailCommand(parameters)));
        }
        break;
      default:
        throw new Error(`the plan names no certificate action (${JSON.stringify(action)?.slice(0, 100)})`);
    }
    return {
      summary: `${gate.calls.map((c) => c.operation).join(', ')} for ${arn}; waiting for ACM to renew`,
      batch: 0,
      moreBatches: false,
      details: { actedAt, notAfterBefore: state.plan!.details.notAfter },
    };
  },

  async check(state): Promise<CheckResult> {
    const arn = state.incident!.target!.arn;
    const { actedAt, notAfterBefore } = state.act!.details as { actedAt: string; notAfterBefore: string };
    let cert: CertificateDetail | undefined;
    try {
      cert = await describeCertificate(arn);
    } catch (error) {
      return { verdict: 'inconclusive', reason: `certificate ${arn} could not be read: ${describeError(error)}`, readings: {} };
    }
    if (!cert) return { verdict: 'inconclusive', reason: `certificate ${arn} not found`, readings: {} };
    const a = about(arn, cert);
    const renewal = cert.RenewalSummary;
    const updatedAt = renewal?.UpdatedAt ? new Date(renewal.UpdatedAt) : undefined;
    const readings = { notAfter: a.expires, daysLeft: a.daysLeft, renewalStatus: renewal?.RenewalStatus, renewalStatusReason: renewal?.RenewalStatusReason, renewalUpdatedAt: updatedAt?.toISOString() };
    if (cert.NotAfter && new Date(cert.NotAfter).getTime() > Date.parse(notAfterBefore)) {
      return { verdict: 'success', reason: `renewed: expiry moved from ${notAfterBefore} to ${a.expires} (${a.daysLeft} days left)`, readings };
    }
    // A status from before the action says nothing about it.
    const fresh = updatedAt !== undefined && updatedAt.getTime() >= Date.parse(actedAt);
    if (renewal?.RenewalStatus === 'SUCCESS' && fresh) return { verdict: 'success', reason: `ACM reports the renewal SUCCESS at ${updatedAt!.toISOString()}`, readings };
    if (renewal?.RenewalStatus === 'FAILED' && fresh) {
      return {
        verdict: 'failure',
        reason: `ACM's renewal FAILED after medic acted: ${renewal.RenewalStatusReason ?? 'no reason given'}`,
        readings,
        briefing: { facts: a.facts, action: actionForFailure(renewal.RenewalStatusReason, a) },
      };
    }
    return { verdict: 'pending', reason: `renewal ${renewal?.RenewalStatus ?? 'not started'}${renewal?.RenewalStatusReason ? ` (${renewal.RenewalStatusReason})` : ''}, expiry still ${a.expires}`, readings };
  },
};

export const handler = runbookHandler(steps);

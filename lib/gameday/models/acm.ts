import {
  DescribeCertificateCommand, ListTagsForCertificateCommand, RenewCertificateCommand, ResendValidationEmailCommand, SearchCertificatesCommand,
  type SearchCertificatesCommandInput,
} from '@aws-sdk/client-acm';
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import {
  certificateMetadata, derivedRecord, derivedRedirect, describeCertificate, eligibility,
  type AcmCertificate, type AfterAction, type CertType, type RecordState, type ValidationMethod,
} from './acm-certificate';
import type { ModelClock, ModelEnv } from './clock';
import { awsError, type ModelOperations } from './operations';
import { fqdn } from './route53';

const DAY_MS = 86_400_000;
/** An Amazon-issued certificate is valid for 395 days (acm/latest/userguide/acm-certificate-characteristics.html, "Validity period"). */
const VALIDITY_DAYS = 395;

/** A certificate to add: what differs from an issued, DNS-validated, Amazon-issued one with 20 days left and every validation in place. */
export interface NewCertificate {
  readonly arn: string;
  readonly domains: string[];
  readonly type?: CertType;
  readonly method?: ValidationMethod;
  /** Whether each domain's validation record (DNS) or redirect (HTTP) is in place: one state for all, or by domain (default present). */
  readonly records?: RecordState | Record<string, RecordState>;
  /** ACM's record for a domain (or its base domain), when not the derived one. */
  readonly validationRecords?: Record<string, { readonly name: string; readonly value: string }>;
  readonly daysLeft?: number;
  readonly inUseBy?: string[];
  readonly renewal?: { readonly status: string; readonly reason?: string };
  readonly afterAction?: AfterAction;
  readonly status?: string;
  readonly eligibility?: 'ELIGIBLE' | 'INELIGIBLE';
  /** Default: true for PRIVATE, else false. */
  readonly exported?: boolean;
  readonly exportable?: boolean;
  readonly managedBy?: 'CLOUDFRONT';
  readonly tags?: Record<string, string>;
}

/**
 * AWS Certificate Manager for the certificate runbook: certificates (Amazon-issued, private,
 * imported), how they are described and searched, and how ACM reacts to what medic does:
 * `RenewCertificate` on a certificate ACM renews on request, a validation record written into a
 * zone so that every DNS validation of a pending renewal is in place ({@link recordWritten}), or
 * `ResendValidationEmail`, each leads `afterAction.seconds` later to the renewal `SUCCESS` (a new
 * certificate: NotAfter moves 395 days on) or `FAILED` with its reason. Used by the game-day
 * world (lib/gameday/services/acm.ts) and the workflow tests (test/support/fake-acm.ts). Each
 * behaviour names the AWS documentation it follows beside it.
 */
export class AcmModel {
  readonly certificates = new Map<string, AcmCertificate>();

  readonly operations: ModelOperations = {
    DescribeCertificate: { command: DescribeCertificateCommand, mutating: false, answer: (input: { CertificateArn?: string }) => ({ Certificate: this.describe(input.CertificateArn) }) },
    ListTagsForCertificate: {
      command: ListTagsForCertificateCommand, mutating: false,
      answer: (input: { CertificateArn?: string }) => ({ Tags: Object.entries(this.certificateOf(input.CertificateArn).tags).map(([Key, Value]) => ({ Key, Value })) }),
    },
    SearchCertificates: { command: SearchCertificatesCommand, mutating: false, answer: (input: SearchCertificatesCommandInput) => this.searchCertificates(input) },
    RenewCertificate: { command: RenewCertificateCommand, mutating: true, answer: (input: { CertificateArn?: string }) => this.renewCertificate(input) },
    ResendValidationEmail: {
      command: ResendValidationEmailCommand, mutating: true,
      answer: (input: { CertificateArn?: string; Domain?: string }) => this.resendValidationEmail(input),
    },
  };

  constructor(private readonly clock: ModelClock, private readonly env: ModelEnv) {}

  addCertificate(spec: NewCertificate): AcmCertificate {
    const now = this.clock.now();
    const type = spec.type ?? 'AMAZON_ISSUED';
    const method = spec.method ?? 'DNS';
    const stateOf = (domain: string): RecordState => (typeof spec.records === 'object' ? spec.records[domain] ?? 'present' : spec.records ?? 'present');
    const domains = spec.domains.map((domain) => {
      const given = spec.validationRecords?.[domain] ?? spec.validationRecords?.[domain.toLowerCase().replace(/^\*\./, '')];
      return {
        domain,
        state: stateOf(domain),
        ...(type === 'AMAZON_ISSUED' && method === 'DNS' ? { record: given ? { name: fqdn(given.name), value: fqdn(given.value) } : derivedRecord(domain) } : {}),
        ...(method === 'HTTP' ? { redirect: derivedRedirect(domain, this.env) } : {}),
      };
    });
    const notAfter = new Date(now + (spec.daysLeft ?? 20) * DAY_MS + 12 * 3_600_000);
    const pending = domains.some((d) => d.state !== 'present');
    // RenewalSummary.RenewalStatus: an Amazon-issued certificate within its renewal window is PENDING_AUTO_RENEWAL, or
    // PENDING_VALIDATION while ACM cannot validate a domain (acm/latest/userguide/check-certificate-renewal-status.html).
    const defaultRenewal = type !== 'AMAZON_ISSUED' ? undefined : method === 'EMAIL' || pending ? 'PENDING_VALIDATION' : 'PENDING_AUTO_RENEWAL';
    const renewalStatus = spec.renewal?.status ?? defaultRenewal;
    const cert: AcmCertificate = {
      arn: spec.arn, type, method, domains,
      exported: spec.exported ?? type === 'PRIVATE', exportable: spec.exportable === true,
      createdAt: new Date(notAfter.getTime() - VALIDITY_DAYS * DAY_MS),
      inUseBy: [...(spec.inUseBy ?? [])], tags: { ...(spec.tags ?? {}) }, status: spec.status ?? 'ISSUED',
      ...(spec.eligibility ? { eligibility: spec.eligibility } : {}), ...(spec.managedBy ? { managedBy: spec.managedBy } : {}),
      afterAction: spec.afterAction ?? { seconds: 600, status: 'SUCCESS' },
      notBefore: new Date(notAfter.getTime() - VALIDITY_DAYS * DAY_MS), notAfter,
      ...(renewalStatus ? { renewal: { status: renewalStatus, reason: spec.renewal?.reason, updatedAt: new Date(now - 2 * DAY_MS) } } : {}),
      scheduled: false, renewed: false,
    };
    this.certificates.set(cert.arn, cert);
    return cert;
  }

  /** DescribeCertificate; ResourceNotFoundException ("The specified certificate cannot be found in the caller's account or Region"). */
  describe(arn: string | undefined) {
    return describeCertificate(this.certificateOf(arn), this.env);
  }

  /** SearchCertificates: only what the runbook reads for one certificate, the CertificateArn filter (API_CertificateFilter.html). */
  searchCertificates(input: SearchCertificatesCommandInput) {
    const filter = input.FilterStatement?.Filter;
    if (!filter || !('CertificateArn' in filter) || typeof filter.CertificateArn !== 'string') {
      throw new Error('the model answers SearchCertificates only with FilterStatement { Filter: { CertificateArn } }');
    }
    const cert = this.certificates.get(filter.CertificateArn);
    if (!cert) return { Results: [] };
    return { Results: [{ CertificateArn: cert.arn, CertificateMetadata: { AcmCertificateMetadata: certificateMetadata(cert, this.env) } }] };
  }

  /**
   * RenewCertificate "renews an eligible ACM certificate" (API_RenewCertificate.html); "you can only renew certificates that have been previously
   * exported", public (exportable) or private (acm/latest/userguide/force-certificate-renewal.html; sdk-renew.html: "only exported private
   * certificates can be renewed"). The SDK's errors: RequestInProgressException while the certificate is not issued yet, ResourceNotFoundException,
   * ValidationException ("the supplied input failed to satisfy constraints") for a certificate ACM will not renew on request.
   */
  renewCertificate(input: { CertificateArn?: string }): Record<string, never> {
    const cert = this.certificateOf(input.CertificateArn);
    if (cert.status === 'PENDING_VALIDATION') throw awsError('RequestInProgressException', `Certificate ${cert.arn} has not been issued yet.`);
    if (cert.type === 'IMPORTED') throw awsError('ValidationException', `Certificate ${cert.arn} is imported: ACM does not renew imported certificates.`);
    if (cert.type === 'AMAZON_ISSUED' && !cert.exportable) throw awsError('ValidationException', `Certificate ${cert.arn} is not exportable: only exported certificates can be renewed on request.`);
    if (!cert.exported) throw awsError('ValidationException', `Certificate ${cert.arn} has not been exported: only exported certificates can be renewed on request.`);
    if (cert.status !== 'ISSUED' || eligibility(cert) === 'INELIGIBLE') throw awsError('ValidationException', `Certificate ${cert.arn} is not eligible for renewal.`);
    const now = new Date(this.clock.now());
    // A public certificate still needs its domains validated: it renews once every validation is in place (a restored record schedules it then).
    if (cert.type === 'AMAZON_ISSUED' && cert.domains.some((d) => d.state !== 'present')) {
      cert.renewal = { status: 'PENDING_VALIDATION', updatedAt: now };
      return {};
    }
    cert.renewal = { status: 'PENDING_AUTO_RENEWAL', updatedAt: now };
    this.scheduleOutcome(cert);
    return {};
  }

  /**
   * ResendValidationEmail: "Resends the email that requests domain ownership validation"; InvalidStateException
   * ("Processing has reached an invalid state") for a certificate not waiting for email validation,
   * InvalidDomainValidationOptionsException for a domain that is not the certificate's (SDK doc of the command).
   */
  resendValidationEmail(input: { CertificateArn?: string; Domain?: string }): Record<string, never> {
    const cert = this.certificateOf(input.CertificateArn);
    if (cert.type !== 'AMAZON_ISSUED' || cert.method !== 'EMAIL' || cert.renewal?.status !== 'PENDING_VALIDATION') {
      throw awsError('InvalidStateException', `Certificate ${cert.arn} is not waiting for email validation.`);
    }
    if (!cert.domains.some((d) => d.domain === input.Domain)) throw awsError('InvalidDomainValidationOptionsException', `${input.Domain} is not a domain of ${cert.arn}.`);
    this.scheduleOutcome(cert);
    return {};
  }

  /**
   * A CNAME written into (or deleted from) a zone: the certificates it validates take note, and a
   * pending renewal whose records are now all in place goes ahead ("ACM automatically renews ...
   * as long as the CNAME record remains in place", acm/latest/userguide/dns-renewal-validation.html).
   */
  recordWritten(set: ResourceRecordSet, deleted: boolean): void {
    if (set.Type !== 'CNAME' || !set.Name) return;
    const name = fqdn(set.Name);
    const values = (set.ResourceRecords ?? []).map((r) => fqdn(r.Value ?? ''));
    for (const cert of this.certificates.values()) {
      const matching = cert.domains.filter((d) => d.record?.name === name);
      if (matching.length === 0) continue;
      for (const d of matching) d.state = deleted ? 'missing' : values.length === 1 && values[0] === d.record!.value ? 'present' : 'different';
      const renewing = cert.renewal && cert.renewal.status !== 'SUCCESS' && !cert.renewed;
      if (renewing && eligibility(cert) === 'ELIGIBLE' && cert.domains.every((d) => d.state === 'present')) this.scheduleOutcome(cert);
    }
  }

  private certificateOf(arn: string | undefined): AcmCertificate {
    const cert = arn ? this.certificates.get(arn) : undefined;
    if (!cert) throw awsError('ResourceNotFoundException', `Could not find certificate ${arn}.`);
    return cert;
  }

  /**
   * What ACM does once medic acted: `afterAction.seconds` later the renewal succeeds, a new
   * certificate under the same ARN ("ACM ... replaces the old certificate with the new one",
   * acm/latest/userguide/managed-renewal.html: NotBefore now, NotAfter 395 days on, RenewalStatus
   * SUCCESS), or fails with its reason (RenewalStatus FAILED, RenewalStatusReason).
   */
  private scheduleOutcome(cert: AcmCertificate): void {
    const after = cert.afterAction;
    if (cert.scheduled || cert.renewed || after === 'never') return;
    cert.scheduled = true;
    this.clock.later(after.seconds, () => {
      cert.scheduled = false;
      if (after.status === 'SUCCESS') this.renewed(cert);
      else cert.renewal = { status: 'FAILED', reason: after.reason ?? 'OTHER', updatedAt: new Date(this.clock.now()) };
    });
  }

  /** The renewal succeeded now: a new certificate under the same ARN (see {@link scheduleOutcome}). */
  private renewed(cert: AcmCertificate): void {
    const at = new Date(this.clock.now());
    cert.renewed = true;
    cert.notBefore = at;
    cert.notAfter = new Date(at.getTime() + VALIDITY_DAYS * DAY_MS);
    cert.renewal = { status: 'SUCCESS', updatedAt: at };
    for (const d of cert.domains) if (d.state !== 'different') d.state = 'present';
  }

  /**
   * The certificate's Status changes without medic (a timeline change): it is revoked, expires,
   * or becomes INACTIVE (CertificateDetail.Status, CertificateStatus values). An EXPIRED one is
   * INELIGIBLE for renewal ({@link eligibility}).
   */
  setStatus(cert: AcmCertificate, status: string): void {
    cert.status = status;
  }

  /**
   * ACM's renewal moves on without medic (a timeline change): RenewalSummary.RenewalStatus (and
   * RenewalStatusReason) as given, UpdatedAt now ("The time at which the renewal summary was last
   * updated"). SUCCESS is a renewal done: the new certificate as after a renewal medic started. A
   * renewal outcome medic's action already scheduled still comes at its time.
   */
  setRenewal(cert: AcmCertificate, status: string, reason?: string): void {
    if (status === 'SUCCESS') {
      this.renewed(cert);
      return;
    }
    // Any other status is a renewal ACM has not completed (a new cycle, after an earlier success).
    cert.renewed = false;
    cert.renewal = { status, ...(reason ? { reason } : {}), updatedAt: new Date(this.clock.now()) };
  }
}

import { createHash } from 'node:crypto';
import type { AcmCertificateMetadata, CertificateDetail, DomainValidation, RenewalSummary } from '@aws-sdk/client-acm';
import type { ModelEnv } from './clock';

export type CertType = 'AMAZON_ISSUED' | 'PRIVATE' | 'IMPORTED';
export type ValidationMethod = 'DNS' | 'EMAIL' | 'HTTP';
/** Whether a domain's validation (its DNS record, its HTTP redirect) is in place, gone, or answers something else. */
export type RecordState = 'present' | 'missing' | 'different';
/** What ACM does once medic acted: `seconds` later the renewal succeeds or fails; `never`: nothing. */
export type AfterAction = { readonly seconds: number; readonly status: 'SUCCESS' | 'FAILED'; readonly reason?: string } | 'never';

/** One domain of a certificate: the record (DNS) or redirect (HTTP) ACM validates it with, and whether that is in place. */
export interface AcmDomain {
  readonly domain: string;
  readonly record?: { readonly name: string; readonly value: string };
  readonly redirect?: { readonly from: string; readonly to: string };
  state: RecordState;
}

/** A certificate in ACM as the model keeps it. */
export interface AcmCertificate {
  readonly arn: string;
  readonly type: CertType;
  readonly method: ValidationMethod;
  readonly domains: AcmDomain[];
  /** Whether it has been exported (ExportCertificate): only SearchCertificates/ListCertificates report it. */
  readonly exported: boolean;
  /** An exportable public certificate (Options.Export ENABLED). */
  readonly exportable: boolean;
  readonly createdAt: Date;
  readonly inUseBy: string[];
  readonly tags: Record<string, string>;
  /** CertificateDetail.Status (ISSUED unless said). */
  status: string;
  /** RenewalEligibility as given; derived (see {@link eligibility}) when absent. */
  readonly eligibility?: 'ELIGIBLE' | 'INELIGIBLE';
  readonly managedBy?: 'CLOUDFRONT';
  readonly afterAction: AfterAction;
  notBefore: Date;
  notAfter: Date;
  renewal?: { status: string; reason?: string; updatedAt: Date };
  /** A renewal outcome is scheduled (at most one at a time). */
  scheduled: boolean;
  renewed: boolean;
}

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');
const baseOf = (domain: string): string => domain.toLowerCase().replace(/^\*\./, '');

/**
 * ACM's DNS validation record for a domain: `_<32 hex>.<domain>.` CNAME `_<32 hex>.<label>.acm-validations.aws.`
 * (acm/latest/userguide/dns-validation.html shows the shape), the same for an apex and its wildcard
 * ("ACM ... uses the same CNAME record for the wildcard and the base domain").
 */
export function derivedRecord(domain: string): { name: string; value: string } {
  const base = baseOf(domain);
  const label = md5(`${base}:label`).slice(0, 10).replace(/[0-9]/g, (d) => 'abcdefghij'[Number(d)]);
  return { name: `_${md5(`${base}:name`)}.${base}.`, value: `_${md5(`${base}:value`)}.${label}.acm-validations.aws.` };
}

/**
 * The redirect ACM checks for HTTP validation (acm/latest/userguide/http-validation.html): a path
 * on the domain, redirected to an ACM-controlled location holding the token.
 */
export function derivedRedirect(domain: string, env: ModelEnv): { from: string; to: string } {
  const base = baseOf(domain);
  const token = md5(`${base}:http`);
  return { from: `http://${base}/.well-known/pki-validation/${token}.txt`, to: `https://validation.${env.region}.acm-validations.aws/${env.account}/.well-known/pki-validation/${token}.txt` };
}

/**
 * Managed renewal eligibility (acm/latest/userguide/acm-renewal.html): ELIGIBLE if associated
 * with another AWS service, or exported since being issued or last renewed; NOT ELIGIBLE if
 * imported or already expired. (That an export no longer counts after a renewal is not modelled.)
 */
export function eligibility(cert: AcmCertificate): 'ELIGIBLE' | 'INELIGIBLE' {
  if (cert.eligibility) return cert.eligibility;
  if (cert.type === 'IMPORTED' || cert.status === 'EXPIRED') return 'INELIGIBLE';
  return cert.inUseBy.length > 0 || cert.exported ? 'ELIGIBLE' : 'INELIGIBLE';
}

/** HTTP validation is for "certificates requested through Amazon CloudFront" (SDK HttpRedirect), which CloudFront manages. */
export const managedBy = (cert: AcmCertificate): 'CLOUDFRONT' | undefined => cert.managedBy ?? (cert.method === 'HTTP' ? 'CLOUDFRONT' : undefined);

/** A domain's validation; in the renewal summary it is pending until its record or redirect is in place (EMAIL: until renewed). */
function validation(cert: AcmCertificate, d: AcmDomain, inRenewal: boolean): DomainValidation {
  const validated = !inRenewal || cert.renewed || (cert.method !== 'EMAIL' && d.state === 'present');
  const base = baseOf(d.domain);
  return {
    DomainName: d.domain,
    ValidationDomain: base,
    ValidationMethod: cert.method,
    ValidationStatus: validated ? 'SUCCESS' : 'PENDING_VALIDATION',
    // DomainValidation.ResourceRecord: "Contains the CNAME record that you add to your DNS database for domain validation".
    ...(d.record ? { ResourceRecord: { Name: d.record.name, Type: 'CNAME', Value: d.record.value } } : {}),
    // HttpRedirect "exists only when the certificate type is AMAZON_ISSUED and the validation method is HTTP".
    ...(d.redirect ? { HttpRedirect: { RedirectFrom: d.redirect.from, RedirectTo: d.redirect.to } } : {}),
    // ValidationEmails: the five addresses ACM writes to at the domain (acm/latest/userguide/email-validation.html).
    ...(cert.method === 'EMAIL' ? { ValidationEmails: ['admin', 'administrator', 'hostmaster', 'postmaster', 'webmaster'].map((u) => `${u}@${base}`) } : {}),
  };
}

/** DescribeCertificate's CertificateDetail (SDK doc comments of each field). */
export function describeCertificate(cert: AcmCertificate, env: ModelEnv): CertificateDetail {
  const renewal: RenewalSummary | undefined = cert.renewal && {
    RenewalStatus: cert.renewal.status as RenewalSummary['RenewalStatus'],
    ...(cert.renewal.reason ? { RenewalStatusReason: cert.renewal.reason as RenewalSummary['RenewalStatusReason'] } : {}),
    UpdatedAt: new Date(cert.renewal.updatedAt),
    DomainValidationOptions: cert.type === 'AMAZON_ISSUED' ? cert.domains.map((d) => validation(cert, d, true)) : undefined,
  };
  const by = managedBy(cert);
  return {
    CertificateArn: cert.arn,
    DomainName: cert.domains[0].domain,
    SubjectAlternativeNames: cert.domains.map((d) => d.domain),
    // DomainValidationOptions: "This field exists only when the certificate type is AMAZON_ISSUED."
    ...(cert.type === 'AMAZON_ISSUED' ? { DomainValidationOptions: cert.domains.map((d) => validation(cert, d, false)) } : {}),
    Serial: md5(`${cert.arn}:${cert.notAfter.toISOString()}`).replace(/(..)(?!$)/g, '$1:'),
    Subject: `CN=${cert.domains[0].domain}`,
    Issuer: cert.type === 'AMAZON_ISSUED' ? 'Amazon' : cert.type === 'PRIVATE' ? 'medic game day private CA' : 'Example Issuing CA',
    CreatedAt: new Date(cert.createdAt),
    // ImportedAt: "only for imported certificates"; IssuedAt: "only for Amazon-issued certificates" (private ones too here).
    ...(cert.type === 'IMPORTED' ? { ImportedAt: new Date(cert.createdAt) } : { IssuedAt: new Date(cert.notBefore) }),
    Status: cert.status as CertificateDetail['Status'],
    NotBefore: new Date(cert.notBefore),
    NotAfter: new Date(cert.notAfter),
    KeyAlgorithm: 'RSA_2048',
    SignatureAlgorithm: 'SHA256WITHRSA',
    InUseBy: [...cert.inUseBy],
    Type: cert.type,
    // RenewalSummary is documented as existing "only when the certificate type is AMAZON_ISSUED", yet its
    // RenewalStatusReason values include the private CA's (PCA_*): the model shows a private renewal's status too.
    ...(renewal ? { RenewalSummary: renewal } : {}),
    RenewalEligibility: eligibility(cert),
    // CertificateDetail has no Exported field: only SearchCertificates and ListCertificates say whether it was exported.
    ...(cert.type === 'AMAZON_ISSUED' ? { Options: { Export: cert.exportable ? 'ENABLED' : 'DISABLED' } } : {}),
    ...(by ? { ManagedBy: by } : {}),
    ...(cert.type === 'PRIVATE' ? { CertificateAuthorityArn: `arn:aws:acm-pca:${env.region}:${env.account}:certificate-authority/00000000-0000-4000-8000-000000000001` } : {}),
  };
}

/** AcmCertificateMetadata (SDK): Exported "indicates whether the certificate has been exported", ExportOption "whether it can be". */
export function certificateMetadata(cert: AcmCertificate, env: ModelEnv): AcmCertificateMetadata {
  const detail = describeCertificate(cert, env);
  return {
    CreatedAt: detail.CreatedAt, Exported: cert.exported, InUse: (detail.InUseBy ?? []).length > 0, RenewalEligibility: detail.RenewalEligibility,
    Status: detail.Status, Type: detail.Type, ...(detail.IssuedAt ? { IssuedAt: detail.IssuedAt } : {}), ...(detail.ImportedAt ? { ImportedAt: detail.ImportedAt } : {}),
    ...(detail.RenewalSummary ? { RenewalStatus: detail.RenewalSummary.RenewalStatus } : {}), ...(detail.Options?.Export ? { ExportOption: detail.Options.Export } : {}),
    ...(detail.ManagedBy ? { ManagedBy: detail.ManagedBy } : {}), ...(cert.type === 'AMAZON_ISSUED' ? { ValidationMethod: cert.method } : {}),
  };
}

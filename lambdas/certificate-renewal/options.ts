/**
 * The certificate renewal runbook's options: written into the runbook spec by the construct
 * (lib/runbooks/certificate-renewal.ts) and read by the step handler, with their defaults set here once.
 */

/** Settings the construct puts in the runbook's options. */
export interface CertificateRenewalOptions {
  /** Certificate ARNs allowed by name. */
  readonly certificates: string[];
  /** Certificates carrying this tag are allowed too. */
  readonly optInTag?: { readonly key: string; readonly value: string };
  /** Route 53 hosted zones medic may restore validation records in: domain -> hosted zone id. */
  readonly hostedZones: Record<string, string>;
  /** A certificate with more days left than this is not due; unset: {@link RENEW_WITHIN_DAYS_BY_TYPE}. */
  readonly renewWithinDays?: number;
  /** Whether email-validated certificates get their validation email resent. */
  readonly resendValidationEmail: boolean;
}

/**
 * The default of each option that has one: no certificates, tag or zones unless configured, and
 * `renewWithinDays` by certificate type ({@link RENEW_WITHIN_DAYS_BY_TYPE}).
 */
export const CERTIFICATE_RENEWAL_DEFAULTS = {
  resendValidationEmail: false,
} as const satisfies Partial<CertificateRenewalOptions>;

/**
 * The renewal window of each certificate type when `renewWithinDays` is not set: from when ACM's
 * own "ACM Certificate Approaching Expiration" events start, "45 days prior to expiration for
 * private/imported certificates and 30 days prior to expiration for public certificates"
 * (https://docs.aws.amazon.com/acm/latest/userguide/supported-events.html). A type not listed
 * (a new one) gets the longest window, so it is looked at (and escalated) rather than ignored.
 */
export const RENEW_WITHIN_DAYS_BY_TYPE: Readonly<Record<string, number>> = { AMAZON_ISSUED: 30, PRIVATE: 45, IMPORTED: 45 };

/** `options` (as read from the runbook spec) with each unset option at its default. */
export function resolveCertificateRenewalOptions(options: Partial<CertificateRenewalOptions>): CertificateRenewalOptions {
  return {
    certificates: options.certificates ?? [],
    optInTag: options.optInTag,
    hostedZones: options.hostedZones ?? {},
    ...(typeof options.renewWithinDays === 'number' ? { renewWithinDays: options.renewWithinDays } : {}),
    resendValidationEmail: typeof options.resendValidationEmail === 'boolean' ? options.resendValidationEmail : CERTIFICATE_RENEWAL_DEFAULTS.resendValidationEmail,
  };
}

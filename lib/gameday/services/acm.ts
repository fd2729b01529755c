import { createHash } from 'node:crypto';
import {
  ACMClient, DescribeCertificateCommand, ListTagsForCertificateCommand, RenewCertificateCommand, ResendValidationEmailCommand, SearchCertificatesCommand,
  type AcmCertificateMetadata, type CertificateDetail, type DomainValidation, type RenewalSummary, type SearchCertificatesCommandInput,
} from '@aws-sdk/client-acm';
import {
  ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, Route53Client,
  type ChangeResourceRecordSetsCommandInput, type ListResourceRecordSetsCommandInput, type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { parseDuration } from '../duration';
import type { World } from '../world';

/**
 * `world.acm.certificates[]`: `{ arn, type: AMAZON_ISSUED | PRIVATE | IMPORTED (AMAZON_ISSUED),
 * domains [..], daysLeft (20), inUseBy [..], validation: dns | email | http (dns), renewal: {
 * status, reason? }, records: present | missing | different (or per domain; default present;
 * for http: whether the domain's redirect is in place), validationRecords: { <domain>: { name,
 * value } } (default: derived from the domain), afterAction: { after (10m), status: SUCCESS |
 * FAILED (SUCCESS), reason? } | never, status (ISSUED), eligibility (derived, below), exported
 * (true for PRIVATE, else false), exportable (AMAZON_ISSUED only; false), managedBy (CLOUDFRONT
 * with http validation), tags {} }`, and `world.acm.zones`: `{ <zoneId>: [ { name, type, value |
 * values, ttl } ] }` (or `{ domain, records }`) for Route 53.
 *
 * ACM reacts to what medic does: `RenewCertificate` on a certificate ACM renews on request, a
 * validation record written (UPSERT/CREATE) into a zone so that every DNS validation of a
 * pending certificate is in place, or `ResendValidationEmail`, each leads `afterAction.after`
 * later to the renewal `SUCCESS` (NotAfter moves ~395 days on) or `FAILED` with its reason.
 * Each behaviour names the AWS documentation it follows beside it.
 */
type RecordState = 'present' | 'missing' | 'different';
type CertType = 'AMAZON_ISSUED' | 'PRIVATE' | 'IMPORTED';
type Method = 'DNS' | 'EMAIL' | 'HTTP';

interface CertificateSpec {
  readonly arn: string;
  readonly type?: CertType;
  readonly domains: string[];
  readonly daysLeft?: number;
  readonly inUseBy?: string[];
  readonly validation?: 'dns' | 'email' | 'http';
  readonly renewal?: { readonly status: string; readonly reason?: string };
  readonly records?: RecordState | Record<string, RecordState>;
  readonly validationRecords?: Record<string, { readonly name: string; readonly value: string }>;
  readonly afterAction?: { readonly after?: string | number; readonly status?: 'SUCCESS' | 'FAILED'; readonly reason?: string } | 'never';
  readonly status?: string;
  readonly eligibility?: 'ELIGIBLE' | 'INELIGIBLE';
  /** Whether the certificate has been exported (ExportCertificate): only SearchCertificates/ListCertificates report it. */
  readonly exported?: boolean;
  /** An exportable public certificate (Options.Export ENABLED; it cannot be changed after the request). */
  readonly exportable?: boolean;
  readonly managedBy?: 'CLOUDFRONT';
  readonly tags?: Record<string, string>;
}

interface RecordSpec {
  readonly name: string;
  readonly type: string;
  readonly value?: string;
  readonly values?: string[];
  readonly ttl?: number;
}

/** One domain of a certificate: the record (DNS) or redirect (HTTP) ACM validates it with, and whether that is in place. */
interface SimDomain {
  readonly domain: string;
  readonly record?: { readonly name: string; readonly value: string };
  readonly redirect?: { readonly from: string; readonly to: string };
  state: RecordState;
}

interface SimCertificate {
  readonly spec: CertificateSpec;
  readonly arn: string;
  readonly type: CertType;
  readonly method: Method;
  readonly domains: SimDomain[];
  readonly exported: boolean;
  readonly exportable: boolean;
  readonly createdAt: Date;
  notBefore: Date;
  notAfter: Date;
  renewal?: { status: string; reason?: string; updatedAt: Date };
  /** The renewal ACM has scheduled after medic acted (at most one). */
  scheduled: boolean;
  renewed: boolean;
}

interface SimZone {
  readonly id: string;
  /** The zone's apex, without the trailing dot (from `domain`, its NS/SOA record, or its shortest record name). */
  readonly apex?: string;
  readonly records: Map<string, ResourceRecordSet>;
}

const DAY_MS = 86_400_000;
const fail = (name: string, message: string): Error => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });
const fqdn = (name: string): string => {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
};
const bare = (name: string): string => fqdn(name).replace(/\.$/, '');
const md5 = (text: string): string => createHash('md5').update(text).digest('hex');
/** Route 53 lists a zone in DNS order: labels reversed, then type. */
const dnsOrder = (name: string, type: string): string => `${bare(name).split('.').reverse().join('.')} ${type}`;
const recordKey = (set: ResourceRecordSet): string => dnsOrder(set.Name ?? '', set.Type ?? '');

/** ACM's record for a domain, the same for an apex and its wildcard: `_<32 hex>.<domain>.` CNAME `_<32 hex>.<label>.acm-validations.aws.`. */
function derivedRecord(domain: string): { name: string; value: string } {
  const label = md5(`${domain}:label`).slice(0, 10).replace(/[0-9]/g, (d) => 'abcdefghij'[Number(d)]);
  return { name: `_${md5(`${domain}:name`)}.${domain}.`, value: `_${md5(`${domain}:value`)}.${label}.acm-validations.aws.` };
}

export function installAcm(world: World): void {
  const spec = (world.spec.acm ?? {}) as { certificates?: CertificateSpec[]; zones?: Record<string, RecordSpec[] | { domain?: string; records?: RecordSpec[] }> };
  const start = world.clock.now();

  const zones = new Map<string, SimZone>();
  for (const [id, raw] of Object.entries(spec.zones ?? {})) {
    const where = `world.acm.zones.${id}`;
    const list = Array.isArray(raw) ? raw : raw?.records ?? [];
    const records = new Map<string, ResourceRecordSet>();
    for (const [i, r] of list.entries()) {
      if (!r?.name || !r.type) throw new Error(`${where}[${i}]: a record needs name, type and value (or values)`);
      const values = r.values ?? (r.value !== undefined ? [r.value] : []);
      const set: ResourceRecordSet = { Name: fqdn(r.name), Type: r.type as ResourceRecordSet['Type'], TTL: r.ttl ?? 300, ResourceRecords: values.map((Value) => ({ Value })) };
      records.set(recordKey(set), set);
    }
    const apexRecord = list.find((r) => r.type === 'NS' || r.type === 'SOA');
    const shortest = [...list].sort((a, b) => bare(a.name).split('.').length - bare(b.name).split('.').length)[0];
    const apex = !Array.isArray(raw) && raw?.domain ? bare(raw.domain) : apexRecord ? bare(apexRecord.name) : shortest ? bare(shortest.name) : undefined;
    zones.set(id, { id, apex, records });
  }
  /** The zone whose apex is the longest suffix of `name`. */
  const zoneFor = (name: string): SimZone | undefined => [...zones.values()]
    .filter((z) => z.apex && (bare(name) === z.apex || bare(name).endsWith(`.${z.apex}`)))
    .sort((a, b) => b.apex!.length - a.apex!.length)[0];

  const certificates = new Map<string, SimCertificate>();
  for (const [i, c] of (spec.certificates ?? []).entries()) {
    const where = `world.acm.certificates[${i}]`;
    if (!c?.arn || !Array.isArray(c.domains) || c.domains.length === 0) throw new Error(`${where}: a certificate needs arn and domains`);
    const type = c.type ?? 'AMAZON_ISSUED';
    if (!['AMAZON_ISSUED', 'PRIVATE', 'IMPORTED'].includes(type)) throw new Error(`${where}.type: must be AMAZON_ISSUED, PRIVATE or IMPORTED`);
    const method: Method = c.validation === 'email' ? 'EMAIL' : c.validation === 'http' ? 'HTTP' : 'DNS';
    if (method === 'HTTP') {
      // HttpRedirect "exists only when the certificate type is AMAZON_ISSUED and the validation method is HTTP" (SDK
      // DomainValidation.HttpRedirect), and "HTTP validation does not support wildcard domain certificates" (acm/latest/userguide/http-validation.html).
      if (type !== 'AMAZON_ISSUED') throw new Error(`${where}.validation: http validation is only for AMAZON_ISSUED certificates`);
      if (c.domains.some((d) => d.startsWith('*.'))) throw new Error(`${where}.validation: http validation does not support wildcard domains`);
    }
    // Options.Export: "You cannot update the value of Export after the certificate is created" (SDK CertificateOptions);
    // exportable public certificates are Amazon-issued (acm-exportable-certificates.html); private certificates can be exported anyway.
    if (c.exportable !== undefined && type !== 'AMAZON_ISSUED') throw new Error(`${where}.exportable: only AMAZON_ISSUED certificates have the export option`);
    const exportable = c.exportable === true;
    const exported = c.exported ?? type === 'PRIVATE';
    if (exported && (type === 'IMPORTED' || (type === 'AMAZON_ISSUED' && !exportable))) throw new Error(`${where}.exported: only a private or an exportable (exportable: true) certificate can have been exported`);
    const stateOf = (domain: string): RecordState => (typeof c.records === 'object' ? c.records[domain] ?? 'present' : c.records ?? 'present');
    const domains = c.domains.map((d): SimDomain => {
      const base = d.toLowerCase().replace(/^\*\./, '');
      const given = c.validationRecords?.[d] ?? c.validationRecords?.[base];
      const token = md5(`${base}:http`);
      return {
        domain: d,
        state: stateOf(d),
        ...(type === 'AMAZON_ISSUED' && method === 'DNS' ? { record: given ? { name: fqdn(given.name), value: fqdn(given.value) } : derivedRecord(base) } : {}),
        // The shape of ACM's URLs (acm/latest/userguide/http-validation.html): a path on the domain, and an ACM-controlled location holding the token.
        ...(method === 'HTTP' ? { redirect: { from: `http://${base}/.well-known/pki-validation/${token}.txt`, to: `https://validation.${world.env.region}.acm-validations.aws/${world.env.account}/.well-known/pki-validation/${token}.txt` } } : {}),
      };
    });
    const notAfter = new Date(start + (c.daysLeft ?? 20) * DAY_MS + 12 * 3_600_000);
    const pending = domains.some((d) => d.state !== 'present');
    const defaultRenewal = type !== 'AMAZON_ISSUED' ? undefined : method === 'EMAIL' || pending ? 'PENDING_VALIDATION' : 'PENDING_AUTO_RENEWAL';
    const renewalStatus = c.renewal?.status ?? defaultRenewal;
    certificates.set(c.arn, {
      spec: c, arn: c.arn, type, method, domains, exported, exportable,
      createdAt: new Date(notAfter.getTime() - 395 * DAY_MS),
      notBefore: new Date(notAfter.getTime() - 395 * DAY_MS),
      notAfter,
      ...(renewalStatus ? { renewal: { status: renewalStatus, reason: c.renewal?.reason, updatedAt: new Date(start - 2 * DAY_MS) } } : {}),
      scheduled: false,
      renewed: false,
    });
    // Put the validation records where the scenario says they are: in the zone of their domain (when one is simulated), or not.
    for (const d of domains) {
      if (!d.record) continue;
      const zone = zoneFor(d.record.name);
      if (!zone) continue;
      const key = dnsOrder(d.record.name, 'CNAME');
      if (d.state === 'missing') zone.records.delete(key);
      else {
        const value = d.state === 'present' ? d.record.value : derivedRecord(`${bare(d.record.name)}:stale`).value;
        zone.records.set(key, { Name: d.record.name, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: value }] });
      }
    }
  }

  const certificateOf = (arn: string | undefined): SimCertificate => {
    const cert = arn ? certificates.get(arn) : undefined;
    if (!cert) throw fail('ResourceNotFoundException', `Could not find certificate ${arn}.`);
    return cert;
  };
  /**
   * Managed renewal eligibility (acm/latest/userguide/acm-renewal.html): ELIGIBLE if associated
   * with another AWS service, or exported since being issued or last renewed; NOT ELIGIBLE if
   * imported or already expired. (That an export no longer counts after a renewal is not modelled.)
   */
  const eligibility = (cert: SimCertificate): 'ELIGIBLE' | 'INELIGIBLE' => {
    if (cert.spec.eligibility) return cert.spec.eligibility;
    if (cert.type === 'IMPORTED' || cert.spec.status === 'EXPIRED') return 'INELIGIBLE';
    return (cert.spec.inUseBy ?? []).length > 0 || cert.exported ? 'ELIGIBLE' : 'INELIGIBLE';
  };

  /** HTTP validation is for "certificates requested through Amazon CloudFront" (SDK HttpRedirect), which CloudFront manages. */
  const managedBy = (cert: SimCertificate): 'CLOUDFRONT' | undefined => cert.spec.managedBy ?? (cert.method === 'HTTP' ? 'CLOUDFRONT' : undefined);

  /** What ACM does once medic acted: `afterAction.after` later, the renewal succeeds (a new NotAfter) or fails. */
  const scheduleOutcome = (cert: SimCertificate): void => {
    const after = cert.spec.afterAction;
    if (cert.scheduled || cert.renewed || after === 'never') return;
    cert.scheduled = true;
    const seconds = parseDuration(after?.after ?? '10m', `world.acm.certificates(${cert.arn}).afterAction.after`);
    world.later(seconds, () => {
      cert.scheduled = false;
      const at = new Date(world.clock.now());
      if ((after?.status ?? 'SUCCESS') === 'SUCCESS') {
        cert.renewed = true;
        cert.notBefore = at;
        cert.notAfter = new Date(at.getTime() + 395 * DAY_MS);
        cert.renewal = { status: 'SUCCESS', updatedAt: at };
        for (const d of cert.domains) if (d.state !== 'different') d.state = 'present';
      } else {
        cert.renewal = { status: 'FAILED', reason: after?.reason ?? 'OTHER', updatedAt: at };
      }
    });
  };

  const validation = (cert: SimCertificate, d: SimDomain, inRenewal: boolean): DomainValidation => {
    const validated = !inRenewal || cert.renewed || (cert.method !== 'EMAIL' && d.state === 'present');
    const base = d.domain.toLowerCase().replace(/^\*\./, '');
    return {
      DomainName: d.domain,
      ValidationDomain: base,
      ValidationMethod: cert.method,
      ValidationStatus: validated ? 'SUCCESS' : 'PENDING_VALIDATION',
      ...(d.record ? { ResourceRecord: { Name: d.record.name, Type: 'CNAME', Value: d.record.value } } : {}),
      ...(d.redirect ? { HttpRedirect: { RedirectFrom: d.redirect.from, RedirectTo: d.redirect.to } } : {}),
      ...(cert.method === 'EMAIL' ? { ValidationEmails: ['admin', 'administrator', 'hostmaster', 'postmaster', 'webmaster'].map((u) => `${u}@${base}`) } : {}),
    };
  };

  const describe = (cert: SimCertificate): CertificateDetail => {
    const { account, region } = world.env;
    const renewal: RenewalSummary | undefined = cert.renewal && {
      RenewalStatus: cert.renewal.status as RenewalSummary['RenewalStatus'],
      ...(cert.renewal.reason ? { RenewalStatusReason: cert.renewal.reason as RenewalSummary['RenewalStatusReason'] } : {}),
      UpdatedAt: new Date(cert.renewal.updatedAt),
      DomainValidationOptions: cert.type === 'AMAZON_ISSUED' ? cert.domains.map((d) => validation(cert, d, true)) : undefined,
    };
    return {
      CertificateArn: cert.arn,
      DomainName: cert.domains[0].domain,
      SubjectAlternativeNames: cert.domains.map((d) => d.domain),
      ...(cert.type === 'AMAZON_ISSUED' ? { DomainValidationOptions: cert.domains.map((d) => validation(cert, d, false)) } : {}),
      Serial: md5(`${cert.arn}:${cert.notAfter.toISOString()}`).replace(/(..)(?!$)/g, '$1:'),
      Subject: `CN=${cert.domains[0].domain}`,
      Issuer: cert.type === 'AMAZON_ISSUED' ? 'Amazon' : cert.type === 'PRIVATE' ? 'medic game day private CA' : 'Example Issuing CA',
      CreatedAt: new Date(cert.createdAt),
      ...(cert.type === 'IMPORTED' ? { ImportedAt: new Date(cert.createdAt) } : { IssuedAt: new Date(cert.notBefore) }),
      Status: (cert.spec.status ?? 'ISSUED') as CertificateDetail['Status'],
      NotBefore: new Date(cert.notBefore),
      NotAfter: new Date(cert.notAfter),
      KeyAlgorithm: 'RSA_2048',
      SignatureAlgorithm: 'SHA256WITHRSA',
      InUseBy: [...(cert.spec.inUseBy ?? [])],
      Type: cert.type,
      ...(renewal ? { RenewalSummary: renewal } : {}),
      RenewalEligibility: eligibility(cert),
      // CertificateDetail has no Exported field: only SearchCertificates and ListCertificates say whether it was exported.
      ...(cert.type === 'AMAZON_ISSUED' ? { Options: { Export: cert.exportable ? 'ENABLED' : 'DISABLED' } } : {}),
      ...(managedBy(cert) ? { ManagedBy: managedBy(cert) } : {}),
      ...(cert.type === 'PRIVATE' ? { CertificateAuthorityArn: `arn:aws:acm-pca:${region}:${account}:certificate-authority/00000000-0000-4000-8000-000000000001` } : {}),
    };
  };

  const acm = world.stub(ACMClient);
  acm.on(DescribeCertificateCommand).callsFake((input: { CertificateArn?: string }) =>
    world.answer('acm', 'DescribeCertificate', input, false, () => ({ Certificate: describe(certificateOf(input.CertificateArn)) })));

  acm.on(ListTagsForCertificateCommand).callsFake((input: { CertificateArn?: string }) =>
    world.answer('acm', 'ListTagsForCertificate', input, false, () => ({
      Tags: Object.entries(certificateOf(input.CertificateArn).spec.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    })));

  // Only what the ACM console's search reads for one certificate: the CertificateArn filter (API_CertificateFilter.html).
  acm.on(SearchCertificatesCommand).callsFake((input: SearchCertificatesCommandInput) => world.answer('acm', 'SearchCertificates', input as unknown as Record<string, unknown>, false, () => {
    const filter = input.FilterStatement?.Filter;
    if (!filter || !('CertificateArn' in filter) || typeof filter.CertificateArn !== 'string') {
      throw new Error('the game day simulates SearchCertificates only with FilterStatement { Filter: { CertificateArn } }');
    }
    const cert = certificates.get(filter.CertificateArn);
    if (!cert) return { Results: [] };
    const detail = describe(cert);
    // AcmCertificateMetadata (SDK): Exported "indicates whether the certificate has been exported", ExportOption "whether it can be".
    const metadata: AcmCertificateMetadata = {
      CreatedAt: detail.CreatedAt, Exported: cert.exported, InUse: (detail.InUseBy ?? []).length > 0, RenewalEligibility: detail.RenewalEligibility,
      Status: detail.Status, Type: detail.Type, ...(detail.IssuedAt ? { IssuedAt: detail.IssuedAt } : {}), ...(detail.ImportedAt ? { ImportedAt: detail.ImportedAt } : {}),
      ...(detail.RenewalSummary ? { RenewalStatus: detail.RenewalSummary.RenewalStatus } : {}), ...(detail.Options?.Export ? { ExportOption: detail.Options.Export } : {}),
      ...(detail.ManagedBy ? { ManagedBy: detail.ManagedBy } : {}), ...(cert.type === 'AMAZON_ISSUED' ? { ValidationMethod: cert.method } : {}),
    };
    return { Results: [{ CertificateArn: cert.arn, CertificateMetadata: { AcmCertificateMetadata: metadata } }] };
  }));

  // RenewCertificate "renews an eligible ACM certificate" (API_RenewCertificate.html); "you can only renew certificates that have been previously
  // exported", public (exportable) or private (acm/latest/userguide/force-certificate-renewal.html; sdk-renew.html: "only exported private
  // certificates can be renewed"). The SDK's errors: RequestInProgressException while the certificate is not issued yet, ResourceNotFoundException,
  // ValidationException ("the supplied input failed to satisfy constraints") for a certificate ACM will not renew on request.
  acm.on(RenewCertificateCommand).callsFake((input: { CertificateArn?: string }) => world.answer('acm', 'RenewCertificate', input, true, () => {
    const cert = certificateOf(input.CertificateArn);
    const status = cert.spec.status ?? 'ISSUED';
    if (status === 'PENDING_VALIDATION') throw fail('RequestInProgressException', `Certificate ${cert.arn} has not been issued yet.`);
    if (cert.type === 'IMPORTED') throw fail('ValidationException', `Certificate ${cert.arn} is imported: ACM does not renew imported certificates.`);
    if (cert.type === 'AMAZON_ISSUED' && !cert.exportable) throw fail('ValidationException', `Certificate ${cert.arn} is not exportable: only exported certificates can be renewed on request.`);
    if (!cert.exported) throw fail('ValidationException', `Certificate ${cert.arn} has not been exported: only exported certificates can be renewed on request.`);
    if (status !== 'ISSUED' || eligibility(cert) === 'INELIGIBLE') throw fail('ValidationException', `Certificate ${cert.arn} is not eligible for renewal.`);
    const now = new Date(world.clock.now());
    // A public certificate still needs its domains validated: it renews once every validation is in place (a restored record schedules it then).
    if (cert.type === 'AMAZON_ISSUED' && cert.domains.some((d) => d.state !== 'present')) {
      cert.renewal = { status: 'PENDING_VALIDATION', updatedAt: now };
      return {};
    }
    // RenewalSummary is documented as existing "only when the certificate type is AMAZON_ISSUED" (SDK), yet its
    // RenewalStatusReason values include the private CA's (PCA_*): the simulator shows a private renewal's status too.
    cert.renewal = { status: 'PENDING_AUTO_RENEWAL', updatedAt: now };
    scheduleOutcome(cert);
    return {};
  }));

  acm.on(ResendValidationEmailCommand).callsFake((input: { CertificateArn?: string; Domain?: string; ValidationDomain?: string }) =>
    world.answer('acm', 'ResendValidationEmail', input, true, () => {
      const cert = certificateOf(input.CertificateArn);
      if (cert.type !== 'AMAZON_ISSUED' || cert.method !== 'EMAIL' || cert.renewal?.status !== 'PENDING_VALIDATION') {
        throw fail('InvalidStateException', `Certificate ${cert.arn} is not waiting for email validation.`);
      }
      if (!cert.domains.some((d) => d.domain === input.Domain)) throw fail('InvalidDomainValidationOptionsException', `${input.Domain} is not a domain of ${cert.arn}.`);
      scheduleOutcome(cert);
      return {};
    }));

  const route53 = world.stub(Route53Client);
  const zoneOf = (id: string | undefined): SimZone => {
    const zone = id ? zones.get(id.replace(/^\/hostedzone\//, '')) : undefined;
    if (!zone) throw fail('NoSuchHostedZone', `No hosted zone found with ID: ${id}`);
    return zone;
  };

  route53.on(ListResourceRecordSetsCommand).callsFake((input: ListResourceRecordSetsCommandInput) =>
    world.answer('route53', 'ListResourceRecordSets', input as unknown as Record<string, unknown>, false, () => {
      const zone = zoneOf(input.HostedZoneId);
      const from = input.StartRecordName ? dnsOrder(input.StartRecordName, input.StartRecordType ?? '') : '';
      const rows = [...zone.records.keys()].sort().filter((key) => key >= from).map((key) => structuredClone(zone.records.get(key)!));
      const max = Number(input.MaxItems ?? 300);
      const next = rows[max];
      return {
        ResourceRecordSets: rows.slice(0, max), IsTruncated: rows.length > max, MaxItems: max,
        ...(next ? { NextRecordName: next.Name, NextRecordType: next.Type } : {}),
      };
    }));

  /** A record written into a zone: the certificates it validates take note, and a pending renewal whose records are now all in place goes ahead. */
  const recordWritten = (set: ResourceRecordSet | undefined, deleted: boolean): void => {
    if (set?.Type !== 'CNAME' || !set.Name) return;
    const name = fqdn(set.Name);
    const values = (set.ResourceRecords ?? []).map((r) => fqdn(r.Value ?? ''));
    for (const cert of certificates.values()) {
      const matching = cert.domains.filter((d) => d.record?.name === name);
      if (matching.length === 0) continue;
      for (const d of matching) d.state = deleted ? 'missing' : values.length === 1 && values[0] === d.record!.value ? 'present' : 'different';
      const renewing = cert.renewal && cert.renewal.status !== 'SUCCESS' && !cert.renewed;
      if (renewing && eligibility(cert) === 'ELIGIBLE' && cert.domains.every((d) => d.state === 'present')) scheduleOutcome(cert);
    }
  };

  route53.on(ChangeResourceRecordSetsCommand).callsFake((input: ChangeResourceRecordSetsCommandInput) =>
    world.answer('route53', 'ChangeResourceRecordSets', input as unknown as Record<string, unknown>, true, () => {
      const zone = zoneOf(input.HostedZoneId);
      const changes = input.ChangeBatch?.Changes ?? [];
      // Route 53 checks the whole batch first and applies all of it or nothing.
      const keys = changes.map((c) => dnsOrder(c.ResourceRecordSet?.Name ?? '', c.ResourceRecordSet?.Type ?? ''));
      const repeated = keys.find((key, i) => keys.indexOf(key) !== i);
      if (repeated) throw fail('InvalidChangeBatch', `[The request contains an invalid set of changes for a resource record set '${repeated}']`);
      for (const [i, change] of changes.entries()) {
        const set = change.ResourceRecordSet;
        if (!set?.Name || !set.Type) throw fail('InvalidInput', 'a change needs a record set with Name and Type');
        if (zone.apex && bare(set.Name) !== zone.apex && !bare(set.Name).endsWith(`.${zone.apex}`)) {
          throw fail('InvalidChangeBatch', `[RRSet with DNS name ${fqdn(set.Name)} is not permitted in zone ${zone.apex}.]`);
        }
        const exists = zone.records.has(keys[i]);
        if (change.Action === 'CREATE' && exists) throw fail('InvalidChangeBatch', `[Tried to create resource record set [name='${fqdn(set.Name)}', type='${set.Type}'] but it already exists]`);
        if (change.Action === 'DELETE' && !exists) throw fail('InvalidChangeBatch', `[Tried to delete resource record set [name='${fqdn(set.Name)}', type='${set.Type}'] but it was not found]`);
      }
      for (const [i, change] of changes.entries()) {
        const set = change.ResourceRecordSet!;
        if (change.Action === 'DELETE') zone.records.delete(keys[i]);
        else zone.records.set(keys[i], { ...structuredClone(set), Name: fqdn(set.Name!) });
        recordWritten(set, change.Action === 'DELETE');
      }
      const id = md5(`${zone.id}:${world.clock.now()}:${keys.join(',')}`).slice(0, 20).toUpperCase();
      return { ChangeInfo: { Id: `/change/C${id}`, Status: 'PENDING', SubmittedAt: new Date(world.clock.now()), Comment: input.ChangeBatch?.Comment } };
    }));
}

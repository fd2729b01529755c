import { ACMClient, CertificateStatus, FailureReason, RenewalStatus } from '@aws-sdk/client-acm';
import { Route53Client, type ResourceRecordSet } from '@aws-sdk/client-route-53';
import { parseDuration } from '../duration';
import { AcmModel, type NewCertificate } from '../models/acm';
import { derivedRecord, type ValidationMethod } from '../models/acm-certificate';
import { bindOperations } from '../models/operations';
import { HostedZonesModel, bare, dnsOrder, fqdn } from '../models/route53';
import type { World } from '../world';
import { ChangeReader, inOrder } from './change-reader';

/**
 * `world.acm.certificates[]`: `{ arn, type: AMAZON_ISSUED | PRIVATE | IMPORTED (AMAZON_ISSUED),
 * domains [..], daysLeft (20), inUseBy [..], validation: dns | email | http (dns), renewal: {
 * status, reason? }, records: present | missing | different (or per domain; default present;
 * for http: whether the domain's redirect is in place), validationRecords: { <domain>: { name,
 * value } } (default: derived from the domain), afterAction: { after (10m), status: SUCCESS |
 * FAILED (SUCCESS), reason? } | never, status (ISSUED), eligibility (derived), exported
 * (true for PRIVATE, else false), exportable (AMAZON_ISSUED only; false), managedBy (CLOUDFRONT
 * with http validation), tags {} }`, and `world.acm.zones`: `{ <zoneId>: [ { name, type, value |
 * values, ttl } ] }` (or `{ domain, records }`) for Route 53. A DNS validation record is put in
 * the zone of its domain (when one is simulated) as `records` says: present, missing, or
 * answering a different value.
 *
 * The behaviour is the shared models' (lib/gameday/models/acm.ts and route53.ts, which cite the
 * AWS documentation of each); this module reads the scenario into them and answers through the world.
 */
/** A certificate as a scenario writes it: the model's {@link NewCertificate}, with `validation` for its method and `afterAction.after` as a duration. */
type CertificateSpec = Omit<NewCertificate, 'method' | 'afterAction'> & {
  readonly validation?: 'dns' | 'email' | 'http';
  readonly afterAction?: { readonly after?: string | number; readonly status?: 'SUCCESS' | 'FAILED'; readonly reason?: string } | 'never';
};

interface RecordSpec {
  readonly name: string;
  readonly type: string;
  readonly value?: string;
  readonly values?: string[];
  readonly ttl?: number;
}

type ZoneSpec = RecordSpec[] | { domain?: string; records?: RecordSpec[] };

function readZones(zones: HostedZonesModel, spec: Record<string, ZoneSpec>): void {
  for (const [id, raw] of Object.entries(spec)) {
    const where = `world.acm.zones.${id}`;
    const list = Array.isArray(raw) ? raw : raw?.records ?? [];
    const records = list.map((r, i): ResourceRecordSet => {
      if (!r?.name || !r.type) throw new Error(`${where}[${i}]: a record needs name, type and value (or values)`);
      const values = r.values ?? (r.value !== undefined ? [r.value] : []);
      return { Name: fqdn(r.name), Type: r.type as ResourceRecordSet['Type'], TTL: r.ttl ?? 300, ResourceRecords: values.map((Value) => ({ Value })) };
    });
    // The apex: `domain`, else the NS/SOA record's name, else the shortest record name.
    const apexRecord = list.find((r) => r.type === 'NS' || r.type === 'SOA');
    const shortest = [...list].sort((a, b) => bare(a.name).split('.').length - bare(b.name).split('.').length)[0];
    const apex = !Array.isArray(raw) && raw?.domain ? raw.domain : apexRecord ? apexRecord.name : shortest?.name;
    zones.addZone(id, records, apex);
  }
}

function readCertificate(model: AcmModel, zones: HostedZonesModel, c: CertificateSpec, where: string): void {
  if (!c?.arn || !Array.isArray(c.domains) || c.domains.length === 0) throw new Error(`${where}: a certificate needs arn and domains`);
  const type = c.type ?? 'AMAZON_ISSUED';
  if (!['AMAZON_ISSUED', 'PRIVATE', 'IMPORTED'].includes(type)) throw new Error(`${where}.type: must be AMAZON_ISSUED, PRIVATE or IMPORTED`);
  const method: ValidationMethod = c.validation === 'email' ? 'EMAIL' : c.validation === 'http' ? 'HTTP' : 'DNS';
  if (method === 'HTTP') {
    // HttpRedirect "exists only when the certificate type is AMAZON_ISSUED and the validation method is HTTP" (SDK
    // DomainValidation.HttpRedirect), and "HTTP validation does not support wildcard domain certificates" (acm/latest/userguide/http-validation.html).
    if (type !== 'AMAZON_ISSUED') throw new Error(`${where}.validation: http validation is only for AMAZON_ISSUED certificates`);
    if (c.domains.some((d) => d.startsWith('*.'))) throw new Error(`${where}.validation: http validation does not support wildcard domains`);
  }
  // Options.Export: "You cannot update the value of Export after the certificate is created" (SDK CertificateOptions);
  // exportable public certificates are Amazon-issued (acm-exportable-certificates.html); private certificates can be exported anyway.
  if (c.exportable !== undefined && type !== 'AMAZON_ISSUED') throw new Error(`${where}.exportable: only AMAZON_ISSUED certificates have the export option`);
  const exported = c.exported ?? type === 'PRIVATE';
  if (exported && (type === 'IMPORTED' || (type === 'AMAZON_ISSUED' && c.exportable !== true))) {
    throw new Error(`${where}.exported: only a private or an exportable (exportable: true) certificate can have been exported`);
  }
  const after = c.afterAction;
  const cert = model.addCertificate({
    arn: c.arn, domains: c.domains, type, method, exported,
    ...(c.records !== undefined ? { records: c.records } : {}),
    ...(c.validationRecords ? { validationRecords: c.validationRecords } : {}),
    ...(c.daysLeft !== undefined ? { daysLeft: c.daysLeft } : {}),
    ...(c.inUseBy ? { inUseBy: c.inUseBy } : {}),
    ...(c.renewal ? { renewal: c.renewal } : {}),
    afterAction: after === 'never' ? 'never' : {
      seconds: parseDuration(after?.after ?? '10m', `${where}.afterAction.after`), status: after?.status ?? 'SUCCESS', ...(after?.reason ? { reason: after.reason } : {}),
    },
    ...(c.status ? { status: c.status } : {}),
    ...(c.eligibility ? { eligibility: c.eligibility } : {}),
    ...(c.exportable !== undefined ? { exportable: c.exportable } : {}),
    ...(c.managedBy ? { managedBy: c.managedBy } : {}),
    ...(c.tags ? { tags: c.tags } : {}),
  });
  // Put the validation records where the scenario says they are: in the zone of their domain (when one is simulated), or not.
  for (const d of cert.domains) {
    if (!d.record) continue;
    const zone = zones.zoneFor(d.record.name);
    if (!zone) continue;
    const key = dnsOrder(d.record.name, 'CNAME');
    if (d.state === 'missing') zone.records.delete(key);
    else {
      const value = d.state === 'present' ? d.record.value : derivedRecord(`${bare(d.record.name)}:stale`).value;
      zone.records.set(key, { Name: d.record.name, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: value }] });
    }
  }
}

/** `{ certificate, status?, renewalStatus?, renewalReason? }`: values as the SDK's CertificateStatus, RenewalStatus and FailureReason list them. */
function readCertificateChange(acm: AcmModel, read: ChangeReader): () => void {
  const arn = read.target('certificate', 'certificate (its ARN)');
  const cert = acm.certificates.get(arn);
  if (!cert) throw read.error('certificate', `no certificate ${arn} in world.acm (known: ${[...acm.certificates.keys()].join(', ') || 'none'})`);
  for (const key of ['record', 'type', 'delete']) if (read.has(key)) throw read.error(key, 'goes with zone, not certificate');
  read.requireChange(['status', 'renewalStatus']);
  const status = read.oneOf('status', Object.values(CertificateStatus));
  const renewal = read.oneOf('renewalStatus', Object.values(RenewalStatus));
  const reason = read.oneOf('renewalReason', Object.values(FailureReason));
  if (reason && !renewal) throw read.error('renewalReason', 'goes with renewalStatus');
  // ACM does not renew imported certificates (acm/latest/userguide/import-certificate.html): they have no renewal summary.
  if (renewal && cert.type === 'IMPORTED') throw read.error('renewalStatus', `${arn} is IMPORTED: ACM does not renew imported certificates`);
  return inOrder([
    status ? () => acm.setStatus(cert, status) : undefined,
    renewal ? () => acm.setRenewal(cert, renewal, reason) : undefined,
  ]);
}

/** `{ zone, record, type (CNAME), delete: true }`: someone deletes a record set of a simulated zone. */
function readRecordChange(zones: HostedZonesModel, read: ChangeReader): () => void {
  const id = read.target('zone', 'hosted zone (its id)');
  const zone = zones.zones.get(id.replace(/^\/hostedzone\//, ''));
  if (!zone) throw read.error('zone', `no zone ${id} in world.acm.zones (known: ${[...zones.zones.keys()].join(', ') || 'none'})`);
  const name = read.target('record', 'record (its name)');
  if (zone.apex && bare(name) !== zone.apex && !bare(name).endsWith(`.${zone.apex}`)) throw read.error('record', `${name} is not in zone ${id} (${zone.apex})`);
  const type = read.text('type') ?? 'CNAME';
  if (!read.flag('delete')) throw read.error('delete', 'is required: a record change deletes the record (delete: true)');
  for (const key of ['status', 'renewalStatus', 'renewalReason']) if (read.has(key)) throw read.error(key, 'goes with certificate, not zone');
  return () => zones.deleteRecord(zone, name, type);
}

/**
 * Reads a timeline `change: { acm: {...} }`: a certificate's `status` or `renewalStatus` (with
 * `renewalReason`) changes, or a record set of a zone is deleted.
 */
function readChange(acm: AcmModel, zones: HostedZonesModel, change: Record<string, unknown>, where: string): () => void {
  const read = new ChangeReader(change, where, ['certificate', 'status', 'renewalStatus', 'renewalReason', 'zone', 'record', 'type', 'delete']);
  if (read.has('certificate') === read.has('zone')) throw new Error(`${where}: give exactly one of certificate or zone`);
  return read.has('certificate') ? readCertificateChange(acm, read) : readRecordChange(zones, read);
}

/** Reads `world.acm` into the ACM and Route 53 models on the world's clock and answers ACM and Route 53 calls from them. */
export function installAcm(world: World): { acm: AcmModel; zones: HostedZonesModel } {
  const spec = (world.spec.acm ?? {}) as { certificates?: CertificateSpec[]; zones?: Record<string, ZoneSpec> };
  const clock = { now: () => world.clock.now(), later: (seconds: number, change: () => void) => world.later(seconds, change) };
  const zones = new HostedZonesModel(clock);
  const acm = new AcmModel(clock, world.env);
  readZones(zones, spec.zones ?? {});
  for (const [i, c] of (spec.certificates ?? []).entries()) readCertificate(acm, zones, c, `world.acm.certificates[${i}]`);
  zones.onRecordWritten((set, deleted) => acm.recordWritten(set, deleted));
  bindOperations(world.stub(ACMClient), acm.operations, (operation, input, mutating, answer) => world.answer('acm', operation, input, mutating, answer));
  bindOperations(world.stub(Route53Client), zones.operations, (operation, input, mutating, answer) => world.answer('route53', operation, input, mutating, answer));
  world.changes.set('acm', (change, where) => readChange(acm, zones, change, where));
  return { acm, zones };
}

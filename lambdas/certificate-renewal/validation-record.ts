import { ListResourceRecordSetsCommand, type Change, type Route53Client } from '@aws-sdk/client-route-53';
import type { DomainValidation } from '@aws-sdk/client-acm';

/** A DNS validation record exactly as ACM asks for it: names lowercase and fully qualified (trailing dot). */
export interface ValidationRecord {
  /** The certificate domain it validates (a wildcard's `*.` removed). */
  readonly domain: string;
  readonly name: string;
  readonly value: string;
}

/** TTL of a restored record: short, so a wrong value would not linger. */
export const VALIDATION_RECORD_TTL = 300;

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const DOMAIN = new RegExp(`^(?=.{1,253}$)(?:${LABEL}\\.)+${LABEL}$`);
/** ACM points validation records at `_<32 hex digits>.<label>.acm-validations.aws.`. */
const VALUE = new RegExp(`^_[0-9a-f]{32}\\.(?:${LABEL}\\.)*acm-validations\\.aws\\.$`);

const fullyQualified = (name: string): string => {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
};
const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Untrusted text quoted in a message: bounded and with control characters made visible. */
const quote = (text: unknown): string => JSON.stringify(String(text ?? '').slice(0, 120));

export type ReadRecord = { readonly ok: true; readonly record: ValidationRecord } | { readonly ok: false; readonly reason: string };

/**
 * Reads the record of one domain validation and refuses anything that is not the shape ACM
 * uses: a CNAME named `_<32 hex digits>.<the domain>.` pointing into `acm-validations.aws`. A
 * record outside that shape could be an apex or a `www` CNAME, and writing it would take the
 * site down or hand it to someone else, so medic never writes it.
 */
export function readValidationRecord(option: DomainValidation): ReadRecord {
  const refuse = (reason: string): ReadRecord => ({ ok: false, reason });
  const domain = String(option.DomainName ?? '').toLowerCase().replace(/^\*\./, '');
  if (!DOMAIN.test(domain)) return refuse(`refusing the validation of domain ${quote(option.DomainName)}: not a DNS name`);
  const record = option.ResourceRecord;
  if (!record?.Name || !record.Value) return refuse(`ACM gave no DNS validation record for ${domain}`);
  if (record.Type !== 'CNAME') return refuse(`refusing the validation record for ${domain}: type ${quote(record.Type)}, not CNAME`);
  const name = fullyQualified(record.Name);
  const value = fullyQualified(record.Value);
  if (!new RegExp(`^_[0-9a-f]{32}\\.${escapeRegex(domain)}\\.$`).test(name)) {
    return refuse(`refusing the validation record name ${quote(record.Name)}: ACM's record for ${domain} is _<32 hex digits>.${domain}.`);
  }
  if (!VALUE.test(value)) return refuse(`refusing the validation record value ${quote(record.Value)} for ${name}: ACM's records point to _<32 hex digits>.<label>.acm-validations.aws.`);
  return { ok: true, record: { domain, name, value } };
}

export interface HostedZone {
  readonly domain: string;
  readonly zoneId: string;
}

/** The configured hosted zone whose domain is the longest suffix of `name`, if any. */
export function hostedZoneFor(name: string, zones: Record<string, string>): HostedZone | undefined {
  const bare = name.replace(/\.$/, '');
  const matches = Object.entries(zones).filter(([domain]) => bare === domain || bare.endsWith(`.${domain}`));
  matches.sort(([a], [b]) => b.length - a.length);
  return matches[0] && { domain: matches[0][0], zoneId: matches[0][1] };
}

export type RecordState = { readonly state: 'present' } | { readonly state: 'missing' } | { readonly state: 'different'; readonly current: string[] };

/** Looks the record up in its hosted zone: present with ACM's value, missing, or a CNAME with another value. */
export async function lookUpRecord(route53: Route53Client, zoneId: string, record: ValidationRecord): Promise<RecordState> {
  const out = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: record.name, StartRecordType: 'CNAME', MaxItems: 1 }));
  const found = out.ResourceRecordSets?.[0];
  if (!found || fullyQualified(found.Name ?? '') !== record.name || found.Type !== 'CNAME') return { state: 'missing' };
  const current = (found.ResourceRecords ?? []).map((r) => fullyQualified(r.Value ?? ''));
  return current.length === 1 && current[0] === record.value ? { state: 'present' } : { state: 'different', current };
}

/** The only change medic makes in a zone: UPSERT of ACM's record, re-checked here so nothing else can be written. */
export function upsertChange(record: ValidationRecord): Change {
  const recheck = readValidationRecord({ DomainName: record.domain, ResourceRecord: { Name: record.name, Type: 'CNAME', Value: record.value } });
  if (!recheck.ok) throw new Error(recheck.reason);
  return {
    Action: 'UPSERT',
    ResourceRecordSet: { Name: record.name, Type: 'CNAME', TTL: VALIDATION_RECORD_TTL, ResourceRecords: [{ Value: record.value }] },
  };
}

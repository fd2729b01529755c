import { createHash } from 'node:crypto';
import {
  ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand,
  type ChangeResourceRecordSetsCommandInput, type ListResourceRecordSetsCommandInput, type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import type { ModelClock } from './clock';
import { awsError, type ModelOperations } from './operations';

/** A DNS name in lower case with its trailing dot, as Route 53 returns names. */
export const fqdn = (name: string): string => {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
};
/** A DNS name in lower case without its trailing dot. */
export const bare = (name: string): string => fqdn(name).replace(/\.$/, '');
/**
 * ListResourceRecordSets: "lists the records in ... order by name and type": names with their
 * labels reversed (com.example.www), then the type (API_ListResourceRecordSets.html, "How the
 * results are sorted"). The key a zone keeps each record set under.
 */
export const dnsOrder = (name: string, type: string): string => `${bare(name).split('.').reverse().join('.')} ${type}`;
const recordKey = (set: ResourceRecordSet): string => dnsOrder(set.Name ?? '', set.Type ?? '');
const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

/** A public hosted zone as the model keeps it. */
export interface HostedZone {
  readonly id: string;
  /** The zone's apex, without the trailing dot; a record outside it is refused. */
  readonly apex?: string;
  /** Record sets by {@link dnsOrder} key. */
  readonly records: Map<string, ResourceRecordSet>;
}

/** Told of every record set a change batch wrote (UPSERT, CREATE) or deleted. */
export type RecordListener = (set: ResourceRecordSet, deleted: boolean) => void;

/**
 * Route 53 hosted zones, as the certificate runbook reads and repairs them (ListResourceRecordSets,
 * ChangeResourceRecordSets). Used by the game-day world (lib/gameday/services/acm.ts) and the
 * workflow tests (test/support/fake-acm.ts). Each behaviour follows the Route 53 API reference
 * page or SDK doc comment of @aws-sdk/client-route-53 named beside it.
 */
export class HostedZonesModel {
  readonly zones = new Map<string, HostedZone>();
  private readonly listeners: RecordListener[] = [];

  readonly operations: ModelOperations = {
    ListResourceRecordSets: { command: ListResourceRecordSetsCommand, mutating: false, answer: (input: ListResourceRecordSetsCommandInput) => this.listResourceRecordSets(input) },
    ChangeResourceRecordSets: { command: ChangeResourceRecordSetsCommand, mutating: true, answer: (input: ChangeResourceRecordSetsCommandInput) => this.changeResourceRecordSets(input) },
  };

  constructor(private readonly clock: ModelClock) {}

  /** A zone holding `records` (names made fully qualified), its apex given or undefined (then any name is accepted). */
  addZone(id: string, records: ResourceRecordSet[], apex?: string): HostedZone {
    const zone: HostedZone = { id, apex: apex === undefined ? undefined : bare(apex), records: new Map() };
    for (const set of records) zone.records.set(recordKey(set), { ...structuredClone(set), Name: fqdn(set.Name ?? '') });
    this.zones.set(id, zone);
    return zone;
  }

  /** The zone whose apex is the longest suffix of `name`. */
  zoneFor(name: string): HostedZone | undefined {
    return [...this.zones.values()]
      .filter((z) => z.apex && (bare(name) === z.apex || bare(name).endsWith(`.${z.apex}`)))
      .sort((a, b) => b.apex!.length - a.apex!.length)[0];
  }

  /** Calls `listener` after every record set a change batch writes or deletes. */
  onRecordWritten(listener: RecordListener): void {
    this.listeners.push(listener);
  }

  /**
   * ListResourceRecordSets from StartRecordName/StartRecordType in DNS order, at most MaxItems
   * (default and maximum 300); IsTruncated with NextRecordName/NextRecordType when more follow
   * (API_ListResourceRecordSets.html).
   */
  listResourceRecordSets(input: ListResourceRecordSetsCommandInput) {
    const zone = this.zoneOf(input.HostedZoneId);
    const from = input.StartRecordName ? dnsOrder(input.StartRecordName, input.StartRecordType ?? '') : '';
    const rows = [...zone.records.keys()].sort().filter((key) => key >= from).map((key) => structuredClone(zone.records.get(key)!));
    const max = Number(input.MaxItems ?? 300);
    const next = rows[max];
    return {
      ResourceRecordSets: rows.slice(0, max), IsTruncated: rows.length > max, MaxItems: max,
      ...(next ? { NextRecordName: next.Name, NextRecordType: next.Type } : {}),
    };
  }

  /**
   * ChangeResourceRecordSets: "Change batches are considered transactional changes. Route 53
   * validates the changes in the request and then either makes all or none of the changes in
   * the change batch request" (API_ChangeResourceRecordSets.html). Errors (same page):
   * InvalidChangeBatch for a CREATE of an existing record set, a DELETE of a missing one, a batch
   * naming one record set twice or a name outside the zone; NoSuchHostedZone. The change is
   * `PENDING` when answered (ChangeInfo.Status: "PENDING indicates that this request has not
   * yet been applied to all Amazon Route 53 DNS servers"); the model applies it at once.
   */
  changeResourceRecordSets(input: ChangeResourceRecordSetsCommandInput) {
    const zone = this.zoneOf(input.HostedZoneId);
    const changes = input.ChangeBatch?.Changes ?? [];
    const keys = changes.map((c) => dnsOrder(c.ResourceRecordSet?.Name ?? '', c.ResourceRecordSet?.Type ?? ''));
    const repeated = keys.find((key, i) => keys.indexOf(key) !== i);
    if (repeated) throw awsError('InvalidChangeBatch', `[The request contains an invalid set of changes for a resource record set '${repeated}']`);
    for (const [i, change] of changes.entries()) {
      const set = change.ResourceRecordSet;
      if (!set?.Name || !set.Type) throw awsError('InvalidInput', 'a change needs a record set with Name and Type');
      if (zone.apex && bare(set.Name) !== zone.apex && !bare(set.Name).endsWith(`.${zone.apex}`)) {
        throw awsError('InvalidChangeBatch', `[RRSet with DNS name ${fqdn(set.Name)} is not permitted in zone ${zone.apex}.]`);
      }
      const exists = zone.records.has(keys[i]);
      if (change.Action === 'CREATE' && exists) throw awsError('InvalidChangeBatch', `[Tried to create resource record set [name='${fqdn(set.Name)}', type='${set.Type}'] but it already exists]`);
      if (change.Action === 'DELETE' && !exists) throw awsError('InvalidChangeBatch', `[Tried to delete resource record set [name='${fqdn(set.Name)}', type='${set.Type}'] but it was not found]`);
    }
    for (const [i, change] of changes.entries()) {
      const set = change.ResourceRecordSet!;
      if (change.Action === 'DELETE') zone.records.delete(keys[i]);
      else zone.records.set(keys[i], { ...structuredClone(set), Name: fqdn(set.Name!) });
      for (const listener of this.listeners) listener(set, change.Action === 'DELETE');
    }
    const now = this.clock.now();
    const id = md5(`${zone.id}:${now}:${keys.join(',')}`).slice(0, 20).toUpperCase();
    return { ChangeInfo: { Id: `/change/C${id}`, Status: 'PENDING', SubmittedAt: new Date(now), Comment: input.ChangeBatch?.Comment } };
  }

  /**
   * Someone deletes a record set outside medic (a timeline change), as a ChangeResourceRecordSets
   * DELETE would: the listeners are told (ACM sees a validation record go). Nothing when it is not there.
   */
  deleteRecord(zone: HostedZone, name: string, type: string): void {
    const key = dnsOrder(name, type);
    const set = zone.records.get(key);
    if (!set) return;
    zone.records.delete(key);
    for (const listener of this.listeners) listener(set, true);
  }

  /** A zone by its id, bare or as `/hostedzone/<id>`; NoSuchHostedZone ("No hosted zone exists with the ID that you specified") otherwise. */
  private zoneOf(id: string | undefined): HostedZone {
    const zone = id ? this.zones.get(id.replace(/^\/hostedzone\//, '')) : undefined;
    if (!zone) throw awsError('NoSuchHostedZone', `No hosted zone found with ID: ${id}`, 404);
    return zone;
  }
}

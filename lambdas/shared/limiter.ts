import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from './clients';

/**
 * The limiter table holds mutable admission state: incident claims (dedupe), attempt budgets
 * (sliding-window slots, limiter-rate.ts) and leases. Every write is conditional (on the version
 * it read, or on the slot being free), so decisions are exact under concurrency. Expiry is judged from stored
 * timestamps, never from DynamoDB TTL, which only keeps the table small.
 */

const MAX_CONFLICT_RETRIES = 25;
const TTL_MARGIN_SECONDS = 86400;

export interface Versioned {
  readonly pk: string;
  readonly version: number;
}

function isConflict(error: unknown): boolean {
  return (error as Error)?.name === 'ConditionalCheckFailedException';
}

async function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(200, 5 * 2 ** attempt);
  await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
}

export async function readItem<T extends Versioned>(table: string, pk: string): Promise<T | undefined> {
  const out = await dynamo().send(new GetCommand({ TableName: table, Key: { pk }, ConsistentRead: true }));
  return out.Item as T | undefined;
}

/** Writes `next` only if the item is still at the version that was read. */
async function writeIfUnchanged(table: string, next: Versioned & Record<string, unknown>, readVersion: number | undefined): Promise<void> {
  await dynamo().send(new PutCommand({
    TableName: table,
    Item: next,
    ConditionExpression: readVersion === undefined ? 'attribute_not_exists(pk)' : 'version = :v',
    ExpressionAttributeValues: readVersion === undefined ? undefined : { ':v': readVersion },
  }));
}

/**
 * Read-modify-write with optimistic versioning, retried on conflict. `decide` returns the
 * new item body (or undefined to leave the item as it is) and a result.
 */
export async function updateVersioned<T extends Versioned, R>(
  table: string,
  pk: string,
  decide: (current: T | undefined) => { next?: Omit<T, 'pk' | 'version'>; result: R },
): Promise<R> {
  for (let attempt = 0; ; attempt++) {
    const current = await readItem<T>(table, pk);
    const { next, result } = decide(current);
    if (!next) return result;
    try {
      await writeIfUnchanged(table, { ...next, pk, version: (current?.version ?? 0) + 1 }, current?.version);
      return result;
    } catch (error) {
      if (!isConflict(error) || attempt >= MAX_CONFLICT_RETRIES) throw error;
      await backoff(attempt);
    }
  }
}

export interface ClaimResult {
  readonly owned: boolean;
  readonly owner: string;
}

/** Claims an incident for one execution. The same execution re-claiming (a retried step) still owns it. */
export async function claimIncident(table: string, incidentId: string, executionId: string, ttlSeconds: number, now = Date.now()): Promise<ClaimResult> {
  const pk = `CLAIM#${incidentId}`;
  try {
    await dynamo().send(new PutCommand({
      TableName: table,
      Item: { pk, owner: executionId, claimedAt: new Date(now).toISOString(), expiresAt: Math.floor(now / 1000) + ttlSeconds },
      ConditionExpression: 'attribute_not_exists(pk) OR #owner = :me',
      ExpressionAttributeNames: { '#owner': 'owner' },
      ExpressionAttributeValues: { ':me': executionId },
    }));
    return { owned: true, owner: executionId };
  } catch (error) {
    if (!isConflict(error)) throw error;
    const existing = await dynamo().send(new GetCommand({ TableName: table, Key: { pk }, ConsistentRead: true }));
    return { owned: false, owner: String(existing.Item?.owner ?? 'unknown') };
  }
}

export { admitWithinRate, type RateDecision } from './limiter-rate';

/** One incident's hold on a lease: until when, and the fencing epoch it was granted with. */
export interface LeaseHold {
  readonly expiry: number;
  readonly epoch: number;
}

interface LeaseItem extends Versioned {
  /** incidentId -> its hold (items written before fencing hold a bare expiry, read as epoch 0). */
  readonly holders: Record<string, LeaseHold | number>;
  readonly expiresAt: number;
}

const holdOf = (value: LeaseHold | number): LeaseHold => (typeof value === 'number' ? { expiry: value, epoch: 0 } : value);

function liveHolders(item: LeaseItem | undefined, now: number): Record<string, LeaseHold> {
  return Object.fromEntries(Object.entries(item?.holders ?? {}).map(([id, v]) => [id, holdOf(v)] as const).filter(([, hold]) => hold.expiry > now));
}

export interface LeaseDecision {
  readonly acquired: boolean;
  /** Incidents holding an unexpired lease (other than the caller). */
  readonly holders: string[];
  /**
   * Fencing token of the caller's hold: the item version that granted it. A hold that expired
   * and is taken again gets a new epoch, so a check against the old one fails.
   */
  readonly epoch?: number;
}

/**
 * Acquires one of `max` leases on `key`; expired leases are reclaimed. Re-acquiring one's own
 * live lease extends it and keeps its epoch.
 */
export async function acquireLease(
  table: string, key: string, incidentId: string, max: number, leaseSeconds: number, now = Date.now(),
): Promise<LeaseDecision> {
  return updateVersioned<LeaseItem, LeaseDecision>(table, `LEASE#${key}`, (current) => {
    const live = liveHolders(current, now);
    const others = Object.keys(live).filter((id) => id !== incidentId);
    if (others.length >= max) return { result: { acquired: false, holders: others } };
    const expiry = now + leaseSeconds * 1000;
    const epoch = live[incidentId]?.epoch ?? (current?.version ?? 0) + 1;
    return {
      next: { holders: { ...live, [incidentId]: { expiry, epoch } }, expiresAt: Math.floor(expiry / 1000) + TTL_MARGIN_SECONDS },
      result: { acquired: true, holders: others, epoch },
    };
  });
}

/** What acquiring would decide, without taking anything (observe mode). */
export async function peekLease(table: string, key: string, incidentId: string, max: number, now = Date.now()): Promise<LeaseDecision> {
  const others = Object.keys(liveHolders(await readItem<LeaseItem>(table, `LEASE#${key}`), now)).filter((id) => id !== incidentId);
  return { acquired: others.length < max, holders: others };
}

export interface LeaseCheck {
  readonly held: boolean;
  readonly reason: string;
}

/**
 * Fencing: does `incidentId` still hold `key` with the epoch it was granted, unexpired? Checked
 * right before every mutating call, so an incident whose lease expired (and was perhaps taken
 * over by another incident) stops instead of acting on a target it no longer owns.
 */
export async function checkLease(table: string, key: string, incidentId: string, epoch: number, now = Date.now()): Promise<LeaseCheck> {
  const item = await readItem<LeaseItem>(table, `LEASE#${key}`);
  const raw = item?.holders?.[incidentId];
  const others = Object.keys(liveHolders(item, now)).filter((id) => id !== incidentId);
  const heldBy = others.length ? ` (now held by ${others.join(', ')})` : '';
  if (raw === undefined) return { held: false, reason: `lease ${key} is no longer held by this incident${heldBy}` };
  const hold = holdOf(raw);
  if (hold.epoch !== epoch) return { held: false, reason: `lease ${key} was granted again (epoch ${hold.epoch}, this step holds ${epoch})` };
  if (hold.expiry <= now) return { held: false, reason: `lease ${key} expired at ${new Date(hold.expiry).toISOString()}${heldBy}` };
  return { held: true, reason: `lease ${key} held until ${new Date(hold.expiry).toISOString()}` };
}

/** Releases a lease; releasing one that is not held is a no-op. */
export async function releaseLease(table: string, key: string, incidentId: string, now = Date.now()): Promise<void> {
  await updateVersioned<LeaseItem, void>(table, `LEASE#${key}`, (current) => {
    if (!current || !(incidentId in current.holders)) return { result: undefined };
    const holders = Object.fromEntries(Object.entries(liveHolders(current, now)).filter(([id]) => id !== incidentId));
    return { next: { holders, expiresAt: current.expiresAt }, result: undefined };
  });
}

/**
 * Releases `incidentId`'s hold on `key` only if it still holds it, and (given `epoch`) with that
 * epoch: the reconciler frees what an execution left behind, never a hold granted again since.
 * Returns `live` when a live hold was released, `expired` when an expired one was cleared,
 * undefined when there was none to release.
 */
export async function releaseLeaseIfHeld(table: string, key: string, incidentId: string, epoch?: number, now = Date.now()): Promise<'live' | 'expired' | undefined> {
  return updateVersioned<LeaseItem, 'live' | 'expired' | undefined>(table, `LEASE#${key}`, (current) => {
    const raw = current?.holders?.[incidentId];
    if (!current || raw === undefined) return { result: undefined };
    if (epoch !== undefined && holdOf(raw).epoch !== epoch) return { result: undefined };
    const holders = Object.fromEntries(Object.entries(liveHolders(current, now)).filter(([id]) => id !== incidentId));
    return { next: { holders, expiresAt: current.expiresAt }, result: holdOf(raw).expiry > now ? 'live' : 'expired' };
  });
}

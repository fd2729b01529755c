import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from './clients';

/**
 * The limiter table holds mutable admission state: incident claims (dedupe), attempt budgets
 * (sliding-window slots, limiter-rate.ts) and leases. Every write is conditional (on the version
 * it read, or on the slot being free), so decisions are exact under concurrency. Expiry is judged from stored
 * timestamps, never from DynamoDB TTL, which only keeps the table small.
 */

const MAX_CONFLICT_RETRIES = 25;
const TTL_MARGIN_SECONDS = 86400;
/** A lease item's TTL is at least this far past every hold in it (the versioned writes set it a day past). */
const TTL_MIN_SLACK_SECONDS = 3600;

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
  /**
   * How many entries `holders` has, live or expired: kept by every write, so a grant can be one
   * atomic conditional update (`holderCount < max`). Items written before it have none.
   */
  readonly holderCount?: number;
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
 *
 * One consistent read, then: a denial writes nothing; a grant is one conditional UpdateItem that
 * adds the holder and counts it (`holderCount < max`, the caller not yet a holder), so concurrent
 * grants do not conflict with each other, only with a full lease. The count includes expired
 * holds, so it never admits more than `max`; when only expired holds stand in the way, or the
 * item predates the count, the versioned read-modify-write below clears them and grants.
 * docs/architecture.md ("Leases") has the argument.
 */
export async function acquireLease(
  table: string, key: string, incidentId: string, max: number, leaseSeconds: number, now = Date.now(),
): Promise<LeaseDecision> {
  const pk = `LEASE#${key}`;
  const expiry = now + leaseSeconds * 1000;
  const expiresAt = Math.floor(expiry / 1000) + TTL_MARGIN_SECONDS;
  // The item's TTL must outlast every hold in it by a margin; a grant that would need it raised goes the versioned way.
  const ttlNeeded = Math.floor(expiry / 1000) + TTL_MIN_SLACK_SECONDS;
  for (let attempt = 0; ; attempt++) {
    const current = await readItem<LeaseItem>(table, pk);
    const live = liveHolders(current, now);
    const others = Object.keys(live).filter((id) => id !== incidentId);
    if (others.length >= max) return { acquired: false, holders: others };
    const count = current?.holderCount;
    // The atomic grant needs a counted item with room and a TTL that outlasts this hold; the caller must not hold it already.
    if (current && count !== undefined && count < max && current.expiresAt >= ttlNeeded && current.holders[incidentId] === undefined) {
      try {
        const epoch = current.version + 1;
        await grantCounted(table, pk, incidentId, max, { expiry, epoch }, ttlNeeded);
        return { acquired: true, holders: others, epoch };
      } catch (error) {
        if (!isConflict(error) || attempt >= MAX_CONFLICT_RETRIES) throw error;
        continue; // the lease filled (or changed shape) since the read: decide again from a fresh read
      }
    }
    try {
      const epoch = live[incidentId]?.epoch ?? (current?.version ?? 0) + 1;
      await writeIfUnchanged(table, {
        pk, version: (current?.version ?? 0) + 1,
        holders: { ...live, [incidentId]: { expiry, epoch } },
        holderCount: Object.keys(live).length + (live[incidentId] ? 0 : 1),
        expiresAt: Math.max(expiresAt, current?.expiresAt ?? 0),
      }, current?.version);
      return { acquired: true, holders: others, epoch };
    } catch (error) {
      if (!isConflict(error) || attempt >= MAX_CONFLICT_RETRIES) throw error;
      await backoff(attempt);
    }
  }
}

/**
 * Adds `incidentId`'s `hold` to `pk` if fewer than `max` holds are counted and it has none. The
 * epoch is the version read before plus one: every write raises the version, so a later grant
 * to the same incident reads a higher one and gets a new epoch.
 */
async function grantCounted(table: string, pk: string, incidentId: string, max: number, hold: LeaseHold, ttlNeeded: number): Promise<void> {
  await dynamo().send(new UpdateCommand({
    TableName: table,
    Key: { pk },
    UpdateExpression: 'SET holders.#me = :hold ADD holderCount :one, version :one',
    ConditionExpression: 'holderCount < :max AND attribute_not_exists(holders.#me) AND expiresAt >= :ttlNeeded',
    ExpressionAttributeNames: { '#me': incidentId },
    ExpressionAttributeValues: { ':hold': hold, ':one': 1, ':max': max, ':ttlNeeded': ttlNeeded },
  }));
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

/**
 * Releases a lease; releasing one that is not held is a no-op. One conditional UpdateItem that
 * removes the hold and uncounts it; an item written before the count falls back to the
 * versioned read-modify-write.
 */
export async function releaseLease(table: string, key: string, incidentId: string, now = Date.now()): Promise<void> {
  const pk = `LEASE#${key}`;
  try {
    await dynamo().send(new UpdateCommand({
      TableName: table,
      Key: { pk },
      UpdateExpression: 'REMOVE holders.#me ADD holderCount :minusOne, version :one',
      ConditionExpression: 'attribute_exists(holders.#me) AND attribute_exists(holderCount)',
      ExpressionAttributeNames: { '#me': incidentId },
      ExpressionAttributeValues: { ':minusOne': -1, ':one': 1 },
    }));
    return;
  } catch (error) {
    if (!isConflict(error)) throw error;
  }
  // Not held (nothing to do), or held in an item without a count.
  await updateVersioned<LeaseItem, void>(table, pk, (current) => {
    if (!current || !(incidentId in current.holders)) return { result: undefined };
    const holders = Object.fromEntries(Object.entries(liveHolders(current, now)).filter(([id]) => id !== incidentId));
    return { next: { holders, holderCount: Object.keys(holders).length, expiresAt: current.expiresAt }, result: undefined };
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
    return { next: { holders, holderCount: Object.keys(holders).length, expiresAt: current.expiresAt }, result: holdOf(raw).expiry > now ? 'live' : 'expired' };
  });
}

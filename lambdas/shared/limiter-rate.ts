import { BatchGetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from './clients';

/**
 * The attempt budget without a hot item: at most N admissions of a key in any sliding window,
 * kept as N slot items (`RATESLOT#<key>#<i>`, i < N), each holding the last admission it
 * granted. An admission is one conditional PutItem on a slot whose admission has left the
 * window; callers never read-modify-write a shared item, so concurrent decisions on one key
 * only meet when they pick the same slot. docs/architecture.md ("The attempt budget's slots")
 * has the proof sketch of exactness and idempotency, and the upgrade rule.
 */

const TTL_MARGIN_SECONDS = 86400;
/**
 * Every decision reads at least this many slots, whatever its own maxAttempts: policy.maxAttempts
 * is at most 10 (lib/platform/policy.ts), so a slot taken under a larger maxAttempts before the
 * policy was lowered is always seen and counted.
 */
export const MIN_RATE_SLOTS_READ = 10;
const BATCH_GET_KEYS = 100;
const MAX_UNPROCESSED_RETRIES = 8;

/** The single admission log of the versioned limiter before slots; read (never written) so its admissions still count. */
export const legacyRateKey = (key: string): string => `RATE#${key}`;
/** Slot `slot` of `key`'s budget. The index is after the last `#`, so (key, slot) -> pk is one-to-one. */
export const rateSlotKey = (key: string, slot: number): string => `RATESLOT#${key}#${slot}`;

export interface RateDecision {
  readonly admitted: boolean;
  /** Admissions inside the window, including this one when admitted. */
  readonly inWindow: number;
  /** When the oldest admission in the window leaves it (epoch ms), if denied. */
  readonly retryAfter?: number;
}

/** One admission inside the window: where it is kept (a slot index, or the legacy log) and when it was made. */
interface Held {
  readonly at: number;
  readonly incidentId: string;
  readonly slot?: number;
}

interface SlotItem {
  readonly pk: string;
  readonly at: number;
  readonly incidentId: string;
  readonly expiresAt: number;
}

interface LegacyItem {
  readonly pk: string;
  readonly admissions?: Array<{ at: number; incidentId: string }>;
}

function isConflict(error: unknown): boolean {
  return (error as Error)?.name === 'ConditionalCheckFailedException';
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** 32-bit FNV-1a with a murmur3 finaliser: a well-spread, stable hash of a string. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The order in which `incidentId` tries slots 0..n-1 (rendezvous hashing): pseudo-random per
 * incident, so concurrent callers spread over the slots, and the same for every attempt of one
 * incident, so two concurrent runs of one step go for the same slot (and the second finds its own).
 */
export function slotPreference(incidentId: string, n: number): number[] {
  return Array.from({ length: Math.max(0, n) }, (_, slot) => ({ slot, rank: hash32(`${incidentId}#${slot}`) }))
    .sort((a, b) => a.rank - b.rank || a.slot - b.slot)
    .map((s) => s.slot);
}

/** Consistent reads of `pks` with BatchGetItem (100 keys a request), retrying unprocessed keys; throws when they stay unprocessed. */
async function readAll(table: string, pks: string[]): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  const chunks: string[][] = [];
  for (let i = 0; i < pks.length; i += BATCH_GET_KEYS) chunks.push(pks.slice(i, i + BATCH_GET_KEYS));
  await Promise.all(chunks.map(async (chunk) => {
    let keys: Array<Record<string, unknown>> = chunk.map((pk) => ({ pk }));
    for (let attempt = 0; keys.length > 0; attempt++) {
      if (attempt > MAX_UNPROCESSED_RETRIES) throw new Error(`limiter: ${keys.length} key(s) still unprocessed after ${MAX_UNPROCESSED_RETRIES} BatchGetItem retries`);
      if (attempt > 0) await sleep(Math.random() * Math.min(200, 5 * 2 ** attempt));
      const out = await dynamo().send(new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }));
      items.push(...(out.Responses?.[table] ?? []));
      keys = out.UnprocessedKeys?.[table]?.Keys ?? [];
    }
  }));
  return items;
}

/** The admissions of `key` inside the window: slots 0..readSlots-1 and the legacy log. */
async function readWindow(table: string, key: string, readSlots: number, windowStart: number): Promise<Held[]> {
  const slotOf = new Map(Array.from({ length: readSlots }, (_, slot) => [rateSlotKey(key, slot), slot] as const));
  const legacyPk = legacyRateKey(key);
  const items = await readAll(table, [legacyPk, ...slotOf.keys()]);
  const held: Held[] = [];
  for (const item of items) {
    if (item.pk === legacyPk) {
      for (const a of (item as unknown as LegacyItem).admissions ?? []) if (a.at > windowStart) held.push({ at: a.at, incidentId: a.incidentId });
      continue;
    }
    const slot = slotOf.get(String(item.pk));
    const s = item as unknown as SlotItem;
    if (slot !== undefined && typeof s.at === 'number' && s.at > windowStart) held.push({ at: s.at, incidentId: s.incidentId, slot });
  }
  return held;
}

function denied(ats: number[], windowMs: number): RateDecision {
  return { admitted: false, inWindow: ats.length, ...(ats.length ? { retryAfter: Math.min(...ats) + windowMs } : {}) };
}

/**
 * Sliding-window limiter: admits when fewer than `maxAttempts` admissions for `key` happened
 * in the last `windowSeconds`, and records the admission. An incident already admitted (a
 * retried step) is admitted again without counting twice. With `count: false` (a dry run) the
 * decision is the same but nothing is recorded.
 *
 * One BatchGetItem of the slots (and the legacy log), then, to admit, one conditional PutItem on
 * a free slot; after a conflict (that slot was taken meanwhile) the slots are read again. A
 * denial writes nothing. Any error other than a conflict is thrown (the caller fails closed).
 */
export async function admitWithinRate(
  table: string, key: string, incidentId: string, maxAttempts: number, windowSeconds: number, now = Date.now(), count = true,
): Promise<RateDecision> {
  const windowMs = windowSeconds * 1000;
  const windowStart = now - windowMs;
  const n = Math.max(0, Math.floor(maxAttempts));
  const readSlots = Math.max(n, MIN_RATE_SLOTS_READ);
  for (let read = 0; ; read++) {
    const held = await readWindow(table, key, readSlots, windowStart);
    if (held.some((a) => a.incidentId === incidentId)) return { admitted: true, inWindow: held.length };

    // Admissions this decision may not add to: the legacy log's and those in slots >= n (taken
    // before maxAttempts was lowered). Nothing adds to them any more, so keeping new admissions to
    // slots below n - outside keeps every window at n (the upgrade rule in docs/architecture.md).
    const outside = held.filter((a) => a.slot === undefined || a.slot >= n).length;
    const taken = new Set(held.map((a) => a.slot));
    const candidates = slotPreference(incidentId, n - outside).filter((slot) => !taken.has(slot));
    // With no free slot below n - outside, each of them is held, so held.length >= n already.
    if (held.length >= n || candidates.length === 0) return denied(held.map((a) => a.at), windowMs);
    if (!count) return { admitted: true, inWindow: held.length + 1 };

    // One try per read: a conflict means another decision took a slot since this read, and under
    // contention the others are likely gone too; a fresh read (one request) shows which are left,
    // and a full window is denied from it, with its exact admission times. Each conflict is a slot
    // taken, so a decision re-reads at most n times.
    try {
      await putSlot(table, key, candidates[0], incidentId, now, windowStart, windowSeconds);
      return { admitted: true, inWindow: held.length + 1 };
    } catch (error) {
      if (!isConflict(error) || read >= n + 1) throw error;
    }
  }
}

/** Takes `slot` for `incidentId` if the admission it holds has left the window (or is this incident's). */
async function putSlot(table: string, key: string, slot: number, incidentId: string, now: number, windowStart: number, windowSeconds: number): Promise<void> {
  await dynamo().send(new PutCommand({
    TableName: table,
    Item: { pk: rateSlotKey(key, slot), at: now, incidentId, expiresAt: Math.floor(now / 1000) + windowSeconds + TTL_MARGIN_SECONDS },
    ConditionExpression: 'attribute_not_exists(pk) OR #at <= :windowStart OR incidentId = :me',
    ExpressionAttributeNames: { '#at': 'at' },
    ExpressionAttributeValues: { ':windowStart': windowStart, ':me': incidentId },
  }));
}

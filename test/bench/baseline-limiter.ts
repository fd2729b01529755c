import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../lambdas/shared/clients';

/**
 * The bench's `baseline`: the attempt budget as it was before slots (one `RATE#<key>` item
 * holding the whole sliding log, read-modify-written with optimistic versioning and retried
 * with jittered backoff on conflict), copied verbatim so the same run can compare the two.
 * Not used by any handler.
 */

const MAX_CONFLICT_RETRIES = 25;
const TTL_MARGIN_SECONDS = 86400;

interface Versioned {
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

async function readItem<T extends Versioned>(table: string, pk: string): Promise<T | undefined> {
  const out = await dynamo().send(new GetCommand({ TableName: table, Key: { pk }, ConsistentRead: true }));
  return out.Item as T | undefined;
}

async function writeIfUnchanged(table: string, next: Versioned & Record<string, unknown>, readVersion: number | undefined): Promise<void> {
  await dynamo().send(new PutCommand({
    TableName: table,
    Item: next,
    ConditionExpression: readVersion === undefined ? 'attribute_not_exists(pk)' : 'version = :v',
    ExpressionAttributeValues: readVersion === undefined ? undefined : { ':v': readVersion },
  }));
}

async function updateVersioned<T extends Versioned, R>(
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

interface RateItem extends Versioned {
  readonly admissions: Array<{ at: number; incidentId: string }>;
  readonly expiresAt: number;
}

export interface RateDecision {
  readonly admitted: boolean;
  readonly inWindow: number;
  readonly retryAfter?: number;
}

export async function baselineAdmitWithinRate(
  table: string, key: string, incidentId: string, maxAttempts: number, windowSeconds: number, now = Date.now(), count = true,
): Promise<RateDecision> {
  return updateVersioned<RateItem, RateDecision>(table, `RATE#${key}`, (current) => {
    const windowStart = now - windowSeconds * 1000;
    const recent = (current?.admissions ?? []).filter((a) => a.at > windowStart);
    if (recent.some((a) => a.incidentId === incidentId)) return { result: { admitted: true, inWindow: recent.length } };
    if (recent.length >= maxAttempts) {
      const oldest = Math.min(...recent.map((a) => a.at));
      return { result: { admitted: false, inWindow: recent.length, retryAfter: oldest + windowSeconds * 1000 } };
    }
    const admissions = [...recent, { at: now, incidentId }];
    if (!count) return { result: { admitted: true, inWindow: admissions.length } };
    return {
      next: { admissions, expiresAt: Math.floor(now / 1000) + windowSeconds + TTL_MARGIN_SECONDS },
      result: { admitted: true, inWindow: admissions.length },
    };
  });
}

interface LeaseItem extends Versioned {
  readonly holders: Record<string, { expiry: number; epoch: number }>;
  readonly expiresAt: number;
}

/**
 * The lease as it was before the counted grant (every grant a versioned read-modify-write of the
 * whole holders map), copied so the bench can compare the runbook cap under a storm.
 */
export async function baselineAcquireLease(
  table: string, key: string, incidentId: string, max: number, leaseSeconds: number, now = Date.now(),
): Promise<{ acquired: boolean; holders: string[]; epoch?: number }> {
  return updateVersioned<LeaseItem, { acquired: boolean; holders: string[]; epoch?: number }>(table, `LEASE#${key}`, (current) => {
    const live = Object.fromEntries(Object.entries(current?.holders ?? {}).filter(([, hold]) => hold.expiry > now));
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

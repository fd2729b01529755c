import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../lambdas/shared/clients';
import { claimAct, readActClaim, settleAct } from '../../lambdas/shared/act-claim';
import { acquireLease, admitWithinRate, checkLease, claimIncident, peekLease, releaseLease } from '../../lambdas/shared/limiter';
import { legacyRateKey, rateSlotKey, slotPreference } from '../../lambdas/shared/limiter-rate';
import { LocalDynamo, limiterTableInput } from '../../lib/local/dynalite';

/** The limiter (dedupe claims, sliding-window rate, leases) against dynalite, under real concurrency. */

const local = new LocalDynamo();
let raw: DynamoDBDocumentClient;
let tableCounter = 0;

const MINUTE = 60_000;
const HOUR = 3600;
const T0 = Date.UTC(2026, 5, 1, 8, 0, 0);

async function freshLimiterTable(): Promise<string> {
  const name = `limiter-${++tableCounter}`;
  await local.createTable(limiterTableInput(name));
  return name;
}

async function rawItem(table: string, pk: string): Promise<Record<string, unknown> | undefined> {
  return (await raw.send(new GetCommand({ TableName: table, Key: { pk }, ConsistentRead: true }))).Item;
}

/**
 * Every admission stored in `key`'s slots (the first `slots` of them), whatever its time. Read one
 * at a time: 64 reads at once from a fresh client opened as many sockets, which dynalite reset
 * on a loaded machine.
 */
async function storedAdmissions(table: string, key: string, slots = 64): Promise<Array<{ slot: number; at: number; incidentId: string }>> {
  const found: Array<{ slot: number; at: number; incidentId: string }> = [];
  for (let slot = 0; slot < slots; slot++) {
    const item = await rawItem(table, rateSlotKey(key, slot));
    if (item) found.push({ slot, at: Number(item.at), incidentId: String(item.incidentId) });
  }
  return found;
}

const ids = (n: number, prefix: string): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);

beforeAll(async () => {
  await local.start();
  raw = DynamoDBDocumentClient.from(local.client());
});

afterAll(async () => {
  raw?.destroy();
  dynamo().destroy();
  await local.stop();
});

describe('admitWithinRate', () => {
  test('200 concurrent callers on one key with maxAttempts 3: exactly 3 admitted', async () => {
    const table = await freshLimiterTable();
    const incidents = ids(200, 'inc');
    const decisions = await Promise.all(incidents.map((id) => admitWithinRate(table, 'api#svc', id, 3, HOUR, T0)));

    const admitted = incidents.filter((_, i) => decisions[i].admitted);
    expect(admitted).toHaveLength(3);
    expect(decisions.filter((d) => !d.admitted).every((d) => d.inWindow === 3 && d.retryAfter === T0 + HOUR * 1000)).toBe(true);

    // the slots hold exactly the admitted incidents, one each
    const stored = (await storedAdmissions(table, 'api#svc')).map((a) => a.incidentId).sort();
    expect(stored).toEqual([...admitted].sort());
  });

  test('sliding window: the 4th in an hour is denied until the oldest admission leaves the window', async () => {
    const table = await freshLimiterTable();
    const key = 'api#svc';
    await expect(admitWithinRate(table, key, 'a', 3, HOUR, T0)).resolves.toEqual({ admitted: true, inWindow: 1 });
    await expect(admitWithinRate(table, key, 'b', 3, HOUR, T0 + 10 * MINUTE)).resolves.toEqual({ admitted: true, inWindow: 2 });
    await expect(admitWithinRate(table, key, 'c', 3, HOUR, T0 + 20 * MINUTE)).resolves.toEqual({ admitted: true, inWindow: 3 });

    const fourth = await admitWithinRate(table, key, 'd', 3, HOUR, T0 + 30 * MINUTE);
    expect(fourth).toEqual({ admitted: false, inWindow: 3, retryAfter: T0 + 60 * MINUTE });

    // one millisecond before the first admission leaves the window: still denied
    await expect(admitWithinRate(table, key, 'e', 3, HOUR, T0 + 60 * MINUTE - 1)).resolves.toMatchObject({ admitted: false, retryAfter: T0 + 60 * MINUTE });

    const fifth = await admitWithinRate(table, key, 'f', 3, HOUR, T0 + 60 * MINUTE + 1);
    expect(fifth).toEqual({ admitted: true, inWindow: 3 });

    // now b, c, f are in the window: the next is denied until b leaves (t+70min)
    await expect(admitWithinRate(table, key, 'g', 3, HOUR, T0 + 61 * MINUTE)).resolves.toEqual({ admitted: false, inWindow: 3, retryAfter: T0 + 70 * MINUTE });
  });

  test('a denial is not recorded as an admission', async () => {
    const table = await freshLimiterTable();
    await admitWithinRate(table, 'k', 'a', 1, HOUR, T0);
    for (let i = 0; i < 5; i++) {
      await expect(admitWithinRate(table, 'k', `denied-${i}`, 1, HOUR, T0 + i * MINUTE)).resolves.toMatchObject({ admitted: false });
    }
    // only 'a' was ever admitted, so once it leaves, a new incident is admitted at once
    await expect(admitWithinRate(table, 'k', 'later', 1, HOUR, T0 + HOUR * 1000 + 1)).resolves.toEqual({ admitted: true, inWindow: 1 });
  });

  test('count: false (a dry run) gets the real decision but records nothing', async () => {
    const table = await freshLimiterTable();
    await expect(admitWithinRate(table, 'k', 'dry-1', 1, HOUR, T0, false)).resolves.toEqual({ admitted: true, inWindow: 1 });
    await expect(admitWithinRate(table, 'k', 'dry-2', 1, HOUR, T0 + 1, false)).resolves.toEqual({ admitted: true, inWindow: 1 });
    await expect(admitWithinRate(table, 'k', 'real', 1, HOUR, T0 + 2)).resolves.toEqual({ admitted: true, inWindow: 1 });
    // the window is now full: a dry run is told the real run would be refused
    await expect(admitWithinRate(table, 'k', 'dry-3', 1, HOUR, T0 + 3, false)).resolves.toMatchObject({ admitted: false, inWindow: 1 });
  });

  test('the same incident re-admitted (a retried step) does not count twice', async () => {
    const table = await freshLimiterTable();
    const key = 'api#svc';
    await expect(admitWithinRate(table, key, 'a', 3, HOUR, T0)).resolves.toEqual({ admitted: true, inWindow: 1 });
    await expect(admitWithinRate(table, key, 'a', 3, HOUR, T0 + MINUTE)).resolves.toEqual({ admitted: true, inWindow: 1 });
    await expect(admitWithinRate(table, key, 'a', 3, HOUR, T0 + 2 * MINUTE)).resolves.toEqual({ admitted: true, inWindow: 1 });
    await expect(admitWithinRate(table, key, 'b', 3, HOUR, T0 + 3 * MINUTE)).resolves.toEqual({ admitted: true, inWindow: 2 });
    await expect(admitWithinRate(table, key, 'c', 3, HOUR, T0 + 4 * MINUTE)).resolves.toEqual({ admitted: true, inWindow: 3 });
    await expect(admitWithinRate(table, key, 'd', 3, HOUR, T0 + 5 * MINUTE)).resolves.toMatchObject({ admitted: false, inWindow: 3 });
    // a retry of an admitted incident is still admitted when the window is full
    await expect(admitWithinRate(table, key, 'b', 3, HOUR, T0 + 6 * MINUTE)).resolves.toEqual({ admitted: true, inWindow: 3 });

    expect(await storedAdmissions(table, key)).toHaveLength(3);
  });

  test('keys are independent', async () => {
    const table = await freshLimiterTable();
    await admitWithinRate(table, 'runbook#target-1', 'a', 1, HOUR, T0);
    await expect(admitWithinRate(table, 'runbook#target-1', 'b', 1, HOUR, T0)).resolves.toMatchObject({ admitted: false });
    await expect(admitWithinRate(table, 'runbook#target-2', 'b', 1, HOUR, T0)).resolves.toMatchObject({ admitted: true });
  });
});

describe('admitWithinRate: slots, no hot item', () => {
  /** An incident id whose first choice among `n` slots is `slot` (the order is a fixed function of the id). */
  const preferring = (slot: number, n: number, prefix: string): string => {
    for (let i = 0; ; i++) if (slotPreference(`${prefix}-${i}`, n)[0] === slot) return `${prefix}-${i}`;
  };

  test('200 concurrent callers on one key with maxAttempts 50: exactly 50 admitted, one per slot', async () => {
    const table = await freshLimiterTable();
    const incidents = ids(200, 'inc');
    const decisions = await Promise.all(incidents.map((id) => admitWithinRate(table, 'api#svc', id, 50, HOUR, T0)));
    const admitted = incidents.filter((_, i) => decisions[i].admitted);
    expect(admitted).toHaveLength(50);
    expect(decisions.filter((d) => !d.admitted).every((d) => d.inWindow === 50 && d.retryAfter === T0 + HOUR * 1000)).toBe(true);
    const stored = await storedAdmissions(table, 'api#svc');
    expect(stored.map((a) => a.slot)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(stored.map((a) => a.incidentId).sort()).toEqual([...admitted].sort());
  });

  test('a step retried while others contend (5 concurrent runs of one incident among 40): one admission, every run agrees', async () => {
    const table = await freshLimiterTable();
    const calls = [...Array.from({ length: 5 }, () => 'retried'), ...ids(40, 'other')];
    const decisions = await Promise.all(calls.map((id) => admitWithinRate(table, 'k', id, 3, HOUR, T0)));
    const retried = decisions.slice(0, 5).map((d) => d.admitted);
    expect(new Set(retried).size).toBe(1);
    const stored = await storedAdmissions(table, 'k');
    expect(stored).toHaveLength(3);
    expect(new Set(stored.map((a) => a.incidentId)).size).toBe(3);
    expect(new Set(calls.filter((_, i) => decisions[i].admitted)).size).toBe(3);
    // and retried later, it is told the same
    await expect(admitWithinRate(table, 'k', 'retried', 3, HOUR, T0 + MINUTE)).resolves.toMatchObject({ admitted: retried[0] });
  });

  test('a slot whose admission left the window is reused; the key never has more than N slots', async () => {
    const table = await freshLimiterTable();
    await expect(admitWithinRate(table, 'k', 'a', 2, HOUR, T0)).resolves.toEqual({ admitted: true, inWindow: 1 });
    await expect(admitWithinRate(table, 'k', 'b', 2, HOUR, T0 + 10 * MINUTE)).resolves.toEqual({ admitted: true, inWindow: 2 });
    await expect(admitWithinRate(table, 'k', 'c', 2, HOUR, T0 + 60 * MINUTE - 1)).resolves.toEqual({ admitted: false, inWindow: 2, retryAfter: T0 + 60 * MINUTE });
    await expect(admitWithinRate(table, 'k', 'c', 2, HOUR, T0 + 60 * MINUTE)).resolves.toEqual({ admitted: true, inWindow: 2 });
    const stored = await storedAdmissions(table, 'k');
    expect(stored.map((a) => [a.incidentId, a.at]).sort()).toEqual([['b', T0 + 10 * MINUTE], ['c', T0 + 60 * MINUTE]]);
    await expect(admitWithinRate(table, 'k', 'd', 2, HOUR, T0 + 61 * MINUTE)).resolves.toEqual({ admitted: false, inWindow: 2, retryAfter: T0 + 70 * MINUTE });
    // 50 concurrent once a slot is free again: exactly one of them gets it
    const later = await Promise.all(ids(50, 'late').map((id) => admitWithinRate(table, 'k', id, 2, HOUR, T0 + 71 * MINUTE)));
    expect(later.filter((d) => d.admitted)).toHaveLength(1);
  });

  test('maxAttempts lowered: admissions in slots beyond the new N still count, and never more than the new N are in the window', async () => {
    const table = await freshLimiterTable();
    // two admissions under maxAttempts 5 that landed in slots 3 and 4
    const high = [preferring(3, 5, 'high'), preferring(4, 5, 'high')];
    for (const id of high) await expect(admitWithinRate(table, 'k', id, 5, HOUR, T0)).resolves.toMatchObject({ admitted: true });
    expect((await storedAdmissions(table, 'k')).map((a) => a.slot)).toEqual([3, 4]);
    // maxAttempts is now 3: with 2 in the window, 50 concurrent callers get exactly one admission
    const decisions = await Promise.all(ids(50, 'low').map((id) => admitWithinRate(table, 'k', id, 3, HOUR, T0 + MINUTE)));
    expect(decisions.filter((d) => d.admitted)).toHaveLength(1);
    expect(decisions.filter((d) => !d.admitted).every((d) => d.inWindow === 3 && d.retryAfter === T0 + HOUR * 1000)).toBe(true);
    // maxAttempts 1 now: 3 in the window, denied; the earlier admissions are still recognised as admitted
    await expect(admitWithinRate(table, 'k', 'x', 1, HOUR, T0 + 2 * MINUTE)).resolves.toMatchObject({ admitted: false, inWindow: 3 });
    await expect(admitWithinRate(table, 'k', high[0], 1, HOUR, T0 + 2 * MINUTE)).resolves.toEqual({ admitted: true, inWindow: 3 });
  });

  test('the legacy RATE#<key> log (before slots) still counts during its window, also under contention', async () => {
    const table = await freshLimiterTable();
    await raw.send(new PutCommand({
      TableName: table,
      Item: { pk: legacyRateKey('k'), version: 2, admissions: [{ at: T0 - 2 * HOUR * 1000, incidentId: 'old' }, { at: T0, incidentId: 'a' }, { at: T0 + MINUTE, incidentId: 'b' }], expiresAt: 0 },
    }));
    await expect(admitWithinRate(table, 'k', 'a', 3, HOUR, T0 + 2 * MINUTE)).resolves.toEqual({ admitted: true, inWindow: 2 });
    const decisions = await Promise.all(ids(50, 'new').map((id) => admitWithinRate(table, 'k', id, 3, HOUR, T0 + 2 * MINUTE)));
    expect(decisions.filter((d) => d.admitted)).toHaveLength(1);
    expect(decisions.filter((d) => !d.admitted).every((d) => d.inWindow === 3 && d.retryAfter === T0 + HOUR * 1000)).toBe(true);
    expect(await storedAdmissions(table, 'k')).toHaveLength(1);
    // once a and b leave the window, two more fit
    const after = await Promise.all(ids(10, 'after').map((id) => admitWithinRate(table, 'k', id, 3, HOUR, T0 + 61 * MINUTE + 1)));
    expect(after.filter((d) => d.admitted)).toHaveLength(2);
  });

  test('a dry run reads only: no slot and no log is written, whatever it decides', async () => {
    const table = await freshLimiterTable();
    const dry = await Promise.all(ids(20, 'dry').map((id) => admitWithinRate(table, 'k', id, 3, HOUR, T0, false)));
    expect(dry.every((d) => d.admitted && d.inWindow === 1)).toBe(true);
    expect(await storedAdmissions(table, 'k')).toEqual([]);
    expect(await rawItem(table, legacyRateKey('k'))).toBeUndefined();
  });

  test('a DynamoDB error after the read fails the decision (closed), and nothing is admitted', async () => {
    const table = await freshLimiterTable();
    const failPuts = 'failLimiterPuts';
    dynamo().middlewareStack.add((next, context) => async (args) => {
      if (context.commandName === 'PutItemCommand') throw Object.assign(new Error('injected'), { name: 'ValidationException' });
      return next(args);
    }, { step: 'initialize', name: failPuts });
    try {
      await expect(admitWithinRate(table, 'k', 'a', 3, HOUR, T0)).rejects.toMatchObject({ name: 'ValidationException' });
    } finally {
      dynamo().middlewareStack.remove(failPuts);
    }
    expect(await storedAdmissions(table, 'k')).toEqual([]);
    await expect(admitWithinRate(table, 'k', 'a', 3, HOUR, T0 + 1)).resolves.toEqual({ admitted: true, inWindow: 1 });
    // a read that fails (no such table) fails too
    await expect(admitWithinRate('no-such-limiter', 'k', 'b', 3, HOUR, T0)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});

describe('acquireLease and releaseLease', () => {
  test('max 1: of 20 concurrent incidents exactly one acquires, the others see it as the holder', async () => {
    const table = await freshLimiterTable();
    const incidents = ids(20, 'inc');
    const decisions = await Promise.all(incidents.map((id) => acquireLease(table, 'target#svc', id, 1, 600, T0)));
    const winners = incidents.filter((_, i) => decisions[i].acquired);
    expect(winners).toHaveLength(1);
    for (const d of decisions.filter((x) => !x.acquired)) expect(d.holders).toEqual(winners);
    const item = await rawItem(table, 'LEASE#target#svc');
    expect(Object.keys(item?.holders as Record<string, number>)).toEqual(winners);
  });

  test('max 2: of 20 concurrent incidents exactly two acquire', async () => {
    const table = await freshLimiterTable();
    const incidents = ids(20, 'inc');
    const decisions = await Promise.all(incidents.map((id) => acquireLease(table, 'runbook#api', id, 2, 600, T0)));
    const winners = incidents.filter((_, i) => decisions[i].acquired);
    expect(winners).toHaveLength(2);
    for (const d of decisions.filter((x) => !x.acquired)) expect([...d.holders].sort()).toEqual([...winners].sort());
  });

  test('the holder re-acquires (and extends) its lease; others are still refused', async () => {
    const table = await freshLimiterTable();
    await expect(acquireLease(table, 'k', 'a', 1, 600, T0)).resolves.toEqual({ acquired: true, holders: [], epoch: 1 });
    // Extending one's own live lease keeps its fencing epoch.
    await expect(acquireLease(table, 'k', 'a', 1, 600, T0 + 500_000)).resolves.toEqual({ acquired: true, holders: [], epoch: 1 });
    // the original lease would have expired at T0+600s; the re-acquire extended it to T0+1100s
    await expect(acquireLease(table, 'k', 'b', 1, 600, T0 + 700_000)).resolves.toEqual({ acquired: false, holders: ['a'] });
    await expect(acquireLease(table, 'k', 'b', 1, 600, T0 + 1_100_001)).resolves.toMatchObject({ acquired: true, holders: [] });
  });

  test('after releaseLease another incident can acquire', async () => {
    const table = await freshLimiterTable();
    await acquireLease(table, 'k', 'a', 1, 600, T0);
    await expect(acquireLease(table, 'k', 'b', 1, 600, T0 + 1000)).resolves.toMatchObject({ acquired: false });
    await releaseLease(table, 'k', 'a', T0 + 2000);
    await expect(acquireLease(table, 'k', 'b', 1, 600, T0 + 3000)).resolves.toEqual({ acquired: true, holders: [], epoch: 3 });
    await expect(acquireLease(table, 'k', 'a', 1, 600, T0 + 4000)).resolves.toEqual({ acquired: false, holders: ['b'] });
  });

  test('an expired lease is reclaimed', async () => {
    const table = await freshLimiterTable();
    await acquireLease(table, 'k', 'a', 1, 60, T0);
    await expect(acquireLease(table, 'k', 'b', 1, 60, T0 + 59_999)).resolves.toEqual({ acquired: false, holders: ['a'] });
    await expect(acquireLease(table, 'k', 'b', 1, 60, T0 + 60_001)).resolves.toEqual({ acquired: true, holders: [], epoch: 2 });
    const item = await rawItem(table, 'LEASE#k');
    expect(item?.holders).toEqual({ b: { expiry: T0 + 60_001 + 60_000, epoch: 2 } });
  });

  test('releasing a lease that is not held is a no-op (no write, holders unchanged)', async () => {
    const table = await freshLimiterTable();
    await releaseLease(table, 'nobody-ever', 'a', T0);
    expect(await rawItem(table, 'LEASE#nobody-ever')).toBeUndefined();

    await acquireLease(table, 'k', 'a', 1, 600, T0);
    const before = await rawItem(table, 'LEASE#k');
    await releaseLease(table, 'k', 'stranger', T0 + 1000);
    expect(await rawItem(table, 'LEASE#k')).toEqual(before);
    await expect(acquireLease(table, 'k', 'b', 1, 600, T0 + 2000)).resolves.toEqual({ acquired: false, holders: ['a'] });
  });
});

describe('leases: the counted grant (one conditional update, no read-modify-write race)', () => {
  /** The lease item's holders and count, as stored. */
  const stored = async (table: string, key: string) => {
    const item = await rawItem(table, `LEASE#${key}`);
    return { holders: Object.keys((item?.holders ?? {}) as object).sort(), holderCount: item?.holderCount, version: item?.version, expiresAt: Number(item?.expiresAt) };
  };

  test('max 20, 60 concurrent incidents: exactly 20 acquire, each hold stores the epoch its incident was given, and the count matches the holders', async () => {
    const table = await freshLimiterTable();
    const incidents = ids(60, 'storm');
    const decisions = await Promise.all(incidents.map((id) => acquireLease(table, 'runbook#storm', id, 20, 600, T0)));
    const winners = incidents.filter((_, i) => decisions[i].acquired);
    expect(winners).toHaveLength(20);
    expect(await stored(table, 'runbook#storm')).toMatchObject({ holders: [...winners].sort(), holderCount: 20 });
    // Epochs fence one incident's successive holds (holder and epoch are checked together), so two incidents may share one.
    for (const [i, id] of incidents.entries()) {
      if (decisions[i].acquired) await expect(checkLease(table, 'runbook#storm', id, decisions[i].epoch!, T0 + 1)).resolves.toMatchObject({ held: true });
    }
    for (const d of decisions.filter((x) => !x.acquired)) expect(d.holders).toHaveLength(20);
  });

  test('grants and releases at once: never more than max held, and the count always equals the holders', async () => {
    const table = await freshLimiterTable();
    const first = ids(3, 'first');
    for (const id of first) expect((await acquireLease(table, 'runbook#mix', id, 3, 600, T0)).acquired).toBe(true);
    const newcomers = ids(12, 'new');
    const [decisions] = await Promise.all([
      Promise.all(newcomers.map((id) => acquireLease(table, 'runbook#mix', id, 3, 600, T0 + 1))),
      Promise.all(first.map((id) => releaseLease(table, 'runbook#mix', id, T0 + 1))),
    ]);
    const after = await stored(table, 'runbook#mix');
    expect(after.holderCount).toBe(after.holders.length);
    expect(after.holders.length).toBeLessThanOrEqual(3);
    expect(after.holders.every((id) => id.startsWith('new-'))).toBe(true);
    expect(after.holders).toEqual(newcomers.filter((_, i) => decisions[i].acquired).sort());
  });

  test('expired holds count until a grant clears them: max 2 with one live and one expired, the third is granted and the expired one is gone', async () => {
    const table = await freshLimiterTable();
    await acquireLease(table, 'k', 'short', 2, 60, T0);
    await acquireLease(table, 'k', 'long', 2, 3600, T0);
    await expect(acquireLease(table, 'k', 'c', 2, 600, T0 + 61_000)).resolves.toMatchObject({ acquired: true, holders: ['long'] });
    expect(await stored(table, 'k')).toMatchObject({ holders: ['c', 'long'], holderCount: 2 });
    await expect(acquireLease(table, 'k', 'd', 2, 600, T0 + 62_000)).resolves.toEqual({ acquired: false, holders: ['long', 'c'] });
  });

  test('an item written before the count (holders only) is honoured: its holds count, and the next grant adds the count', async () => {
    const table = await freshLimiterTable();
    await raw.send(new PutCommand({ TableName: table, Item: { pk: 'LEASE#k', version: 4, holders: { old: { expiry: T0 + 600_000, epoch: 4 } }, expiresAt: Math.floor(T0 / 1000) + 90_000 } }));
    await expect(acquireLease(table, 'k', 'b', 1, 600, T0 + 1000)).resolves.toEqual({ acquired: false, holders: ['old'] });
    await expect(acquireLease(table, 'k', 'b', 2, 600, T0 + 1000)).resolves.toEqual({ acquired: true, holders: ['old'], epoch: 5 });
    expect(await stored(table, 'k')).toMatchObject({ holders: ['b', 'old'], holderCount: 2, version: 5 });
    // and a hold in such an item is released through the versioned path
    await raw.send(new PutCommand({ TableName: table, Item: { pk: 'LEASE#legacy', version: 1, holders: { old: T0 + 600_000 }, expiresAt: Math.floor(T0 / 1000) + 90_000 } }));
    await releaseLease(table, 'legacy', 'old', T0 + 1000);
    expect(await stored(table, 'legacy')).toMatchObject({ holders: [], holderCount: 0, version: 2 });
  });

  test('the item\'s TTL always outlasts every hold in it by at least an hour', async () => {
    const table = await freshLimiterTable();
    for (const [i, id] of ids(5, 'ttl').entries()) {
      // each later grant holds until later: some go through the counted update, the one that needs a longer TTL through the versioned write
      await acquireLease(table, 'k', id, 10, 600 + i * 20_000, T0 + i * 1000);
      const item = await rawItem(table, 'LEASE#k');
      const latest = Math.max(...Object.values(item!.holders as Record<string, { expiry: number }>).map((h) => h.expiry));
      expect(Number(item!.expiresAt)).toBeGreaterThanOrEqual(Math.floor(latest / 1000) + 3600);
    }
    expect((await stored(table, 'k')).holderCount).toBe(5);
  });

  test('a counted grant that finds the lease filled since its read is refused, not granted over the cap', async () => {
    const table = await freshLimiterTable();
    await acquireLease(table, 'k', 'a', 2, 600, T0);
    // Between b's read and its update, c takes the last place.
    const name = 'interleaveC';
    let interleaved = false;
    dynamo().middlewareStack.add((next, context) => async (args) => {
      if (context.commandName === 'UpdateItemCommand' && !interleaved) {
        interleaved = true;
        await raw.send(new PutCommand({ TableName: table, Item: { ...(await rawItem(table, 'LEASE#k')), holders: { a: { expiry: T0 + 600_000, epoch: 1 }, c: { expiry: T0 + 600_000, epoch: 2 } }, holderCount: 2, version: 2 } }));
      }
      return next(args);
    }, { step: 'initialize', name });
    try {
      await expect(acquireLease(table, 'k', 'b', 2, 600, T0 + 1)).resolves.toEqual({ acquired: false, holders: ['a', 'c'] });
    } finally {
      dynamo().middlewareStack.remove(name);
    }
    expect(interleaved).toBe(true);
    expect(await stored(table, 'k')).toMatchObject({ holders: ['a', 'c'], holderCount: 2 });
  });
});

describe('claimIncident', () => {
  test('the first claim owns; another execution does not and learns the owner; the owner re-claims', async () => {
    const table = await freshLimiterTable();
    await expect(claimIncident(table, 'inc-1', 'exec-1', 3600, T0)).resolves.toEqual({ owned: true, owner: 'exec-1' });
    await expect(claimIncident(table, 'inc-1', 'exec-2', 3600, T0 + 1000)).resolves.toEqual({ owned: false, owner: 'exec-1' });
    await expect(claimIncident(table, 'inc-1', 'exec-1', 3600, T0 + 2000)).resolves.toEqual({ owned: true, owner: 'exec-1' });
    await expect(claimIncident(table, 'inc-1', 'exec-2', 3600, T0 + 3000)).resolves.toEqual({ owned: false, owner: 'exec-1' });
    // another incident is independent
    await expect(claimIncident(table, 'inc-2', 'exec-2', 3600, T0)).resolves.toEqual({ owned: true, owner: 'exec-2' });
  });

  test('10 concurrent claims of one incident by 10 executions: exactly one owner, everyone agrees on it', async () => {
    const table = await freshLimiterTable();
    const executions = ids(10, 'exec');
    const results = await Promise.all(executions.map((exec) => claimIncident(table, 'inc-hot', exec, 3600, T0)));
    const owners = results.filter((r) => r.owned);
    expect(owners).toHaveLength(1);
    const owner = owners[0].owner;
    expect(executions).toContain(owner);
    expect(results.every((r) => r.owner === owner)).toBe(true);
    expect((await rawItem(table, 'CLAIM#inc-hot'))?.owner).toBe(owner);
  });
});

describe('fencing: checkLease', () => {
  test('held with its epoch and unexpired: held', async () => {
    const table = await freshLimiterTable();
    const { epoch } = await acquireLease(table, 'k', 'a', 1, 600, T0);
    await expect(checkLease(table, 'k', 'a', epoch!, T0 + 1000)).resolves.toMatchObject({ held: true });
  });

  test('expired: not held, even before anyone took it over', async () => {
    const table = await freshLimiterTable();
    const { epoch } = await acquireLease(table, 'k', 'a', 1, 600, T0);
    await expect(checkLease(table, 'k', 'a', epoch!, T0 + 600_001)).resolves.toMatchObject({ held: false, reason: expect.stringMatching(/expired at/) });
  });

  test('taken over after expiry by another incident: not held, and says who holds it', async () => {
    const table = await freshLimiterTable();
    const { epoch } = await acquireLease(table, 'k', 'a', 1, 600, T0);
    await acquireLease(table, 'k', 'b', 1, 600, T0 + 600_001);
    await expect(checkLease(table, 'k', 'a', epoch!, T0 + 600_002)).resolves.toEqual({ held: false, reason: 'lease k is no longer held by this incident (now held by b)' });
  });

  test('released and taken again by the same incident: the old epoch no longer passes', async () => {
    const table = await freshLimiterTable();
    const first = await acquireLease(table, 'k', 'a', 1, 600, T0);
    await releaseLease(table, 'k', 'a', T0 + 1);
    const second = await acquireLease(table, 'k', 'a', 1, 600, T0 + 2);
    expect(second.epoch).not.toBe(first.epoch);
    await expect(checkLease(table, 'k', 'a', first.epoch!, T0 + 3)).resolves.toMatchObject({ held: false, reason: expect.stringMatching(/granted again/) });
    await expect(checkLease(table, 'k', 'a', second.epoch!, T0 + 3)).resolves.toMatchObject({ held: true });
  });

  test('peekLease decides like acquireLease and writes nothing', async () => {
    const table = await freshLimiterTable();
    await expect(peekLease(table, 'k', 'a', 1, T0)).resolves.toEqual({ acquired: true, holders: [] });
    expect(await rawItem(table, 'LEASE#k')).toBeUndefined();
    await acquireLease(table, 'k', 'b', 1, 600, T0);
    await expect(peekLease(table, 'k', 'a', 1, T0 + 1)).resolves.toEqual({ acquired: false, holders: ['b'] });
  });
});

describe('act claims: one invocation per batch', () => {
  test('20 concurrent claims of one batch: exactly one wins, the others see the winner', async () => {
    const table = await freshLimiterTable();
    const owners = ids(20, 'invocation');
    const outcomes = await Promise.all(owners.map((owner) => claimAct(table, 'inc', 0, owner, T0)));
    const winners = outcomes.filter((o) => o.claimed);
    expect(winners).toHaveLength(1);
    const claim = await readActClaim(table, 'inc', 0);
    for (const o of outcomes) if (!o.claimed) expect(o.existing.owner).toBe(claim!.owner);
  });

  test('another batch of the same incident is its own claim', async () => {
    const table = await freshLimiterTable();
    await claimAct(table, 'inc', 0, 'a', T0);
    await expect(claimAct(table, 'inc', 1, 'b', T0)).resolves.toEqual({ claimed: true, attempt: 1 });
  });

  test('a batch whose calls were all refused may be claimed again, by exactly one of many', async () => {
    const table = await freshLimiterTable();
    await claimAct(table, 'inc', 0, 'first', T0);
    await settleAct(table, 'inc', 0, 'first', { state: 'refused', attempt: 1, error: 'ThrottlingException' }, T0 + 1);
    const outcomes = await Promise.all(ids(10, 'retry').map((owner) => claimAct(table, 'inc', 0, owner, T0 + 2)));
    expect(outcomes.filter((o) => o.claimed)).toEqual([{ claimed: true, attempt: 2 }]);
  });

  test('a batch that acted, or may have, is never claimed again', async () => {
    const table = await freshLimiterTable();
    await claimAct(table, 'inc', 0, 'a', T0);
    await settleAct(table, 'inc', 0, 'a', { state: 'failed', attempt: 1, error: 'ServerException' }, T0 + 1);
    await expect(claimAct(table, 'inc', 0, 'b', T0 + 2)).resolves.toMatchObject({ claimed: false, existing: { state: 'failed', owner: 'a' } });
  });

  test('only the owner settles a claim', async () => {
    const table = await freshLimiterTable();
    await claimAct(table, 'inc', 0, 'a', T0);
    await expect(settleAct(table, 'inc', 0, 'b', { state: 'acted', attempt: 1 }, T0 + 1)).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
  });

  test('a claim outlives every redelivery and redrive window (14 days)', async () => {
    const table = await freshLimiterTable();
    await claimAct(table, 'inc', 0, 'a', T0);
    expect(Number((await rawItem(table, 'ACT#inc#0'))?.expiresAt)).toBeGreaterThan(T0 / 1000 + 14 * 86400);
  });
});

import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../lambdas/shared/clients';
import { claimAct, readActClaim, settleAct } from '../../lambdas/shared/act-claim';
import { acquireLease, admitWithinRate, checkLease, claimIncident, peekLease, releaseLease } from '../../lambdas/shared/limiter';
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

    // the stored window holds exactly the admitted incidents
    const item = await rawItem(table, 'RATE#api#svc');
    const stored = (item?.admissions as Array<{ incidentId: string }>).map((a) => a.incidentId).sort();
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

    const item = await rawItem(table, `RATE#${key}`);
    expect((item?.admissions as unknown[]).length).toBe(3);
  });

  test('keys are independent', async () => {
    const table = await freshLimiterTable();
    await admitWithinRate(table, 'runbook#target-1', 'a', 1, HOUR, T0);
    await expect(admitWithinRate(table, 'runbook#target-1', 'b', 1, HOUR, T0)).resolves.toMatchObject({ admitted: false });
    await expect(admitWithinRate(table, 'runbook#target-2', 'b', 1, HOUR, T0)).resolves.toMatchObject({ admitted: true });
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

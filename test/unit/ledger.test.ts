import { createHash } from 'node:crypto';
import { DynamoDBDocumentClient, DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../lambdas/shared/clients';
import { canonicalJson } from '../../lambdas/shared/canonical-json';
import {
  appendEntry, entryHash, readIncident, verifyIncident, verifyRange,
  type AppendInput, type LedgerEntry, type Phase,
} from '../../lambdas/shared/ledger';
import { LocalDynamo, ledgerTableInput } from '../../lib/local/dynalite';
import { LocalLedgerMac } from '../../lambdas/shared/ledger-mac';

const localMac = new LocalLedgerMac();

/**
 * The audit ledger against a real DynamoDB API (dynalite on loopback). Tampering is done with
 * raw PutItem/DeleteItem on the table, bypassing the ledger code, as someone with table access
 * (around IAM) would.
 */

const local = new LocalDynamo();
/** Raw access to the table, independent of the ledger code and of its client singleton. */
let raw: DynamoDBDocumentClient;
let tableCounter = 0;

const ZEROS = '0'.repeat(64);
const RUNBOOK = 'api-restart';
const TARGET = 'arn:aws:ecs:eu-west-1:111111111111:service/prod/api';
const PHASES: Phase[] = ['received', 'admitted', 'planned', 'acting', 'acted', 'verified', 'completed'];

async function freshLedgerTable(): Promise<string> {
  const name = `ledger-${++tableCounter}`;
  await local.createTable(ledgerTableInput(name));
  return name;
}

function input(table: string, incidentId: string, phase: Phase, extra: Partial<AppendInput> = {}): AppendInput {
  return {
    table,
    incidentId,
    phase,
    runbook: RUNBOOK,
    targetArn: TARGET,
    mode: 'auto',
    actor: 'medic-test',
    execution: `arn:aws:states:eu-west-1:111111111111:execution:medic-${RUNBOOK}:${incidentId}`,
    detail: { phase, note: `entry for ${phase}` },
    ...extra,
  };
}

/** Appends `phases` one after the other (as the owning execution does). */
async function appendAll(table: string, incidentId: string, phases: Phase[], now?: (i: number) => Date): Promise<LedgerEntry[]> {
  const written: LedgerEntry[] = [];
  for (let i = 0; i < phases.length; i++) {
    written.push(await appendEntry(input(table, incidentId, phases[i], now ? { now: now(i) } : {})));
  }
  return written;
}

async function rawGet(table: string, pk: string, sk: string): Promise<Record<string, unknown>> {
  const out = await raw.send(new GetCommand({ TableName: table, Key: { pk, sk }, ConsistentRead: true }));
  if (!out.Item) throw new Error(`no item ${pk} ${sk}`);
  return out.Item;
}

/** SHA-256 of the canonical JSON of the entry without its hash, computed here (not by the ledger). */
function independentHash(entry: Record<string, unknown>): string {
  const copy: Record<string, unknown> = { ...entry };
  // The hash covers everything but itself and the MAC made over it.
  delete copy.hash;
  delete copy.mac;
  delete copy.macKey;
  return createHash('sha256').update(canonicalJson(copy), 'utf8').digest('hex');
}

beforeAll(async () => {
  await local.start();
  raw = DynamoDBDocumentClient.from(local.client(), { marshallOptions: { removeUndefinedValues: true } });
});

afterAll(async () => {
  raw?.destroy();
  dynamo().destroy();
  await local.stop();
});

describe('appendEntry builds a hash chain', () => {
  test('sequence, sort keys, prevHash links, hashes and JSON detail of a whole incident', async () => {
    const table = await freshLedgerTable();
    const details = PHASES.map((phase, i) => ({ zeta: i, alpha: { phase, nested: [i, 'x'] } }));
    for (let i = 0; i < PHASES.length; i++) {
      await appendEntry(input(table, 'inc-chain', PHASES[i], { detail: details[i] }));
    }

    const entries = await readIncident(table, 'inc-chain');
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(entries.map((e) => e.phase)).toEqual(PHASES);
    expect(entries[0].sk).toBe('000001');
    expect(entries.map((e) => e.sk)).toEqual(PHASES.map((_p, i) => `00000${i + 1}`));
    expect(entries.every((e) => e.pk === 'INCIDENT#inc-chain' && e.incidentId === 'inc-chain')).toBe(true);

    expect(entries[0].prevHash).toBe(ZEROS);
    for (let i = 1; i < entries.length; i++) expect(entries[i].prevHash).toBe(entries[i - 1].hash);
    for (const entry of entries) {
      expect(entry.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(entry.hash).toBe(independentHash(entry as unknown as Record<string, unknown>));
    }
    expect(new Set(entries.map((e) => e.hash)).size).toBe(entries.length);

    // detail is a string holding canonical JSON (keys sorted), the exact bytes that were hashed.
    for (let i = 0; i < entries.length; i++) {
      expect(typeof entries[i].detail).toBe('string');
      expect(JSON.parse(entries[i].detail)).toEqual(details[i]);
      expect(entries[i].detail.startsWith('{"alpha":')).toBe(true);
    }
    // ... and DynamoDB holds it as a string attribute, not a map.
    const stored = await rawGet(table, 'INCIDENT#inc-chain', '000002');
    expect(typeof stored.detail).toBe('string');
    expect(stored.targetArn).toBe(TARGET);
    expect(stored.day).toBe(String(stored.at).slice(0, 10));

    await expect(verifyIncident(table, 'inc-chain', localMac)).resolves.toEqual({ ok: true, incidents: 1, entries: 7, firstBroken: undefined });
  });

  test('the entry returned by appendEntry is the entry stored', async () => {
    const table = await freshLedgerTable();
    const written = await appendAll(table, 'inc-returned', ['received', 'rejected']);
    const stored = await readIncident(table, 'inc-returned');
    expect(stored).toEqual(written.map((e) => JSON.parse(JSON.stringify(e))));
  });

  test('entries never carry an expiry: retention is by archiving, not by TTL deletes of live entries', async () => {
    const table = await freshLedgerTable();
    const now = new Date('2026-03-01T10:20:30.456Z');
    const kept = await appendEntry(input(table, 'inc-retention', 'received', { now }));
    expect(kept.at).toBe('2026-03-01T10:20:30.456Z');
    expect(kept.day).toBe('2026-03-01');
    const stored = await rawGet(table, 'INCIDENT#inc-retention', '000001');
    expect('expiresAt' in stored).toBe(false);
    await expect(verifyIncident(table, 'inc-retention', localMac)).resolves.toMatchObject({ ok: true });
  });

  test('a detail over 64 KB is stored truncated, marked truncated: true, and still verifies', async () => {
    const table = await freshLedgerTable();
    const big = { readings: 'r'.repeat(70 * 1024), source: 'test' };
    const entry = await appendEntry(input(table, 'inc-big', 'checked', { detail: big }));

    const stored = await rawGet(table, 'INCIDENT#inc-big', '000001');
    expect(stored.detail).toBe(entry.detail);
    const detail = JSON.parse(String(stored.detail)) as { truncated: boolean; originalBytes: number; preview: string };
    expect(detail.truncated).toBe(true);
    expect(detail.originalBytes).toBe(Buffer.byteLength(canonicalJson(big)));
    expect(detail.originalBytes).toBeGreaterThan(64 * 1024);
    expect(detail.preview.startsWith('{"readings":"rrrr')).toBe(true);
    expect(String(stored.detail).length).toBeLessThanOrEqual(64 * 1024);
    await expect(verifyIncident(table, 'inc-big', localMac)).resolves.toMatchObject({ ok: true, entries: 1 });

    // just under the limit: stored whole
    const fits = { readings: 'r'.repeat(60 * 1024) };
    const whole = await appendEntry(input(table, 'inc-big', 'checked', { detail: fits }));
    expect(JSON.parse(whole.detail)).toEqual(fits);
  });
});

describe('tampering is detected', () => {
  test('a changed detail (raw PutItem) is reported at that seq as modified', async () => {
    const table = await freshLedgerTable();
    await appendAll(table, 'inc-edit', PHASES.slice(0, 5));
    await expect(verifyIncident(table, 'inc-edit', localMac)).resolves.toMatchObject({ ok: true });

    const item = await rawGet(table, 'INCIDENT#inc-edit', '000003');
    await raw.send(new PutCommand({ TableName: table, Item: { ...item, detail: '{"note":"nothing to see here"}' } }));

    const report = await verifyIncident(table, 'inc-edit', localMac);
    expect(report.ok).toBe(false);
    expect(report.entries).toBe(5);
    expect(report.firstBroken).toMatchObject({ incidentId: 'inc-edit', seq: 3, sk: '000003' });
    expect(report.firstBroken!.reason).toMatch(/modified/);
  });

  test('an edit whose hash was recomputed breaks the next link', async () => {
    const table = await freshLedgerTable();
    await appendAll(table, 'inc-rehash', PHASES.slice(0, 5));
    const item = await rawGet(table, 'INCIDENT#inc-rehash', '000002');
    const forged: Record<string, unknown> = { ...item, actor: 'someone-else' };
    forged.hash = independentHash(forged);
    await raw.send(new PutCommand({ TableName: table, Item: forged }));

    const report = await verifyIncident(table, 'inc-rehash', localMac);
    expect(report.ok).toBe(false);
    expect(report.firstBroken).toMatchObject({ seq: 3, sk: '000003' });
    expect(report.firstBroken!.reason).toMatch(/prevHash/);
  });

  test('a chain rewritten from an edited entry on (every hash recomputed, links intact) is caught by the MAC of the edited entry', async () => {
    const table = await freshLedgerTable();
    await appendAll(table, 'inc-rewrite', PHASES.slice(0, 5));
    const entries = await readIncident(table, 'inc-rewrite');
    let previous = entries[0].hash;
    for (const entry of entries.slice(1)) {
      const forged: Record<string, unknown> = { ...entry, prevHash: previous, ...(entry.seq === 2 ? { actor: 'someone-else' } : {}) };
      forged.hash = independentHash(forged);
      previous = String(forged.hash);
      await raw.send(new PutCommand({ TableName: table, Item: forged }));
    }
    const report = await verifyIncident(table, 'inc-rewrite', localMac);
    expect(report.firstBroken).toMatchObject({ seq: 2, sk: '000002' });
    expect(report.firstBroken!.reason).toMatch(/MAC does not verify/);
    // Re-signed with a key that is not the writer's: still caught.
    const other = new LocalLedgerMac('a key that is not the ledger writer\'s');
    const resigned = await readIncident(table, 'inc-rewrite');
    for (const entry of resigned) await raw.send(new PutCommand({ TableName: table, Item: { ...entry, mac: await other.sign(entry.hash) } }));
    expect((await verifyIncident(table, 'inc-rewrite', localMac)).firstBroken).toMatchObject({ seq: 1, reason: expect.stringMatching(/MAC does not verify/) });
    // An entry without a MAC was not written by the writer.
    const { mac: _mac, ...unsigned } = resigned[0];
    await raw.send(new PutCommand({ TableName: table, Item: unsigned }));
    expect((await verifyIncident(table, 'inc-rewrite', localMac)).firstBroken).toMatchObject({ seq: 1, reason: expect.stringMatching(/no MAC/) });
  });

  test('an entry deleted from the middle (raw DeleteItem) is reported at the gap', async () => {
    const table = await freshLedgerTable();
    await appendAll(table, 'inc-gap', PHASES.slice(0, 5));
    await raw.send(new DeleteCommand({ TableName: table, Key: { pk: 'INCIDENT#inc-gap', sk: '000003' } }));

    const report = await verifyIncident(table, 'inc-gap', localMac);
    expect(report.ok).toBe(false);
    expect(report.entries).toBe(4);
    expect(report.firstBroken).toMatchObject({ incidentId: 'inc-gap', seq: 4, sk: '000004' });
    expect(report.firstBroken!.reason).toMatch(/expected sequence 3/);
  });

  test('a forged entry with a wrong prevHash (but a self-consistent hash) is reported', async () => {
    const table = await freshLedgerTable();
    const written = await appendAll(table, 'inc-forged', PHASES.slice(0, 3));
    const last = written[written.length - 1];
    const forgedUnhashed: Omit<LedgerEntry, 'hash'> = {
      ...last,
      seq: 4,
      sk: '000004',
      phase: 'completed',
      detail: '{"note":"all good, nothing was done"}',
      prevHash: 'f'.repeat(64),
    };
    await raw.send(new PutCommand({ TableName: table, Item: { ...forgedUnhashed, hash: entryHash(forgedUnhashed) } }));

    const report = await verifyIncident(table, 'inc-forged', localMac);
    expect(report.ok).toBe(false);
    expect(report.entries).toBe(4);
    expect(report.firstBroken).toMatchObject({ seq: 4, sk: '000004' });
    expect(report.firstBroken!.reason).toMatch(/prevHash/);
  });

  test('a forged entry squeezed in with a duplicate seq is reported', async () => {
    const table = await freshLedgerTable();
    const written = await appendAll(table, 'inc-squeeze', ['received', 'admitted', 'planned']);
    const forgedUnhashed: Omit<LedgerEntry, 'hash'> = {
      ...written[1],
      sk: '000002',
      phase: 'approved',
      prevHash: written[0].hash,
    };
    await raw.send(new PutCommand({ TableName: table, Item: { ...forgedUnhashed, hash: entryHash(forgedUnhashed) } }));

    const report = await verifyIncident(table, 'inc-squeeze', localMac);
    expect(report.ok).toBe(false);
    expect(report.firstBroken).toMatchObject({ seq: 2 });
  });
});

describe('appendEntry never overwrites', () => {
  test('a PutItem with the ledger\'s condition on an existing pk/sk is refused', async () => {
    const table = await freshLedgerTable();
    const [first] = await appendAll(table, 'inc-overwrite', ['received']);
    await expect(raw.send(new PutCommand({
      TableName: table,
      Item: { ...first, detail: '{}' },
      ConditionExpression: 'attribute_not_exists(pk)',
    }))).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect((await rawGet(table, 'INCIDENT#inc-overwrite', '000001')).detail).toBe(first.detail);
  });

  test('two concurrent appends of the same phase both succeed with distinct seqs and the chain verifies', async () => {
    const table = await freshLedgerTable();
    await appendAll(table, 'inc-race', ['received']);
    const results = await Promise.all([
      appendEntry(input(table, 'inc-race', 'checked', { detail: { by: 'a' } })),
      appendEntry(input(table, 'inc-race', 'checked', { detail: { by: 'b' } })),
    ]);
    expect(results.map((r) => r.seq).sort()).toEqual([2, 3]);
    const entries = await readIncident(table, 'inc-race');
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(entries.map((e) => JSON.parse(e.detail).by).slice(1).sort()).toEqual(['a', 'b']);
    await expect(verifyIncident(table, 'inc-race', localMac)).resolves.toMatchObject({ ok: true, entries: 3 });
  });

  test('five concurrent appends of the same phase get seqs 2..6 and the chain verifies', async () => {
    const table = await freshLedgerTable();
    await appendAll(table, 'inc-race5', ['received']);
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => appendEntry(input(table, 'inc-race5', 'checked', { detail: { n } }))));
    expect(results.map((r) => r.seq).sort()).toEqual([2, 3, 4, 5, 6]);
    await expect(verifyIncident(table, 'inc-race5', localMac)).resolves.toMatchObject({ ok: true, entries: 6 });
  });

  // Two invocations of one step can overlap (Step Functions retries a task whose invocation timed
  // out while the first still runs): racing appends of different phases must land one after the other.
  test('concurrent appends of different phases never fork: each takes the next sequence number and the chain verifies', async () => {
    const table = await freshLedgerTable();
    await appendAll(table, 'inc-race-phases', ['received']);
    const phases: Phase[] = ['checked', 'verified', 'checked', 'verified', 'acted', 'escalated'];
    const results = await Promise.all(phases.map((phase) => appendEntry(input(table, 'inc-race-phases', phase))));
    expect(results.map((r) => r.seq).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(results.map((r) => r.sk).sort()).toEqual(['000002', '000003', '000004', '000005', '000006', '000007']);
    await expect(verifyIncident(table, 'inc-race-phases', localMac)).resolves.toMatchObject({ ok: true, entries: 7 });
  });

});

describe('verifyIncident and verifyRange', () => {
  test('verifyIncident of an unknown incident is not ok', async () => {
    const table = await freshLedgerTable();
    await appendAll(table, 'inc-known', ['received']);
    const report = await verifyIncident(table, 'inc-unknown', localMac);
    expect(report.ok).toBe(false);
    expect(report.entries).toBe(0);
    expect(report.firstBroken?.incidentId).toBe('inc-unknown');
  });

  test('verifyRange finds every incident written on two different days, and only those', async () => {
    const table = await freshLedgerTable();
    const day1 = (i: number): Date => new Date(Date.UTC(2026, 4, 10, 9, 0, i));
    const day2 = (i: number): Date => new Date(Date.UTC(2026, 4, 11, 14, 30, i));
    await appendAll(table, 'inc-day1-a', ['received', 'admitted', 'completed'], day1);
    await appendAll(table, 'inc-day1-b', ['received', 'rejected'], day1);
    await appendAll(table, 'inc-day2', ['received', 'admitted', 'acted', 'completed'], day2);
    // starts late on day 1 and ends on day 2: one incident, counted once with all its entries
    await appendAll(table, 'inc-midnight', ['received', 'acted', 'completed'], (i) => new Date(Date.UTC(2026, 4, 10, 23, 59, 58 + i)));
    // outside the range
    await appendAll(table, 'inc-day3', ['received', 'completed'], (i) => new Date(Date.UTC(2026, 4, 12, 8, 0, i)));
    await appendAll(table, 'inc-day0', ['received'], () => new Date(Date.UTC(2026, 4, 9, 23, 59, 59)));

    const report = await verifyRange(table, new Date(Date.UTC(2026, 4, 10)), new Date(Date.UTC(2026, 4, 11, 23, 59, 59, 999)), localMac);
    expect(report).toEqual({ ok: true, incidents: 4, entries: 3 + 2 + 4 + 3 });

    // the time bounds are honoured within a day too
    const morning = await verifyRange(table, new Date(Date.UTC(2026, 4, 11, 0, 0)), new Date(Date.UTC(2026, 4, 11, 12, 0)), localMac);
    expect(morning).toEqual({ ok: true, incidents: 1, entries: 3 }); // only inc-midnight's day-2 entries fall in it
  });

  test('verifyRange reports a tampered incident in range with its id', async () => {
    const table = await freshLedgerTable();
    const day1 = (i: number): Date => new Date(Date.UTC(2026, 6, 1, 12, 0, i));
    const day2 = (i: number): Date => new Date(Date.UTC(2026, 6, 2, 12, 0, i));
    await appendAll(table, 'inc-a', ['received', 'admitted', 'completed'], day1);
    await appendAll(table, 'inc-b', ['received', 'admitted', 'acted', 'completed'], day2);
    await appendAll(table, 'inc-c', ['received', 'completed'], day2);
    const from = new Date(Date.UTC(2026, 6, 1));
    const to = new Date(Date.UTC(2026, 6, 3));
    await expect(verifyRange(table, from, to, localMac)).resolves.toMatchObject({ ok: true, incidents: 3 });

    const item = await rawGet(table, 'INCIDENT#inc-b', '000003');
    await raw.send(new PutCommand({ TableName: table, Item: { ...item, detail: '{"calls":[]}' } }));

    const report = await verifyRange(table, from, to, localMac);
    expect(report.ok).toBe(false);
    expect(report.firstBroken).toMatchObject({ incidentId: 'inc-b', seq: 3 });
    expect(report.firstBroken!.reason).toMatch(/modified/);
  });

  test('verifyRange over a range with nothing in it is ok with no incidents; from after to is refused', async () => {
    const table = await freshLedgerTable();
    await appendAll(table, 'inc-elsewhere', ['received'], () => new Date(Date.UTC(2026, 0, 5)));
    await expect(verifyRange(table, new Date(Date.UTC(2026, 1, 1)), new Date(Date.UTC(2026, 1, 2)), localMac)).resolves.toEqual({ ok: true, incidents: 0, entries: 0 });
    await expect(verifyRange(table, new Date(Date.UTC(2026, 1, 2)), new Date(Date.UTC(2026, 1, 1)), localMac)).rejects.toThrow(/before/);
  });

  // The ledger-verify function accepts any from/to. A range it cannot cover completely must
  // not come back as "ok": it should either check every day or refuse the range.
  test('verifyRange never reports ok for a long range it did not fully check', async () => {
    const table = await freshLedgerTable();
    const from = new Date(Date.UTC(2025, 0, 1));
    const late = (i: number): Date => new Date(Date.UTC(2025, 0, 1 + 450, 12, 0, i)); // day 451 of the range
    await appendAll(table, 'inc-late', ['received', 'acted', 'completed'], late);
    const item = await rawGet(table, 'INCIDENT#inc-late', '000002');
    await raw.send(new PutCommand({ TableName: table, Item: { ...item, detail: '{"calls":[]}' } }));
    const to = new Date(Date.UTC(2025, 0, 1 + 500));

    await expect(verifyRange(table, from, to, localMac)).rejects.toThrow(/at most 400 days per call/);
  });
});

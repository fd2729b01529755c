import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as writer } from '../../lambdas/ledger-writer/index';
import { canonicalJson } from '../../lambdas/shared/canonical-json';
import { dynamo } from '../../lambdas/shared/clients';
import { entryHash, readIncident, unhashed, verifyIncident, verifyRange, type LedgerEntry, type Phase } from '../../lambdas/shared/ledger';
import { AnchorCheck, S3AnchorSource, archiveBody, type AnchorSource } from '../../lambdas/shared/ledger-anchors';
import { ARCHIVE_WINDOW_DAYS, archiveCutoff } from '../../lambdas/shared/ledger-archive';
import { LocalLedgerMac } from '../../lambdas/shared/ledger-mac';
import { logger } from '../../lambdas/shared/observability';
import { bindOperations } from '../../lib/gameday/models/operations';
import { BucketModel, BucketsModel } from '../../lib/gameday/models/s3';
import { LocalDynamo } from '../../lib/local/dynalite';
import { LocalAnchorSource, persistLocalAnchor } from '../../lib/local/local-anchors';
import { freshTables } from '../support/tables';

/*
 * Retention by archiving (docs/architecture.md, "No silent expiry"): the ledger writer archives an
 * expired, complete, verified and anchored incident into the anchors bucket (the game day's S3
 * model, with Object Lock) and only then deletes its items; anything else stays and is reported.
 * The verifier then checks an archived incident against its archive and anchors.
 */

const BUCKET = 'medic-anchors';
const local = new LocalDynamo();
const mac = new LocalLedgerMac();
const s3 = mockClient(S3Client);
let bucket: BucketModel;
let tables: { ledger: string; limiter: string };
let failPuts = false;
/** Answers the next GetObject of an archive with NoSuchKey: another run put it between the writer's read and its put. */
let raceArchive = false;
let onPut: ((key: string, body: string, index: number) => void) | undefined;

beforeAll(async () => local.start());
afterAll(async () => {
  s3.restore();
  await local.stop();
});
beforeEach(async () => {
  tables = await freshTables(local, 'archive');
  process.env.MEDIC_LEDGER_MAC_KEY = 'local';
  process.env.MEDIC_LEDGER_ANCHORS_BUCKET = BUCKET;
  process.env.MEDIC_LEDGER_RETENTION_DAYS = '100';
  failPuts = false;
  raceArchive = false;
  onPut = undefined;
  s3.reset();
  bucket = new BucketModel({ versioned: true, objectLock: { mode: 'COMPLIANCE', days: 365 } }, Date.now, (key, version, index) => onPut?.(key, version.body, index));
  const buckets = new BucketsModel();
  buckets.define(BUCKET, bucket);
  bindOperations(s3, buckets.operations, (operation, input, _mutating, answer) => {
    if (failPuts && operation === 'PutObject' && String((input as { Key?: string }).Key).startsWith('anchors/')) {
      throw Object.assign(new Error('S3 is down'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
    }
    if (raceArchive && operation === 'GetObject' && String((input as { Key?: string }).Key).startsWith('archive/')) {
      raceArchive = false;
      throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    }
    return answer();
  });
});
afterEach(() => {
  delete process.env.MEDIC_LEDGER_ANCHORS_BUCKET;
  delete process.env.MEDIC_LEDGER_RETENTION_DAYS;
  jest.restoreAllMocks();
});

const BEFORE = '2026-07-01T00:00:00.000Z';
const RESOLVED: Phase[] = ['received', 'admitted', 'acted', 'completed'];
const append = (incidentId: string, phase: Phase, at: string) =>
  writer({ append: { incidentId, phase, runbook: 'api-restart', actor: 'test', detail: { phase }, now: at } });
async function incident(incidentId: string, day: string, phases: Phase[] = RESOLVED): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  for (const [i, phase] of phases.entries()) entries.push(await append(incidentId, phase, `${day}T10:0${i}:00.000Z`));
  return entries;
}
const archive = (before = BEFORE) => writer({ archive: { before } });
const archiveKeys = () => [...bucket.versions.keys()].filter((k) => k.startsWith('archive/')).sort();
const check = (source: AnchorSource = new S3AnchorSource(new S3Client({}), BUCKET)) => new AnchorCheck(source);
const RANGE = [new Date('2026-06-01T00:00:00Z'), new Date('2026-06-30T23:59:59Z')] as const;
const putItem = (entry: LedgerEntry) => dynamo().send(new PutCommand({ TableName: tables.ledger, Item: entry }));
const deleteItem = (entry: LedgerEntry) => dynamo().send(new DeleteCommand({ TableName: tables.ledger, Key: { pk: entry.pk, sk: entry.sk } }));

describe('the writer archives expired incidents, then deletes them', () => {
  test('an expired complete incident is archived (every entry, one canonical line each, in order; conditional, checksummed, locked) and its items deleted; younger ones stay', async () => {
    const old = await incident('inc-old', '2026-06-10');
    const young = await incident('inc-young', '2026-07-05');
    await append('inc-straddles', 'received', '2026-06-30T23:00:00.000Z');
    await append('inc-straddles', 'completed', '2026-07-01T01:00:00.000Z');

    const result = await archive();
    expect(result).toEqual({
      before: BEFORE, days: { from: '2026-06-01', to: '2026-07-01' },
      archived: [{ incidentId: 'inc-old', key: 'archive/2026-06-10/inc-old.jsonl', entries: 4, resumed: false }],
      refused: [], notExpired: 1, deferred: 0,
    });
    expect(archiveKeys()).toEqual(['archive/2026-06-10/inc-old.jsonl']);
    const [version] = bucket.versions.get('archive/2026-06-10/inc-old.jsonl')!;
    expect(version.body).toBe(old.map((e) => `${canonicalJson(e)}\n`).join(''));
    expect(version.body.split('\n').filter(Boolean).map((l) => JSON.parse(l).seq)).toEqual([1, 2, 3, 4]);
    expect(version).toMatchObject({ mode: 'COMPLIANCE' });
    const put = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input).find((i) => i.Key === 'archive/2026-06-10/inc-old.jsonl');
    expect(put).toMatchObject({ Bucket: BUCKET, IfNoneMatch: '*', ChecksumAlgorithm: 'SHA256' });

    expect(await readIncident(tables.ledger, 'inc-old')).toEqual([]);
    expect(await readIncident(tables.ledger, 'inc-young')).toEqual(young);
    expect(await readIncident(tables.ledger, 'inc-straddles')).toHaveLength(2);
    // A second run finds nothing left to do.
    expect(await archive()).toMatchObject({ archived: [], refused: [], notExpired: 1 });
  });

  test('the window: the cutoff\'s day and the 30 days before it; an incident older than that is found by a run with an older "before"', async () => {
    expect(ARCHIVE_WINDOW_DAYS).toBe(30);
    await incident('inc-ancient', '2026-05-01');
    expect(await archive()).toMatchObject({ days: { from: '2026-06-01', to: '2026-07-01' }, archived: [] });
    expect(await readIncident(tables.ledger, 'inc-ancient')).toHaveLength(4);
    expect(await archive('2026-05-15T00:00:00.000Z')).toMatchObject({ archived: [{ incidentId: 'inc-ancient' }] });
  });

  test('by default the cutoff is now minus the retention; a later "before", a bad one, or no retention is refused', async () => {
    const now = new Date('2026-11-29T01:15:00Z');
    expect(archiveCutoff(undefined, 100, now).toISOString()).toBe('2026-08-21T01:15:00.000Z');
    expect(() => archiveCutoff('2026-08-22T00:00:00Z', 100, now)).toThrow(/later than now minus the retention/);
    expect(() => archiveCutoff('yesterday', 100, now)).toThrow(/ISO-8601/);
    const sevenMonths = await incident('inc-summer', '2026-05-20');
    const result = await writer({ archive: {} });
    expect(Date.parse(result.before)).toBeGreaterThan(Date.now() - 100 * 86_400_000 - 60_000);
    expect(result.archived).toEqual([]); // older than the default window: not reached by today's run
    expect(await readIncident(tables.ledger, 'inc-summer')).toEqual(sevenMonths);
    await expect(archive(new Date().toISOString())).rejects.toThrow(/later than now minus the retention/);
    delete process.env.MEDIC_LEDGER_RETENTION_DAYS;
    await expect(archive()).rejects.toThrow(/no ledger retention is configured/);
  });

  test('incomplete, tampered and unanchored incidents are not archived: each stays in the table, reported with its reason and logged', async () => {
    const errors = jest.spyOn(logger, 'error');
    const incomplete = await incident('inc-incomplete', '2026-06-10', ['received', 'admitted', 'acted']);
    const tampered = await incident('inc-tampered', '2026-06-11');
    const edited = { ...tampered[1], detail: '{"phase":"denied"}' };
    await putItem({ ...edited, hash: entryHash(unhashed(edited)) }); // recomputed hash: the next entry no longer links
    failPuts = true;
    const unanchored = await incident('inc-unanchored', '2026-06-12');
    failPuts = false;
    const forged = await incident('inc-forged', '2026-06-13');
    bucket.putObject({ Key: 'anchors/2026-06-13/inc-forged/000004.json', Body: canonicalJson({ incidentId: 'inc-forged', seq: 4, hash: 'f'.repeat(64) }), ChecksumAlgorithm: 'SHA256' });

    const result = await archive();
    expect(result.archived).toEqual([]);
    expect(result.refused).toEqual([
      { incidentId: 'inc-forged', reason: 'anchor mismatch: entry 4 differs from its anchor' },
      { incidentId: 'inc-incomplete', reason: 'incomplete: the newest entry 3 (acted) does not end the incident' },
      { incidentId: 'inc-tampered', reason: 'does not verify: entry 3: prevHash does not match the previous entry\'s hash' },
      { incidentId: 'inc-unanchored', reason: 'no anchor: entry 4 (completed) has no anchor in the bucket' },
    ]);
    expect(archiveKeys()).toEqual([]);
    expect(await readIncident(tables.ledger, 'inc-incomplete')).toEqual(incomplete);
    expect(await readIncident(tables.ledger, 'inc-tampered')).toHaveLength(4);
    expect(await readIncident(tables.ledger, 'inc-unanchored')).toEqual(unanchored);
    expect(await readIncident(tables.ledger, 'inc-forged')).toEqual(forged);
    expect(errors.mock.calls.filter(([message]) => /not archived/.test(String(message))).map(([, data]) => (data as { incidentId: string }).incidentId).sort())
      .toEqual(['inc-forged', 'inc-incomplete', 'inc-tampered', 'inc-unanchored']);
  });

  test('idempotent: a run that crashed between the archive and the last delete is finished by the next one (the stored archive is checked first)', async () => {
    const entries = await incident('inc-crash', '2026-06-10');
    const client = dynamo();
    const send = client.send.bind(client);
    let deletes = 0;
    const spy = jest.spyOn(client, 'send').mockImplementation(((command: unknown) => {
      if (command instanceof DeleteCommand && ++deletes === 3) return Promise.reject(Object.assign(new Error('Lambda timed out'), { name: 'TimeoutError' }));
      return send(command as never);
    }) as never);
    await expect(archive()).rejects.toThrow(/timed out/);
    spy.mockRestore();
    // Deleted newest first: what is left is entries 1..k, so the archive's day is still known.
    expect((await readIncident(tables.ledger, 'inc-crash')).map((e) => e.seq)).toEqual([1, 2]);
    expect(archiveKeys()).toEqual(['archive/2026-06-10/inc-crash.jsonl']);

    expect(await archive()).toMatchObject({ archived: [{ incidentId: 'inc-crash', entries: 4, resumed: true }], refused: [] });
    expect(await readIncident(tables.ledger, 'inc-crash')).toEqual([]);
    expect(bucket.versions.get('archive/2026-06-10/inc-crash.jsonl')).toHaveLength(1);
    expect(bucket.objects.get('archive/2026-06-10/inc-crash.jsonl')).toBe(archiveBody(entries));
  });

  test('an archive already there (412 on the conditional put) that does not match the table: nothing is deleted, and it is reported', async () => {
    const entries = await incident('inc-race', '2026-06-10');
    const other = [...entries.slice(0, 3), { ...entries[3], detail: '{"phase":"other"}' }];
    bucket.putObject({ Key: 'archive/2026-06-10/inc-race.jsonl', Body: archiveBody(other), ChecksumAlgorithm: 'SHA256' });
    raceArchive = true;
    const result = await archive();
    expect(raceArchive).toBe(false);
    expect(bucket.versions.get('archive/2026-06-10/inc-race.jsonl')).toHaveLength(1); // the conditional put was refused (412)
    expect(result.refused).toEqual([{ incidentId: 'inc-race', reason: expect.stringMatching(/^archive archive\/2026-06-10\/inc-race.jsonl exists but does not verify: entry 4: hash does not match/) }]);
    expect(await readIncident(tables.ledger, 'inc-race')).toEqual(entries);

    // A stored archive that verifies but is not what the table holds (the table was edited since): not deleted either.
    await incident('inc-edited', '2026-06-11');
    await archive();
    const archived = bucket.objects.get('archive/2026-06-11/inc-edited.jsonl')!;
    const first = JSON.parse(archived.split('\n')[0]) as LedgerEntry;
    await putItem({ ...first, actor: 'someone else' });
    expect((await archive()).refused).toContainEqual({ incidentId: 'inc-edited', reason: 'archive archive/2026-06-11/inc-edited.jsonl exists but entry 1 in the table differs from the archived one' });
    expect(await readIncident(tables.ledger, 'inc-edited')).toHaveLength(1);
  });
});

describe('the verifier checks archived incidents against their archive and anchors', () => {
  test('archived: ok, not missing (range and incident); a removed incident without archive is still reported', async () => {
    await incident('inc-1', '2026-06-10');
    await incident('inc-2', '2026-06-10');
    await append('inc-2', 'received', '2026-07-20T00:00:00.000Z'); // a newer entry: inc-2 is not expired
    expect((await archive()).archived.map((a) => a.incidentId)).toEqual(['inc-1']);

    const range = check();
    await expect(verifyRange(tables.ledger, RANGE[0], RANGE[1], mac, undefined, range)).resolves.toEqual({ ok: true, incidents: 1, entries: 5, archived: 1 });
    expect(range.archived).toEqual(['inc-1']);
    await expect(verifyIncident(tables.ledger, 'inc-1', mac, undefined, check())).resolves.toEqual({ ok: true, incidents: 1, entries: 4, archived: 1 });
    // Without the anchors check, an incident with no entries is still "no entries".
    await expect(verifyIncident(tables.ledger, 'inc-1', mac)).resolves.toMatchObject({ ok: false, firstBroken: { reason: 'no entries for this incident' } });

    for (const e of await readIncident(tables.ledger, 'inc-2')) await deleteItem(e);
    await expect(verifyRange(tables.ledger, RANGE[0], RANGE[1], mac, undefined, check())).resolves.toMatchObject({
      ok: false, firstBroken: { incidentId: 'inc-2', reason: 'missing entries: incident anchored (1 anchor(s) under 2026-06-10) but not in the ledger' },
    });
    await expect(verifyIncident(tables.ledger, 'inc-2', mac, undefined, check())).resolves.toMatchObject({ ok: false, firstBroken: { reason: 'no entries for this incident' } });
  });

  test('a tampered archive is reported: an edited line, a chain re-hashed without the key, a truncated one, another incident\'s', async () => {
    const entries = await incident('inc-1', '2026-06-10');
    await archive();
    const key = 'archive/2026-06-10/inc-1.jsonl';
    const rehash = (list: LedgerEntry[]) => {
      let prevHash = list[0].prevHash;
      return list.map((e) => {
        const content = { ...unhashed(e), prevHash };
        const hash = entryHash(content);
        prevHash = hash;
        return { ...content, hash, mac: e.mac, macKey: e.macKey };
      });
    };
    const cases: Array<[string, LedgerEntry[], RegExp]> = [
      ['edited', [entries[0], { ...entries[1], actor: 'someone' }, entries[2], entries[3]], /hash does not match the entry's content/],
      ['re-hashed', rehash([entries[0], { ...entries[1], actor: 'someone' }, entries[2], entries[3]]), /MAC does not verify/],
      ['truncated', entries.slice(0, 3), /truncated: anchored entry 4/],
      ['another incident', entries.map((e) => ({ ...e, incidentId: 'inc-9' })), /holds an entry of another incident/],
    ];
    for (const [name, body, reason] of cases) {
      // A second version of the key (only the writer may put there; a version hides nothing).
      const saved = bucket.versions.get(key)!;
      bucket.putObject({ Key: key, Body: archiveBody(body), ChecksumAlgorithm: 'SHA256' });
      const expected = { ok: false, firstBroken: { incidentId: 'inc-1', reason: expect.stringMatching(new RegExp(`^archive ${key}: .*${reason.source}`)) } };
      await expect(verifyRange(tables.ledger, RANGE[0], RANGE[1], mac, undefined, check())).resolves.toMatchObject(expected);
      await expect(verifyIncident(tables.ledger, 'inc-1', mac, undefined, check())).resolves.toMatchObject(expected);
      bucket.versions.set(key, saved);
      expect(name).toBeTruthy();
    }
    bucket.putObject({ Key: key, Body: 'not json\n', ChecksumAlgorithm: 'SHA256' });
    await expect(verifyIncident(tables.ledger, 'inc-1', mac, undefined, check())).resolves.toMatchObject({ ok: false, firstBroken: { reason: `archive ${key}: not an archive of ledger entries (empty or unreadable)` } });
  });

  test('offline: the game day persists archives with the anchors, and `--local` verifies an archived incident from them', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medic-archive-'));
    try {
      onPut = (key, body, index) => persistLocalAnchor(dir, key, body, index);
      await incident('inc-1', '2026-06-10');
      await archive();
      const source = new LocalAnchorSource(dir);
      expect(await source.keysUnder('archive/')).toEqual(['archive/2026-06-10/inc-1.jsonl']);
      await expect(verifyRange(tables.ledger, RANGE[0], RANGE[1], mac, undefined, check(source))).resolves.toEqual({ ok: true, incidents: 0, entries: 0, archived: 1 });
      await expect(verifyIncident(tables.ledger, 'inc-1', mac, undefined, check(source))).resolves.toMatchObject({ ok: true, archived: 1 });
      persistLocalAnchor(dir, 'archive/2026-06-10/inc-1.jsonl', 'tampered\n', 1);
      await expect(verifyIncident(tables.ledger, 'inc-1', mac, undefined, check(source))).resolves.toMatchObject({ ok: false });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

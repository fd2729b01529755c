import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as writer } from '../../lambdas/ledger-writer/index';
import { canonicalJson, sha256Hex } from '../../lambdas/shared/canonical-json';
import { readIncident, verifyIncident, verifyRange, type LedgerEntry, type Phase } from '../../lambdas/shared/ledger';
import { AnchorCheck, S3AnchorSource, anchorKey, compareWithAnchors, digestOf, type StoredAnchor } from '../../lambdas/shared/ledger-anchors';
import { LocalLedgerMac } from '../../lambdas/shared/ledger-mac';
import { bindOperations } from '../../lib/gameday/models/operations';
import { BucketModel, BucketsModel } from '../../lib/gameday/models/s3';
import { LocalDynamo } from '../../lib/local/dynalite';
import { LocalAnchorSource, persistLocalAnchor } from '../../lib/local/local-anchors';
import { freshTables } from '../support/tables';

/*
 * The ledger's anchors outside DynamoDB: the writer anchors every ending entry in an Object Lock
 * bucket (here the game day's S3 model, with its Object Lock semantics) and digests each day; the
 * verifier compares every chain with its anchors.
 */

const BUCKET = 'medic-anchors';
const local = new LocalDynamo();
const mac = new LocalLedgerMac();
const s3 = mockClient(S3Client);
let clock = Date.parse('2026-11-29T10:00:00Z');
let bucket: BucketModel;
let tables: { ledger: string; limiter: string };
let failPuts = false;

beforeAll(async () => local.start());
afterAll(async () => {
  s3.restore();
  await local.stop();
});
beforeEach(async () => {
  tables = await freshTables(local, 'anchors');
  process.env.MEDIC_LEDGER_MAC_KEY = 'local';
  process.env.MEDIC_LEDGER_ANCHORS_BUCKET = BUCKET;
  failPuts = false;
  s3.reset();
  bucket = new BucketModel({ versioned: true, objectLock: { mode: 'COMPLIANCE', days: 365 } }, () => clock);
  const buckets = new BucketsModel();
  buckets.define(BUCKET, bucket);
  bindOperations(s3, buckets.operations, (operation, _input, _mutating, answer) => {
    if (failPuts && operation === 'PutObject') throw Object.assign(new Error('S3 is down'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
    return answer();
  });
});
afterEach(() => {
  delete process.env.MEDIC_LEDGER_ANCHORS_BUCKET;
});

const append = (incidentId: string, phase: Phase, at: string) =>
  writer({ append: { incidentId, phase, runbook: 'api-restart', actor: 'test', detail: { phase }, now: at } });
const anchorKeys = () => [...bucket.versions.keys()].filter((k) => k.startsWith('anchors/')).sort();
const check = () => new AnchorCheck(new S3AnchorSource(new S3Client({}), BUCKET));

async function resolved(incidentId: string, day = '2026-11-29'): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  for (const [i, phase] of (['received', 'admitted', 'acted', 'completed'] as Phase[]).entries()) entries.push(await append(incidentId, phase, `${day}T10:0${i}:00.000Z`));
  return entries;
}

describe('the writer anchors ending entries', () => {
  test('an ending entry only: anchors/<first day>/<incident>/<seq>.json, canonical {incidentId, seq, hash, mac, phase, at}, locked in compliance mode', async () => {
    await append('inc-1', 'received', '2026-11-29T23:59:00.000Z');
    await append('inc-1', 'admitted', '2026-11-30T00:00:30.000Z');
    expect(anchorKeys()).toEqual([]);
    const ending = await append('inc-1', 'escalated', '2026-11-30T00:01:00.000Z');
    // The folder is the day of the FIRST entry, so a verifier finds it from entry 1 alone.
    expect(anchorKeys()).toEqual(['anchors/2026-11-29/inc-1/000003.json']);
    const [version] = bucket.versions.get('anchors/2026-11-29/inc-1/000003.json')!;
    expect(version.body).toBe(canonicalJson({ incidentId: 'inc-1', seq: 3, hash: ending.hash, mac: ending.mac, phase: 'escalated', at: '2026-11-30T00:01:00.000Z' }));
    expect(version).toMatchObject({ mode: 'COMPLIANCE', retainUntil: new Date(clock + 365 * 86_400_000) });
    const put = s3.calls().map((c) => c.args[0].input as Record<string, unknown>).find((i) => i.Key === 'anchors/2026-11-29/inc-1/000003.json');
    expect(put).toMatchObject({ Bucket: BUCKET, IfNoneMatch: '*', ChecksumAlgorithm: 'SHA256' });
    expect(anchorKey('2026-11-29', 'a/b', 7)).toBe('anchors/2026-11-29/a%2Fb/000007.json');
  });

  test('a failed anchor put does not fail the append: the entry is written (the digest re-anchors it)', async () => {
    await append('inc-2', 'received', '2026-11-29T10:00:00.000Z');
    failPuts = true;
    const entry = await append('inc-2', 'completed', '2026-11-29T10:01:00.000Z');
    expect(entry.seq).toBe(2);
    expect((await readIncident(tables.ledger, 'inc-2')).map((e) => e.phase)).toEqual(['received', 'completed']);
    expect(anchorKeys()).toEqual([]);
  });

  test('the daily digest: re-anchors the ending entries lacking an anchor, and lists every incident\'s head of the day, sorted, with count and sha256', async () => {
    await resolved('inc-b');
    await append('inc-a', 'received', '2026-11-29T11:00:00.000Z');
    failPuts = true;
    await append('inc-a', 'rejected', '2026-11-29T11:00:01.000Z');
    failPuts = false;
    await append('inc-a', 'escalated', '2026-11-29T11:00:02.000Z');
    await append('inc-c', 'received', '2026-11-29T12:00:00.000Z');
    await append('inc-c', 'admitted', '2026-11-30T00:00:01.000Z');
    expect(anchorKeys()).toEqual(['anchors/2026-11-29/inc-a/000003.json', 'anchors/2026-11-29/inc-b/000004.json']);

    clock = Date.parse('2026-11-30T00:45:00Z');
    jest.useFakeTimers({ now: clock, doNotFake: ['setImmediate', 'setTimeout', 'setInterval', 'nextTick', 'queueMicrotask', 'clearTimeout', 'clearInterval'] });
    try {
      await digestAndCheck();
    } finally {
      jest.useRealTimers();
    }
  });

  /** The digest run at 00:45 UTC the next day (the schedule's time). */
  async function digestAndCheck(): Promise<void> {
    const result = await writer({ digest: {} });
    expect(result).toEqual({ day: '2026-11-29', key: 'digests/2026-11-29.json', incidents: 3, reanchored: 1 });
    expect(anchorKeys()).toEqual(['anchors/2026-11-29/inc-a/000002.json', 'anchors/2026-11-29/inc-a/000003.json', 'anchors/2026-11-29/inc-b/000004.json']);
    const entries = (id: string) => readIncident(tables.ledger, id);
    const heads = [
      { incidentId: 'inc-a', seq: 3, hash: (await entries('inc-a'))[2].hash },
      { incidentId: 'inc-b', seq: 4, hash: (await entries('inc-b'))[3].hash },
      { incidentId: 'inc-c', seq: 1, hash: (await entries('inc-c'))[0].hash },
    ];
    expect(JSON.parse(bucket.objects.get('digests/2026-11-29.json')!)).toEqual({ day: '2026-11-29', count: 3, sha256: sha256Hex(canonicalJson(heads)), heads });
    // A re-run re-anchors nothing (conditional puts) and writes the same digest as a new version.
    expect(await writer({ digest: { day: '2026-11-29' } })).toMatchObject({ incidents: 3, reanchored: 0 });
    expect(bucket.versions.get('digests/2026-11-29.json')!.map((v) => v.body)).toEqual([bucket.objects.get('digests/2026-11-29.json'), bucket.objects.get('digests/2026-11-29.json')]);
    await expect(writer({ digest: { day: '29/11/2026' } })).rejects.toThrow(/YYYY-MM-DD/);
    await expect(writer({ digest: { day: '2026-11-30' } })).rejects.toThrow(/not over yet/);
  }
});

describe('the verifier compares every chain with its anchors', () => {
  const entry = (seq: number, phase: Phase, hash = `h${seq}`): LedgerEntry => ({
    pk: 'INCIDENT#i', sk: `${String(seq).padStart(6, '0')}#${phase}`, incidentId: 'i', seq, phase, at: `2026-11-29T10:0${seq}:00.000Z`, day: '2026-11-29',
    runbook: 'r', actor: 'a', detail: '{}', prevHash: '', hash,
  });
  const anchor = (seq: number, hash = `h${seq}`, phase: Phase = 'completed'): StoredAnchor => ({
    key: `anchors/2026-11-29/i/${String(seq).padStart(6, '0')}.json`, body: canonicalJson({ incidentId: 'i', seq, hash, phase, at: 'x' }),
  });
  const chain = [entry(1, 'received'), entry(2, 'admitted'), entry(3, 'completed')];

  test('ok: every anchor matches its entry, and the ending head is anchored', () => {
    expect(compareWithAnchors('i', chain, [anchor(3)])).toBeUndefined();
    expect(compareWithAnchors('i', chain.slice(0, 2), [])).toBeUndefined();
  });

  test('truncated: an anchored entry is gone; the first missing entry is named', () => {
    expect(compareWithAnchors('i', chain.slice(0, 2), [anchor(3)])).toEqual({
      incidentId: 'i', seq: 3, sk: '', reason: expect.stringMatching(/^truncated: anchored entry 3 \(completed at x\) is missing; the ledger ends at entry 2 \(the newest entries were removed\)/),
    });
  });

  test('rewritten: an entry differs from its anchor', () => {
    expect(compareWithAnchors('i', [chain[0], chain[1], entry(3, 'completed', 'other')], [anchor(3)])).toEqual({
      incidentId: 'i', seq: 3, sk: '000003#completed', reason: expect.stringMatching(/^rewritten: entry 3 differs from its anchor/),
    });
  });

  test('missing anchor: the newest entry ends the incident but has none; an anchor of another incident is not this one\'s', () => {
    expect(compareWithAnchors('i', chain, [])).toMatchObject({ seq: 3, sk: '000003#completed', reason: expect.stringMatching(/^missing anchor: entry 3 \(completed\)/) });
    expect(compareWithAnchors('i', chain, [{ key: 'anchors/2026-11-29/i/000003.json', body: canonicalJson({ incidentId: 'j', seq: 3, hash: 'h3' }) }]))
      .toMatchObject({ reason: expect.stringMatching(/is not an anchor of this incident/) });
  });

  test('against the bucket: an intact ledger verifies; a truncated incident, and one removed whole, are reported', async () => {
    const intact = await resolved('inc-1');
    await resolved('inc-2');
    await expect(verifyIncident(tables.ledger, 'inc-1', mac, undefined, check())).resolves.toMatchObject({ ok: true, entries: 4 });
    const range = check();
    const from = new Date('2026-11-29T00:00:00Z');
    const to = new Date('2026-11-29T23:59:59Z');
    await expect(verifyRange(tables.ledger, from, to, mac, undefined, range)).resolves.toEqual({ ok: true, incidents: 2, entries: 8 });
    expect(range.checked).toBe(2);

    const { DeleteCommand } = await import('@aws-sdk/lib-dynamodb');
    const { dynamo } = await import('../../lambdas/shared/clients');
    await dynamo().send(new DeleteCommand({ TableName: tables.ledger, Key: { pk: intact[3].pk, sk: intact[3].sk } }));
    await expect(verifyIncident(tables.ledger, 'inc-1', mac, undefined, check())).resolves.toMatchObject({
      ok: false, firstBroken: { incidentId: 'inc-1', seq: 4, reason: expect.stringMatching(/^truncated/) },
    });
    for (const e of intact.slice(0, 3)) await dynamo().send(new DeleteCommand({ TableName: tables.ledger, Key: { pk: e.pk, sk: e.sk } }));
    await expect(verifyRange(tables.ledger, from, to, mac, undefined, check())).resolves.toEqual({
      ok: false, incidents: 1, entries: 4,
      firstBroken: { incidentId: 'inc-1', seq: 1, sk: '', reason: 'missing entries: incident anchored (1 anchor(s) under 2026-11-29) but not in the ledger' },
    });
  });

  test('an overwritten or delete-marked anchor hides nothing: every version is read', async () => {
    const entries = await resolved('inc-1');
    const key = 'anchors/2026-11-29/inc-1/000004.json';
    bucket.putObject({ Key: key, Body: canonicalJson({ incidentId: 'inc-1', seq: 4, hash: entries[3].hash, phase: 'completed', at: 'x' }), ChecksumAlgorithm: 'SHA256' });
    bucket.deleteObject({ Key: key });
    expect(bucket.objects.has(key)).toBe(false);
    const stored = await new S3AnchorSource(new S3Client({}), BUCKET).versionsUnder('anchors/2026-11-29/inc-1/');
    expect(stored.map((s) => s.key)).toEqual([key, key]);
  });

  test('the digest of a day: each incident\'s newest entry that day', () => {
    const digest = digestOf('2026-11-29', [entry(2, 'admitted'), entry(1, 'received'), { ...entry(1, 'received'), incidentId: 'a', hash: 'ha' }]);
    expect(digest.heads).toEqual([{ incidentId: 'a', seq: 1, hash: 'ha' }, { incidentId: 'i', seq: 2, hash: 'h2' }]);
    expect(digest).toMatchObject({ day: '2026-11-29', count: 2, sha256: sha256Hex(canonicalJson(digest.heads)) });
  });
});

describe('the S3 model: Object Lock semantics (S3 User Guide, "Using S3 Object Lock")', () => {
  test('a put needs an integrity header, adds a version, and If-None-Match refuses an existing key', () => {
    expect(() => bucket.putObject({ Key: 'k', Body: 'a' })).toThrow(expect.objectContaining({ name: 'InvalidRequest' }));
    expect(bucket.putObject({ Key: 'k', Body: 'a', ChecksumAlgorithm: 'SHA256' })).toMatchObject({ VersionId: 'v1' });
    expect(() => bucket.putObject({ Key: 'k', Body: 'b', IfNoneMatch: '*', ChecksumAlgorithm: 'SHA256' })).toThrow(expect.objectContaining({ $metadata: { httpStatusCode: 412 } }));
    bucket.putObject({ Key: 'k', Body: 'b', ContentMD5: 'x' });
    expect(bucket.versions.get('k')!.map((v) => v.body)).toEqual(['a', 'b']);
    expect(bucket.objects.get('k')).toBe('b');
  });

  test('a locked version cannot be deleted until its retention ends; a delete marker can be added', () => {
    bucket.putObject({ Key: 'k', Body: 'a', ChecksumAlgorithm: 'SHA256' });
    expect(() => bucket.deleteObject({ Key: 'k', VersionId: 'v1' })).toThrow(expect.objectContaining({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    expect(bucket.deleteObject({ Key: 'k' })).toMatchObject({ DeleteMarker: true });
    expect(() => bucket.getObject({ Key: 'k' })).toThrow(expect.objectContaining({ name: 'NoSuchKey' }));
    expect(bucket.getObject({ Key: 'k', VersionId: 'v1' })).toMatchObject({ ObjectLockMode: 'COMPLIANCE' });
    clock += 366 * 86_400_000;
    expect(bucket.deleteObject({ Key: 'k', VersionId: 'v1' })).toEqual({ VersionId: 'v1' });
    expect(() => new BucketModel({ objectLock: { mode: 'COMPLIANCE', days: 1 } })).toThrow(/versioned/);
  });

  test('the game day\'s anchors folder reads back as the bucket: every version under a prefix', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medic-anchors-'));
    try {
      persistLocalAnchor(dir, 'anchors/2026-11-29/inc-1/000004.json', 'one', 0);
      persistLocalAnchor(dir, 'anchors/2026-11-29/inc-1/000004.json', 'two', 1);
      persistLocalAnchor(dir, 'anchors/2026-11-29/inc-10/000002.json', 'other', 0);
      persistLocalAnchor(dir, 'anchors/2026-11-30/inc-2/000001.json', 'later', 0);
      const source = new LocalAnchorSource(dir);
      expect(await source.versionsUnder('anchors/2026-11-29/inc-1/')).toEqual([
        { key: 'anchors/2026-11-29/inc-1/000004.json', body: 'one' }, { key: 'anchors/2026-11-29/inc-1/000004.json', body: 'two' },
      ]);
      expect((await source.versionsUnder('anchors/2026-11-29/')).map((s) => s.body)).toEqual(['one', 'two', 'other']);
      expect(await source.versionsUnder('anchors/2026-12-01/')).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

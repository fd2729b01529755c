import { S3Client } from '@aws-sdk/client-s3';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as writer } from '../../lambdas/ledger-writer/index';
import { dynamo } from '../../lambdas/shared/clients';
import { entryHash, unhashed, type LedgerEntry, type Phase } from '../../lambdas/shared/ledger';
import { bindOperations } from '../../lib/gameday/models/operations';
import { BucketModel, BucketsModel } from '../../lib/gameday/models/s3';
import { LocalDynamo, ledgerTableInput } from '../../lib/local/dynalite';
import { FakeCloudFormation } from './fake-aws';
import { FakeS3 } from './fake-s3';
import { runCli } from './run-cli';

/*
 * `medic ledger verify` against the anchors (child processes): ledgers on dynalite written by the
 * real ledger writer, which anchors every ending entry in an Object Lock bucket (the game day's S3
 * model, served over HTTP to the CLI). Then someone with table access edits an entry, rewrites a
 * chain with recomputed (unkeyed) hashes, removes the newest entries, removes an incident whole,
 * or extends a chain outside the writer: each is caught, naming the incident and the first bad entry.
 */

const local = new LocalDynamo();
const cloudFormation = new FakeCloudFormation();
const buckets = new BucketsModel();
const fakeS3 = new FakeS3(buckets);
const s3 = mockClient(S3Client);
let raw: DynamoDBDocumentClient;
const NOW = Date.now();
const minutesAgo = (minutes: number) => new Date(NOW - minutes * 60_000).toISOString();

const CASES = ['intact', 'edited', 'rewritten', 'truncated', 'removed', 'unanchored'] as const;
type Case = typeof CASES[number];
const table = (c: Case) => `ledger-${c}`;
const bucket = (c: Case) => `anchors-${c}`;
const written = new Map<string, LedgerEntry[]>();

const RESOLVED: Phase[] = ['received', 'admitted', 'planned', 'acting', 'acted', 'verified', 'completed'];
const ESCALATED: Phase[] = ['received', 'rejected', 'escalated'];

/** Appends an incident through the ledger writer function's handler, one minute apart. */
async function incident(c: Case, incidentId: string, phases: Phase[], startMinutesAgo: number) {
  process.env.MEDIC_LEDGER_TABLE = table(c);
  process.env.MEDIC_LEDGER_ANCHORS_BUCKET = bucket(c);
  const entries: LedgerEntry[] = [];
  for (const [i, phase] of phases.entries()) {
    entries.push(await writer({ append: {
      incidentId, phase, runbook: 'api-restart', actor: 'medic-test', detail: { step: i }, targetArn: 'arn:aws:ecs:eu-west-1:111111111111:service/prod/api',
      now: minutesAgo(startMinutesAgo - i),
    } }));
  }
  written.set(incidentId, entries);
}

const env = () => ({ AWS_ENDPOINT_URL_DYNAMODB: local.endpoint, AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormation.endpoint, AWS_ENDPOINT_URL_S3: fakeS3.endpoint });
const verify = (c: Case, ...args: string[]) => runCli(['ledger', 'verify', '--table', table(c), '--mac-key', 'local', '--anchors-bucket', bucket(c), ...args], env());

beforeAll(async () => {
  await local.start();
  await cloudFormation.start();
  await fakeS3.start();
  raw = DynamoDBDocumentClient.from(local.client());
  process.env.MEDIC_LEDGER_MAC_KEY = 'local';
  for (const c of CASES) {
    await local.createTable(ledgerTableInput(table(c)));
    buckets.define(bucket(c), new BucketModel({ versioned: true, objectLock: { mode: 'COMPLIANCE', days: 365 } }));
  }
  bindOperations(s3, buckets.operations, (_operation, _input, _mutating, answer) => answer());
  for (const c of CASES) {
    await incident(c, `${c}-resolved-0001`, RESOLVED, 90);
    await incident(c, `${c}-escalated-0002`, ESCALATED, 30);
  }
  cloudFormation.stacks.set('MedicAnchors', { LedgerTableName: table('truncated'), LedgerMacKeyArn: 'local', LedgerAnchorsBucketName: bucket('truncated') });
});

afterAll(async () => {
  s3.restore();
  raw?.destroy();
  dynamo().destroy();
  await fakeS3.stop();
  await cloudFormation.stop();
  await local.stop();
  delete process.env.MEDIC_LEDGER_ANCHORS_BUCKET;
});

describe('medic ledger verify checks every chain against its anchors', () => {
  test('an intact ledger: every chain links, every MAC verifies, every anchor matches (exit 0)', async () => {
    const [range, one, json] = await Promise.all([verify('intact'), verify('intact', '--incident', 'intact-resolved-0001'), verify('intact', '--json')]);
    expect(json).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, chain: { ok: true, incidents: 2, entries: 10 }, anchors: { source: 'bucket anchors-intact', checked: 3, archived: [] } });
    expect(range).toMatchObject({ code: 0, stderr: '' });
    expect(range.stdout).toMatch(/^hash chain intact: 10 entries in 2 incident\(s\): incidents with entries between .* \(table ledger-intact\)\n/);
    // The escalated incident has two ending entries (rejected, escalated): three anchors in all.
    expect(range.stdout).toContain('anchors: 3 anchor(s) compared (bucket anchors-intact)\n');
    expect(one).toMatchObject({ code: 0, stdout: 'hash chain intact: 7 entries in 1 incident(s): incident intact-resolved-0001 (table ledger-intact)\nanchors: 1 anchor(s) compared (bucket anchors-intact)\n' });
  });

  test('an entry edited in the table (exit 1: the incident and the entry)', async () => {
    const target = written.get('edited-resolved-0001')![4];
    await raw.send(new UpdateCommand({ TableName: table('edited'), Key: { pk: target.pk, sk: target.sk }, UpdateExpression: 'SET detail = :d', ExpressionAttributeValues: { ':d': '{"step":"nothing happened"}' } }));
    const run = await verify('edited');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('hash chain BROKEN: incident edited-resolved-0001, entry 5: hash does not match the entry\'s content (entry modified)');
  });

  test('a chain rewritten from an entry on, every hash recomputed (unkeyed): the MACs and the anchor both disagree (exit 1)', async () => {
    const entries = written.get('rewritten-resolved-0001')!;
    let previous = entries[2].hash;
    for (const entry of entries.slice(3)) {
      const content = { ...unhashed(entry), prevHash: previous, ...(entry.seq === 4 ? { detail: '{"step":"rewritten"}' } : {}) };
      const hash = entryHash(content);
      await raw.send(new PutCommand({ TableName: table('rewritten'), Item: { ...content, hash, mac: entry.mac, macKey: entry.macKey } }));
      previous = hash;
    }
    const run = await verify('rewritten');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('hash chain BROKEN: incident rewritten-resolved-0001, entry 4: MAC does not verify');
    // Without the MAC check (an attacker holding the writer's key), the anchor still disagrees.
    const { compareWithAnchors, S3AnchorSource, anchorFolder } = await import('../../lambdas/shared/ledger-anchors');
    const { readIncident } = await import('../../lambdas/shared/ledger');
    const stored = await new S3AnchorSource(new S3Client({}), bucket('rewritten')).versionsUnder(anchorFolder(entries[0].day, 'rewritten-resolved-0001'));
    expect(compareWithAnchors('rewritten-resolved-0001', await readIncident(table('rewritten'), 'rewritten-resolved-0001', raw), stored))
      .toMatchObject({ seq: 7, reason: expect.stringMatching(/^rewritten: entry 7 differs from its anchor/) });
  });

  test('the newest entries removed: the chain still links, the anchor names what is missing (exit 1; --stack reads the bucket from the stack)', async () => {
    const entries = written.get('truncated-resolved-0001')!;
    for (const entry of entries.slice(5)) await raw.send(new DeleteCommand({ TableName: table('truncated'), Key: { pk: entry.pk, sk: entry.sk } }));
    const [range, byStack] = await Promise.all([
      verify('truncated'),
      runCli(['ledger', 'verify', '--stack', 'MedicAnchors', '--incident', 'truncated-resolved-0001'], env()),
    ]);
    const broken = 'hash chain BROKEN: incident truncated-resolved-0001, entry 6: truncated: anchored entry 7 (completed at ';
    expect(range.code).toBe(1);
    expect(range.stdout).toContain(broken);
    expect(range.stdout).toContain('is missing; the ledger ends at entry 5 (the newest entries were removed)');
    expect(byStack.code).toBe(1);
    expect(byStack.stdout).toContain(broken);
    expect(byStack.stdout).toContain('anchors: 1 anchor(s) compared (bucket anchors-truncated)');
  });

  test('an incident removed whole: anchored, but not in the ledger (exit 1)', async () => {
    for (const entry of written.get('removed-escalated-0002')!) await raw.send(new DeleteCommand({ TableName: table('removed'), Key: { pk: entry.pk, sk: entry.sk } }));
    const run = await verify('removed');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('hash chain BROKEN: incident removed-escalated-0002, entry 1: missing entries: incident anchored (2 anchor(s) under ');
  });

  test('a missing anchor: an ending entry the writer never anchored (exit 1)', async () => {
    delete process.env.MEDIC_LEDGER_ANCHORS_BUCKET;
    process.env.MEDIC_LEDGER_TABLE = table('unanchored');
    await writer({ append: { incidentId: 'unanchored-resolved-0001', phase: 'escalated', runbook: 'api-restart', actor: 'someone', detail: {}, now: minutesAgo(1) } });
    const run = await verify('unanchored');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('hash chain BROKEN: incident unanchored-resolved-0001, entry 8: missing anchor: entry 8 (escalated) ends the incident but has no anchor');
  });

  test('without an anchors bucket, verify checks the chains and says the anchors were not checked', async () => {
    const run = await runCli(['ledger', 'verify', '--table', table('intact'), '--mac-key', 'local'], env());
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('anchors not checked: no anchors source');
  });
});

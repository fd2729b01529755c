import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../../lambdas/shared/clients';
import { appendEntry, type LedgerEntry, type Phase } from '../../lambdas/shared/ledger';
import { LocalDynamo, ledgerTableInput } from '../../lib/local/dynalite';
import { LOCAL_LEDGER_TABLE, openLocalTables } from '../../lib/local/local-ledger';
import { FakeCloudFormation } from './fake-aws';
import { jsonLines, runCli, type CliRun } from './run-cli';

/**
 * `medic ledger ...` run as a user runs it (child processes), against a ledger on dynalite written
 * by the project's own appendEntry, so hashes and chains are real. Tampering goes around the
 * ledger code with a raw UpdateItem, as someone with table access would.
 */

const local = new LocalDynamo();
const cloudFormation = new FakeCloudFormation();
let raw: DynamoDBDocumentClient;
const TABLE = 'medic-ledger';
const TAMPERED_TABLE = 'medic-ledger-tampered';
const SCRATCH_TABLE = 'medic-ledger-scratch';
const HOSTILE_TABLE = 'medic-ledger-hostile';
const API = 'arn:aws:ecs:eu-west-1:111111111111:service/prod/api';
const WEB = 'arn:aws:ecs:eu-west-1:111111111111:service/prod/web';
const INSTANCE = 'arn:aws:ec2:eu-west-1:111111111111:instance/i-0abc';
const NOW = Date.now();
const minutesAgo = (minutes: number) => new Date(NOW - minutes * 60_000);

const RESOLVED = 'api-restart-resolved-0001';
const ESCALATED = 'api-restart-act-failed-0002';
const DENIED = 'api-restart-denied-0003';
const OBSERVED = 'disk-prune-observed-0004';
const REJECTED = 'disk-prune-rejected-exec-0005';
const OLD_DEFERRED = 'api-restart-deferred-0006';
const TAMPERED = 'api-restart-tampered-0007';

type Step = [Phase, Record<string, unknown>];
/** What verify adds when it has no anchors to compare (the stack here has no LedgerAnchorsBucketName output; test/cli/ledger-anchors.test.ts has). */
const NO_ANCHORS = 'anchors not checked: no anchors source (give --anchors-bucket <name> with --table; --stack reads its LedgerAnchorsBucketName output; --local the last game day\'s)\n';
const written = new Map<string, LedgerEntry[]>();

/** Appends an incident's entries one minute apart, starting `startMinutesAgo`, as the workflow would. */
async function incident(table: string, incidentId: string, runbook: string, targetArn: string | undefined, startMinutesAgo: number, steps: Step[]) {
  const entries: LedgerEntry[] = [];
  for (let i = 0; i < steps.length; i++) {
    const [phase, detail] = steps[i];
    entries.push(await appendEntry({
      table, incidentId, phase, runbook, targetArn, mode: 'auto', actor: `medic-${runbook}-step`,
      execution: `arn:aws:states:eu-west-1:111111111111:execution:medic-${runbook}:${incidentId}`,
      detail, now: minutesAgo(startMinutesAgo - i),
    }));
  }
  written.set(incidentId, entries);
}

const received: Step = ['received', { trigger: { kind: 'alarm', name: 'api-5xx', reason: 'Threshold Crossed' } }];
const admitted: Step = ['admitted', { reason: 'all guards passed' }];

async function seedLedger(): Promise<void> {
  await incident(TABLE, OLD_DEFERRED, 'api-restart', API, 3 * 24 * 60, [received, admitted,
    ['planned', { decision: 'defer', reason: 'a deployment is in progress', summary: 'nothing yet' }],
    ['deferred', { outcome: 'deferred', summary: 'a deployment is in progress' }]]);
  await incident(TABLE, RESOLVED, 'api-restart', API, 120, [received, admitted,
    ['planned', { decision: 'act', reason: '2 tasks unhealthy', summary: 'stop 2 unhealthy tasks' }],
    ['acting', { batch: 0, plan: 'stop 2 unhealthy tasks' }],
    ['acted', { result: { summary: 'stopped 2 tasks', calls: [] } }],
    ['checked', { verdict: 'success', reason: '2 of 2 tasks healthy' }],
    ['verified', { batch: 0, reason: '2 consecutive healthy checks', checks: 2 }],
    ['completed', { outcome: 'resolved', summary: 'stopped 2 tasks; verified: 2 consecutive healthy checks' }]]);
  await incident(TABLE, DENIED, 'api-restart', WEB, 60, [received,
    ['denied', { reason: 'kill switch /medic/MedicTest/kill-switch/global is "on"' }],
    ['escalated', { headline: 'incident denied', diagnosis: 'kill switch on' }]]);
  await incident(TABLE, ESCALATED, 'api-restart', API, 45, [received, admitted,
    ['planned', { decision: 'act', reason: '1 task unhealthy', summary: 'stop 1 task' }],
    ['acting', { batch: 0, plan: 'stop 1 task' }],
    ['act-failed', { batch: 0, error: 'AccessDeniedException: not authorized to perform ecs:StopTask' }],
    ['escalated', { headline: 'action failed', diagnosis: 'AccessDeniedException' }]]);
  await incident(TABLE, OBSERVED, 'disk-prune', INSTANCE, 30, [received, admitted,
    ['planned', { decision: 'act', reason: 'disk 93% used', summary: 'prune /var/log', wouldAct: 'prune /var/log' }],
    ['completed', { outcome: 'observed', summary: 'observe mode: would prune /var/log' }]]);
  await incident(TABLE, REJECTED, 'disk-prune', undefined, 10, [
    ['rejected', { reason: 'the alarm has no InstanceId dimension' }],
    ['escalated', { headline: 'event rejected', diagnosis: 'no InstanceId' }]]);
}

const env = () => ({ AWS_ENDPOINT_URL_DYNAMODB: local.endpoint, AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormation.endpoint });
const medic = (...args: string[]) => runCli(args, env());
const ids = (run: CliRun) => jsonLines(run.stdout).map((row) => row.incidentId);
/** The incident ids of a table's rows, top to bottom. */
const tableIds = (run: CliRun) => run.stdout.split('\n').map((line) => /│ ([a-z0-9-]+-\d{4}) /.exec(line)?.[1]).filter(Boolean);

beforeAll(async () => {
  await local.start();
  await cloudFormation.start();
  raw = DynamoDBDocumentClient.from(local.client());
  await local.createTable(ledgerTableInput(TABLE));
  await local.createTable(ledgerTableInput(TAMPERED_TABLE));
  await local.createTable(ledgerTableInput(SCRATCH_TABLE));
  await local.createTable(ledgerTableInput(HOSTILE_TABLE));
  // The offline key stands in for the stack's HMAC key (these entries were signed with it).
  cloudFormation.stacks.set('MedicTest', { LedgerTableName: TABLE, LimiterTableName: 'medic-limiter', LedgerMacKeyArn: 'local' });
  await seedLedger();
});

afterAll(async () => {
  raw?.destroy();
  dynamo().destroy();
  await cloudFormation.stop();
  await local.stop();
});

describe('medic ledger list', () => {
  test('by default: incidents of the last 24 hours, newest first, with derived outcomes', async () => {
    const run = await medic('ledger', 'list', '--table', TABLE);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(tableIds(run)).toEqual([REJECTED, OBSERVED, ESCALATED, DENIED, RESOLVED]);
    const row = (id: string) => run.stdout.split('\n').find((line) => line.includes(id))!;
    expect(row(RESOLVED)).toMatch(/api-restart .*service\/prod\/api .*completed .*resolved/);
    expect(row(DENIED)).toMatch(/escalated .*denied/);
    expect(row(ESCALATED)).toMatch(/escalated .*escalated/);
    expect(row(OBSERVED)).toMatch(/disk-prune .*instance\/i-0abc .*completed .*observed/);
    expect(row(REJECTED)).toMatch(/disk-prune .* - .*escalated .*rejected/);
    expect(run.stdout).toContain(`5 incident(s) with entries between`);
  });

  test('each filter, and --json', async () => {
    const [week, runbook, target, targetWeek, phase, escalated, denied, sinceIso, window, noMatch] = await Promise.all([
      medic('ledger', 'list', '--table', TABLE, '--since', '7d', '--json'),
      medic('ledger', 'list', '--table', TABLE, '--runbook', 'disk-prune', '--json'),
      medic('ledger', 'list', '--table', TABLE, '--target', API, '--json'),
      medic('ledger', 'list', '--table', TABLE, '--target', API, '--since', '7d', '--json'),
      medic('ledger', 'list', '--table', TABLE, '--phase', 'denied', '--json'),
      medic('ledger', 'list', '--table', TABLE, '--outcome', 'escalated', '--json'),
      medic('ledger', 'list', '--table', TABLE, '--outcome', 'denied', '--json'),
      medic('ledger', 'list', '--table', TABLE, '--since', minutesAgo(50).toISOString(), '--json'),
      medic('ledger', 'list', '--table', TABLE, '--since', '7d', '--until', '2d', '--json'),
      medic('ledger', 'list', '--table', TABLE, '--runbook', 'no-such-runbook'),
    ]);
    expect(ids(week)).toEqual([REJECTED, OBSERVED, ESCALATED, DENIED, RESOLVED, OLD_DEFERRED]);
    expect(jsonLines(week.stdout)[5]).toEqual({
      incidentId: OLD_DEFERRED, runbook: 'api-restart', targetArn: API, mode: 'auto', entries: 4,
      first: written.get(OLD_DEFERRED)![0].at, last: written.get(OLD_DEFERRED)![3].at, lastPhase: 'deferred', outcome: 'deferred',
    });
    expect(ids(runbook)).toEqual([REJECTED, OBSERVED]);
    expect(ids(target)).toEqual([ESCALATED, RESOLVED]);
    expect(ids(targetWeek)).toEqual([ESCALATED, RESOLVED, OLD_DEFERRED]);
    expect(ids(phase)).toEqual([DENIED]);
    expect(ids(escalated)).toEqual([ESCALATED]);
    expect(ids(denied)).toEqual([DENIED]);
    expect(ids(sinceIso)).toEqual([REJECTED, OBSERVED, ESCALATED]);
    expect(ids(window)).toEqual([OLD_DEFERRED]);
    expect(noMatch.stdout).toMatch(/^no incidents with entries between .* matching the filters \(table medic-ledger\)/);
    for (const run of [week, runbook, target, targetWeek, phase, escalated, denied, sinceIso, window, noMatch]) expect(run.code).toBe(0);
  });
});

describe('medic ledger show', () => {
  test('prints the timeline and that the chain verifies; an unknown incident is an error (exit 2)', async () => {
    const [run, unknown] = await Promise.all([
      medic('ledger', 'show', RESOLVED, '--table', TABLE, '--mac-key', 'local'),
      medic('ledger', 'show', 'no-such-incident', '--table', TABLE, '--mac-key', 'local'),
    ]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`incident   ${RESOLVED}`);
    expect(run.stdout).toContain('runbook    api-restart (mode auto)');
    expect(run.stdout).toContain(`target     ${API}`);
    expect(run.stdout).toContain('outcome    resolved');
    expect(run.stdout).toContain('hash chain intact (8 entries)');
    const timeline = run.stdout.split('\n').filter((line) => /^│ \d /.test(line));
    expect(timeline.map((line) => line.split('│')[3].trim())).toEqual(['received', 'admitted', 'planned', 'acting', 'acted', 'checked', 'verified', 'completed']);
    expect(timeline[0]).toContain(written.get(RESOLVED)![0].at.replace(/\.\d+Z$/, 'Z'));
    expect(timeline[0]).toContain('medic-api-restart-step');
    expect(timeline[0]).toContain('alarm api-5xx: Threshold Crossed');
    expect(timeline[2]).toContain('act: stop 2 unhealthy tasks');
    expect(timeline[4]).toContain('stopped 2 tasks');
    expect(timeline[5]).toContain('success: 2 of 2 tasks healthy');
    expect(timeline[7]).toContain('resolved: stopped 2 tasks; verified: 2 consecutive healthy checks');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('medic: no ledger entries for incident no-such-incident in table medic-ledger');
  });
});

describe('--json of show and verify', () => {
  const asJson = (run: CliRun) => JSON.parse(run.stdout) as Record<string, unknown>;
  const stored = (id: string) => written.get(id)!.map((entry) => JSON.parse(JSON.stringify(entry)) as unknown);

  test('show --json: the incident, its execution, its chain check and its entries exactly as stored', async () => {
    const [resolved, rejected] = await Promise.all([
      medic('ledger', 'show', RESOLVED, '--table', TABLE, '--mac-key', 'local', '--json'),
      medic('ledger', 'show', REJECTED, '--stack', 'MedicTest', '--json'),
    ]);
    expect(resolved).toMatchObject({ code: 0, stderr: '' });
    expect(resolved.stdout.trim().split('\n')).toHaveLength(1);
    const entries = written.get(RESOLVED)!;
    expect(asJson(resolved)).toEqual({
      incidentId: RESOLVED, runbook: 'api-restart', targetArn: API, mode: 'auto',
      execution: `arn:aws:states:eu-west-1:111111111111:execution:medic-api-restart:${RESOLVED}`,
      first: entries[0].at, last: entries[7].at, lastPhase: 'completed', outcome: 'resolved',
      chain: { ok: true, entries: 8, firstBroken: null },
      entries: stored(RESOLVED),
    });
    expect(rejected.code).toBe(0);
    expect(asJson(rejected)).toMatchObject({ incidentId: REJECTED, runbook: 'disk-prune', targetArn: null, outcome: 'rejected', chain: { ok: true, entries: 2, firstBroken: null } });
  });

  test('verify --json: scope, source, chain, anchors and incomplete trails; the same exit code as the text', async () => {
    const [range, one] = await Promise.all([
      medic('ledger', 'verify', '--table', TABLE, '--mac-key', 'local', '--json'),
      medic('ledger', 'verify', '--stack', 'MedicTest', '--incident', RESOLVED, '--json'),
    ]);
    expect(range).toMatchObject({ code: 0, stderr: '' });
    const report = asJson(range) as { scope: { from: string; to: string } };
    expect(report).toEqual({
      ok: true, source: `table ${TABLE}`,
      scope: { incident: null, from: expect.any(String), to: expect.any(String) },
      chain: { ok: true, incidents: 5, entries: 23, firstBroken: null },
      anchors: null,
      incomplete: [],
    });
    expect(Date.parse(report.scope.to) - Date.parse(report.scope.from)).toBe(86_400_000);
    expect(one).toMatchObject({ code: 0, stderr: '' });
    expect(asJson(one)).toEqual({
      ok: true, source: `table ${TABLE}`, scope: { incident: RESOLVED, from: null, to: null },
      chain: { ok: true, incidents: 1, entries: 8, firstBroken: null }, anchors: null, incomplete: [],
    });
  });
});

describe('medic ledger export', () => {
  test('prints the raw entries as JSON lines, grouped by incident in sequence order', async () => {
    const [all, diskPrune] = await Promise.all([
      medic('ledger', 'export', '--table', TABLE, '--since', '7d'),
      medic('ledger', 'export', '--table', TABLE, '--runbook', 'disk-prune'),
    ]);
    expect(all.code).toBe(0);
    const order = [OLD_DEFERRED, RESOLVED, DENIED, ESCALATED, OBSERVED, REJECTED];
    expect(jsonLines(all.stdout)).toEqual(order.flatMap((id) => written.get(id)!.map((entry) => JSON.parse(JSON.stringify(entry)))));
    expect(jsonLines(diskPrune.stdout).map((e) => `${String(e.incidentId)} ${String(e.seq)}`))
      .toEqual([`${OBSERVED} 1`, `${OBSERVED} 2`, `${OBSERVED} 3`, `${OBSERVED} 4`, `${REJECTED} 1`, `${REJECTED} 2`]);
  });
});

describe('medic ledger verify', () => {
  test('an intact ledger verifies: a range and one incident (exit 0)', async () => {
    const [range, week, one] = await Promise.all([
      medic('ledger', 'verify', '--table', TABLE, '--mac-key', 'local'),
      medic('ledger', 'verify', '--table', TABLE, '--since', '7d', '--mac-key', 'local'),
      medic('ledger', 'verify', '--table', TABLE, '--incident', RESOLVED, '--mac-key', 'local'),
    ]);
    expect(range).toMatchObject({ code: 0, stderr: '' });
    expect(range.stdout).toMatch(/^hash chain intact: 23 entries in 5 incident\(s\): incidents with entries between .* \(table medic-ledger\)/);
    expect(week.stdout).toMatch(/^hash chain intact: 27 entries in 6 incident\(s\)/);
    expect(one.stdout).toBe(`hash chain intact: 8 entries in 1 incident(s): incident ${RESOLVED} (table medic-ledger)\n${NO_ANCHORS}`);
  });

  test('detects an entry edited behind the ledger\'s back (exit 1, broken incident and entry named)', async () => {
    await incident(TAMPERED_TABLE, 'api-restart-intact-0008', 'api-restart', API, 20, [received, admitted]);
    await incident(TAMPERED_TABLE, TAMPERED, 'api-restart', API, 15, [received, admitted,
      ['planned', { decision: 'act', reason: '1 task unhealthy', summary: 'stop 1 task' }],
      ['completed', { outcome: 'resolved', summary: 'stopped 1 task' }]]);
    const before = await medic('ledger', 'verify', '--table', TAMPERED_TABLE, '--mac-key', 'local');
    expect(before.code).toBe(0);

    // Someone with table access rewrites what the plan said, leaving hashes as they were.
    await raw.send(new UpdateCommand({
      TableName: TAMPERED_TABLE,
      Key: { pk: `INCIDENT#${TAMPERED}`, sk: '000003' },
      UpdateExpression: 'SET detail = :detail',
      ExpressionAttributeValues: { ':detail': JSON.stringify({ decision: 'noop', reason: 'nothing to do', summary: 'nothing' }) },
    }));

    const [range, one, show, verifyJson, showJson] = await Promise.all([
      medic('ledger', 'verify', '--table', TAMPERED_TABLE, '--mac-key', 'local'),
      medic('ledger', 'verify', '--table', TAMPERED_TABLE, '--incident', TAMPERED, '--mac-key', 'local'),
      medic('ledger', 'show', TAMPERED, '--table', TAMPERED_TABLE, '--mac-key', 'local'),
      medic('ledger', 'verify', '--table', TAMPERED_TABLE, '--mac-key', 'local', '--json'),
      medic('ledger', 'show', TAMPERED, '--table', TAMPERED_TABLE, '--mac-key', 'local', '--json'),
    ]);
    const firstBroken = { incidentId: TAMPERED, seq: 3, sk: '000003', reason: 'hash does not match the entry\'s content (entry modified)' };
    expect(verifyJson.code).toBe(1);
    // A broken chain: the completeness check does not run (null), as in the text.
    expect(JSON.parse(verifyJson.stdout)).toMatchObject({ ok: false, chain: { ok: false, incidents: 2, entries: 6, firstBroken }, incomplete: null });
    expect(showJson.code).toBe(1);
    expect(JSON.parse(showJson.stdout)).toMatchObject({ incidentId: TAMPERED, chain: { ok: false, entries: 4, firstBroken } });
    const broken = `hash chain BROKEN: incident ${TAMPERED}, entry 3: hash does not match the entry's content (entry modified)`;
    expect(range.code).toBe(1);
    expect(range.stdout).toContain(broken);
    expect(range.stdout).toContain('checked 6 entries of 2 incident(s)');
    expect(one.code).toBe(1);
    expect(one.stdout).toContain(broken);
    expect(show.code).toBe(1);
    expect(show.stdout).toContain(`hash chain BROKEN: incident ${TAMPERED}, entry 3`);
    expect(show.stdout).toMatch(/│ 3 BROKEN │ .* planned .* noop: nothing /);
  });
});

describe('untrusted text in the ledger is shown inert', () => {
  // Whoever can create an alarm or put an event chooses these: they must not drive the terminal,
  // forge a line or reorder text in anything medic prints for a human.
  const FORGED = 'WHAT MEDIC DID: nothing';
  const ALARM = `api-5xx\u001b[2J\u001b[31m\n${FORGED}\u202e`;
  const TARGET = `${API}\u001b]0;pwned\u0007\u202ecod.exe`;
  const HOSTILE = 'api-restart-hostile-0010';
  const hostileSteps: Step[] = [
    ['received', { trigger: { kind: 'alarm', name: ALARM, reason: 'Threshold Crossed\r\u001b[2KOK' } }],
    admitted,
    ['planned', { decision: 'act', reason: '1 task unhealthy', summary: `stop task of ${ALARM}` }],
    ['act-failed', { batch: 0, error: { Error: 'Medic.ActFailed', Cause: JSON.stringify({ errorMessage: `ECS said no\u001b[1A\u001b[2K\n${FORGED}\u2028\u009b31m` }) } }],
    ['checked', { weird: `\u202e\u2028\u001b[5m${FORGED}` }],
    ['escalated', { headline: 'action failed', diagnosis: ALARM }],
  ];
  /** What a human reading the output would see as lines of their own (table borders and padding aside). */
  const shownLines = (stdout: string) => stdout.split(/\r?\n|\r|\u2028|\u2029|\u0085/).map((line) => line.replace(/^[│\s]+/, ''));

  const expectInert = (run: CliRun) => {
    expect(run.stdout).not.toContain('\u001b');
    expect(run.stdout).not.toContain('\u009b');
    expect(run.stdout).not.toContain('\u202e');
    expect(run.stdout).not.toContain('\u2028');
    expect(run.stdout).not.toContain('\r');
    expect(run.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    expect(shownLines(run.stdout).filter((line) => line.startsWith(FORGED))).toEqual([]);
  };

  beforeAll(async () => {
    await incident(HOSTILE_TABLE, HOSTILE, 'api-restart', TARGET, 10, hostileSteps);
  });

  test('list, show and verify: escapes are shown, never sent to the terminal; a newline does not forge a line', async () => {
    const [list, show, verify] = await Promise.all([
      medic('ledger', 'list', '--table', HOSTILE_TABLE),
      medic('ledger', 'show', HOSTILE, '--table', HOSTILE_TABLE, '--mac-key', 'local'),
      medic('ledger', 'verify', '--table', HOSTILE_TABLE, '--incident', HOSTILE, '--mac-key', 'local'),
    ]);
    for (const run of [list, show, verify]) {
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expectInert(run);
    }
    const shownTarget = `${API}\\x1b]0;pwned\\x07\\u202ecod.exe`;
    expect(list.stdout).toContain(shownTarget);
    expect(show.stdout).toContain(`target     ${shownTarget}\n`);
    expect(show.stdout).toContain('hash chain intact (6 entries)');
    const timeline = show.stdout.split('\n').filter((line) => /^│ \d /.test(line));
    expect(timeline).toHaveLength(hostileSteps.length);
    expect(timeline[0]).toContain('alarm api-5xx\\x1b[2J\\x1b[31m\\nWHAT MEDIC DID: nothing\\u202e: Threshold Crossed\\r\\x1b[2KOK');
    expect(timeline[3]).toContain('Medic.ActFailed: ECS said no\\x1b[1A\\x1b[2K\\nWHAT MEDIC DID: nothing\\u2028\\x9b31m');
    // A detail shown as JSON: escaped once, as JSON.
    expect(timeline[4]).toContain('{"weird":"\\u202e\\u2028\\u001b[5mWHAT MEDIC DID: nothing"}');
    expect(verify.stdout).toBe(`hash chain intact: 6 entries in 1 incident(s): incident ${HOSTILE} (table ${HOSTILE_TABLE})\n${NO_ANCHORS}`);
  });

  test('list --json and export: exact JSON (it parses to what was written), with nothing raw a terminal would act on', async () => {
    const [list, exported] = await Promise.all([
      medic('ledger', 'list', '--table', HOSTILE_TABLE, '--json'),
      medic('ledger', 'export', '--table', HOSTILE_TABLE),
    ]);
    for (const run of [list, exported]) {
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expectInert(run);
    }
    expect(jsonLines(list.stdout)).toEqual([expect.objectContaining({ incidentId: HOSTILE, targetArn: TARGET })]);
    expect(jsonLines(exported.stdout)).toEqual(written.get(HOSTILE)!.map((entry) => JSON.parse(JSON.stringify(entry))));
    expect(JSON.parse(jsonLines(exported.stdout)[0].detail as string)).toEqual(hostileSteps[0][1]);
    // One entry per line, even for a reader that also splits lines on U+2028/U+2029/U+0085 (Python's str.splitlines).
    expect(shownLines(exported.stdout.trimEnd())).toHaveLength(hostileSteps.length);
  });

  test('an error message quoting untrusted text is inert too (stderr)', async () => {
    const run = await medic('ledger', 'show', `no-such\u001b[2J\n${FORGED}\u202e`, '--table', HOSTILE_TABLE, '--mac-key', 'local');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('medic: no ledger entries for incident no-such\\x1b[2J\\nWHAT MEDIC DID: nothing\\u202e in table medic-ledger-hostile');
    expect(run.stderr).not.toMatch(/[\u001b\u202e]/);
    expect(shownLines(run.stderr).filter((line) => line.startsWith(FORGED))).toEqual([]);
  });
});

describe('where the ledger comes from', () => {
  test('--stack reads the stack\'s LedgerTableName and LedgerMacKeyArn outputs; a missing stack or table is an error (exit 2); --table alone cannot verify', async () => {
    const [byStack, noStack, noTable, noKey] = await Promise.all([
      medic('ledger', 'verify', '--stack', 'MedicTest', '--incident', RESOLVED),
      medic('ledger', 'list', '--stack', 'NoSuchStack'),
      medic('ledger', 'list', '--table', 'no-such-table'),
      medic('ledger', 'verify', '--table', TABLE, '--incident', RESOLVED),
    ]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('verifying needs the ledger\'s HMAC key: give --mac-key <arn>');
    expect(byStack).toMatchObject({ code: 0, stdout: `hash chain intact: 8 entries in 1 incident(s): incident ${RESOLVED} (table medic-ledger)\n${NO_ANCHORS}` });
    expect(noStack).toEqual({ code: 2, stdout: '', stderr: 'medic: stack NoSuchStack is not deployed in eu-west-1: deploy the stack first or check --stack/--region\n' });
    expect(noTable).toEqual({ code: 2, stdout: '', stderr: 'medic: ledger table no-such-table not found in eu-west-1: check --table/--region (the stack\'s LedgerTableName output), or give --stack\n' });
  });

  test('--local reads the persisted game day ledger (MEDIC_LOCAL_DB_DIR), not the DynamoDB endpoint of the environment', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medic-gameday-db-'));
    try {
      // What a game day leaves behind: real entries (appendEntry) in the persisted local table.
      const gameday = 'gameday-api-restart-0009';
      await incident(SCRATCH_TABLE, gameday, 'api-restart', API, 5, [received, admitted, ['completed', { outcome: 'resolved', summary: 'done' }]]);
      const persisted = await openLocalTables({ dir, setEndpointEnv: false });
      const copy = DynamoDBDocumentClient.from(persisted.client());
      for (const entry of written.get(gameday)!) await copy.send(new PutCommand({ TableName: LOCAL_LEDGER_TABLE, Item: entry }));
      copy.destroy();
      // While a game day holds the folder (LevelDB lock), --local is an error, not a crash.
      const locked = await runCli(['ledger', 'list', '--local'], { ...env(), MEDIC_LOCAL_DB_DIR: dir });
      await persisted.stop();
      expect(locked.code).toBe(2);
      expect(locked.stderr).toContain(`medic: cannot read the game day ledger in ${dir} (is a game day running?)`);

      const localEnv = { ...env(), MEDIC_LOCAL_DB_DIR: dir };
      // Offline: --profile and --region are ignored (no such profile, no region in the environment).
      const list = await runCli(['ledger', 'list', '--local', '--json', '--profile', 'nosuch', '--region', 'nowhere-1'], { ...localEnv, AWS_REGION: undefined });
      const show = await runCli(['ledger', 'show', gameday, '--local'], localEnv);
      const missing = await runCli(['ledger', 'list', '--local'], { ...localEnv, MEDIC_LOCAL_DB_DIR: path.join(dir, 'never-ran') });
      expect(list.code).toBe(0);
      expect(ids(list)).toEqual([gameday]);
      expect(show.code).toBe(0);
      expect(show.stdout).toContain('hash chain intact (3 entries)');
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain(`medic: no game day ledger in ${path.join(dir, 'never-ran')}: run \`medic gameday\` first`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('usage errors exit 2 with a clear message', () => {
  test('unknown subcommand, missing argument, no ledger source, conflicting options, a bad time or range', async () => {
    const runs = await Promise.all([
      medic('ledger', 'frobnicate'),
      medic('ledger', 'show', '--table', TABLE, '--mac-key', 'local'),
      medic('ledger', 'list'),
      medic('ledger', 'verify', '--table', TABLE, '--incident', RESOLVED, '--since', '1h', '--mac-key', 'local'),
      medic('ledger', 'list', '--table', TABLE, '--since', 'yesterday'),
      medic('ledger', 'export', '--table', TABLE, '--since', '1h', '--until', '2h'),
    ]);
    const messages = [
      "error: unknown command 'frobnicate'",
      "error: missing required argument 'incidentId'",
      'error: no ledger source: give --local (the last game day), --table <name> or --stack <stack name>',
      "error: option '--incident <id>' cannot be used with option '--since <when>'",
      "error: option '--since <when>' argument 'yesterday' is invalid. expected an ISO date",
      'error: --since (',
    ];
    runs.forEach((run, i) => {
      expect({ i, code: run.code }).toEqual({ i, code: 2 });
      expect(run.stderr).toContain(messages[i]);
      expect(run.stdout).toBe('');
    });
  });
});

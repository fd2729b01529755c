import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { LedgerEntry } from '../../lambdas/shared/ledger';
import { EXPORT_COLUMNS, toCsv, toJsonLines } from '../../lambdas/shared/ledger-export';
import { LOCAL_LEDGER_TABLE, openLocalTables } from '../../lib/local/local-ledger';
import { jsonLines, runCli } from './run-cli';

/**
 * `medic ledger export --format jsonl|csv [--out FILE] --local`, run as a user runs it (child
 * processes), against a persisted game day ledger (MEDIC_LOCAL_DB_DIR) holding hostile text.
 * --local runs one at a time: the local ledger is a LevelDB folder only one process may open.
 */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medic-export-db-'));
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medic-export-out-'));
const NOW = Date.now();
const at = (minutesAgo: number) => new Date(NOW - minutesAgo * 60_000).toISOString();
const HOSTILE_TARGET = '=HYPERLINK("http://evil.example","x"),\n\u001b[2J\u202eevil';
const HOSTILE_DETAIL = JSON.stringify({ reason: 'a "quoted", comma\r\nnew line', note: '+1 @x -2 世界 🚑 \u2028 \u0085' });

const entry = (incidentId: string, seq: number, minutesAgo: number, extra: Record<string, unknown> = {}): LedgerEntry => ({
  pk: `INCIDENT#${incidentId}`, sk: `${String(seq).padStart(6, '0')}#received`, incidentId, seq, phase: 'received', at: at(minutesAgo), day: at(minutesAgo).slice(0, 10),
  runbook: 'api-restart', targetArn: 'arn:aws:ecs:eu-west-1:111111111111:service/prod/api', mode: 'auto', actor: 'medic-validate',
  detail: '{}', prevHash: '0'.repeat(64), hash: `${seq}`.repeat(64).slice(0, 64), ...extra,
} as LedgerEntry);

const OLD = [entry('old-1', 1, 3 * 24 * 60), entry('old-1', 2, 3 * 24 * 60 - 1)];
const RECENT = [
  entry('hostile-2', 2, 58, { phase: 'acting', sk: '000002#acting', targetArn: HOSTILE_TARGET, detail: HOSTILE_DETAIL, actor: '-actor' }),
  entry('hostile-2', 1, 59, { targetArn: HOSTILE_TARGET, detail: HOSTILE_DETAIL, mac: 'bWFj', macKey: 'local' }),
  entry('plain-3', 1, 30, { futureAttribute: 'kept' }),
];
const env = { MEDIC_LOCAL_DB_DIR: dir };
const medic = (...args: string[]) => runCli(['ledger', 'export', '--local', ...args], env);

beforeAll(async () => {
  const local = await openLocalTables({ dir, setEndpointEnv: false });
  const client = DynamoDBDocumentClient.from(local.client());
  for (const item of [...OLD, ...RECENT]) await client.send(new PutCommand({ TableName: LOCAL_LEDGER_TABLE, Item: item }));
  client.destroy();
  await local.stop();
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(outDir, { recursive: true, force: true });
});

/** The recent entries in export order: by incident (first entry's time), then sequence. */
const recentInOrder = () => [RECENT[1], RECENT[0], RECENT[2]];

describe('medic ledger export --local', () => {
  test('default: JSON Lines on standard output, the last 24 hours, grouped by incident in sequence order, exact', async () => {
    const run = await medic();
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(toJsonLines(recentInOrder()));
    expect(jsonLines(run.stdout)).toEqual(recentInOrder());
    expect(jsonLines(run.stdout).map((e) => `${String(e.incidentId)} ${String(e.seq)}`)).toEqual(['hostile-2 1', 'hostile-2 2', 'plain-3 1']);
    expect(run.stdout).not.toMatch(/[\u001b\u202e\u2028\u0085]/);
  });

  test('--format csv: RFC 4180 with a header row, every text intact, formula-like cells guarded', async () => {
    const run = await medic('--format', 'csv');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(toCsv(recentInOrder()));
    const [header, ...rows] = run.stdout.split('\r\n');
    // The documented columns the entries have (none has expiresAt or execution), then the unknown one.
    const known = EXPORT_COLUMNS.map((c) => c.name).filter((name) => name !== 'expiresAt' && name !== 'execution');
    expect(header).toBe([...known, 'futureAttribute'].join(','));
    // The hostile target is quoted (comma, quotes, newline) and starts with the guard quote.
    expect(rows[0]).toContain(`"'=HYPERLINK(""http://evil.example"",""x""),\n\u001b[2J\u202eevil"`);
    expect(rows[0]).toContain('"{""reason"":""a \\""quoted\\"", comma\\r\\nnew line"",""note"":""+1 @x -2 世界 🚑 \u2028 \u0085""}"');
    expect(rows[1]).toContain(',\'-actor,');
    expect(run.stdout.endsWith('kept\r\n')).toBe(true);
  });

  test('--out writes the file whole and says so; --since widens the range', async () => {
    const csvFile = path.join(outDir, 'week.csv');
    const jsonlFile = path.join(outDir, 'day.jsonl');
    fs.writeFileSync(csvFile, 'previous contents that must go\n');
    const csv = await medic('--format', 'csv', '--since', '7d', '--out', csvFile);
    const jsonl = await medic('--out', jsonlFile);
    expect(csv).toMatchObject({ code: 0, stderr: '', stdout: `wrote 5 entries (csv) to ${csvFile}\n` });
    expect(jsonl).toMatchObject({ code: 0, stderr: '', stdout: `wrote 3 entries (jsonl) to ${jsonlFile}\n` });
    expect(fs.readFileSync(csvFile, 'utf8')).toBe(toCsv([...OLD, ...recentInOrder()]));
    expect(fs.readFileSync(jsonlFile, 'utf8')).toBe(toJsonLines(recentInOrder()));
    expect(fs.readdirSync(outDir).sort()).toEqual(['day.jsonl', 'week.csv']); // no temporary file left
  });

  test('an empty range: nothing (JSON Lines) or the header alone (CSV), exit 0', async () => {
    const jsonl = await medic('--since', '10d', '--until', '9d');
    const csv = await medic('--since', '10d', '--until', '9d', '--format', 'csv');
    expect(jsonl).toMatchObject({ code: 0, stdout: '' });
    expect(csv).toMatchObject({ code: 0, stdout: `${EXPORT_COLUMNS.map((c) => c.name).join(',')}\r\n` });
  });

  test('errors exit 2: an unknown format, a file that cannot be written, an inverted range', async () => {
    const format = await medic('--format', 'xml');
    const unwritable = await medic('--out', path.join(outDir, 'no-such-folder', 'x.jsonl'));
    const inverted = await medic('--since', '1h', '--until', '2h');
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('error: option \'--format <format>\' argument \'xml\' is invalid. Allowed choices are jsonl, csv.');
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toMatch(/^medic: .*ENOENT/);
    expect(inverted.code).toBe(2);
    expect(inverted.stderr).toContain('is after --until');
    expect(fs.readdirSync(outDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

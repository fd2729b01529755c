import { paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inertJson } from './inert-text';
import type { LedgerEntry } from './ledger';

/**
 * Ledger exports for the tools auditors use: JSON Lines (the CLI's `medic ledger export` and the
 * daily export to S3 that the Athena table reads) and CSV (spreadsheets). Shared by the CLI and the
 * exporter handler, so both write the same bytes for the same entries.
 *
 * Every attribute an entry has is exported, including attributes added after this was written:
 * {@link EXPORT_COLUMNS} only fixes the order (CSV columns, JSON keys) and the Athena type of the
 * known ones; unknown attributes follow in alphabetical order.
 */

/** Athena/Glue type of an exported column. */
export type ExportColumnType = 'string' | 'bigint';

/**
 * The documented column order of CSV exports and key order of JSON Lines, and the columns of the
 * Athena table (Glue lowercases the names: `targetArn` is column `targetarn`). `day` is last: in
 * Athena it is the partition key (the S3 folder), not a column of the data.
 */
export const EXPORT_COLUMNS: ReadonlyArray<{ readonly name: string; readonly type: ExportColumnType }> = [
  { name: 'at', type: 'string' },
  { name: 'incidentId', type: 'string' },
  { name: 'seq', type: 'bigint' },
  { name: 'phase', type: 'string' },
  { name: 'runbook', type: 'string' },
  { name: 'targetArn', type: 'string' },
  { name: 'mode', type: 'string' },
  { name: 'actor', type: 'string' },
  { name: 'execution', type: 'string' },
  { name: 'detail', type: 'string' },
  { name: 'prevHash', type: 'string' },
  { name: 'hash', type: 'string' },
  { name: 'mac', type: 'string' },
  { name: 'macKey', type: 'string' },
  /** Only on entries written while the ledger had a retention (TTL). */
  { name: 'expiresAt', type: 'bigint' },
  { name: 'pk', type: 'string' },
  { name: 'sk', type: 'string' },
  { name: 'day', type: 'string' },
];

const KNOWN = new Map(EXPORT_COLUMNS.map((c, i) => [c.name, i]));

/** The keys in export order: the documented columns first, then any other in alphabetical (code unit) order. */
export function exportKeyOrder(keys: Iterable<string>): string[] {
  return [...new Set(keys)].sort((a, b) => {
    const ia = KNOWN.get(a);
    const ib = KNOWN.get(b);
    if (ia !== undefined || ib !== undefined) return (ia ?? Infinity) - (ib ?? Infinity);
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

/** An attribute as plain JSON: string sets and number sets as sorted arrays, binary as base64. */
function plain(value: unknown): unknown {
  if (value instanceof Set) return [...value].map(plain).sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    return Object.fromEntries(Object.keys(object).sort().map((k) => [k, plain(object[k])]));
  }
  return value;
}

/** The entry with its keys in export order (undefined attributes dropped). */
export function exportRecord(entry: LedgerEntry | Record<string, unknown>): Record<string, unknown> {
  const source = entry as Record<string, unknown>;
  const keys = exportKeyOrder(Object.keys(source).filter((k) => source[k] !== undefined));
  return Object.fromEntries(keys.map((k) => [k, plain(source[k])]));
}

/**
 * One JSON Lines record: the entry with its keys in export order. It parses to exactly the stored
 * entry; the characters JSON.stringify leaves raw (DEL, C1 and bidi controls, U+2028/U+2029) are
 * `\uXXXX` escapes, so a line can neither drive a terminal nor be split by a reader that breaks
 * lines on U+2028/U+2029/U+0085.
 */
export function jsonLine(entry: LedgerEntry | Record<string, unknown>): string {
  return inertJson(exportRecord(entry));
}

/** JSON Lines: one entry per line, each line ending in `\n`; empty for no entries. */
export function toJsonLines(entries: ReadonlyArray<LedgerEntry | Record<string, unknown>>): string {
  return entries.map((e) => `${jsonLine(e)}\n`).join('');
}

/**
 * Cells starting with one of these are formulas (or start one) in Excel, LibreOffice and Google
 * Sheets; `'` is included so the guard stays reversible (a value that itself starts with `'` gets
 * a second one).
 */
const FORMULA_START = /^[=+\-@\t\r']/;
/** Cells holding one of these must be quoted (RFC 4180). */
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One CSV cell (RFC 4180): a field holding a comma, a double quote, CR or LF is quoted, its
 * quotes doubled. A text starting with `=`, `+`, `-`, `@`, tab or CR gets a leading `'` so a
 * spreadsheet shows it as text instead of evaluating it (CSV injection), and so does a text
 * starting with `'`: the exact value of a text cell starting with `'` is the cell without its
 * first character. Numbers are written as they are (`-1` stays a number). Objects
 * (attributes that are maps or lists) are written as their JSON.
 */
export function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  let text: string;
  if (typeof value === 'string') text = FORMULA_START.test(value) ? `'${value}` : value;
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') text = String(value);
  else text = JSON.stringify(plain(value)); // starts with { or [: never a formula
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * CSV (RFC 4180): a header row, then one row per entry, CRLF after every row. The columns are
 * {@link EXPORT_COLUMNS} that any entry has, in that order, then every other attribute any entry
 * has, alphabetically; an entry without an attribute has an empty cell. `detail` is its JSON text.
 */
export function toCsv(entries: ReadonlyArray<LedgerEntry | Record<string, unknown>>): string {
  const present = new Set<string>();
  for (const entry of entries) {
    for (const [key, value] of Object.entries(entry)) if (value !== undefined) present.add(key);
  }
  const columns = exportKeyOrder(present);
  // Without entries, the header is the documented columns, so the file still says what it would hold.
  const header = columns.length > 0 ? columns : EXPORT_COLUMNS.map((c) => c.name);
  const rows = [header.map(csvCell).join(',')];
  for (const entry of entries) rows.push(header.map((key) => csvCell((entry as Record<string, unknown>)[key])).join(','));
  return rows.map((row) => `${row}\r\n`).join('');
}

/** Entries grouped by incident, each group in sequence order, groups ordered by their first entry's time. */
export function groupByIncident(entries: LedgerEntry[]): LedgerEntry[][] {
  const groups = new Map<string, LedgerEntry[]>();
  for (const entry of entries) {
    const group = groups.get(entry.incidentId);
    if (group) group.push(entry);
    else groups.set(entry.incidentId, [entry]);
  }
  for (const group of groups.values()) group.sort((a, b) => a.seq - b.seq);
  return [...groups.values()].sort((a, b) => a[0].at.localeCompare(b[0].at) || a[0].incidentId.localeCompare(b[0].incidentId));
}

/** The order of an export: grouped by incident (in sequence order), incidents by their first entry in the export. */
export const exportOrder = (entries: LedgerEntry[]): LedgerEntry[] => groupByIncident(entries).flat();

/** Every entry written on one UTC day (`YYYY-MM-DD`), through the byDay index, all pages. */
export async function entriesOfDay(client: DynamoDBDocumentClient, table: string, day: string): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  const pages = paginateQuery({ client }, {
    TableName: table,
    IndexName: 'byDay',
    KeyConditionExpression: '#day = :day',
    ExpressionAttributeNames: { '#day': 'day' },
    ExpressionAttributeValues: { ':day': day },
  });
  for await (const page of pages) entries.push(...((page.Items ?? []) as LedgerEntry[]));
  return entries;
}

/** Where the daily export writes: under this prefix, one folder per day (the Athena partition). */
export const EXPORT_PREFIX = 'exports/';

/** The object of one day's export: `exports/day=YYYY-MM-DD/ledger.jsonl`. */
export const exportObjectKey = (day: string): string => `${EXPORT_PREFIX}day=${day}/ledger.jsonl`;

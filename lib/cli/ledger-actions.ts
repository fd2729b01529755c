import * as fs from 'node:fs';
import * as path from 'node:path';
import { inert, inertJson, inertLines } from '../../lambdas/shared/inert-text';
import type { BrokenLink, ChainReport, LedgerEntry } from '../../lambdas/shared/ledger';
import { completenessOf, type Completeness } from '../../lambdas/shared/ledger-completeness';
import { exportOrder, exportRecord, toCsv, toJsonLines } from '../../lambdas/shared/ledger-export';
import { endQuietlyWhenPipeCloses, renderTable } from './command-kit';
import { EXIT } from './index';
import { summarizeDetail, summarizeIncident, type IncidentSummary } from './incident-summary';
import type { ExportOptions, LedgerSourceOptions, ListOptions, ShowOptions, VerifyOptions } from './ledger';
import { LedgerReader } from './ledger-reader';
import { describeSourceError, ledgerRange, openLedgerSource } from './ledger-source';
import { shortTime, type TimeRange } from './time-range';

/**
 * Opens the source, runs `body` on it, and always closes it (the local ledger is a server of its own).
 * An AWS error the user can fix (no credentials or region, access denied, a table not found) is
 * thrown as a one-line hint (aws.ts).
 */
async function withLedger(options: LedgerSourceOptions, body: (reader: LedgerReader, where: string) => Promise<number>): Promise<number> {
  const source = await openLedgerSource(options);
  try {
    return await body(new LedgerReader(source), source.description);
  } catch (error) {
    throw await describeSourceError(error, source, options);
  } finally {
    await source.close();
  }
}

/**
 * Prints one line. Everything read from the ledger is untrusted (alarm names, targets, reasons come
 * from events anyone with the right to create an alarm or put an event can choose): every such value
 * is passed through inert() (inertJson() for JSON output) before it reaches `print` or a table.
 */
const print = (line = '') => process.stdout.write(`${line}\n`);
const rangeText = (range: TimeRange) => `${shortTime(range.from.toISOString())} and ${shortTime(range.to.toISOString())}`;

/** `ledger list`: incidents with an entry in the range (byTarget index with --target, else byDay), filtered, newest first. */
export async function listIncidents(options: ListOptions): Promise<number> {
  const range = ledgerRange(options);
  endQuietlyWhenPipeCloses();
  return withLedger(options, async (reader, where) => {
    const inRange = options.target ? await reader.entriesOfTarget(options.target, range) : await reader.entriesBetween(range);
    const incidentIds = [...new Set(inRange.filter((e) => !options.runbook || e.runbook === options.runbook).map((e) => e.incidentId))];
    // Whole incidents, so first/last time, last phase and outcome are right for incidents that started before the range.
    const incidents = (await reader.incidents(incidentIds)).filter((entries) => entries.length > 0);
    const rows = incidents
      .filter((entries) => !options.phase || entries.some((e) => e.phase === options.phase))
      .map((entries) => summarizeIncident(entries))
      .filter((incident) => !options.outcome || incident.outcome === options.outcome)
      .sort((a, b) => b.first.localeCompare(a.first) || a.incidentId.localeCompare(b.incidentId));
    if (options.json) {
      for (const row of rows) print(inertJson(row));
    } else if (rows.length === 0) {
      print(`no incidents with entries between ${rangeText(range)} matching the filters (${inert(where)})`);
    } else {
      print(incidentTable(rows));
      print(`${rows.length} incident(s) with entries between ${rangeText(range)} (${inert(where)})`);
    }
    return EXIT.ok;
  });
}

function incidentTable(rows: IncidentSummary[]): string {
  return renderTable(
    ['Incident', 'Runbook', 'Target', 'First', 'Last', 'Last phase', 'Outcome'],
    rows.map((r) => [r.incidentId, r.runbook, r.targetArn ?? '-', shortTime(r.first), shortTime(r.last), r.lastPhase, r.outcome].map((cell) => inert(cell))),
  );
}

/** `ledger show`: the incident's timeline and chain (with --json, {@link showJson}); exit 1 when the chain is broken. */
export async function showIncident(incidentId: string, options: ShowOptions): Promise<number> {
  return withLedger(options, async (reader, where) => {
    const entries = await reader.incident(incidentId);
    if (entries.length === 0) throw new Error(`no ledger entries for incident ${incidentId} in ${where}`);
    const report = await reader.verifyIncident(incidentId);
    const summary = summarizeIncident(entries);
    if (options.json) {
      print(inertJson(showJson(summary, entries, report)));
      return report.ok ? EXIT.ok : EXIT.failed;
    }
    print(`incident   ${inert(incidentId)}`);
    print(`runbook    ${inert(summary.runbook)}${summary.mode ? ` (mode ${inert(summary.mode)})` : ''}`);
    print(`target     ${inert(summary.targetArn ?? '-')}`);
    print(`execution  ${inert(entries.find((e) => e.execution)?.execution ?? '-')}`);
    print(`outcome    ${inert(summary.outcome)}`);
    print(`hash chain ${report.ok ? `intact (${report.entries} entries)` : `BROKEN: ${brokenText(report)}`}`);
    print(renderTable(['#', 'Time', 'Phase', 'Actor', 'Detail'], entries.map((e) => [
      inert(report.firstBroken?.sk === e.sk ? `${e.seq} BROKEN` : e.seq), inert(shortTime(e.at)), inert(e.phase), inert(e.actor), summarizeDetail(e.detail),
    ])));
    return report.ok ? EXIT.ok : EXIT.failed;
  });
}

/**
 * The JSON of `ledger show --json` (documented in docs/operating.md, "JSON output"): the incident
 * as `ledger list --json` has it, with `null` for what it lacks, its execution, its chain check
 * and its entries exactly as `ledger export` writes them.
 */
function showJson(summary: IncidentSummary, entries: LedgerEntry[], report: ChainReport) {
  return {
    incidentId: summary.incidentId,
    runbook: summary.runbook,
    targetArn: summary.targetArn ?? null,
    mode: summary.mode ?? null,
    execution: entries.find((e) => e.execution)?.execution ?? null,
    first: summary.first,
    last: summary.last,
    lastPhase: summary.lastPhase,
    outcome: summary.outcome,
    chain: { ok: report.ok, entries: report.entries, firstBroken: brokenJson(report.firstBroken) },
    entries: entries.map((e) => exportRecord(e)),
  };
}

const brokenJson = (link: BrokenLink | undefined) => (link ? { incidentId: link.incidentId, seq: link.seq, sk: link.sk, reason: link.reason } : null);

function brokenText(report: ChainReport): string {
  const link = report.firstBroken!;
  // The sort key is the padded sequence number: shown only when it says more (an item written by hand).
  const key = link.sk && link.sk !== String(link.seq).padStart(6, '0') ? ` (${inert(link.sk)})` : '';
  return `incident ${inert(link.incidentId)}, entry ${inert(link.seq)}${key}: ${inert(link.reason)}`;
}

/** What `ledger verify` says of the anchors (lambdas/shared/ledger-anchors.ts): how many it compared, or that it had none to compare. */
function anchorsText(reader: LedgerReader): string {
  if (!reader.anchors) return 'anchors not checked: no anchors source (give --anchors-bucket <name> with --table; --stack reads its LedgerAnchorsBucketName output; --local the last game day\'s)';
  const archived = reader.anchors.archived.length;
  return `anchors: ${reader.anchors.checked} anchor(s) compared (${inert(reader.anchors.source.description)})${archived ? `; ${archived} archived incident(s) verified from their archive` : ''}`;
}

/** `ledger verify`: one incident's chain, or every chain with an entry in the range; exit 1 at the first broken link. */
export async function verify(options: VerifyOptions): Promise<number> {
  const range = options.incident ? undefined : ledgerRange(options);
  return withLedger(options, async (reader, where) => {
    const report = range ? await reader.verifyRange(range) : await reader.verifyIncident(options.incident!);
    if (options.json) {
      // The completeness check runs only on intact chains, as for the text.
      const incomplete = report.ok ? await incompleteIncidents(reader, range, options.incident) : undefined;
      print(inertJson(verifyJson(where, range, options.incident, report, reader, incomplete)));
      return report.ok && incomplete?.length === 0 ? EXIT.ok : EXIT.failed;
    }
    const scope = `${range ? `incidents with entries between ${rangeText(range)}` : `incident ${inert(options.incident)}`} (${inert(where)})`;
    if (!report.ok) {
      print(`hash chain BROKEN: ${brokenText(report)}`);
      print(`checked ${report.entries} entries of ${report.incidents} incident(s): ${scope}`);
      print(anchorsText(reader));
      return EXIT.failed;
    }
    if (report.incidents === 0) print(`nothing to verify: no ${scope}`);
    else print(`hash chain intact: ${report.entries} entries in ${report.incidents} incident(s): ${scope}`);
    print(anchorsText(reader));
    // Complete trails: a chain can verify and still have lost its tail (docs/architecture.md, "Complete trails").
    const incomplete = await incompleteIncidents(reader, range, options.incident);
    for (const { incidentId, completeness } of incomplete) {
      print(`INCOMPLETE: incident ${inert(incidentId)} ends at "${inert(completeness.lastPhase)}", with no ending entry, past its deadline ${inert(completeness.deadline)}`
        + `${completeness.deadlineFrom === 'newest-entry' ? ' (no recorded deadline: its newest entry + 24 h)' : ''}`);
    }
    if (incomplete.length > 0) {
      print(`${incomplete.length} incomplete trail(s): \`medic ledger reconcile\` closes them from the execution history`);
      return EXIT.failed;
    }
    return EXIT.ok;
  });
}

/** The JSON of `ledger verify --json` (documented in docs/operating.md, "JSON output"). */
function verifyJson(where: string, range: TimeRange | undefined, incidentId: string | undefined, report: ChainReport, reader: LedgerReader,
  incomplete: Array<{ incidentId: string; completeness: Completeness }> | undefined) {
  return {
    ok: report.ok && incomplete?.length === 0,
    source: where,
    scope: range ? { incident: null, from: range.from.toISOString(), to: range.to.toISOString() } : { incident: incidentId!, from: null, to: null },
    chain: { ok: report.ok, incidents: report.incidents, entries: report.entries, firstBroken: brokenJson(report.firstBroken) },
    anchors: reader.anchors
      ? { source: reader.anchors.source.description, checked: reader.anchors.checked, archived: [...reader.anchors.archived] }
      : null,
    incomplete: incomplete?.map(({ incidentId: id, completeness: c }) => ({
      incidentId: id, lastPhase: c.lastPhase ?? null, deadline: c.deadline ?? null, deadlineFrom: c.deadlineFrom ?? null,
    })) ?? null,
  };
}

/** The incidents (of the range, or the one named) whose trail lost its tail (lambdas/shared/ledger-completeness.ts). */
async function incompleteIncidents(reader: LedgerReader, range: TimeRange | undefined, incidentId: string | undefined): Promise<Array<{ incidentId: string; completeness: Completeness }>> {
  const ids = range ? [...new Set((await reader.entriesBetween(range)).map((e) => e.incidentId))].sort() : [incidentId!];
  const now = new Date();
  return (await reader.incidents(ids))
    .map((entries, i) => ({ incidentId: ids[i], completeness: completenessOf(entries, now) }))
    .filter((i) => i.completeness.incomplete);
}

/**
 * `ledger export`: the entries in the range as stored, grouped by incident in sequence order, as
 * JSON Lines (default) or CSV (lambdas/shared/ledger-export.ts; the same bytes as the daily S3
 * export writes for a day). Each JSON line parses to exactly the stored entry, keys in the
 * documented column order; the characters JSON.stringify leaves raw (DEL, C1 controls, bidi
 * controls, U+2028/U+2029) are written as `\uXXXX` escapes, so an export read in a terminal cannot
 * drive it. CSV keeps every text exactly (RFC 4180 quoting; a leading `'` only on cells a
 * spreadsheet would take for a formula): written to a file or a pipe, it is byte-exact; shown on
 * a terminal, its unsafe characters are shown escaped ({@link terminalView}).
 */
export async function exportEntries(options: ExportOptions): Promise<number> {
  const range = ledgerRange(options);
  const format = options.format ?? 'jsonl';
  if (!options.out) endQuietlyWhenPipeCloses();
  return withLedger(options, async (reader) => {
    const entries = exportOrder((await reader.entriesBetween(range)).filter((e) => !options.runbook || e.runbook === options.runbook));
    const text = format === 'csv' ? toCsv(entries) : toJsonLines(entries);
    if (options.out) {
      writeWhole(options.out, text);
      print(`wrote ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} (${format}) to ${inert(options.out)}`);
    } else {
      process.stdout.write(format === 'csv' && process.stdout.isTTY ? terminalView(text) : text);
    }
    return EXIT.ok;
  });
}

/**
 * CSV as shown on a terminal: rows end in a plain line break, and every character that could drive
 * the terminal or forge a line (controls, ESC, bidi controls, U+2028/U+2029; and so the backslash)
 * is shown as a visible escape, as `inertLines` does. For reading only: the exact bytes go to files and pipes.
 */
export function terminalView(csv: string): string {
  return inertLines(csv.replace(/\r\n/g, '\n'));
}

/** Writes the whole text to `file`, through a temporary file in the same folder, so `file` is never left half written. */
function writeWhole(file: string, text: string): void {
  const temporary = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(temporary, text, { encoding: 'utf8', flag: 'wx' });
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}

import { dynamo, s3 } from '../shared/clients';
import { describeError } from '../shared/errors';
import { writeEntry, type LedgerEntry } from '../shared/ledger';
import { anchorIfEnding, writeDigest, type DigestResult } from '../shared/ledger-anchors';
import { archiveCutoff, archiveExpired, type ArchiveResult } from '../shared/ledger-archive';
import { entriesOfDay } from '../shared/ledger-export';
import { ledgerMacFromEnv } from '../shared/ledger-mac';
import type { LedgerWriterRequest } from '../shared/ledger-writer-client';
import { exportDay } from '../ledger-export/index';
import { logger } from '../shared/observability';

/** The daily digest's request (the schedule sends `{"digest": {}}`): one past UTC day, default yesterday. */
export interface DigestRequest {
  readonly digest: { readonly day?: string };
}

/**
 * The daily retention run's request (the schedule sends `{"archive": {}}`, only when
 * `ledgerRetentionDays` is set): archive then delete the incidents whose entries are all older
 * than `before` (default now minus the retention; never later than that).
 */
export interface ArchiveRequest {
  readonly archive: { readonly before?: string };
}

/** Time the retention run leaves itself before the function's timeout to finish the incident it is on. */
const ARCHIVE_SAFETY_MS = 60_000;

/**
 * The ledger writer: the only function whose role may put ledger items, and the only one that
 * may use the ledger's MAC key. Every other handler appends through it (ledger-writer-client.ts).
 * It writes to its own table (MEDIC_LEDGER_TABLE) whatever the caller says.
 */
export async function handler(request: LedgerWriterRequest): Promise<LedgerEntry>;
export async function handler(request: DigestRequest): Promise<DigestResult>;
export async function handler(request: ArchiveRequest, context?: { getRemainingTimeInMillis?: () => number }): Promise<ArchiveResult>;
export async function handler(request: LedgerWriterRequest | DigestRequest | ArchiveRequest, context?: { getRemainingTimeInMillis?: () => number }): Promise<LedgerEntry | DigestResult | ArchiveResult> {
  const table = process.env.MEDIC_LEDGER_TABLE;
  if (!table) throw new Error('environment variable MEDIC_LEDGER_TABLE is not set');
  const anchors = process.env.MEDIC_LEDGER_ANCHORS_BUCKET;
  if (request && 'digest' in request) {
    if (!anchors) throw new Error('environment variable MEDIC_LEDGER_ANCHORS_BUCKET is not set');
    const day = exportDay(request.digest ?? {});
    return writeDigest(s3(), anchors, dynamo(), table, day, await entriesOfDay(dynamo(), table, day));
  }
  if (request && 'archive' in request) {
    const retentionDays = Number(process.env.MEDIC_LEDGER_RETENTION_DAYS ?? '0');
    if (!anchors) throw new Error('environment variable MEDIC_LEDGER_ANCHORS_BUCKET is not set');
    if (!Number.isInteger(retentionDays) || retentionDays <= 0) {
      throw Object.assign(new Error('no ledger retention is configured (MEDIC_LEDGER_RETENTION_DAYS): nothing is archived'), { name: 'Medic.InvalidArchive' });
    }
    const before = archiveCutoff(request.archive?.before, retentionDays);
    const remaining = context?.getRemainingTimeInMillis?.();
    const result = await archiveExpired({
      s3: s3(), bucket: anchors, client: dynamo(), table, mac: ledgerMacFromEnv(), before,
      deadline: remaining === undefined ? undefined : Date.now() + remaining - ARCHIVE_SAFETY_MS,
    });
    // Never silent: each incident left in the table is logged as an error (the function's log), and returned.
    for (const r of result.refused) logger.error('expired ledger incident not archived; it stays in the table', { incidentId: r.incidentId, reason: r.reason });
    logger.info('ledger retention run', { before: result.before, days: result.days, archived: result.archived.length, refused: result.refused.length, notExpired: result.notExpired, deferred: result.deferred });
    return result;
  }
  const append = request?.append;
  if (!append || typeof append.incidentId !== 'string' || typeof append.phase !== 'string') {
    throw Object.assign(new Error('the ledger writer takes {"append": {"incidentId", "phase", "runbook", "actor", "detail", ...}}'), { name: 'Medic.InvalidAppend' });
  }
  const now = append.now ? new Date(append.now) : undefined;
  if (now && Number.isNaN(now.getTime())) throw Object.assign(new Error('"now" must be an ISO-8601 time'), { name: 'Medic.InvalidAppend' });
  const entry = await writeEntry(table, { ...append, table, now }, ledgerMacFromEnv());
  if (anchors) {
    // The entry is written: a failed anchor must not fail the append (the caller would retry it
    // and write it twice). The daily digest anchors every ending entry still lacking its anchor.
    try {
      await anchorIfEnding(s3(), anchors, dynamo(), table, entry);
    } catch (error) {
      logger.error('ledger anchor not written; the daily digest will re-anchor it', { incidentId: entry.incidentId, seq: entry.seq, error: describeError(error) });
    }
  }
  return entry;
}

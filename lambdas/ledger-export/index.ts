import { PutObjectCommand } from '@aws-sdk/client-s3';
import { dynamo, s3 } from '../shared/clients';
import { entriesOfDay, exportObjectKey, exportOrder, toJsonLines } from '../shared/ledger-export';

export interface ExportRequest {
  /** The UTC day to export, `YYYY-MM-DD`, before today; default: yesterday (UTC). */
  readonly day?: string;
}

export interface ExportResult {
  readonly day: string;
  readonly bucket: string;
  readonly key: string;
  readonly entries: number;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const dayOf = (date: Date) => date.toISOString().slice(0, 10);

/** The day to export: the request's (checked: a real calendar day, already over) or yesterday (UTC). */
export function exportDay(request: ExportRequest | undefined, now: Date = new Date()): string {
  const today = dayOf(now);
  if (request?.day === undefined) return dayOf(new Date(Date.parse(`${today}T00:00:00.000Z`) - 86_400_000));
  const day = request.day;
  if (typeof day !== 'string' || !DAY.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`)) || dayOf(new Date(`${day}T00:00:00Z`)) !== day) {
    throw new Error(`"day" must be a UTC day as YYYY-MM-DD (got ${JSON.stringify(day)})`);
  }
  if (day >= today) throw new Error(`day ${day} is not over yet (today is ${today} UTC): only past days are exported`);
  return day;
}

/**
 * Exports one UTC day of the ledger (byDay index) to `exports/day=YYYY-MM-DD/ledger.jsonl` of the
 * export bucket, as JSON Lines, the partition the Athena table reads. Run daily by a schedule for
 * yesterday; idempotent: a re-run writes the same key again (the bucket is versioned, so earlier
 * writes are kept). A day without entries gets an empty object, so "exported, nothing happened"
 * differs from "not exported". Backfill by hand:
 * `aws lambda invoke --function-name <LedgerExportFunction> --payload '{"day":"2026-11-21"}' out.json`
 */
export async function handler(request?: ExportRequest): Promise<ExportResult> {
  const table = process.env.MEDIC_LEDGER_TABLE;
  const bucket = process.env.MEDIC_EXPORT_BUCKET;
  if (!table) throw new Error('environment variable MEDIC_LEDGER_TABLE is not set');
  if (!bucket) throw new Error('environment variable MEDIC_EXPORT_BUCKET is not set');
  const day = exportDay(request);
  const entries = exportOrder(await entriesOfDay(dynamo(), table, day));
  const key = exportObjectKey(day);
  await s3().send(new PutObjectCommand({
    Bucket: bucket,
    Key: key,
    Body: toJsonLines(entries),
    ContentType: 'application/x-ndjson; charset=utf-8',
  }));
  return { day, bucket, key, entries: entries.length };
}

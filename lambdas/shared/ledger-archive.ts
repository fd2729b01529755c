import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DeleteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { canonicalJson } from './canonical-json';
import { ENDING_PHASES, readIncident, verifyEntries, type LedgerEntry } from './ledger';
import { anchorKey, archiveBody, archiveKey, parseArchive } from './ledger-anchors';
import type { LedgerMac } from './ledger-mac';

/*
 * Retention without silent expiry (docs/architecture.md, "No silent expiry"). With
 * `ledgerRetentionDays`, the ledger writer (the only role that may delete ledger items, and only
 * then) archives every incident whose entries are all older than the cutoff into the anchors
 * bucket (Object Lock) and only then deletes its items. An incident is archived only when it is
 * complete (its newest entry ends it), its chain and MACs verify and its newest anchor matches:
 * anything else stays in the table and is reported. The verifier then finds an incident that has
 * anchors but no entries in its archive, and checks it there.
 */

/**
 * How many days before the cutoff's day a run looks for expired entries (the byDay index, one
 * query per day): a daily run sees each day 31 times, so up to 30 missed runs are caught up.
 * An incident whose every entry is older than that window is not found by later runs: invoke the
 * writer with `{"archive": {"before": <an older time>}}` to reach it.
 */
export const ARCHIVE_WINDOW_DAYS = 30;

export interface ArchivedIncident {
  readonly incidentId: string;
  readonly key: string;
  readonly entries: number;
  /** The archive object existed already (a re-run after a crash between the archive and the deletes). */
  readonly resumed: boolean;
}

export interface ArchiveResult {
  /** Entries before this time are expired. */
  readonly before: string;
  /** The UTC days whose entries were looked at. */
  readonly days: { readonly from: string; readonly to: string };
  readonly archived: ArchivedIncident[];
  /** Expired incidents left in the table, each with why: never dropped silently. */
  readonly refused: Array<{ readonly incidentId: string; readonly reason: string }>;
  /** Incidents with an expired entry but a newer one too: not expired yet. */
  readonly notExpired: number;
  /** Expired incidents not looked at because the run's time ran out (the next run takes them). */
  readonly deferred: number;
}

export interface ArchiveOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly client: DynamoDBDocumentClient;
  readonly table: string;
  readonly mac: LedgerMac;
  readonly before: Date;
  /** Stop starting new incidents after this time (epoch ms); the Lambda's timeout leaves room for one more. */
  readonly deadline?: number;
}

const DAY_MS = 86_400_000;
const dayOf = (time: number): string => new Date(time).toISOString().slice(0, 10);
const statusOf = (error: unknown): number | undefined => (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

/** The incident ids with an entry before `before` on one of the days of the window. */
async function candidates(client: DynamoDBDocumentClient, table: string, before: Date): Promise<{ ids: string[]; from: string; to: string }> {
  const ids = new Set<string>();
  const last = before.getTime();
  const from = dayOf(last - ARCHIVE_WINDOW_DAYS * DAY_MS);
  const to = dayOf(last);
  for (let t = last - ARCHIVE_WINDOW_DAYS * DAY_MS; dayOf(t) <= to; t += DAY_MS) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await client.send(new QueryCommand({
        TableName: table,
        IndexName: 'byDay',
        KeyConditionExpression: '#day = :day AND #at < :before',
        ExpressionAttributeNames: { '#day': 'day', '#at': 'at' },
        ExpressionAttributeValues: { ':day': dayOf(t), ':before': before.toISOString() },
        ProjectionExpression: 'incidentId',
        ExclusiveStartKey: startKey,
      }));
      for (const item of out.Items ?? []) ids.add(String(item.incidentId));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
  }
  return { ids: [...ids].sort(), from, to };
}

async function getText(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return out.Body ? await out.Body.transformToString('utf8') : '';
  } catch (error) {
    if ((error as Error).name === 'NoSuchKey' || statusOf(error) === 404) return undefined;
    throw error;
  }
}

/**
 * Why a whole chain (entry 1 to its newest) may not be archived, or undefined: it must end with
 * an ending entry, verify (chain and MACs), and its newest entry must match its anchor.
 */
async function refusal(opts: ArchiveOptions, incidentId: string, entries: LedgerEntry[]): Promise<string | undefined> {
  const newest = entries[entries.length - 1];
  if (!ENDING_PHASES.has(newest.phase)) return `incomplete: the newest entry ${newest.seq} (${newest.phase}) does not end the incident`;
  const broken = await verifyEntries(incidentId, entries, opts.mac);
  if (broken) return `does not verify: entry ${broken.seq}: ${broken.reason}`;
  const anchor = await getText(opts.s3, opts.bucket, anchorKey(entries[0].day, incidentId, newest.seq));
  if (anchor === undefined) return `no anchor: entry ${newest.seq} (${newest.phase}) has no anchor in the bucket`;
  let anchored: { incidentId?: string; seq?: number; hash?: string } | undefined;
  try {
    anchored = JSON.parse(anchor) as typeof anchored;
  } catch {
    // An unreadable anchor is a mismatch.
  }
  if (anchored?.incidentId !== incidentId || anchored.seq !== newest.seq || anchored.hash !== newest.hash) {
    return `anchor mismatch: entry ${newest.seq} differs from its anchor`;
  }
  return undefined;
}

/**
 * Archives one expired incident and deletes its items, or says why not. Idempotent: items are
 * deleted newest first, so what a crash leaves in the table is always entries 1..k; a re-run
 * finds the archive already written (412 on the conditional put, or read first), checks that
 * the stored archive is a whole verified, anchored chain and that every entry still in the
 * table is the archived one, byte for byte, and finishes the deletes.
 */
async function archiveIncident(opts: ArchiveOptions, incidentId: string, entries: LedgerEntry[]): Promise<ArchivedIncident | { reason: string }> {
  if (entries[0].seq !== 1) return { reason: `the table holds entries ${entries[0].seq}..${entries[entries.length - 1].seq} but not entry 1` };
  const key = archiveKey(entries[0].day, incidentId);
  let stored = await getText(opts.s3, opts.bucket, key);
  const resumed = stored !== undefined;
  if (stored === undefined) {
    const reason = await refusal(opts, incidentId, entries);
    if (reason) return { reason };
    try {
      // If-None-Match: an archive is written once; the checksum is what Object Lock requires of a put.
      await opts.s3.send(new PutObjectCommand({
        Bucket: opts.bucket, Key: key, Body: archiveBody(entries), ContentType: 'application/x-ndjson; charset=utf-8', IfNoneMatch: '*', ChecksumAlgorithm: 'SHA256',
      }));
    } catch (error) {
      if (statusOf(error) !== 412 && statusOf(error) !== 409) throw error;
      stored = await getText(opts.s3, opts.bucket, key);
      if (stored === undefined) throw error;
    }
  }
  if (stored !== undefined) {
    const archived = parseArchive(stored);
    if (!archived || archived.length === 0) return { reason: `archive ${key} exists but holds no readable entries` };
    const reason = await refusal(opts, incidentId, archived);
    if (reason) return { reason: `archive ${key} exists but ${reason}` };
    const differs = entries.find((e) => archived[e.seq - 1] === undefined || canonicalJson(archived[e.seq - 1]) !== canonicalJson(e));
    if (differs) return { reason: `archive ${key} exists but entry ${differs.seq} in the table differs from the archived one` };
  }
  for (const entry of [...entries].reverse()) {
    try {
      await opts.client.send(new DeleteCommand({ TableName: opts.table, Key: { pk: entry.pk, sk: entry.sk }, ConditionExpression: 'attribute_exists(pk)' }));
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }
  return { incidentId, key, entries: stored !== undefined ? parseArchive(stored)!.length : entries.length, resumed };
}

/** One retention run: every expired incident of the window archived then deleted, or reported. */
export async function archiveExpired(opts: ArchiveOptions): Promise<ArchiveResult> {
  const { ids, from, to } = await candidates(opts.client, opts.table, opts.before);
  const archived: ArchivedIncident[] = [];
  const refused: Array<{ incidentId: string; reason: string }> = [];
  let notExpired = 0;
  let deferred = 0;
  for (const incidentId of ids) {
    if (opts.deadline !== undefined && Date.now() > opts.deadline) {
      deferred++;
      continue;
    }
    const entries = await readIncident(opts.table, incidentId, opts.client);
    if (entries.length === 0) continue; // deleted since the index was read (the index is eventually consistent)
    if (entries.some((e) => !(e.at < opts.before.toISOString()))) {
      notExpired++;
      continue;
    }
    const outcome = await archiveIncident(opts, incidentId, entries);
    if ('reason' in outcome) refused.push({ incidentId, reason: outcome.reason });
    else archived.push(outcome);
  }
  return { before: opts.before.toISOString(), days: { from, to }, archived, refused, notExpired, deferred };
}

/** The cutoff of a run: `before` when given (an ISO time, not in the future), else now minus the retention. */
export function archiveCutoff(before: unknown, retentionDays: number, now: Date = new Date()): Date {
  if (before === undefined) return new Date(now.getTime() - retentionDays * DAY_MS);
  const cutoff = typeof before === 'string' ? new Date(before) : new Date(Number.NaN);
  if (Number.isNaN(cutoff.getTime())) throw Object.assign(new Error(`"before" must be an ISO-8601 time (got ${JSON.stringify(before)})`), { name: 'Medic.InvalidArchive' });
  if (cutoff.getTime() > now.getTime() - retentionDays * DAY_MS) {
    throw Object.assign(new Error(`"before" ${cutoff.toISOString()} is later than now minus the retention (${retentionDays} days): only expired incidents are archived`), { name: 'Medic.InvalidArchive' });
  }
  return cutoff;
}

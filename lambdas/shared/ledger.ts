import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { canonicalJson, sha256Hex } from './canonical-json';
import { dynamo } from './clients';
import type { AnchorCheck } from './ledger-anchors';
import type { LedgerMac } from './ledger-mac';
import { invokeLedgerWriter } from './ledger-writer-client';

/** Phases an entry can record. Each has one meaning; add new ones rather than reuse. */
export type Phase =
  | 'received' | 'rejected' | 'duplicate' | 'admitted' | 'denied' | 'planned' | 'deferred'
  | 'approval-requested' | 'approved' | 'approval-rejected' | 'approval-expired'
  | 'acting' | 'acted' | 'act-failed' | 'checked' | 'verified' | 'verification-failed' | 'rolled-back' | 'rollback-failed' | 'escalated' | 'completed'
  /** A periodic sweep: what it found, which incidents it started and which it deferred. */
  | 'swept'
  /** CloudWatch suppressed or muted the alarm's actions: recorded, not acted on. */
  | 'suppressed'
  /** A denial that joined its runbook's storm digest instead of paging on its own. */
  | 'digested'
  /** The storm digest page, on the chain of the incident that opened the digest. */
  | 'digest-sent'
  /**
   * Written by the reconciler, not the execution: what the Step Functions history proves about an
   * incident whose trail stopped before an ending entry (DynamoDB was down), and the leases freed.
   */
  | 'reconciled';

/**
 * Phases that can be the last entry an execution writes: an incident whose newest entry has one
 * of these may be over, and the writer anchors its head outside DynamoDB. More than one can
 * follow another (`rejected` then `escalated`; `escalated` then a storm digest's `digest-sent`).
 */
export const ENDING_PHASES: ReadonlySet<Phase> = new Set<Phase>(['completed', 'escalated', 'digested', 'digest-sent', 'rejected', 'duplicate', 'suppressed', 'swept', 'reconciled']);

export const GENESIS_HASH = '0'.repeat(64);
const MAX_DETAIL_BYTES = 64 * 1024;
const MAX_APPEND_ATTEMPTS = 8;

export interface LedgerEntry {
  readonly pk: string;
  readonly sk: string;
  readonly incidentId: string;
  readonly seq: number;
  readonly phase: Phase;
  /** ISO-8601 UTC. */
  readonly at: string;
  /** `YYYY-MM-DD` of `at`, the partition key of the by-day index. */
  readonly day: string;
  readonly runbook: string;
  readonly targetArn?: string;
  readonly mode?: string;
  readonly actor: string;
  readonly execution?: string;
  /** JSON text, stored as a string so the hashed bytes are exactly the stored bytes. */
  readonly detail: string;
  readonly prevHash: string;
  readonly hash: string;
  /** HMAC of `hash` with the ledger writer's key (base64): only the writer can extend the chain. */
  readonly mac?: string;
  /** Which key made `mac` (the KMS key ARN, or `local` offline). */
  readonly macKey?: string;
}

/** What the hash covers: every attribute but the hash and its MAC. */
export type UnhashedEntry = Omit<LedgerEntry, 'hash' | 'mac' | 'macKey'>;

export interface AppendInput {
  readonly table: string;
  readonly incidentId: string;
  readonly phase: Phase;
  readonly runbook: string;
  readonly targetArn?: string;
  readonly mode?: string;
  readonly actor: string;
  readonly execution?: string;
  readonly detail: unknown;
  readonly now?: Date;
}

export const incidentPk = (incidentId: string): string => `INCIDENT#${incidentId}`;
/**
 * The sequence number alone: one item per number, so the write condition itself stops a second
 * writer from taking a number (whatever its phase), and the loser appends after the winner.
 */
const sortKey = (seq: number): string => String(seq).padStart(6, '0');

export function entryHash(entry: UnhashedEntry): string {
  return sha256Hex(canonicalJson(entry));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- ledger details are free-form JSON, read field by field with checks
export type EntryDetail = Record<string, any>;

/** An entry's detail parsed; `{}` when it is not JSON (a reader must not crash on a bad entry). */
export function entryDetail(entry: Pick<LedgerEntry, 'detail'>): EntryDetail {
  try {
    return JSON.parse(entry.detail) as EntryDetail;
  } catch {
    return {};
  }
}

/** The hashed part of a stored entry. */
export function unhashed(entry: LedgerEntry): UnhashedEntry {
  const { hash: _hash, mac: _mac, macKey: _macKey, ...rest } = entry;
  return rest;
}

function detailText(detail: unknown): string {
  const text = canonicalJson(detail ?? {});
  if (Buffer.byteLength(text, 'utf8') <= MAX_DETAIL_BYTES) return text;
  // The preview is escaped again inside the wrapper, so shrink it until the whole fits.
  for (let keep = Math.floor(MAX_DETAIL_BYTES / 2); ; keep = Math.floor(keep / 2)) {
    const wrapped = canonicalJson({ truncated: true, originalBytes: Buffer.byteLength(text, 'utf8'), preview: text.slice(0, keep) });
    if (Buffer.byteLength(wrapped, 'utf8') <= MAX_DETAIL_BYTES || keep === 0) return wrapped;
  }
}

async function head(table: string, incidentId: string): Promise<LedgerEntry | undefined> {
  const out = await dynamo().send(new QueryCommand({
    TableName: table,
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': incidentPk(incidentId) },
    ScanIndexForward: false,
    Limit: 1,
    ConsistentRead: true,
  }));
  return out.Items?.[0] as LedgerEntry | undefined;
}

/**
 * Writes one immutable entry to an incident's hash chain: what the ledger writer (the only role
 * that may put ledger items) does for every append. Only the execution that owns an incident
 * writes to its chain (Validate claims it), but two invocations of one step can overlap (Step
 * Functions retries a task whose invocation timed out while the first still runs): the condition
 * refuses to overwrite anything, and a lost race on a sequence number re-reads the head and tries
 * the next one, so racing appends land one after the other, each linked to the one before. `input.table` is ignored in favour
 * of `table`: the writer writes its own ledger only.
 */
export async function writeEntry(table: string, input: AppendInput, mac: LedgerMac): Promise<LedgerEntry> {
  const detail = detailText(input.detail);
  for (let attempt = 1; ; attempt++) {
    const previous = await head(table, input.incidentId);
    const at = (input.now ?? new Date()).toISOString();
    const seq = (previous?.seq ?? 0) + 1;
    const content: UnhashedEntry = {
      pk: incidentPk(input.incidentId),
      sk: sortKey(seq),
      incidentId: input.incidentId,
      seq,
      phase: input.phase,
      at,
      day: at.slice(0, 10),
      runbook: input.runbook,
      targetArn: input.targetArn,
      mode: input.mode,
      actor: input.actor,
      execution: input.execution,
      detail,
      prevHash: previous?.hash ?? GENESIS_HASH,
    };
    const hash = entryHash(content);
    const entry: LedgerEntry = { ...content, hash, mac: await mac.sign(hash), macKey: mac.keyName };
    try {
      await dynamo().send(new PutCommand({
        TableName: table,
        Item: entry,
        ConditionExpression: 'attribute_not_exists(pk)',
      }));
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException' || attempt >= MAX_APPEND_ATTEMPTS) throw error;
      continue;
    }
    return entry;
  }
}

/**
 * How a handler appends: through the ledger writer function (`MEDIC_LEDGER_WRITER`), the one
 * role that may put ledger items. Without it (tests, offline tools) the entry is written here,
 * with the MAC key of `MEDIC_LEDGER_MAC_KEY`.
 */
export async function appendEntry(input: AppendInput): Promise<LedgerEntry> {
  const writer = process.env.MEDIC_LEDGER_WRITER;
  if (writer) return invokeLedgerWriter(writer, input);
  const { ledgerMacFromEnv } = await import('./ledger-mac');
  return writeEntry(input.table, input, ledgerMacFromEnv());
}

/** Every entry of one incident, in sequence order. `client` defaults to the handlers' (the CLI passes its own). */
export async function readIncident(table: string, incidentId: string, client: DynamoDBDocumentClient = dynamo()): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await client.send(new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': incidentPk(incidentId) },
      ConsistentRead: true,
      ExclusiveStartKey: startKey,
    }));
    entries.push(...((out.Items ?? []) as LedgerEntry[]));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return entries;
}

export interface BrokenLink {
  readonly incidentId: string;
  readonly seq: number;
  readonly sk: string;
  readonly reason: string;
}

export interface ChainReport {
  readonly ok: boolean;
  readonly incidents: number;
  readonly entries: number;
  readonly firstBroken?: BrokenLink;
  /** Incidents verified from their archive (no entries left in the table): only when there were some. */
  readonly archived?: number;
}

/** Checks one incident's entries (sorted by sort key): contiguous sequence, linked and untampered hashes. */
export function verifyChain(incidentId: string, entries: LedgerEntry[]): BrokenLink | undefined {
  let previousHash = GENESIS_HASH;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    const broken = (reason: string): BrokenLink => ({ incidentId, seq: entry.seq, sk: entry.sk, reason });
    if (entry.seq !== i + 1) return broken(`expected sequence ${i + 1}, found ${entry.seq} (entry missing or duplicated)`);
    if (entry.prevHash !== previousHash) return broken('prevHash does not match the previous entry\'s hash');
    if (entryHash(unhashed(entry)) !== entry.hash) return broken('hash does not match the entry\'s content (entry modified)');
    previousHash = entry.hash;
  }
  return undefined;
}

/**
 * The chain, then each entry's MAC: a chain recomputed after an edit links up again, but its
 * MACs can only be made with the writer's key. An entry without a MAC was not written by the
 * ledger writer. `mac` must come from the verifier's own configuration, never from the entries
 * (an entry's `macKey` says which key it claims, which proves nothing).
 */
export async function verifyEntries(incidentId: string, entries: LedgerEntry[], mac: LedgerMac): Promise<BrokenLink | undefined> {
  const broken = verifyChain(incidentId, entries);
  if (broken) return broken;
  for (const entry of entries) {
    const at = (reason: string): BrokenLink => ({ incidentId, seq: entry.seq, sk: entry.sk, reason });
    if (!entry.mac) return at('entry has no MAC: it was not written by the ledger writer');
    if (!(await mac.verify(entry.hash, entry.mac))) return at('MAC does not verify: the entry or the chain before it was rewritten without the ledger writer\'s key');
  }
  return undefined;
}

/** With `anchors`, the verified chain is then compared with its anchors in S3 (lambdas/shared/ledger-anchors.ts). */
export async function verifyIncident(table: string, incidentId: string, mac: LedgerMac, client: DynamoDBDocumentClient = dynamo(), anchors?: AnchorCheck): Promise<ChainReport> {
  const entries = await readIncident(table, incidentId, client);
  if (entries.length === 0) {
    // Archived by retention (lambdas/shared/ledger-archive.ts): verified from its archive and anchors instead.
    const archived = await anchors?.archivedIncident(incidentId, (id, list) => verifyEntries(id, list, mac));
    if (archived) return { ok: !archived.broken, incidents: 1, entries: archived.entries, ...(archived.broken ? { firstBroken: archived.broken } : { archived: 1 }) };
    return { ok: false, incidents: 1, entries: 0, firstBroken: { incidentId, seq: 0, sk: '', reason: 'no entries for this incident' } };
  }
  const firstBroken = await verifyEntries(incidentId, entries, mac) ?? await anchors?.incident(incidentId, entries);
  return { ok: !firstBroken, incidents: 1, entries: entries.length, firstBroken };
}

/** verifyRange walks the by-day index one day at a time; longer ranges are split by the caller. */
export const MAX_RANGE_DAYS = 400;

function daysBetween(from: Date, to: Date, maxDays = MAX_RANGE_DAYS): string[] {
  const days: string[] = [];
  const cursor = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate()));
  while (cursor <= to) {
    if (days.length >= maxDays) throw new Error(`verifyRange covers at most ${MAX_RANGE_DAYS} days per call; split the range`);
    days.push(cursor.toISOString().slice(0, 10));
    cursor.setUTCDate(cursor.getUTCDate() + 1);
  }
  return days;
}

/**
 * The incidents with an entry in [from, to], through the byDay index (one paginated query per
 * day), sorted. `days` defaults to every UTC day of the range, however long.
 */
export async function incidentsWithEntriesBetween(table: string, from: Date, to: Date, client: DynamoDBDocumentClient = dynamo(), days?: string[]): Promise<string[]> {
  const ids = new Set<string>();
  for (const day of days ?? daysBetween(from, to, Number.POSITIVE_INFINITY)) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await client.send(new QueryCommand({
        TableName: table,
        IndexName: 'byDay',
        KeyConditionExpression: '#day = :day AND #at BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#day': 'day', '#at': 'at' },
        ExpressionAttributeValues: { ':day': day, ':from': from.toISOString(), ':to': to.toISOString() },
        ProjectionExpression: 'incidentId',
        ExclusiveStartKey: startKey,
      }));
      for (const item of out.Items ?? []) ids.add(String(item.incidentId));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
  }
  return [...ids].sort();
}

/**
 * Verifies every incident that has an entry in [from, to], each over its whole chain. With
 * `anchors`, each against its anchors too, and then every incident anchored on a day of the range
 * must still have entries, or an archive that verifies and matches its anchors.
 */
export async function verifyRange(table: string, from: Date, to: Date, mac: LedgerMac, client: DynamoDBDocumentClient = dynamo(), anchors?: AnchorCheck): Promise<ChainReport> {
  if (!(from <= to)) throw new Error('verifyRange: "from" must be a date before "to"');
  const days = daysBetween(from, to);
  const incidentIds = new Set(await incidentsWithEntriesBetween(table, from, to, client, days));
  let entries = 0;
  for (const incidentId of [...incidentIds].sort()) {
    const report = await verifyIncident(table, incidentId, mac, client, anchors);
    entries += report.entries;
    if (!report.ok) return { ok: false, incidents: incidentIds.size, entries, firstBroken: report.firstBroken };
  }
  const missing = await anchors?.range(days, incidentIds, (incidentId) => readIncident(table, incidentId, client), (id, list) => verifyEntries(id, list, mac));
  if (missing) return { ok: false, incidents: incidentIds.size, entries, firstBroken: missing };
  return { ok: true, incidents: incidentIds.size, entries, ...(anchors?.archived.length ? { archived: anchors.archived.length } : {}) };
}

import { GetObjectCommand, ListObjectVersionsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { canonicalJson, sha256Hex } from './canonical-json';
import { ENDING_PHASES, incidentPk, type BrokenLink, type LedgerEntry, type Phase } from './ledger';

/*
 * The ledger's anchors outside DynamoDB (docs/architecture.md, "Audit ledger"). When an incident
 * reaches an ending entry, the ledger writer puts that entry's head into an S3 bucket with Object
 * Lock in compliance mode: nobody, root included, can delete or overwrite a locked version before
 * its retention ends. Someone who can write the table can edit, truncate or rewrite a chain; the
 * anchors they cannot change, so the verifier compares every chain with its anchors.
 */

/** Every anchor is under this prefix; the writer's grant covers it and `digests/` only. */
export const ANCHOR_PREFIX = 'anchors/';
export const DIGEST_PREFIX = 'digests/';
/** Archived incidents (lambdas/shared/ledger-archive.ts): `archive/<first day>/<incidentId>.jsonl`. */
export const ARCHIVE_PREFIX = 'archive/';

/** One anchored head: what the writer puts, canonical JSON, at {@link anchorKey}. */
export interface Anchor {
  readonly incidentId: string;
  readonly seq: number;
  readonly hash: string;
  readonly mac?: string;
  readonly phase: Phase;
  readonly at: string;
}

/** The daily digest (`digests/<day>.json`): every incident's newest entry of that UTC day. */
export interface Digest {
  readonly day: string;
  readonly count: number;
  /** sha256 of the canonical JSON of `heads`. */
  readonly sha256: string;
  readonly heads: ReadonlyArray<{ readonly incidentId: string; readonly seq: number; readonly hash: string }>;
}

/**
 * `anchors/<first day>/<incidentId>/<seq, 6 digits>.json`. The day is the UTC day of the
 * incident's FIRST entry (not the anchored one's): a verifier that holds the first entry knows
 * the one folder to list, even when the newest entries (and so their days) were removed. The
 * incident id is URI-encoded, so an id holding `/` stays one path segment.
 */
export function anchorKey(firstDay: string, incidentId: string, seq: number): string {
  return `${anchorFolder(firstDay, incidentId)}${String(seq).padStart(6, '0')}.json`;
}

export const anchorFolder = (firstDay: string, incidentId: string): string => `${ANCHOR_PREFIX}${firstDay}/${encodeURIComponent(incidentId)}/`;

export const digestKey = (day: string): string => `${DIGEST_PREFIX}${day}.json`;

/**
 * `archive/<first day>/<incidentId>.jsonl`: every entry of an archived incident, one canonical
 * JSON line each, in sequence order. Same day and encoding as the incident's anchor folder.
 */
export const archiveKey = (firstDay: string, incidentId: string): string => `${ARCHIVE_PREFIX}${firstDay}/${encodeURIComponent(incidentId)}.jsonl`;

/** The archive's object body: one canonical JSON line per entry (the stored item, hash and MAC included). */
export const archiveBody = (entries: LedgerEntry[]): string => entries.map((e) => `${canonicalJson(e)}\n`).join('');

/** The entries of an archive object, or undefined when a line is not an entry. */
export function parseArchive(body: string): LedgerEntry[] | undefined {
  const entries: LedgerEntry[] = [];
  for (const line of body.split('\n')) {
    if (line === '') continue;
    try {
      const entry = JSON.parse(line) as LedgerEntry;
      if (typeof entry?.incidentId !== 'string' || !Number.isInteger(entry.seq) || typeof entry.hash !== 'string') return undefined;
      entries.push(entry);
    } catch {
      return undefined;
    }
  }
  return entries;
}

/** Chain and MAC check of a list of entries (`verifyEntries` with the verifier's key). */
export type EntriesVerifier = (incidentId: string, entries: LedgerEntry[]) => Promise<BrokenLink | undefined>;

/**
 * Checks every stored version of an incident's archive: each must hold the incident's whole chain
 * (entry 1 to an ending entry), verify (chain and MACs) and match the incident's anchors. The
 * first problem is returned, its reason prefixed with the archive key.
 */
export async function checkArchive(incidentId: string, versions: StoredAnchor[], anchors: StoredAnchor[], verify: EntriesVerifier): Promise<{ entries: number; broken?: BrokenLink }> {
  let count = 0;
  for (const version of versions) {
    const at = (link: Omit<BrokenLink, 'reason'> & { reason: string }): { entries: number; broken: BrokenLink } => ({ entries: count, broken: { ...link, reason: `archive ${version.key}: ${link.reason}` } });
    const entries = parseArchive(version.body);
    if (!entries || entries.length === 0) return at({ incidentId, seq: 0, sk: '', reason: 'not an archive of ledger entries (empty or unreadable)' });
    const stranger = entries.find((e) => e.incidentId !== incidentId || e.pk !== incidentPk(incidentId));
    if (stranger) return at({ incidentId, seq: stranger.seq, sk: stranger.sk, reason: `holds an entry of another incident (${stranger.incidentId})` });
    count = Math.max(count, entries.length);
    const broken = await verify(incidentId, entries) ?? compareWithAnchors(incidentId, entries, anchors);
    if (broken) return at(broken);
    const newest = entries[entries.length - 1];
    if (!ENDING_PHASES.has(newest.phase)) return at({ incidentId, seq: newest.seq, sk: newest.sk, reason: `ends at entry ${newest.seq} (${newest.phase}), not an ending entry` });
  }
  return { entries: count };
}

export function anchorOf(entry: LedgerEntry): Anchor {
  return { incidentId: entry.incidentId, seq: entry.seq, hash: entry.hash, mac: entry.mac, phase: entry.phase, at: entry.at };
}

/** The anchor's object body: canonical JSON, so the same head is always the same bytes. */
export const anchorBody = (entry: LedgerEntry): string => canonicalJson(anchorOf(entry));

/** The incident id a key under `anchors/<day>/` names. */
export function incidentOfKey(key: string): string | undefined {
  const parts = key.slice(ANCHOR_PREFIX.length).split('/');
  return parts.length === 3 ? decodeURIComponent(parts[1]) : undefined;
}

/** The UTC day of an incident's first entry: the entry's own when it is the first, else one query. */
async function firstDayOf(client: DynamoDBDocumentClient, table: string, entry: LedgerEntry): Promise<string> {
  if (entry.seq === 1) return entry.day;
  const out = await client.send(new QueryCommand({
    TableName: table,
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': incidentPk(entry.incidentId) },
    ScanIndexForward: true,
    Limit: 1,
    ConsistentRead: true,
  }));
  const first = out.Items?.[0] as LedgerEntry | undefined;
  if (!first) throw new Error(`incident ${entry.incidentId} has no first entry`);
  return first.day;
}

/**
 * Puts the anchor of `entry` with `If-None-Match: *`: a head is anchored once, and a re-anchoring
 * (the daily digest) of an anchored head is a 412, reported as `exists`. The SHA-256 checksum
 * satisfies S3's rule that a put into a bucket with a default Object Lock retention carries an
 * integrity check (S3 User Guide, "Using S3 Object Lock": Content-MD5 or an x-amz-checksum).
 */
export async function putAnchor(s3: S3Client, bucket: string, key: string, entry: LedgerEntry): Promise<'written' | 'exists'> {
  try {
    await s3.send(new PutObjectCommand({
      Bucket: bucket, Key: key, Body: anchorBody(entry), ContentType: 'application/json', IfNoneMatch: '*', ChecksumAlgorithm: 'SHA256',
    }));
    return 'written';
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 412 || status === 409) return 'exists';
    throw error;
  }
}

/** Anchors `entry` when its phase can end an execution; otherwise does nothing. */
export async function anchorIfEnding(s3: S3Client, bucket: string, client: DynamoDBDocumentClient, table: string, entry: LedgerEntry): Promise<'written' | 'exists' | 'not-ending'> {
  if (!ENDING_PHASES.has(entry.phase)) return 'not-ending';
  return putAnchor(s3, bucket, anchorKey(await firstDayOf(client, table, entry), entry.incidentId, entry.seq), entry);
}

/**
 * The digest of one day's entries: each incident's newest entry of that day, sorted by incident,
 * with the count and the sha256 of the canonical list.
 */
export function digestOf(day: string, entries: LedgerEntry[]): Digest {
  const heads = new Map<string, LedgerEntry>();
  for (const entry of entries) {
    const known = heads.get(entry.incidentId);
    if (!known || entry.seq > known.seq) heads.set(entry.incidentId, entry);
  }
  const list = [...heads.values()]
    .sort((a, b) => (a.incidentId < b.incidentId ? -1 : a.incidentId > b.incidentId ? 1 : 0))
    .map((e) => ({ incidentId: e.incidentId, seq: e.seq, hash: e.hash }));
  return { day, count: list.length, sha256: sha256Hex(canonicalJson(list)), heads: list };
}

export interface DigestResult {
  readonly day: string;
  readonly key: string;
  readonly incidents: number;
  /** Ending entries of the day whose anchor was missing and is written now. */
  readonly reanchored: number;
}

/**
 * The daily digest: anchors every ending entry of `day` that lacks its anchor (a failed put at
 * append time; the conditional put skips the anchored ones), then writes `digests/<day>.json`. A
 * re-run writes the same digest again, as a new version (the bucket is versioned and locked).
 */
export async function writeDigest(s3: S3Client, bucket: string, client: DynamoDBDocumentClient, table: string, day: string, entries: LedgerEntry[]): Promise<DigestResult> {
  let reanchored = 0;
  const firstDays = new Map<string, string>();
  for (const entry of [...entries].sort((a, b) => a.incidentId.localeCompare(b.incidentId) || a.seq - b.seq)) {
    if (!ENDING_PHASES.has(entry.phase)) continue;
    let firstDay = firstDays.get(entry.incidentId);
    if (!firstDay) firstDays.set(entry.incidentId, firstDay = await firstDayOf(client, table, entry));
    if (await putAnchor(s3, bucket, anchorKey(firstDay, entry.incidentId, entry.seq), entry) === 'written') reanchored++;
  }
  const digest = digestOf(day, entries);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: digestKey(day), Body: canonicalJson(digest), ContentType: 'application/json', ChecksumAlgorithm: 'SHA256' }));
  return { day, key: digestKey(day), incidents: digest.count, reanchored };
}

/** One stored version of an object under the anchors prefix. */
export interface StoredAnchor {
  readonly key: string;
  readonly body: string;
}

/**
 * Where a verifier reads anchors: every version of every object under a prefix (delete markers
 * hide nothing: a version an overwrite or a delete marker tried to hide is still read and checked).
 */
export interface AnchorSource {
  /** e.g. `bucket medic-anchors`, for messages. */
  readonly description: string;
  versionsUnder(prefix: string): Promise<StoredAnchor[]>;
  /** The keys under a prefix (listed, not read): how a verifier finds an incident's archive by its id alone. */
  keysUnder(prefix: string): Promise<string[]>;
}

/** Anchors in the S3 bucket: ListObjectVersions under the prefix, then GetObject of each version. */
export class S3AnchorSource implements AnchorSource {
  readonly description: string;

  constructor(private readonly s3: S3Client, private readonly bucket: string) {
    this.description = `bucket ${bucket}`;
  }

  async keysUnder(prefix: string): Promise<string[]> {
    return [...new Set((await this.listVersions(prefix)).map((v) => v.key))];
  }

  async versionsUnder(prefix: string): Promise<StoredAnchor[]> {
    const stored: StoredAnchor[] = [];
    for (const { key, versionId } of await this.listVersions(prefix)) {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, VersionId: versionId && versionId !== 'null' ? versionId : undefined }));
      stored.push({ key, body: out.Body ? await out.Body.transformToString('utf8') : '' });
    }
    return stored;
  }

  private async listVersions(prefix: string): Promise<Array<{ key: string; versionId?: string }>> {
    const versions: Array<{ key: string; versionId?: string }> = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    do {
      const out = await this.s3.send(new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
      for (const v of out.Versions ?? []) if (v.Key) versions.push({ key: v.Key, versionId: v.VersionId });
      keyMarker = out.IsTruncated ? out.NextKeyMarker : undefined;
      versionIdMarker = out.IsTruncated ? out.NextVersionIdMarker : undefined;
    } while (keyMarker);
    return versions;
  }
}

function parseAnchor(stored: StoredAnchor): Anchor | undefined {
  try {
    const value = JSON.parse(stored.body) as Anchor;
    return typeof value?.incidentId === 'string' && Number.isInteger(value.seq) && typeof value.hash === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Compares an incident's entries (already chain- and MAC-verified) with its anchors, and returns
 * the first problem: an anchored entry that is gone (truncated), an entry that differs from its
 * anchor (rewritten), an unreadable anchor, or a newest entry of an ending phase without anchor.
 */
export function compareWithAnchors(incidentId: string, entries: LedgerEntry[], stored: StoredAnchor[]): BrokenLink | undefined {
  const anchors: Anchor[] = [];
  for (const s of stored) {
    const anchor = parseAnchor(s);
    if (!anchor || anchor.incidentId !== incidentId) return { incidentId, seq: 0, sk: '', reason: `anchor ${s.key} is not an anchor of this incident` };
    anchors.push(anchor);
  }
  anchors.sort((a, b) => a.seq - b.seq);
  for (const anchor of anchors) {
    const entry = entries[anchor.seq - 1];
    if (!entry) {
      const first = entries.length + 1;
      return {
        incidentId, seq: first, sk: '',
        reason: `truncated: anchored entry ${anchor.seq} (${anchor.phase} at ${anchor.at}) is missing; the ledger ends at entry ${entries.length} (the newest entries were removed)`,
      };
    }
    if (entry.hash !== anchor.hash) return { incidentId, seq: entry.seq, sk: entry.sk, reason: `rewritten: entry ${entry.seq} differs from its anchor (anchored hash ${anchor.hash.slice(0, 12)}…, ledger ${entry.hash.slice(0, 12)}…)` };
  }
  const newest = entries[entries.length - 1];
  if (newest && ENDING_PHASES.has(newest.phase) && !anchors.some((a) => a.seq === newest.seq)) {
    return {
      incidentId, seq: newest.seq, sk: newest.sk,
      reason: `missing anchor: entry ${newest.seq} (${newest.phase}) ends the incident but has no anchor (a failed anchor put is re-anchored by the daily digest; otherwise the chain was extended or rewritten outside the writer)`,
    };
  }
  return undefined;
}

/**
 * The anchor checks the verifier runs (lambdas/shared/ledger.ts verifyIncident, verifyRange):
 * each incident against the anchors of its folder, and, for a range, every incident anchored on
 * a day of the range that has no entries at all: archived (its archive verifies and matches its
 * anchors), or removed. Counts the anchor versions it read.
 */
export class AnchorCheck {
  /** Anchor versions read and compared so far. */
  checked = 0;
  /** Incidents with no entries left in the table whose archive verified and matched their anchors. */
  readonly archived: string[] = [];

  constructor(readonly source: AnchorSource) {}

  async incident(incidentId: string, entries: LedgerEntry[]): Promise<BrokenLink | undefined> {
    if (entries.length === 0) return undefined;
    const stored = await this.source.versionsUnder(anchorFolder(entries[0].day, incidentId));
    this.checked += stored.length;
    return compareWithAnchors(incidentId, entries, stored);
  }

  /**
   * An incident with no entries in the table: its archive, found by listing `archive/` (the
   * incident id alone does not say its first day), checked against its anchors. Undefined when it
   * has no archive (the caller reports the missing entries).
   */
  async archivedIncident(incidentId: string, verify: EntriesVerifier): Promise<{ entries: number; broken?: BrokenLink } | undefined> {
    const suffix = `/${encodeURIComponent(incidentId)}.jsonl`;
    const key = (await this.source.keysUnder(ARCHIVE_PREFIX)).find((k) => k.endsWith(suffix) && k.split('/').length === 3);
    if (!key) return undefined;
    const day = key.split('/')[1];
    const anchors = await this.source.versionsUnder(anchorFolder(day, incidentId));
    this.checked += anchors.length;
    const result = await checkArchive(incidentId, await this.archiveVersions(key), anchors, verify);
    if (!result.broken) this.archived.push(incidentId);
    return result;
  }

  /** Every version of one archive object (the prefix match is narrowed to the key itself). */
  private async archiveVersions(key: string): Promise<StoredAnchor[]> {
    return (await this.source.versionsUnder(key)).filter((s) => s.key === key);
  }

  /**
   * Incidents anchored under the range's days (by their first entry's day) that are not among
   * `seen` and have no entries at all: removed from the ledger whole.
   */
  async range(days: string[], seen: ReadonlySet<string>, read: (incidentId: string) => Promise<LedgerEntry[]>, verify?: EntriesVerifier): Promise<BrokenLink | undefined> {
    for (const day of days) {
      const stored = await this.source.versionsUnder(`${ANCHOR_PREFIX}${day}/`);
      const incidents = new Map<string, StoredAnchor[]>();
      for (const s of stored) {
        const id = incidentOfKey(s.key);
        if (id !== undefined) incidents.set(id, [...(incidents.get(id) ?? []), s]);
      }
      for (const [incidentId, anchors] of [...incidents].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        if (seen.has(incidentId)) continue;
        this.checked += anchors.length;
        const entries = await read(incidentId);
        const archive = entries.length === 0 && verify ? await this.archiveVersions(archiveKey(day, incidentId)) : [];
        const broken = entries.length > 0 ? compareWithAnchors(incidentId, entries, anchors)
          : archive.length === 0 ? { incidentId, seq: 1, sk: '', reason: `missing entries: incident anchored (${anchors.length} anchor(s) under ${day}) but not in the ledger` }
            : (await checkArchive(incidentId, archive, anchors, verify!)).broken;
        if (broken) return broken;
        if (entries.length === 0) this.archived.push(incidentId);
      }
    }
    return undefined;
  }
}

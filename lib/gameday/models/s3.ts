import { DeleteObjectCommand, GetObjectCommand, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { awsError, type ModelOperations } from './operations';

/** What a bucket was created with (its template properties). */
export interface BucketSettings {
  /** Versioning enabled: a put to an existing key adds a version, a delete without a version adds a delete marker. */
  readonly versioned?: boolean;
  /** Object Lock default retention (S3 User Guide, "Using S3 Object Lock"): every new version is locked this long. */
  readonly objectLock?: { readonly mode: 'COMPLIANCE' | 'GOVERNANCE'; readonly days: number };
}

/** One version of an object, or a delete marker. */
export interface ObjectVersion {
  readonly versionId: string;
  readonly body: string;
  readonly deleteMarker: boolean;
  readonly lastModified: Date;
  /** Object Lock: the version cannot be deleted or overwritten before this time. */
  readonly retainUntil?: Date;
  readonly mode?: 'COMPLIANCE' | 'GOVERNANCE';
}

interface PutInput { Key: string; IfNoneMatch?: string; Body?: unknown; ContentMD5?: string; ChecksumAlgorithm?: string }

/**
 * An S3 bucket of small objects: PutObject (with the conditional create the page marks and the
 * ledger anchors rely on), DeleteObject, GetObject and ListObjectVersions; versioning and Object
 * Lock when its settings say so. Used by the game-day world (lib/gameday/services/core.ts, through
 * {@link BucketsModel}) and the workflow tests (test/support/fake-aws.ts).
 */
export class BucketModel {
  /** The current body of each key (its newest version, unless that is a delete marker). */
  readonly objects = new Map<string, string>();
  /** Every version of each key, oldest first. */
  readonly versions = new Map<string, ObjectVersion[]>();
  private nextVersion = 0;

  readonly operations: ModelOperations = {
    PutObject: { command: PutObjectCommand, mutating: false, answer: (input: PutInput) => this.putObject(input) },
    DeleteObject: { command: DeleteObjectCommand, mutating: false, answer: (input: { Key: string; VersionId?: string }) => this.deleteObject(input) },
    GetObject: { command: GetObjectCommand, mutating: false, answer: (input: { Key: string; VersionId?: string }) => this.getObject(input) },
    ListObjectVersions: { command: ListObjectVersionsCommand, mutating: false, answer: (input: { Prefix?: string }) => this.listObjectVersions(input) },
  };

  /** `now`: the world's clock (retention dates are simulated time). `onPut`: told of every new version (the game day persists the anchors). */
  constructor(
    readonly settings: BucketSettings = {},
    private readonly now: () => number = Date.now,
    private readonly onPut?: (key: string, version: ObjectVersion, index: number) => void,
  ) {
    // S3 User Guide, "Using S3 Object Lock": "Object Lock works only in versioned buckets".
    if (settings.objectLock && !settings.versioned) throw new Error('Object Lock needs a versioned bucket');
  }

  /**
   * PutObjectRequest.IfNoneMatch: "Uploads the object only if the object key name does not already
   * exist in the bucket specified. Otherwise, Amazon S3 returns a 412 Precondition Failed error."
   * Object Lock: "The Content-MD5 or x-amz-sdk-checksum-algorithm header is required for any
   * request to upload an object with a retention period configured using Amazon S3 Object Lock"
   * (PutObject); a put under a default retention locks the new version until now + the days
   * ("Using S3 Object Lock": bucket default retention). In a versioned bucket a put to an
   * existing key adds a version and keeps the others.
   */
  putObject(input: PutInput): { ETag: string; VersionId?: string } {
    if (input.IfNoneMatch === '*' && this.objects.has(input.Key)) {
      throw awsError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412);
    }
    const lock = this.settings.objectLock;
    if (lock && !input.ContentMD5 && !input.ChecksumAlgorithm) {
      throw awsError('InvalidRequest', 'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters');
    }
    const body = String(input.Body ?? '');
    const now = new Date(this.now());
    const version: ObjectVersion = {
      versionId: this.settings.versioned ? `v${++this.nextVersion}` : 'null', body, deleteMarker: false, lastModified: now,
      ...(lock ? { mode: lock.mode, retainUntil: new Date(now.getTime() + lock.days * 86_400_000) } : {}),
    };
    const kept = this.settings.versioned ? this.versions.get(input.Key) ?? [] : [];
    this.versions.set(input.Key, [...kept, version]);
    this.objects.set(input.Key, body);
    this.onPut?.(input.Key, version, kept.length);
    return { ETag: `"${this.objects.size}"`, ...(this.settings.versioned ? { VersionId: version.versionId } : {}) };
  }

  /**
   * DeleteObject. Without a version: removes the key (unversioned; a key that does not exist
   * succeeds too: "returns 204 No Content"), or adds a delete marker (versioned; Object Lock does
   * not stop delete markers). With a version: removes that version, unless Object Lock retains it:
   * "In compliance mode, a protected object version can't be overwritten or deleted by any user,
   * including the root user" (S3 User Guide, "Using S3 Object Lock") - AccessDenied.
   */
  deleteObject(input: { Key: string; VersionId?: string }): { DeleteMarker?: boolean; VersionId?: string } {
    if (!this.settings.versioned) {
      this.objects.delete(input.Key);
      this.versions.delete(input.Key);
      return {};
    }
    const versions = this.versions.get(input.Key) ?? [];
    if (input.VersionId === undefined) {
      const marker: ObjectVersion = { versionId: `v${++this.nextVersion}`, body: '', deleteMarker: true, lastModified: new Date(this.now()) };
      this.versions.set(input.Key, [...versions, marker]);
      this.objects.delete(input.Key);
      return { DeleteMarker: true, VersionId: marker.versionId };
    }
    const version = versions.find((v) => v.versionId === input.VersionId);
    if (!version) return { VersionId: input.VersionId };
    if (version.retainUntil && version.retainUntil.getTime() > this.now()) throw awsError('AccessDenied', 'Access Denied because object protected by object lock.', 403);
    const left = versions.filter((v) => v !== version);
    this.versions.set(input.Key, left);
    const newest = left[left.length - 1];
    if (newest && !newest.deleteMarker) this.objects.set(input.Key, newest.body);
    else this.objects.delete(input.Key);
    return { VersionId: input.VersionId, ...(version.deleteMarker ? { DeleteMarker: true } : {}) };
  }

  /** GetObject: the newest version, or the one named; NoSuchKey when there is none (or a delete marker is newest). */
  getObject(input: { Key: string; VersionId?: string }): { Body: { transformToString: () => Promise<string> }; VersionId?: string; ObjectLockMode?: string; ObjectLockRetainUntilDate?: Date } {
    const versions = this.versions.get(input.Key) ?? [];
    const version = input.VersionId === undefined ? versions[versions.length - 1] : versions.find((v) => v.versionId === input.VersionId);
    if (!version || version.deleteMarker) throw awsError('NoSuchKey', 'The specified key does not exist.', 404);
    const body = version.body;
    return {
      Body: { transformToString: async () => body }, VersionId: version.versionId,
      ...(version.mode ? { ObjectLockMode: version.mode, ObjectLockRetainUntilDate: version.retainUntil } : {}),
    };
  }

  /** ListObjectVersions under a prefix, keys in order, newest version first (one page: the buckets here are small). */
  listObjectVersions(input: { Prefix?: string }): { Versions: unknown[]; DeleteMarkers: unknown[]; IsTruncated: false } {
    const keys = [...this.versions.keys()].filter((k) => k.startsWith(input.Prefix ?? '')).sort();
    const Versions: unknown[] = [];
    const DeleteMarkers: unknown[] = [];
    for (const key of keys) {
      const versions = this.versions.get(key)!;
      versions.slice().reverse().forEach((v, i) => {
        const row = { Key: key, VersionId: v.versionId, IsLatest: i === 0, LastModified: v.lastModified };
        (v.deleteMarker ? DeleteMarkers : Versions).push(v.deleteMarker ? row : { ...row, Size: Buffer.byteLength(v.body) });
      });
    }
    return { Versions, DeleteMarkers, IsTruncated: false };
  }
}

/**
 * Every bucket of a world behind its one S3 client: each request goes to the bucket its `Bucket`
 * names, a bucket not defined to the default one (the page marks).
 */
export class BucketsModel {
  private readonly buckets = new Map<string, BucketModel>();
  readonly operations: ModelOperations;

  constructor(readonly fallback: BucketModel = new BucketModel()) {
    this.operations = Object.fromEntries(Object.entries(fallback.operations).map(([name, operation]) => [name, {
      ...operation,
      answer: (input: { Bucket?: string }) => this.bucket(String(input.Bucket)).operations[name].answer(input),
    }]));
  }

  define(name: string, bucket: BucketModel): BucketModel {
    this.buckets.set(name, bucket);
    return bucket;
  }

  bucket(name: string): BucketModel {
    return this.buckets.get(name) ?? this.fallback;
  }
}

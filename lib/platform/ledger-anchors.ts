import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { ANCHOR_PREFIX, ARCHIVE_PREFIX, DIGEST_PREFIX } from '../../lambdas/shared/ledger-anchors';
import type { MedicFunction } from './function';
import { acknowledge, arnRef } from './nag';

/** Properties of {@link LedgerAnchors}. */
export interface LedgerAnchorsProps {
  /** The ledger writer: the only principal that may put anchors and digests. */
  readonly writer: MedicFunction;
  /**
   * How long each anchor is locked (Object Lock, compliance mode: nobody, root included, can
   * delete or overwrite it before then). Whole days, at least 1.
   * @default Duration.days(365)
   */
  readonly retention?: Duration;
  /**
   * When the writer digests the previous UTC day: an EventBridge Scheduler expression, in UTC.
   * @default `cron(45 0 * * ? *)`, 00:45 UTC every day
   */
  readonly digestSchedule?: string;
  /**
   * The ledger's retention (`MedicPlatformProps.ledgerRetentionDays`). Over 0, a second schedule
   * invokes the writer with `{"archive": {}}` every day, which archives expired incidents under
   * `archive/` of this bucket before deleting them (lambdas/shared/ledger-archive.ts); the writer
   * may then put and read objects there. The table's DeleteItem is granted by the platform.
   * @default 0 - no archiving, no schedule, no grant under `archive/`
   */
  readonly ledgerRetentionDays?: number;
  /**
   * When the writer runs the retention (archive) job: an EventBridge Scheduler expression, in UTC.
   * @default `cron(15 1 * * ? *)`, 01:15 UTC every day (after the digest)
   */
  readonly archiveSchedule?: string;
}

/**
 * The ledger's anchors outside DynamoDB (docs/architecture.md, "Audit ledger"): a bucket with
 * Object Lock in compliance mode (versioned, SSE-S3, TLS only, no public access, deletes denied
 * to every principal) where the ledger writer puts the head of every incident that reaches an
 * ending entry, and a daily digest of the previous day's heads, run by a schedule. With a ledger
 * retention, also the archives of expired incidents (`archive/`), written by a second daily run.
 */
export class LedgerAnchors extends Construct {
  public readonly bucket: s3.Bucket;
  public readonly digestSchedule: scheduler.Schedule;
  /** The daily retention run (archive, then delete): only with `ledgerRetentionDays`. */
  public readonly archiveSchedule?: scheduler.Schedule;
  public readonly retentionDays: number;

  constructor(scope: Construct, id: string, props: LedgerAnchorsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const retention = props.retention ?? Duration.days(365);
    this.retentionDays = retention.toDays({ integral: false });
    if (!Number.isInteger(this.retentionDays) || this.retentionDays < 1) {
      throw new Error(`anchorRetention must be a whole number of days, at least 1 (got ${retention.toHumanString()})`);
    }

    this.bucket = new s3.Bucket(this, 'Bucket', {
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(this.retentionDays)),
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Compliance mode already refuses to delete a locked version; this also refuses the delete
    // marker a DeleteObject without a version would add (hiding the anchor from a plain listing),
    // and deletes of versions once their retention has ended.
    this.bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyAnchorDeletes',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
      resources: [this.bucket.arnForObjects('*')],
    }));
    acknowledge(this.bucket, ['S1'], 'The anchors are hashes of ledger entries, written by one function; puts and reads are audited with CloudTrail data events where required.');

    iam.Grant.addToPrincipal({
      grantee: props.writer, actions: ['s3:PutObject'],
      resourceArns: [this.bucket.arnForObjects(`${ANCHOR_PREFIX}*`), this.bucket.arnForObjects(`${DIGEST_PREFIX}*`)],
    });
    acknowledge(props.writer, [`IAM5[Resource::${arnRef(this.bucket)}/${ANCHOR_PREFIX}*]`, `IAM5[Resource::${arnRef(this.bucket)}/${DIGEST_PREFIX}*]`],
      'Anchors are named for the incident and day they anchor, known only at run time; the grant covers the anchors and digests prefixes of this bucket only.');

    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      description: 'medic: lets EventBridge Scheduler run the daily ledger digest',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
    });
    acknowledge(scheduleRole, [`IAM5[Resource::${arnRef(props.writer)}:*]`], 'Invoking any version of the ledger writer function only (the grant CDK makes for a Lambda target).');
    // A daily request to the writer. Both are safe to retry: anchors and archives are conditional
    // puts, the digest is the same bytes again, and a re-run of the archive finishes the deletes.
    const daily = (id: string, description: string, expression: string, input: Record<string, unknown>) => new scheduler.Schedule(this, id, {
      description,
      schedule: scheduler.ScheduleExpression.expression(expression),
      target: new schedulerTargets.LambdaInvoke(props.writer, { role: scheduleRole, input: scheduler.ScheduleTargetInput.fromObject(input), retryAttempts: 3, maxEventAge: Duration.hours(6) }),
    });
    this.digestSchedule = daily('DigestSchedule', 'medic: digest yesterday\'s ledger heads (UTC) and re-anchor any head whose anchor is missing',
      props.digestSchedule ?? 'cron(45 0 * * ? *)', { digest: {} });

    if ((props.ledgerRetentionDays ?? 0) > 0) {
      // Reading anchors/ too: an incident is archived only when its newest anchor matches.
      iam.Grant.addToPrincipal({ grantee: props.writer, actions: ['s3:PutObject'], resourceArns: [this.bucket.arnForObjects(`${ARCHIVE_PREFIX}*`)] });
      iam.Grant.addToPrincipal({
        grantee: props.writer, actions: ['s3:GetObject'],
        resourceArns: [this.bucket.arnForObjects(`${ARCHIVE_PREFIX}*`), this.bucket.arnForObjects(`${ANCHOR_PREFIX}*`)],
      });
      acknowledge(props.writer, [`IAM5[Resource::${arnRef(this.bucket)}/${ARCHIVE_PREFIX}*]`],
        'Archives are named for the incident and day they hold, known only at run time; the grant covers the archive prefix of this bucket only.');
      this.archiveSchedule = daily('ArchiveSchedule', 'medic: ledger retention: archive expired, complete, verified and anchored incidents, then delete their items',
        props.archiveSchedule ?? 'cron(15 1 * * ? *)', { archive: {} });
    }
  }

  /**
   * Reading every version of the anchors and of the archives (ListObjectVersions under `anchors/`
   * and `archive/`, GetObjectVersion): what a verifier needs. The archives are read whether or not
   * retention is on now: an archive written while it was stays there.
   */
  public grantVerify(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee, actions: ['s3:GetObject', 's3:GetObjectVersion'],
      resourceArns: [this.bucket.arnForObjects(`${ANCHOR_PREFIX}*`), this.bucket.arnForObjects(`${ARCHIVE_PREFIX}*`)],
    });
    iam.Grant.addToPrincipal({
      grantee, actions: ['s3:ListBucketVersions', 's3:ListBucket'], resourceArns: [this.bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${ANCHOR_PREFIX}*`, `${ARCHIVE_PREFIX}*`] } },
    });
    if (Construct.isConstruct(grantee)) {
      acknowledge(grantee, [`IAM5[Resource::${arnRef(this.bucket)}/${ANCHOR_PREFIX}*]`, `IAM5[Resource::${arnRef(this.bucket)}/${ARCHIVE_PREFIX}*]`],
        'Reads the anchors and archive prefixes of the anchors bucket only (one object per anchored incident head, one per archived incident).');
    }
  }
}

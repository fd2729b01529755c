import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { EXPORT_COLUMNS, EXPORT_PREFIX } from '../../lambdas/shared/ledger-export';
import { MedicFunction } from './function';
import { acknowledge, arnRef } from './nag';
import type { MedicPlatform } from './platform';
import { alarmToEscalationTopic } from './self-monitoring';

/** Properties of {@link LedgerExport}. */
export interface LedgerExportProps {
  readonly platform: MedicPlatform;
  /**
   * When the previous UTC day is exported: an EventBridge Scheduler expression, in UTC.
   * @default `cron(30 0 * * ? *)`, 00:30 UTC every day
   */
  readonly schedule?: string;
  /**
   * The Glue (Athena) database holding the `ledger` table. Lowercase letters, digits and `_`.
   * @default `medic_<stack name>`, lowercased, other characters as `_`
   */
  readonly databaseName?: string;
  /**
   * First day (`YYYY-MM-DD`) of the table's partition projection; days before it cannot be queried.
   * @default '2025-01-01'
   */
  readonly firstDay?: string;
}

/** The table's name in its Glue database. */
export const LEDGER_EXPORT_TABLE = 'ledger';

/**
 * The audit ledger for auditors' tools: every day, the previous UTC day's entries are exported as
 * JSON Lines to `exports/day=YYYY-MM-DD/ledger.jsonl` in a versioned bucket, and a Glue table over
 * that prefix (OpenX JSON SerDe, partition `day` by partition projection, so no crawler and no
 * MSCK REPAIR) lets Athena answer "every action on resource X last quarter" in one query
 * (docs/audit.md).
 */
export class LedgerExport extends Construct {
  /** The exports (versioned, retained, SSE-S3, TLS only, no public access). */
  public readonly bucket: s3.Bucket;
  /** Exports one UTC day (default: yesterday); reads the ledger, writes only under `exports/`. */
  public readonly exportFunction: MedicFunction;
  /** Runs {@link exportFunction} daily. */
  public readonly schedule: scheduler.Schedule;
  public readonly database: glue.CfnDatabase;
  public readonly table: glue.CfnTable;
  /** `<database>.ledger`, for Athena queries. */
  public readonly tableRef: string;
  /** Errors of the export function, notifying the escalation topic. */
  public readonly errorsAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: LedgerExportProps) {
    super(scope, id);
    const { platform } = props;
    const stack = Stack.of(this);
    const firstDay = props.firstDay ?? '2025-01-01';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(firstDay) || Number.isNaN(Date.parse(firstDay))) throw new Error(`firstDay must be YYYY-MM-DD (got ${firstDay})`);
    const databaseName = props.databaseName ?? defaultDatabaseName(stack);
    if (!/^[a-z0-9_]{1,255}$/.test(databaseName)) throw new Error(`databaseName must be lowercase letters, digits and _ (got ${databaseName})`);

    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(this.bucket, ['S1'], 'The exports are copies of the hash-chained ledger, which stays the record; reads of the exports are audited with CloudTrail data events where required, not with server access logs.');

    this.exportFunction = new MedicFunction(this, 'Function', {
      handler: 'ledger-export',
      description: 'medic: export a UTC day of the audit ledger to S3 as JSON Lines (Athena table)',
      environment: { MEDIC_LEDGER_TABLE: platform.ledger.tableName, MEDIC_EXPORT_BUCKET: this.bucket.bucketName },
      timeout: Duration.minutes(5),
    });
    platform.grantLedgerRead(this.exportFunction);
    iam.Grant.addToPrincipal({ grantee: this.exportFunction, actions: ['s3:PutObject'], resourceArns: [this.bucket.arnForObjects(`${EXPORT_PREFIX}*`)] });
    acknowledge(this.exportFunction, [`IAM5[Resource::${arnRef(this.bucket)}/${EXPORT_PREFIX}*]`],
      'One object per exported day, named for the day; the grant covers the exports prefix of this bucket only.');

    // A role of its own (not the stack's shared scheduler role), so the acknowledgement below covers this target only.
    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      description: 'medic: lets EventBridge Scheduler run the daily ledger export',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
    });
    acknowledge(scheduleRole, [`IAM5[Resource::${arnRef(this.exportFunction)}:*]`], 'Invoking any version of the export function only (the grant CDK makes for a Lambda target).');
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'medic: export yesterday\'s audit ledger entries (UTC) to S3',
      schedule: scheduler.ScheduleExpression.expression(props.schedule ?? 'cron(30 0 * * ? *)'),
      target: new schedulerTargets.LambdaInvoke(this.exportFunction, {
        role: scheduleRole,
        input: scheduler.ScheduleTargetInput.fromObject({}),
        // The export overwrites one key: a retry is harmless.
        retryAttempts: 3,
        maxEventAge: Duration.hours(6),
      }),
    });

    this.errorsAlarm = alarmToEscalationTopic(this, 'ErrorsAlarm', platform, this.exportFunction.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      'medic: the daily ledger export failed; the Athena table lacks that day until it is re-run (docs/audit.md)');

    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: { name: databaseName, description: 'medic: the audit ledger, exported daily (docs/audit.md)' },
    });
    const location = `s3://${this.bucket.bucketName}/${EXPORT_PREFIX}`;
    this.table = new glue.CfnTable(this, 'Table', {
      catalogId: stack.account,
      databaseName,
      tableInput: {
        name: LEDGER_EXPORT_TABLE,
        description: 'medic audit ledger: one row per entry; partition day = the UTC day of "at"',
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          'classification': 'json',
          'projection.enabled': 'true',
          'projection.day.type': 'date',
          'projection.day.format': 'yyyy-MM-dd',
          'projection.day.range': `${firstDay},NOW`,
          'projection.day.interval': '1',
          'projection.day.interval.unit': 'DAYS',
          'storage.location.template': `${location}day=\${day}/`,
        },
        partitionKeys: [{ name: 'day', type: 'string', comment: 'YYYY-MM-DD (UTC), the folder exports/day=YYYY-MM-DD/' }],
        storageDescriptor: {
          location,
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: {
            serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
            // Keys match columns whatever their case (targetArn -> targetarn); a bad line fails the query.
            parameters: { 'case.insensitive': 'TRUE', 'ignore.malformed.json': 'FALSE' },
          },
          // `day` is the partition key, so not also a data column (Athena refuses a column named twice).
          columns: EXPORT_COLUMNS.filter((c) => c.name !== 'day').map((c) => ({ name: c.name.toLowerCase(), type: c.type })),
        },
      },
    });
    this.table.node.addDependency(this.database);
    this.tableRef = `${databaseName}.${LEDGER_EXPORT_TABLE}`;
  }
}

/** `medic_<stack name>`: Glue database names are lowercase letters, digits and `_`. */
function defaultDatabaseName(stack: Stack): string {
  if (Token.isUnresolved(stack.stackName)) return 'medic';
  return `medic_${stack.stackName.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
}

import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { EXPORT_COLUMNS } from '../../lambdas/shared/ledger-export';
import { LedgerExport } from '../../lib/platform/ledger-export';
import { MedicPlatform } from '../../lib/platform/platform';
import { synthStack, testConfig } from '../support/synth';

const { stack, template } = synthStack(testConfig);
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties?: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;
const idOf = (construct: { node: { defaultChild?: unknown } }) => stack.resolve((construct.node.defaultChild as { logicalId: string }).logicalId) as string;
const exporter = stack.ledgerExport;
const bucketId = idOf(exporter.bucket);
const functionId = idOf(exporter.exportFunction);
const ledgerId = idOf(stack.platform.ledger);
const asList = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Every Allow statement of every policy attached to the export function's role. */
function exporterStatements(): Array<{ Action: string[]; Resource: unknown[] }> {
  const roleId = (resources[functionId].Properties!.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const statements: Array<{ Action: string[]; Resource: unknown[] }> = [];
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    if (!asList(resource.Properties!.Roles).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId }))) continue;
    for (const s of resource.Properties!.PolicyDocument.Statement) {
      if (s.Effect === 'Allow') statements.push({ Action: asList(s.Action) as string[], Resource: asList(s.Resource) });
    }
  }
  for (const p of asList(resources[roleId].Properties!.Policies)) {
    for (const s of (p as any).PolicyDocument.Statement) statements.push({ Action: asList(s.Action) as string[], Resource: asList(s.Resource) });
  }
  return statements;
}

describe('the export bucket', () => {
  test('no public access, TLS only, encrypted, versioned, retained', () => {
    const bucket = resources[bucketId];
    expect(bucket.Properties).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      VersioningConfiguration: { Status: 'Enabled' },
    });
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.UpdateReplacePolicy).toBe('Retain');
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });
});

describe('the export function', () => {
  test('reads the ledger and writes only exports/* of its bucket: no write to the ledger, no other S3 action', () => {
    const statements = exporterStatements();
    const actions = statements.flatMap((s) => s.Action);
    expect(actions.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual(['dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:Query']);
    expect(actions.filter((a) => /^dynamodb:(Put|Update|Delete|BatchWrite|PartiQL|\*)/.test(a) || a === '*')).toEqual([]);
    const s3 = statements.filter((s) => s.Action.some((a) => a.startsWith('s3:')));
    expect(s3).toEqual([{ Action: ['s3:PutObject'], Resource: [{ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/exports/*']] }] }]);
    const onLedger = statements.filter((s) => JSON.stringify(s.Resource).includes(ledgerId));
    expect(onLedger.flatMap((s) => s.Action).sort()).toEqual(['dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:Query']);
  });

  test('knows the ledger table and the bucket, runs the ledger-export handler', () => {
    expect(resources[functionId].Properties!.Environment.Variables).toMatchObject({ MEDIC_LEDGER_TABLE: { Ref: ledgerId }, MEDIC_EXPORT_BUCKET: { Ref: bucketId } });
    expect((resources[functionId] as any).Metadata['medic:entry']).toBe('ledger-export/index.ts');
  });

  test('runs daily at 00:30 UTC through EventBridge Scheduler, with an empty payload (yesterday), and pages when it fails', () => {
    const schedules = Object.values(resources).filter((r) => r.Type === 'AWS::Scheduler::Schedule'
      && JSON.stringify(r.Properties!.Target.Arn) === JSON.stringify({ 'Fn::GetAtt': [functionId, 'Arn'] }));
    expect(schedules).toHaveLength(1);
    expect(schedules[0].Properties).toMatchObject({
      ScheduleExpression: 'cron(30 0 * * ? *)', State: 'ENABLED',
      Target: { Input: '{}', RetryPolicy: { MaximumRetryAttempts: 3 } },
    });
    expect(schedules[0].Properties!.ScheduleExpressionTimezone).toMatch(/^(Etc\/)?UTC$/);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors', Namespace: 'AWS/Lambda', Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId } }],
      AlarmActions: [{ Ref: Match.stringLikeRegexp('Escalations') }],
    });
  });
});

describe('the Athena (Glue) table', () => {
  const tables = Object.values(resources).filter((r) => r.Type === 'AWS::Glue::Table');
  const input = tables[0]?.Properties!.TableInput;

  test('one database medic_<stack>, one table "ledger" in it', () => {
    template.hasResourceProperties('AWS::Glue::Database', { CatalogId: '111111111111', DatabaseInput: { Name: 'medic_medictest' } });
    expect(tables).toHaveLength(1);
    expect(tables[0].Properties).toMatchObject({ CatalogId: '111111111111', DatabaseName: 'medic_medictest' });
    expect(input.Name).toBe('ledger');
    expect(exporter.tableRef).toBe('medic_medictest.ledger');
  });

  test('JSON SerDe over s3://<bucket>/exports/, a column for every exported field, partition key day', () => {
    const location = { 'Fn::Join': ['', ['s3://', { Ref: bucketId }, '/exports/']] };
    expect(input.StorageDescriptor).toMatchObject({
      Location: location,
      InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
      SerdeInfo: { SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' },
    });
    expect(input.StorageDescriptor.Columns.map((c: { Name: string; Type: string }) => `${c.Name} ${c.Type}`)).toEqual([
      'at string', 'incidentid string', 'seq bigint', 'phase string', 'runbook string', 'targetarn string', 'mode string', 'actor string',
      'execution string', 'detail string', 'prevhash string', 'hash string', 'mac string', 'mackey string', 'expiresat bigint', 'pk string', 'sk string',
    ]);
    expect(EXPORT_COLUMNS.map((c) => c.name.toLowerCase()).filter((n) => n !== 'day')).toEqual(input.StorageDescriptor.Columns.map((c: { Name: string }) => c.Name));
    expect(input.PartitionKeys).toEqual([expect.objectContaining({ Name: 'day', Type: 'string' })]);
  });

  test('partition projection on day (date, yyyy-MM-dd, from the first day to NOW), so no crawler or MSCK REPAIR', () => {
    expect(input.Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.day.type': 'date',
      'projection.day.format': 'yyyy-MM-dd',
      'projection.day.range': '2025-01-01,NOW',
      'projection.day.interval': '1',
      'projection.day.interval.unit': 'DAYS',
      'storage.location.template': { 'Fn::Join': ['', ['s3://', { Ref: bucketId }, '/exports/day=${day}/']] },
    });
    template.resourceCountIs('AWS::Glue::Crawler', 0);
  });

  test('props: schedule, database name and first day; bad values are refused', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const other = new Stack(app, 'Other', { env: { account: '222222222222', region: 'eu-west-1' } });
    const platform = new MedicPlatform(other, 'Platform');
    new LedgerExport(other, 'Export', { platform, schedule: 'cron(0 2 * * ? *)', databaseName: 'audit', firstDay: '2026-06-01' });
    const t = Template.fromStack(other);
    t.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(0 2 * * ? *)' });
    t.hasResourceProperties('AWS::Glue::Table', { DatabaseName: 'audit', TableInput: { Parameters: Match.objectLike({ 'projection.day.range': '2026-06-01,NOW' }) } });
    expect(() => new LedgerExport(other, 'Bad1', { platform, databaseName: 'Audit-DB' })).toThrow(/databaseName/);
    expect(() => new LedgerExport(other, 'Bad2', { platform, firstDay: '2026/01/01' })).toThrow(/firstDay/);
  });
});

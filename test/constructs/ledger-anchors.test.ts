import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { MedicPlatform } from '../../lib/platform/platform';
import { synthStack, testConfig } from '../support/synth';

/* The ledger anchors bucket (lib/platform/ledger-anchors.ts): Object Lock in compliance mode, and only the ledger writer puts there. */

const { stack, template } = synthStack(testConfig);
type Resource = { Type: string; Properties?: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
const resources = template.toJSON().Resources as Record<string, Resource>;
const idOf = (construct: { node: { defaultChild?: unknown } }) => stack.resolve((construct.node.defaultChild as { logicalId: string }).logicalId) as string;
const bucketId = idOf(stack.platform.ledgerAnchors.bucket);
const writerId = idOf(stack.platform.ledgerWriterFunction);
const verifierId = idOf(stack.platform.ledgerVerifyFunction);
const asList = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const onBucket = (s: { Resource?: unknown }) => JSON.stringify(s.Resource ?? '').includes(`"${bucketId}"`);

/** Every statement of the policies attached to a function's role. */
function statementsOf(functionId: string): Array<{ Effect: string; Action: string[]; Resource: unknown[]; Condition?: unknown }> {
  const roleId = (resources[functionId].Properties!.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const statements: Array<{ Effect: string; Action: string[]; Resource: unknown[]; Condition?: unknown }> = [];
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::IAM::Policy' || !asList(resource.Properties!.Roles).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId }))) continue;
    for (const s of resource.Properties!.PolicyDocument.Statement) statements.push({ ...s, Action: asList(s.Action) as string[], Resource: asList(s.Resource) });
  }
  return statements;
}

describe('the anchors bucket', () => {
  test('Object Lock in compliance mode for 365 days by default, versioned, SSE-S3, no public access, retained', () => {
    const bucket = resources[bucketId];
    expect(bucket.Properties).toMatchObject({
      ObjectLockEnabled: true,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 365 } } },
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.UpdateReplacePolicy).toBe('Retain');
  });

  test('its policy denies TLS-less requests, and object and version deletes to every principal', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Deny', Principal: { AWS: '*' }, Action: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] },
          }),
        ]),
      },
    });
  });

  test('the retention is configurable in whole days, at least one', () => {
    const platformWith = (anchorRetention: Duration) => {
      const s = new Stack(new App(), 'S', { env: { account: '111111111111', region: 'eu-west-1' } });
      const platform = new MedicPlatform(s, 'Platform', { anchorRetention });
      return { s, platform };
    };
    const { s, platform } = platformWith(Duration.days(30));
    const id = s.resolve((platform.ledgerAnchors.bucket.node.defaultChild as unknown as { logicalId: string }).logicalId) as string;
    expect(Template.fromStack(s).toJSON().Resources[id].Properties.ObjectLockConfiguration.Rule.DefaultRetention).toEqual({ Mode: 'COMPLIANCE', Days: 30 });
    expect(() => platformWith(Duration.hours(12))).toThrow(/anchorRetention must be a whole number of days, at least 1/);
    expect(() => platformWith(Duration.hours(36))).toThrow(/anchorRetention/);
    // The config-driven app: ledgerAnchorRetentionDays.
    const fromConfig = synthStack({ ...testConfig, stackName: 'MedicAnchors90', ledgerAnchorRetentionDays: 90, runbooks: { ecsTaskRestart: [testConfig.runbooks.ecsTaskRestart![0]] } });
    const locked = Object.values(fromConfig.template.toJSON().Resources as Record<string, { Properties?: { ObjectLockConfiguration?: { Rule: unknown } } }>)
      .filter((r) => r.Properties?.ObjectLockConfiguration).map((r) => r.Properties!.ObjectLockConfiguration!.Rule);
    expect(locked).toEqual([{ DefaultRetention: { Mode: 'COMPLIANCE', Days: 90 } }]);
  });

  test('the stack outputs its name, and the writer and the verifier are told it', () => {
    template.hasOutput('LedgerAnchorsBucketName', { Value: { Ref: bucketId } });
    expect(resources[writerId].Properties!.Environment.Variables.MEDIC_LEDGER_ANCHORS_BUCKET).toEqual({ Ref: bucketId });
    expect(resources[verifierId].Properties!.Environment.Variables.MEDIC_LEDGER_ANCHORS_BUCKET).toEqual({ Ref: bucketId });
  });
});

describe('who may use the anchors bucket', () => {
  test('only the ledger writer may put there, under anchors/ and digests/ only; no role may delete', () => {
    const writers: string[] = [];
    for (const [id, resource] of Object.entries(resources)) {
      if (resource.Type !== 'AWS::IAM::Policy') continue;
      for (const s of resource.Properties!.PolicyDocument.Statement) {
        if (s.Effect !== 'Allow' || !onBucket(s)) continue;
        const actions = asList(s.Action) as string[];
        expect(actions.filter((a) => /Delete|^s3:\*$|PutObjectRetention|PutBucket|BypassGovernance/.test(a))).toEqual([]);
        if (actions.includes('s3:PutObject')) writers.push(id);
      }
    }
    expect(writers).toHaveLength(1);
    const puts = statementsOf(writerId).filter((s) => s.Effect === 'Allow' && onBucket(s));
    expect(puts).toEqual([expect.objectContaining({
      Action: ['s3:PutObject'],
      Resource: [
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/anchors/*']] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/digests/*']] },
      ],
    })]);
  });

  test('the verifier reads every version under anchors/ and archive/ only (list conditioned on the prefixes)', () => {
    const reads = statementsOf(verifierId).filter((s) => s.Effect === 'Allow' && onBucket(s));
    expect(reads).toEqual(expect.arrayContaining([
      expect.objectContaining({
        Action: ['s3:GetObject', 's3:GetObjectVersion'],
        Resource: [{ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/anchors/*']] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/archive/*']] }],
      }),
      expect.objectContaining({ Action: ['s3:ListBucketVersions', 's3:ListBucket'], Condition: { StringLike: { 's3:prefix': ['anchors/*', 'archive/*'] } } }),
    ]));
    expect(reads.flatMap((s) => s.Action).filter((a) => !/^s3:(Get|List)/.test(a))).toEqual([]);
  });

  test('a daily schedule runs the writer\'s digest ({"digest": {}})', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(45 0 * * ? *)',
      Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [writerId, 'Arn'] }, Input: JSON.stringify({ digest: {} }) }),
    });
  });
});

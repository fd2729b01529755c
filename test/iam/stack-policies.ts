import { TemplateResolver, type LocalEnv } from '../../lib/local/template-workflow';

/** An IAM policy document as the template declares it, intrinsics resolved. */
export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: Statement[];
}
export interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: unknown;
  readonly Action: string | string[];
  readonly Resource?: string | string[];
  readonly Condition?: Record<string, Record<string, unknown>>;
}
/** A named identity policy, as iam-simulate takes it. */
export interface NamedPolicy {
  readonly name: string;
  readonly policy: PolicyDocument;
}

type Resource = { Type: string; Properties?: Record<string, unknown> };

/**
 * The IAM of a synthesized stack, resolved to the names the game day uses: each role's identity
 * policies (its inline `AWS::IAM::Policy` resources), each function's role, and the resource
 * policies that decide service-to-service paths (topic, queue, bucket and key policies).
 */
export class StackPolicies {
  private readonly resources: Record<string, Resource>;
  private readonly resolver: TemplateResolver;

  constructor(template: Record<string, unknown>, readonly env: LocalEnv) {
    this.resources = template.Resources as Record<string, Resource>;
    this.resolver = new TemplateResolver(this.resources as never, env);
  }

  resolve<T>(value: unknown): T {
    return this.resolver.resolve(value) as T;
  }

  ofType(type: string): Array<[string, Resource]> {
    return Object.entries(this.resources).filter(([, r]) => r.Type === type);
  }

  /** The role a function runs with (its logical id). */
  roleOf(functionId: string): string {
    const role = this.resources[functionId]?.Properties?.Role as { 'Fn::GetAtt'?: [string, string] } | undefined;
    const id = role?.['Fn::GetAtt']?.[0];
    if (!id) throw new Error(`function ${functionId} has no role of the stack`);
    return id;
  }

  roleArn(roleId: string): string {
    return `arn:aws:iam::${this.env.account}:role/${roleId}`;
  }

  /** The inline policies attached to a role. */
  identityPolicies(roleId: string): NamedPolicy[] {
    return this.ofType('AWS::IAM::Policy')
      .filter(([, r]) => ((r.Properties?.Roles as Array<{ Ref?: string }>) ?? []).some((role) => role.Ref === roleId))
      .map(([id, r]) => ({ name: id, policy: this.resolve<PolicyDocument>(r.Properties!.PolicyDocument) }));
  }

  /** The resource policy of a topic, queue, bucket (or object in it) or key, by ARN. */
  resourcePolicy(arn: string): PolicyDocument | undefined {
    const kinds: Array<[string, string, string]> = [
      ['AWS::SNS::TopicPolicy', 'Topics', 'PolicyDocument'],
      ['AWS::SQS::QueuePolicy', 'Queues', 'PolicyDocument'],
      ['AWS::S3::BucketPolicy', 'Bucket', 'PolicyDocument'],
    ];
    for (const [type, targets, document] of kinds) {
      for (const [, r] of this.ofType(type)) {
        const names = [this.resolve<string | string[]>(r.Properties![targets])].flat();
        if (names.some((name) => this.arnOfName(type, name, arn))) return this.resolve<PolicyDocument>(r.Properties![document]);
      }
    }
    const permissions = this.ofType('AWS::Lambda::Permission').filter(([, r]) => this.resolve(r.Properties!.FunctionName) === arn);
    if (permissions.length > 0) {
      // Lambda keeps its permissions as one resource policy of statements like these.
      return {
        Statement: permissions.map(([, r]) => {
          const p = this.resolve<Record<string, string>>(r.Properties);
          return {
            Effect: 'Allow', Action: p.Action, Resource: arn, Principal: { Service: p.Principal },
            ...(p.SourceArn ? { Condition: { ArnLike: { 'aws:SourceArn': p.SourceArn } } } : {}),
          };
        }),
      };
    }
    for (const [id, r] of this.ofType('AWS::KMS::Key')) {
      if (arn === `arn:aws:kms:${this.env.region}:${this.env.account}:key/${id}`) return this.resolve<PolicyDocument>(r.Properties!.KeyPolicy);
    }
    return undefined;
  }

  /** Whether `arn` is the resource (or, for a bucket, an object in it) a policy's target names. */
  private arnOfName(type: string, name: string, arn: string): boolean {
    if (type === 'AWS::S3::BucketPolicy') return arn === `arn:aws:s3:::${name}` || arn.startsWith(`arn:aws:s3:::${name}/`);
    if (type === 'AWS::SQS::QueuePolicy') return arn === `arn:aws:sqs:${this.env.region}:${this.env.account}:${name.split('/').pop()}`;
    return arn === name;
  }

  /** The value the template gives an environment variable of its functions (the first that sets it). */
  environmentValue(variable: string): string | undefined {
    for (const [, r] of this.ofType('AWS::Lambda::Function')) {
      const value = (r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.[variable];
      if (value !== undefined) return this.resolve<string>(value);
    }
    return undefined;
  }

  /** The customer managed key a table is encrypted with. */
  tableKey(tableArn: string): string | undefined {
    for (const [id, r] of this.ofType('AWS::DynamoDB::Table')) {
      if (this.resolve({ 'Fn::GetAtt': [id, 'Arn'] }) !== tableArn) continue;
      const key = (r.Properties?.SSESpecification as { KMSMasterKeyId?: unknown } | undefined)?.KMSMasterKeyId;
      return key === undefined ? undefined : this.resolve<string>(key);
    }
    return undefined;
  }

  /** The customer managed key a topic is encrypted with. */
  topicKey(topicArn: string): string | undefined {
    for (const [id, r] of this.ofType('AWS::SNS::Topic')) {
      if (this.resolve(({ Ref: id })) !== topicArn) continue;
      const key = r.Properties?.KmsMasterKeyId;
      return key === undefined ? undefined : this.resolve<string>(key);
    }
    return undefined;
  }
}

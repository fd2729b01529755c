import type { ApiCall } from '../../lib/gameday/api-log';
import type { LocalEnv } from '../../lib/local/template-workflow';

/** One authorisation AWS makes for a call: an action on a resource, with the request's context. */
export interface IamRequest {
  readonly action: string;
  readonly resource: string;
  readonly context: Record<string, string | string[]>;
}

/** What the account knows about its resources: the tags AWS puts in the request context. */
export interface ResourceFacts {
  readonly env: LocalEnv;
  tagsOf(arn: string): Record<string, string>;
  /** The EC2 instances whose tag `key` has one of `values`. */
  instancesTagged(key: string, values: string[]): string[];
  /** The customer managed key of an encrypted topic. */
  topicKey(topicArn: string): string | undefined;
  /** The customer managed key of an encrypted table. */
  tableKey(tableArn: string): string | undefined;
}

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)]);

/**
 * The requests AWS authorises for one API call, following the Service Authorization Reference
 * (resource types and condition keys of each action): the resource ARN built from the call's
 * input, the resource's tags as `aws:ResourceTag/*` (and the service's own tag key where the
 * service defines one), the service's condition keys the call sets, and the requests AWS makes
 * with the caller's credentials on its behalf (KMS for an encrypted topic).
 */
export function requestsFor(call: ApiCall, facts: ResourceFacts): IamRequest[] {
  const { region, account } = facts.env;
  const action = `${call.service}:${call.operation}`;
  const input = call.input;
  const base = { 'aws:RequestedRegion': region, 'aws:SecureTransport': 'true' };
  const on = (resource: string, context: Record<string, string | string[]> = {}, tagPrefix?: string): IamRequest => {
    const tags = Object.entries(facts.tagsOf(resource));
    const tagContext = Object.fromEntries(tags.flatMap(([k, v]) => [[`aws:ResourceTag/${k}`, v], ...(tagPrefix ? [[`${tagPrefix}/${k}`, v]] : [])]));
    return { action, resource, context: { ...base, ...tagContext, ...context } };
  };
  const anywhere = (): IamRequest[] => [on('*')];
  const cluster = (name: unknown) => `arn:aws:ecs:${region}:${account}:cluster/${String(name ?? 'default')}`;
  switch (action) {
    // DynamoDB: the table, or the index a Query reads (Service Authorization Reference, Amazon DynamoDB).
    case 'dynamodb:GetItem': case 'dynamodb:PutItem': case 'dynamodb:UpdateItem': case 'dynamodb:DeleteItem': case 'dynamodb:Scan':
    case 'dynamodb:Query': {
      const table = `arn:aws:dynamodb:${region}:${account}:table/${String(input.TableName)}`;
      // A table under a customer managed key: asked conservatively of the caller (the grants CDK
      // gives with table access); a read needs Decrypt, a write Encrypt and GenerateDataKey too.
      const key = facts.tableKey(table);
      const viaDynamoDb = { 'kms:ViaService': `dynamodb.${region}.amazonaws.com` };
      const keyActions = ['kms:Decrypt', ...(/Put|Update|Delete/.test(call.operation) ? ['kms:Encrypt', 'kms:GenerateDataKey'] : [])];
      return [
        on(input.IndexName ? `${table}/index/${String(input.IndexName)}` : table),
        ...(key ? keyActions.map((keyAction) => ({ ...on(key, viaDynamoDb), action: keyAction })) : []),
      ];
    }
    // BatchGetItem: authorised on each table named in RequestItems (reads: kms:Decrypt).
    case 'dynamodb:BatchGetItem':
      return Object.keys((input.RequestItems ?? {}) as Record<string, unknown>).flatMap((name) => {
        const table = `arn:aws:dynamodb:${region}:${account}:table/${name}`;
        const key = facts.tableKey(table);
        return [on(table), ...(key ? [{ ...on(key, { 'kms:ViaService': `dynamodb.${region}.amazonaws.com` }), action: 'kms:Decrypt' }] : [])];
      });
    // ECS: services, tasks and container instances, each with the ecs:cluster condition key.
    case 'ecs:DescribeServices':
      return list(input.services).map((s) => on(s.startsWith('arn:') ? s : `arn:aws:ecs:${region}:${account}:service/${String(input.cluster)}/${s}`, { 'ecs:cluster': cluster(input.cluster) }));
    case 'ecs:UpdateService':
      return [on(`arn:aws:ecs:${region}:${account}:service/${String(input.cluster)}/${String(input.service)}`, { 'ecs:cluster': cluster(input.cluster) })];
    case 'ecs:StopTask': {
      const task = String(input.task);
      return [on(task.startsWith('arn:') ? task : `arn:aws:ecs:${region}:${account}:task/${String(input.cluster)}/${task}`, { 'ecs:cluster': cluster(input.cluster) })];
    }
    case 'ecs:ListTasks':
      return [on(`arn:aws:ecs:${region}:${account}:container-instance/${String(input.cluster)}/*`, { 'ecs:cluster': cluster(input.cluster) })];
    // CloudWatch: DescribeAlarms is authorised per alarm named; GetMetricData has no required resource.
    case 'cloudwatch:DescribeAlarms':
      return list(input.AlarmNames).map((name) => on(`arn:aws:cloudwatch:${region}:${account}:alarm:${name}`));
    case 'cloudwatch:GetMetricData':
      return anywhere();
    // SSM: parameters by name, documents by name, instances by ID with ssm:resourceTag.
    case 'ssm:GetParameters':
      return list(input.Names).map((name) => on(`arn:aws:ssm:${region}:${account}:parameter/${name.replace(/^\//, '')}`));
    case 'ssm:GetCalendarState':
      return list(input.CalendarNames).map((name) => on(name.startsWith('arn:') ? name : `arn:aws:ssm:${region}:${account}:document/${name}`));
    case 'ssm:SendCommand': {
      const document = String(input.DocumentName);
      return [
        on(document.startsWith('arn:') ? document : `arn:aws:ssm:${region}:${account}:document/${document}`),
        // With Targets, Run Command sends to the instances the targets resolve to, each authorised as if named.
        ...[...list(input.InstanceIds), ...targetedInstances(input.Targets, facts)].map((id) => on(`arn:aws:ec2:${region}:${account}:instance/${id}`, {}, 'ssm:resourceTag')),
      ];
    }
    // Step Functions' task token answers have no resource type (Service Authorization Reference: wildcard only).
    case 'states:SendTaskSuccess': case 'states:SendTaskFailure': case 'states:SendTaskHeartbeat':
      return anywhere();
    // CancelCommand has no resource type either (Service Authorization Reference: wildcard only).
    case 'ssm:DescribeInstanceInformation': case 'ssm:GetCommandInvocation': case 'ssm:ListCommands': case 'ssm:ListCommandInvocations': case 'ssm:CancelCommand':
      return anywhere();
    // Auto Scaling: UpdateAutoScalingGroup on the group, with autoscaling:ResourceTag; describes are "*".
    case 'autoscaling:DescribeAutoScalingGroups':
      return anywhere();
    case 'autoscaling:UpdateAutoScalingGroup':
      return [on(`arn:aws:autoscaling:${region}:${account}:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/${String(input.AutoScalingGroupName)}`, {}, 'autoscaling:ResourceTag')];
    // RDS: FailoverDBCluster is authorised on the cluster and, with TargetDBInstanceIdentifier, on that instance (`db`).
    case 'rds:DescribeDBClusters':
      return input.DBClusterIdentifier ? [on(`arn:aws:rds:${region}:${account}:cluster:${String(input.DBClusterIdentifier)}`)] : anywhere();
    case 'rds:DescribeDBInstances':
      return input.DBInstanceIdentifier ? [on(`arn:aws:rds:${region}:${account}:db:${String(input.DBInstanceIdentifier)}`)] : anywhere();
    case 'rds:FailoverDBCluster':
      return [
        on(`arn:aws:rds:${region}:${account}:cluster:${String(input.DBClusterIdentifier)}`),
        ...(input.TargetDBInstanceIdentifier ? [on(`arn:aws:rds:${region}:${account}:db:${String(input.TargetDBInstanceIdentifier)}`)] : []),
      ];
    case 'rds:RebootDBInstance':
      return [on(`arn:aws:rds:${region}:${account}:db:${String(input.DBInstanceIdentifier)}`)];
    // ACM: the certificate; SearchCertificates has no resource type.
    case 'acm:DescribeCertificate': case 'acm:ListTagsForCertificate': case 'acm:RenewCertificate': case 'acm:ResendValidationEmail':
      return [on(String(input.CertificateArn))];
    case 'acm:SearchCertificates':
      return anywhere();
    // Route 53: the hosted zone, with the change's actions, types and normalized names as condition keys.
    case 'route53:ListResourceRecordSets':
      return [on(`arn:aws:route53:::hostedzone/${String(input.HostedZoneId).replace(/^\/hostedzone\//, '')}`)];
    case 'route53:ChangeResourceRecordSets': {
      const changes = ((input.ChangeBatch as { Changes?: Array<{ Action: string; ResourceRecordSet: { Name: string; Type: string } }> })?.Changes) ?? [];
      return [on(`arn:aws:route53:::hostedzone/${String(input.HostedZoneId).replace(/^\/hostedzone\//, '')}`, {
        'route53:ChangeResourceRecordSetsActions': changes.map((c) => c.Action),
        'route53:ChangeResourceRecordSetsRecordTypes': changes.map((c) => c.ResourceRecordSet.Type),
        // Lower case, without the trailing dot (Route 53: "Using IAM policy conditions for fine-grained access control").
        'route53:ChangeResourceRecordSetsNormalizedRecordNames': changes.map((c) => c.ResourceRecordSet.Name.toLowerCase().replace(/\.$/, '')),
      })];
    }
    // S3: the object; SNS: the topic, and the key of an encrypted topic (SNS: "Encryption at rest", publishers need GenerateDataKey* and Decrypt).
    case 's3:PutObject': case 's3:DeleteObject':
      return [on(`arn:aws:s3:::${String(input.Bucket)}/${String(input.Key)}`)];
    case 'sns:Publish': {
      const topic = String(input.TopicArn);
      const key = facts.topicKey(topic);
      const viaSns = { 'kms:ViaService': `sns.${region}.amazonaws.com` };
      return [on(topic), ...(key ? [{ ...on(key, viaSns), action: 'kms:GenerateDataKey' }, { ...on(key, viaSns), action: 'kms:Decrypt' }] : [])];
    }
    // Lambda: the function (a name or an ARN); KMS: the key (medic passes its ARN).
    case 'lambda:InvokeFunction': {
      const name = String(input.FunctionName);
      return [on(name.startsWith('arn:') ? name : `arn:aws:lambda:${region}:${account}:function:${name}`)];
    }
    // Step Functions: an execution's reads are authorised on the execution (Service Authorization Reference, AWS Step Functions).
    case 'states:DescribeExecution': case 'states:GetExecutionHistory':
      return [on(String(input.executionArn))];
    // StartExecution (the ASG sweep's): the state machine it starts (resource type stateMachine).
    case 'states:StartExecution':
      return [on(String(input.stateMachineArn))];
    case 'kms:GenerateMac': case 'kms:VerifyMac':
      return [on(String(input.KeyId))];
    default:
      throw new Error(`no IAM mapping for ${action}: add it (resource types and condition keys from the Service Authorization Reference)`);
  }
}

/** The instances SendCommand's `Targets` (`InstanceIds` or `tag:<key>`) resolve to. */
function targetedInstances(targets: unknown, facts: ResourceFacts): string[] {
  return ((targets as Array<{ Key: string; Values: string[] }> | undefined) ?? []).flatMap((t) => {
    if (t.Key === 'InstanceIds') return t.Values;
    if (t.Key.startsWith('tag:')) return facts.instancesTagged(t.Key.slice(4), t.Values);
    throw new Error(`no IAM mapping for SendCommand targets by ${t.Key}`);
  });
}

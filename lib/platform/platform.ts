import { Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { MedicFunction } from './function';
import { LedgerReconciler } from './ledger-reconcile';
import { LedgerAnchors } from './ledger-anchors';
import { acknowledge, arnRef } from './nag';
import { PlatformSelfAlarms } from './self-monitoring';

/** Properties of the {@link MedicPlatform}. */
export interface MedicPlatformProps {
  /**
   * Email addresses subscribed to the escalation topic (each confirms by email).
   * @default - no subscription; subscribe a pager or chat integration to `escalationTopic` yourself
   */
  readonly escalationEmails?: string[];
  /**
   * How long an incident stays in the ledger table, in days after its newest entry: at least 90,
   * or 0 to keep every entry in the table forever. Never a TTL (docs/architecture.md, "No silent
   * expiry"): every day the ledger writer archives each incident whose entries are all older into
   * the anchors bucket (`archive/<first day>/<incidentId>.jsonl`, Object Lock for
   * `anchorRetention`), and only then deletes its items. Only complete incidents whose chain, MACs
   * and newest anchor verify are archived; any other is left in the table and logged. With a
   * retention, and only then, the writer's role (and no other) may `dynamodb:DeleteItem` on the
   * ledger.
   * @default 0 - entries are kept forever; nothing is archived or deleted
   */
  readonly ledgerRetentionDays?: number;
  /**
   * Prefix of the kill-switch SSM parameters.
   * @default `/medic/<stack name>/kill-switch`
   */
  readonly killSwitchPrefix?: string;
  /**
   * How long each ledger anchor (an incident's head, written when it ends) is locked in the
   * anchors bucket (S3 Object Lock, compliance mode): nobody, root included, can delete or
   * overwrite it before then. Whole days, at least 1.
   * @default Duration.days(365)
   */
  readonly anchorRetention?: Duration;
}

/**
 * The shared core of a medic stack, one per stack: the audit ledger, the limiter table, the
 * escalation topic, the kill switches and the handlers every runbook workflow shares
 * (validate, admit, complete, escalate, ledger verifier).
 */
export class MedicPlatform extends Construct {
  /** Customer managed key encrypting the tables and the topic. */
  public readonly key: kms.Key;
  /** Append-only audit ledger (hash-chained entries, one partition per incident). */
  public readonly ledger: dynamodb.Table;
  /**
   * HMAC key (KMS, HMAC_256) authenticating every ledger entry: only the ledger writer may
   * generate MACs, verifiers may only verify them, so a chain recomputed after an edit is caught.
   */
  public readonly ledgerMacKey: kms.Key;
  /**
   * The only function whose role may put ledger items; every other handler appends through it
   * (see docs/architecture.md, "One writer").
   */
  public readonly ledgerWriterFunction: MedicFunction;
  /**
   * Anchors outside DynamoDB: an Object Lock (compliance) bucket holding the head of every ended
   * incident and a daily digest, written by the ledger writer only; `medic ledger verify` checks
   * every chain against them.
   */
  public readonly ledgerAnchors: LedgerAnchors;
  /** Claims, sliding-window admission logs and leases. */
  public readonly limiter: dynamodb.Table;
  /** Escalations go here. */
  public readonly escalationTopic: sns.Topic;
  /**
   * One small object per escalated incident, written with `If-None-Match` before its page is
   * published: a store independent of DynamoDB, so a redelivered event during a ledger outage
   * (or a retried Escalate) does not page twice. Objects expire after 15 days.
   */
  public readonly pageMarks: s3.Bucket;
  /** Stack-wide kill switch: any value but `off` stops all runbooks. */
  public readonly globalKillSwitch: ssm.StringParameter;
  public readonly killSwitchPrefix: string;
  public readonly validateFunction: MedicFunction;
  public readonly admitFunction: MedicFunction;
  public readonly completeFunction: MedicFunction;
  public readonly escalateFunction: MedicFunction;
  public readonly ledgerVerifyFunction: MedicFunction;
  /**
   * The approval gate of mode `approve`: records and publishes approval requests (the workflows
   * invoke it with a task token), takes approvals and rejections on its function URL, and is the
   * only role that may answer the runbooks' waiting tasks (`states:SendTaskSuccess`/`SendTaskFailure`).
   * Its pending approvals are limiter items (`APPROVAL#` keys, expired by the table's TTL).
   */
  public readonly approvalFunction: MedicFunction;
  /**
   * The approval endpoint (the approval function's URL, IAM auth: requests are SigV4-signed, so the
   * caller's principal is known). Stack output `ApprovalUrl`, for `medic approve`. Approvers need
   * `lambda:InvokeFunctionUrl` on it: {@link grantApprove}.
   */
  public readonly approvalUrl: string;
  private links?: { readonly pageUrl: string; readonly topic: sns.Topic };
  private readonly linkApprovers = new Set<string>();
  /**
   * Closes incomplete ledger trails from the execution history every 15 minutes (docs/architecture.md,
   * "Complete trails"); each runbook lets it read its executions.
   */
  public readonly ledgerReconciler: LedgerReconciler;
  /**
   * Alarms on the shared handlers and the escalation topic, notifying the topic. Its
   * `escalationDeliveryFailed` alarm notifies the topic whose deliveries failed: route it to a
   * second channel too.
   */
  public readonly selfAlarms: PlatformSelfAlarms;
  private readonly ledgerRetentionDays: number;
  /** Per service principal, the rules and alarms allowed to publish (one topic policy statement each). */
  private readonly publishSources = new Map<string, string[]>();
  /** State machines whose approval tasks the approval function answers (runbooks in mode `approve`). */
  private readonly approvingStateMachines: string[] = [];

  constructor(scope: Construct, id: string, props: MedicPlatformProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.ledgerRetentionDays = props.ledgerRetentionDays ?? 0;
    if (!Number.isInteger(this.ledgerRetentionDays) || this.ledgerRetentionDays < 0) {
      throw new Error(`ledgerRetentionDays must be a whole number of days >= 0 (got ${props.ledgerRetentionDays})`);
    }
    if (this.ledgerRetentionDays > 0 && this.ledgerRetentionDays < 90) {
      throw new Error(`ledgerRetentionDays ${this.ledgerRetentionDays} is under 90 days: an audit ledger must outlive an incident review`);
    }
    this.killSwitchPrefix = props.killSwitchPrefix ?? `/medic/${stack.stackName}/kill-switch`;

    this.key = new kms.Key(this, 'Key', {
      description: 'medic: ledger, limiter and escalation topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.ledger = new dynamodb.Table(this, 'Ledger', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      // No TTL: DynamoDB would delete the newest entries of an incident as readily as the oldest.
    });
    this.ledgerMacKey = new kms.Key(this, 'LedgerMacKey', {
      description: 'medic: authenticates audit ledger entries (HMAC); only the ledger writer generates MACs',
      keySpec: kms.KeySpec.HMAC_256,
      keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(this.ledgerMacKey, ['KMS5'], 'KMS does not rotate HMAC keys; a rotation would also leave old entries verifiable only with the old key.');
    this.ledger.addGlobalSecondaryIndex({
      indexName: 'byTarget',
      partitionKey: { name: 'targetArn', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'at', type: dynamodb.AttributeType.STRING },
    });
    this.ledger.addGlobalSecondaryIndex({
      indexName: 'byDay',
      partitionKey: { name: 'day', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'at', type: dynamodb.AttributeType.STRING },
    });

    this.limiter = new dynamodb.Table(this, 'Limiter', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Only keeps the table small: every decision reads the stored expiry itself (pending
      // approvals, APPROVAL# items, carry their expiry here too).
      timeToLiveAttribute: 'expiresAt',
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.escalationTopic = new sns.Topic(this, 'Escalations', {
      displayName: 'medic escalations',
      masterKey: this.key,
      enforceSSL: true,
    });
    for (const email of props.escalationEmails ?? []) {
      this.escalationTopic.addSubscription(new subscriptions.EmailSubscription(email));
    }

    this.pageMarks = new s3.Bucket(this, 'PageMarks', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // Longer than any redelivery (24 h) or redrive (14 days) of the incident it marks.
      lifecycleRules: [{ expiration: Duration.days(15) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(this.pageMarks, ['S1'], 'The bucket holds only page marks (an incident id and a time); every page and its ledger entry are the audit record.');

    this.globalKillSwitch = new ssm.StringParameter(this, 'GlobalKillSwitch', {
      parameterName: `${this.killSwitchPrefix}/global`,
      stringValue: 'off',
      description: 'medic stack-wide kill switch: exactly "off" lets runbooks act; any other value (e.g. "on", "Off", " off") stops them at admission and before every mutating call',
    });

    this.ledgerWriterFunction = new MedicFunction(this, 'LedgerWriterFunction', {
      handler: 'ledger-writer',
      description: 'medic: the one writer of the audit ledger (appends, MACs)',
      environment: {
        MEDIC_LEDGER_TABLE: this.ledger.tableName, MEDIC_LEDGER_MAC_KEY: this.ledgerMacKey.keyArn,
        ...(this.ledgerRetentionDays > 0 ? { MEDIC_LEDGER_RETENTION_DAYS: String(this.ledgerRetentionDays) } : {}),
      },
      // The daily retention run reads, archives and deletes many incidents; appends take a second.
      ...(this.ledgerRetentionDays > 0 ? { timeout: Duration.minutes(5) } : {}),
    });
    iam.Grant.addToPrincipal({ grantee: this.ledgerWriterFunction, actions: ['dynamodb:PutItem'], resourceArns: [this.ledger.tableArn] });
    if (this.ledgerRetentionDays > 0) {
      // Retention only: the writer deletes an incident's items after archiving it (lambdas/shared/ledger-archive.ts).
      iam.Grant.addToPrincipal({ grantee: this.ledgerWriterFunction, actions: ['dynamodb:DeleteItem'], resourceArns: [this.ledger.tableArn] });
    }
    this.grantLedgerRead(this.ledgerWriterFunction);
    this.key.grant(this.ledgerWriterFunction, 'kms:Encrypt', 'kms:GenerateDataKey*');
    acknowledge(this.ledgerWriterFunction, ['IAM5[Action::kms:GenerateDataKey*]'], 'GenerateDataKey* is limited to the platform key, which encrypts the ledger.');
    this.ledgerMacKey.grant(this.ledgerWriterFunction, 'kms:GenerateMac');
    this.ledgerAnchors = new LedgerAnchors(this, 'LedgerAnchors', { writer: this.ledgerWriterFunction, retention: props.anchorRetention, ledgerRetentionDays: this.ledgerRetentionDays });
    this.ledgerWriterFunction.addEnvironment('MEDIC_LEDGER_ANCHORS_BUCKET', this.ledgerAnchors.bucket.bucketName);

    this.validateFunction = this.platformFunction('ValidateFunction', 'validate', 'medic: validate an event, claim the incident, record it');
    this.admitFunction = this.platformFunction('AdmitFunction', 'admit', 'medic: admission (kill switch, change freeze, leases, rate limit)');
    this.completeFunction = this.platformFunction('CompleteFunction', 'finish', 'medic: record the outcome and release leases');
    this.escalateFunction = this.platformFunction('EscalateFunction', 'escalate', 'medic: record, notify a human, release leases');
    this.ledgerVerifyFunction = new MedicFunction(this, 'LedgerVerifyFunction', {
      handler: 'ledger-verify',
      description: 'medic: verify the ledger hash chain of an incident or a time range',
      environment: {
        MEDIC_LEDGER_TABLE: this.ledger.tableName, MEDIC_LEDGER_MAC_KEY: this.ledgerMacKey.keyArn, MEDIC_LEDGER_ANCHORS_BUCKET: this.ledgerAnchors.bucket.bucketName,
      },
      timeout: Duration.minutes(5),
    });
    this.grantLedgerVerify(this.ledgerVerifyFunction);

    for (const fn of [this.validateFunction, this.admitFunction, this.completeFunction, this.escalateFunction]) {
      this.grantLedgerAppend(fn);
      this.grantLimiter(fn);
    }
    this.grantKillSwitchRead(this.admitFunction);
    this.escalationTopic.grantPublish(this.escalateFunction);
    iam.Grant.addToPrincipal({ grantee: this.escalateFunction, actions: ['s3:PutObject', 's3:DeleteObject'], resourceArns: [this.pageMarks.arnForObjects('pages/*')] });
    acknowledge(this.escalateFunction, [`IAM5[Resource::${arnRef(this.pageMarks)}/pages/*]`],
      'Page marks are named for the incident they mark, known only at run time; the grant covers the marks prefix of this stack\'s bucket only.');
    this.escalationTopic.grantPublish(this.completeFunction); // runbook reports (drill results)

    this.approvalFunction = this.platformFunction('ApprovalFunction', 'approval', 'medic: approval gate (request, approve, reject, expire)');
    this.grantLedgerAppend(this.approvalFunction);
    this.grantApprovalItems(this.approvalFunction);
    this.escalationTopic.grantPublish(this.approvalFunction); // approval requests
    // IAM auth only: a request is SigV4-signed by an IAM principal, whom the function checks against the runbook's approvers.
    const approvalEndpoint = this.approvalFunction.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    this.approvalUrl = approvalEndpoint.url;

    this.ledgerReconciler = new LedgerReconciler(this, 'LedgerReconciler', { platform: this });
    this.selfAlarms = new PlatformSelfAlarms(this, 'SelfAlarms', this);
  }

  /**
   * Lets one AWS service resource of this stack (an EventBridge rule, a CloudWatch alarm)
   * publish to the KMS-encrypted escalation topic. Conditioned on that resource's ARN, so nothing
   * else, in this account or another, can post fake escalations.
   */
  public allowToPublish(service: 'events.amazonaws.com' | 'cloudwatch.amazonaws.com', sourceArn: string): void {
    const known = this.publishSources.get(service);
    if (known) {
      known.push(sourceArn);
      return;
    }
    const sources = [sourceArn];
    this.publishSources.set(service, sources);
    const principal = new iam.ServicePrincipal(service);
    // One statement per service listing every source ARN (any of them matches), not one per
    // source: a topic policy holds at most 100 statements and 30 KB, and each runbook brings a
    // rule and several alarms.
    this.escalationTopic.addToResourcePolicy(new iam.PolicyStatement({
      principals: [principal],
      actions: ['sns:Publish'],
      resources: [this.escalationTopic.topicArn],
      conditions: { ArnEquals: { 'aws:SourceArn': Lazy.list({ produce: () => sources }) } },
    }));
    this.key.addToResourcePolicy(new iam.PolicyStatement({
      principals: [principal],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'], // in a key policy, "*" means this key
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
    }));
  }

  /**
   * Lets the approval function answer the approval tasks of `stateMachine` (a runbook in mode
   * `approve`). `states:SendTaskSuccess` and `states:SendTaskFailure` have no resource type in the
   * Service Authorization Reference (they act on a task token, not an ARN), so the grant is on
   * `*`, made once, with the first approving runbook; no other role of the stack holds them.
   */
  public allowApprovalOf(stateMachine: sfn.IStateMachine): void {
    this.approvingStateMachines.push(stateMachine.stateMachineArn);
    if (this.approvingStateMachines.length > 1) return;
    this.approvalFunction.addToRolePolicy(new iam.PolicyStatement({
      actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
      resources: ['*'],
    }));
    acknowledge(this.approvalFunction, ['IAM5[Resource::*]'],
      'X-Ray trace submission, states:SendTaskSuccess and states:SendTaskFailure have no resource-level permissions (they act on a task token); '
      + 'only this function holds the two states actions, and it answers only tokens it stored for a runbook\'s approval request.');
  }

  /**
   * The one-click approval page and the topic that carries each email approver's own link, made
   * with the first runbook that lists an email approver. The page is a second function with a
   * public function URL (a browser cannot sign requests): it holds no permission but invoking the
   * approval function, which checks every link (hashed, single-use, per approver, expiring with
   * the request) and does the answering. Links reach only their approver: each address is
   * subscribed with a filter policy on the message attribute `approver`.
   */
  public approvalLinks(): { readonly pageUrl: string; readonly topic: sns.Topic } {
    if (this.links) return this.links;
    const topic = new sns.Topic(this, 'ApprovalLinks', { displayName: 'medic approval links', masterKey: this.key, enforceSSL: true });
    topic.grantPublish(this.approvalFunction);
    this.approvalFunction.addEnvironment('MEDIC_APPROVAL_LINKS_TOPIC', topic.topicArn);
    const page = new MedicFunction(this, 'ApprovalPageFunction', {
      handler: 'approval-page',
      description: 'medic: the one-click approval page (public URL; answers through the approval function)',
      environment: { MEDIC_APPROVAL_FUNCTION: this.approvalFunction.functionName },
      timeout: Duration.seconds(15),
    });
    this.approvalFunction.grantInvoke(page);
    acknowledge(page, [`IAM5[Resource::${this.approvalFunction.functionArn}:*]`],
      'grantInvoke covers the approval function\'s versions too; the page invokes only that function.');
    // Public by design: the secret in each link is the credential, checked by the approval function.
    const url = page.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    this.links = { pageUrl: url.url, topic };
    return this.links;
  }

  /** Subscribes an email approver to its own links (once per address, whatever the number of runbooks). */
  public subscribeApprover(email: string): void {
    const { topic } = this.approvalLinks();
    if (this.linkApprovers.has(email)) return;
    this.linkApprovers.add(email);
    topic.addSubscription(new subscriptions.EmailSubscription(email, {
      filterPolicy: { approver: sns.SubscriptionFilter.stringFilter({ allowlist: [email] }) },
    }));
  }

  /**
   * For approvers (a role or user, e.g. the on-call role): `lambda:InvokeFunctionUrl` on the
   * approval endpoint ({@link approvalUrl}) and nothing else, as `medic approve` and `medic reject`
   * need. Being able to call it is not approving: the function accepts only the principals a
   * runbook lists in its `approval.approvers`.
   */
  public grantApprove(grantee: iam.IGrantable): iam.Grant {
    return this.approvalFunction.grantInvokeUrl(grantee);
  }

  /** Environment every handler that touches the ledger or limiter reads. */
  public handlerEnvironment(): Record<string, string> {
    return {
      MEDIC_LEDGER_TABLE: this.ledger.tableName,
      MEDIC_LIMITER_TABLE: this.limiter.tableName,
      MEDIC_TOPIC_ARN: this.escalationTopic.topicArn,
      MEDIC_STACK_NAME: Stack.of(this).stackName,
      MEDIC_LEDGER_WRITER: this.ledgerWriterFunction.functionName,
      MEDIC_PAGE_MARKS_BUCKET: this.pageMarks.bucketName,
    };
  }

  /** Name of a runbook's own kill-switch parameter. */
  public runbookKillSwitchName(runbookName: string): string {
    return `${this.killSwitchPrefix}/runbook/${runbookName}`;
  }

  /**
   * Appending to the ledger: invoking the ledger writer (the only role that may put items), and
   * reading. No write action on the table itself.
   */
  public grantLedgerAppend(grantee: iam.IGrantable): void {
    this.ledgerWriterFunction.grantInvoke(grantee);
    this.grantLedgerRead(grantee);
    if (Construct.isConstruct(grantee)) {
      acknowledge(grantee, [`IAM5[Resource::${arnRef(this.ledgerWriterFunction)}:*]`],
        'Invoking any version of the ledger writer function only.');
    }
  }

  /** Reading the ledger and its anchors, and verifying its MACs (never generating one). */
  public grantLedgerVerify(grantee: iam.IGrantable): void {
    this.grantLedgerRead(grantee);
    this.ledgerMacKey.grant(grantee, 'kms:VerifyMac');
    this.ledgerAnchors.grantVerify(grantee);
  }

  public grantLedgerRead(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:DescribeTable'],
      resourceArns: [this.ledger.tableArn, `${this.ledger.tableArn}/index/*`],
    });
    this.key.grant(grantee, 'kms:Decrypt', 'kms:DescribeKey');
    if (Construct.isConstruct(grantee)) {
      acknowledge(grantee, [`IAM5[Resource::${arnRef(this.ledger)}/index/*]`], 'Covers only the ledger\'s own indexes (byTarget, byDay).');
    }
  }

  /**
   * Conditional reads and writes of limiter items (claims, rate slots, leases). BatchGetItem reads
   * a rate limit's slots in one request; UpdateItem grants and releases a lease in one
   * conditional write (lambdas/shared/limiter.ts).
   */
  public grantLimiter(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], resourceArns: [this.limiter.tableArn] });
    this.key.grant(grantee, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:DescribeKey');
    if (Construct.isConstruct(grantee)) {
      acknowledge(grantee, ['IAM5[Action::kms:GenerateDataKey*]'], 'GenerateDataKey* is limited to the platform key, which encrypts the limiter.');
    }
  }

  /**
   * The approval function's pending approvals: reads and conditional writes of the limiter's
   * `APPROVAL#` items only (not claims, rate logs or leases), and a scan to list the pending
   * ones (a read; a Scan has no partition key to condition on).
   */
  private grantApprovalItems(grantee: MedicFunction): void {
    grantee.addToRolePolicy(new iam.PolicyStatement({
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      resources: [this.limiter.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['APPROVAL#*'] } },
    }));
    grantee.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:Scan'], resources: [this.limiter.tableArn] }));
    this.key.grant(grantee, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:DescribeKey');
    acknowledge(grantee, ['IAM5[Action::kms:GenerateDataKey*]'], 'GenerateDataKey* is limited to the platform key, which encrypts the limiter and the topic.');
  }

  /** Read the stack-wide and every runbook's kill switch. */
  public grantKillSwitchRead(grantee: iam.IGrantable): void {
    const stack = Stack.of(this);
    const base = stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: this.killSwitchPrefix.replace(/^\//, '') });
    iam.Grant.addToPrincipal({ grantee, actions: ['ssm:GetParameters'], resourceArns: [`${base}/global`, `${base}/runbook/*`] });
    if (Construct.isConstruct(grantee)) {
      acknowledge(grantee, [`IAM5[Resource::${base}/runbook/*]`],
        'Read-only access to the kill-switch parameter path this stack owns; every runbook adds its own switch there.');
    }
  }

  /**
   * For operators (a role or user outside the stack): read and set the stack-wide and every
   * runbook's kill switch, as `medic kill-switch` and the AWS CLI commands of docs/operating.md
   * do. Only this stack's switch parameters.
   */
  public grantKillSwitch(grantee: iam.IGrantable): iam.Grant {
    const stack = Stack.of(this);
    const base = stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: this.killSwitchPrefix.replace(/^\//, '') });
    const switches = [`${base}/global`, `${base}/runbook/*`];
    iam.Grant.addToPrincipal({ grantee, actions: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:PutParameter'], resourceArns: switches });
    if (Construct.isConstruct(grantee)) {
      acknowledge(grantee, [`IAM5[Resource::${base}/runbook/*]`, `IAM5[Resource::${base}/*]`],
      'The kill-switch parameter path this stack owns; every runbook adds its own switch there.');
    }
    // GetParametersByPath is authorised on the path itself (and the parameters under it).
    return iam.Grant.addToPrincipal({ grantee, actions: ['ssm:GetParametersByPath'], resourceArns: [base, `${base}/*`] });
  }

  private platformFunction(id: string, handler: string, description: string): MedicFunction {
    return new MedicFunction(this, id, { handler, description, environment: this.handlerEnvironment() });
  }
}

import { Match, Template } from 'aws-cdk-lib/assertions';
import { runbookNames as namesOf, type MedicConfig } from '../../lib/config';
import { ledgerTableInput, limiterTableInput, tableFromTemplate } from '../../lib/local/dynalite';
import { alarmRunbookNames as alarmRunbookNamesOf, synthStack, testConfig } from '../support/synth';

// One synthesis per distinct stack, shared by every test in this file.
const { template } = synthStack(testConfig);
const resources = template.toJSON().Resources as Record<string, CfnResource>;
const runbookNames = namesOf(testConfig);
/** Runbooks started by alarms (the others are started by hand or by a schedule). */
const alarmRunbookNames = alarmRunbookNamesOf(testConfig);
/** Runbooks with a periodic sweep (a function of its own, alarmed on errors). */
const sweeps = testConfig.runbooks.asgElbHealthCheck!.filter((r) => r.sweepMinutes !== undefined).length;

interface CfnResource {
  Type: string;
  Properties?: Record<string, any>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Metadata?: Record<string, unknown>;
}

/** The logical id of the single resource of `type` whose properties match `props`. */
function logicalIdOf(t: Template, type: string, props?: Record<string, unknown>): string {
  const found = Object.keys(t.findResources(type, props ? { Properties: props } : undefined));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}: ${found.join(', ')}`);
  return found[0];
}

const keyId = logicalIdOf(template, 'AWS::KMS::Key', { KeySpec: Match.absent() });
const macKeyId = logicalIdOf(template, 'AWS::KMS::Key', { KeySpec: 'HMAC_256' });
const topicId = logicalIdOf(template, 'AWS::SNS::Topic');
const tables = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::DynamoDB::Table');
const ledgerId = tables.find(([, r]) => r.Properties?.KeySchema?.some((k: { AttributeName: string }) => k.AttributeName === 'sk'))?.[0] ?? 'no ledger';
const limiterId = tables.find(([id]) => id !== ledgerId)?.[0] ?? 'no limiter';
const keyArn = { 'Fn::GetAtt': [keyId, 'Arn'] };

// ---------------------------------------------------------------------------------------------
// Identity-policy walker: every Allow statement of every AWS::IAM::Policy, AWS::IAM::ManagedPolicy
// and inline role policy, with its actions and resources.

interface Grant {
  /** Logical id of the policy (or role, for inline policies). */
  readonly source: string;
  readonly actions: string[];
  readonly notActions: string[];
  readonly resources: unknown[];
  readonly notResource: boolean;
  readonly condition?: unknown;
}

const asList = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function allowGrants(templateJson: { Resources?: Record<string, CfnResource> }): Grant[] {
  const grants: Grant[] = [];
  const addDocument = (source: string, document: { Statement?: unknown } | undefined) => {
    for (const s of asList(document?.Statement) as Array<Record<string, unknown>>) {
      if (s.Effect !== 'Allow') continue;
      grants.push({
        source,
        actions: asList(s.Action) as string[],
        notActions: asList(s.NotAction) as string[],
        resources: asList(s.Resource),
        notResource: s.NotResource !== undefined,
        condition: s.Condition,
      });
    }
  };
  for (const [id, r] of Object.entries(templateJson.Resources ?? {})) {
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') addDocument(id, r.Properties?.PolicyDocument);
    if (r.Type === 'AWS::IAM::Role') {
      for (const p of asList(r.Properties?.Policies) as Array<{ PolicyDocument?: { Statement?: unknown } }>) addDocument(id, p.PolicyDocument);
    }
  }
  return grants;
}

/** Does an IAM action pattern (`dynamodb:*`, `*`, `dynamodb:Update*`) cover `action`? */
function actionCovers(pattern: string, action: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return regex.test(action);
}

/** Ledger actions that would let a principal change or remove an entry, or the table's protections. */
const LEDGER_FORBIDDEN = [
  'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLInsert', 'dynamodb:PartiQLUpdate', 'dynamodb:PartiQLDelete', 'dynamodb:PartiQLSelect',
  // Turning off deletion protection, PITR or TTL, or opening the table with a resource policy.
  'dynamodb:DeleteTable', 'dynamodb:UpdateTable', 'dynamodb:UpdateContinuousBackups', 'dynamodb:UpdateTimeToLive',
  'dynamodb:PutResourcePolicy',
];

/** A resource that is (or contains) the ledger: a reference to its logical id, or a wildcard over tables. */
function coversLedger(resource: unknown, ledger: string): boolean {
  if (typeof resource === 'string') return resource === '*' || /:dynamodb:[^:]*:[^:]*:(\*|table\/[^/]*\*)/.test(resource) || /^arn:[^:]*:\*/.test(resource);
  return JSON.stringify(resource).includes(`"${ledger}"`);
}

/** Statements that break the ledger's append-only guarantee, as readable strings. */
function ledgerViolations(templateJson: { Resources?: Record<string, CfnResource> }, ledger: string): string[] {
  const violations: string[] = [];
  for (const g of allowGrants(templateJson)) {
    if (g.notActions.length > 0) {
      violations.push(`${g.source}: Allow with NotAction ${JSON.stringify(g.notActions)} grants everything else`);
      continue;
    }
    if (!g.notResource && !g.resources.some((r) => coversLedger(r, ledger))) continue;
    for (const action of g.actions) {
      const hits = LEDGER_FORBIDDEN.filter((f) => actionCovers(action, f));
      if (hits.length > 0) violations.push(`${g.source}: ${action} on ${JSON.stringify(g.notResource ? 'NotResource' : g.resources)} covers ${hits.join(', ')}`);
    }
  }
  return violations;
}

// ---------------------------------------------------------------------------------------------

describe('audit ledger table', () => {
  test('keys are pk (hash) and sk (range)', () => {
    expect(resources[ledgerId].Properties?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
  });

  test('GSIs byTarget (targetArn, at) and byDay (day, at)', () => {
    const gsis = resources[ledgerId].Properties?.GlobalSecondaryIndexes as Array<{ IndexName: string; KeySchema: unknown }>;
    expect(Object.fromEntries(gsis.map((g) => [g.IndexName, g.KeySchema]))).toEqual({
      byTarget: [{ AttributeName: 'targetArn', KeyType: 'HASH' }, { AttributeName: 'at', KeyType: 'RANGE' }],
      byDay: [{ AttributeName: 'day', KeyType: 'HASH' }, { AttributeName: 'at', KeyType: 'RANGE' }],
    });
  });

  test('point-in-time recovery and deletion protection are on', () => {
    expect(resources[ledgerId].Properties).toMatchObject({
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
  });

  test('the table is retained on stack delete and on replacement', () => {
    expect(resources[ledgerId].DeletionPolicy).toBe('Retain');
    expect(resources[ledgerId].UpdateReplacePolicy).toBe('Retain');
  });

  test('encrypted with the customer managed key of the stack', () => {
    expect(resources[ledgerId].Properties?.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn });
  });

  test('no TTL: DynamoDB never deletes live entries (retention archives them first)', () => {
    expect(resources[ledgerId].Properties?.TimeToLiveSpecification).toBeUndefined();
  });
});

describe('table shapes used by tests that do not synthesize', () => {
  const normalise = (input: ReturnType<typeof ledgerTableInput>) => ({
    KeySchema: input.KeySchema,
    AttributeDefinitions: [...(input.AttributeDefinitions ?? [])].sort((a, b) => String(a.AttributeName).localeCompare(String(b.AttributeName))),
    GlobalSecondaryIndexes: [...(input.GlobalSecondaryIndexes ?? [])].sort((a, b) => String(a.IndexName).localeCompare(String(b.IndexName))),
  });
  test.each([
    ['ledger', () => ledgerId, ledgerTableInput],
    ['limiter', () => limiterId, limiterTableInput],
  ] as const)('the %s shape equals the template\'s', (_name, id, shape) => {
    expect(normalise(tableFromTemplate('t', resources[id()].Properties as never))).toEqual(normalise(shape('t')));
  });
});

describe('limiter table', () => {
  test('point-in-time recovery on, encrypted with the customer managed key', () => {
    expect(limiterId).not.toBe(ledgerId);
    expect(resources[limiterId].Properties).toMatchObject({
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn },
    });
  });
});

describe('KMS key', () => {
  test('key rotation is enabled', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });
});

describe('escalation topic', () => {
  test('encrypted with the customer managed key', () => {
    expect(resources[topicId].Properties?.KmsMasterKeyId).toEqual(keyArn);
  });

  test('its policy denies publishing without TLS', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Effect: 'Deny',
          Action: Match.anyValue(),
          Principal: Match.anyValue(),
          Resource: { Ref: topicId },
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        })]),
      },
    });
  });

  // aws-events-targets' SnsTopic would grant the service principal publish and key use without a
  // source condition, letting any account's rule push messages to on-call through this topic.
  test.each(['events.amazonaws.com', 'cloudwatch.amazonaws.com'])('only this stack\'s resources may publish via %s (confused deputy)', (service) => {
    const servicePrincipalGrants: Array<{ where: string; statement: Record<string, any> }> = [];
    for (const [id, r] of Object.entries(resources)) {
      const document = r.Type === 'AWS::SNS::TopicPolicy' ? r.Properties?.PolicyDocument : r.Type === 'AWS::KMS::Key' ? r.Properties?.KeyPolicy : undefined;
      for (const s of asList(document?.Statement) as Array<Record<string, any>>) {
        if (s.Effect === 'Allow' && asList(s.Principal?.Service).includes(service)) servicePrincipalGrants.push({ where: id, statement: s });
      }
    }
    // the timed-out backstop rules (events) and the dead-letter alarms (cloudwatch) publish to the topic
    expect(servicePrincipalGrants.length).toBeGreaterThan(0);
    const unconditioned = servicePrincipalGrants
      .filter(({ statement }) => !/"aws:Source(Account|Arn)"/.test(JSON.stringify(statement.Condition ?? {})))
      .map(({ where, statement }) => `${where}: ${JSON.stringify(statement)}`);
    expect(unconditioned).toEqual([]);
    const topicGrants = servicePrincipalGrants.filter(({ where }) => resources[where].Type === 'AWS::SNS::TopicPolicy');
    // One statement per service (a topic policy holds at most 100 statements), listing each source by its own ARN:
    // the timed-out rule of every runbook (events); the dead-letter alarm of each alarm runbook, each sweep-errors
    // alarm, the 3 self-alarms of every runbook, the 5 of the platform and the ledger export's errors alarm (cloudwatch).
    expect(topicGrants).toHaveLength(1);
    const { statement } = topicGrants[0];
    expect(Object.keys(statement.Condition.ArnEquals)).toEqual(['aws:SourceArn']);
    const sources = asList(statement.Condition.ArnEquals['aws:SourceArn']) as Array<{ 'Fn::GetAtt': [string, string] }>;
    const sourceType = service === 'events.amazonaws.com' ? 'AWS::Events::Rule' : 'AWS::CloudWatch::Alarm';
    expect(sources.filter((s) => resources[s['Fn::GetAtt']?.[0]]?.Type !== sourceType || s['Fn::GetAtt'][1] !== 'Arn')).toEqual([]);
    expect(new Set(sources.map((s) => s['Fn::GetAtt'][0])).size).toBe(sources.length);
    expect(sources).toHaveLength(service === 'events.amazonaws.com' ? runbookNames.length : alarmRunbookNames.length + sweeps + 3 * runbookNames.length + 6 + 1 + 1 /* ledger reconciler errors */);
  });
});

describe('backstops: paths that never reach the Escalate state still reach a human', () => {
  test('each runbook has a rule for executions of its own state machine that timed out, were aborted or failed without escalating, targeting the topic', () => {
    const rules = template.findResources('AWS::Events::Rule', { Properties: { EventPattern: { source: ['aws.states'] } } });
    expect(Object.keys(rules)).toHaveLength(runbookNames.length);
    for (const rule of Object.values(rules)) {
      // Executions that escalated end in the Fail state "Escalated" (error Medic.Escalated) and already paged.
      expect(rule.Properties.EventPattern.detail.$or).toEqual([
        { status: ['TIMED_OUT', 'ABORTED'] },
        { status: ['FAILED'], error: [{ 'anything-but': ['Medic.Escalated', 'Medic.InputRefused'] }] },
      ]);
      expect(rule.Properties.EventPattern.detail.stateMachineArn).toEqual([{ Ref: expect.stringMatching(/Workflow/) }]);
      expect(rule.Properties.Targets).toEqual([expect.objectContaining({ Arn: { Ref: topicId } })]);
    }
  });

  test('each alarm runbook\'s dead-letter queue has an alarm that notifies the topic', () => {
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    const dlqAlarms = Object.values(alarms).filter((a) => a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible');
    expect(dlqAlarms).toHaveLength(alarmRunbookNames.length);
    for (const alarm of dlqAlarms) {
      expect(alarm.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', AlarmActions: [{ Ref: topicId }] });
    }
  });
});

describe('kill switches', () => {
  test('the global switch is /medic/MedicTest/kill-switch/global and starts "off"', () => {
    template.hasResourceProperties('AWS::SSM::Parameter', { Name: '/medic/MedicTest/kill-switch/global', Value: 'off', Type: 'String' });
  });

  test('every runbook has its own switch under /runbook/<name>, starting "off", and there are no others', () => {
    for (const name of runbookNames) {
      template.hasResourceProperties('AWS::SSM::Parameter', { Name: `/medic/MedicTest/kill-switch/runbook/${name}`, Value: 'off', Type: 'String' });
    }
    const names = Object.values(template.findResources('AWS::SSM::Parameter')).map((p) => p.Properties.Name).sort();
    expect(names).toEqual(['/medic/MedicTest/kill-switch/global', ...runbookNames.map((n) => `/medic/MedicTest/kill-switch/runbook/${n}`)].sort());
  });
});

describe('Lambda functions', () => {
  const functions = Object.entries(template.findResources('AWS::Lambda::Function'));

  test('the five platform handlers and one step handler per runbook exist', () => {
    expect(functions.length).toBeGreaterThanOrEqual(5 + runbookNames.length);
  });

  test('every function runs nodejs22.x with active X-Ray tracing', () => {
    const wrong = functions
      .filter(([, f]) => f.Properties.Runtime !== 'nodejs22.x' || f.Properties.TracingConfig?.Mode !== 'Active')
      .map(([id, f]) => `${id}: ${f.Properties.Runtime}, tracing ${JSON.stringify(f.Properties.TracingConfig)}`);
    expect(wrong).toEqual([]);
  });
});

describe('ledger is append-only in IAM', () => {
  const writerId = logicalIdOf(template, 'AWS::Lambda::Function', { Description: Match.stringLikeRegexp('one writer of the audit ledger') });
  const roleOf = (functionId: string) => resources[functionId].Properties!.Role['Fn::GetAtt'][0] as string;
  const policyRoles = (policyId: string) => (resources[policyId]?.Properties?.Roles ?? []).map((r: { Ref: string }) => r.Ref) as string[];
  /** Roles with a grant of `actions` (default: any DynamoDB write action) on the ledger of a template. */
  const ledgerWriterRoles = (t: Template = template, ledger = ledgerId, actions = ['dynamodb:PutItem', ...LEDGER_FORBIDDEN]) => new Set(allowGrants(t.toJSON())
    .filter((g) => g.resources.some((r) => coversLedger(r, ledger)))
    .filter((g) => g.actions.some((a) => actions.some((w) => actionCovers(a, w))))
    .flatMap((g) => (t.toJSON().Resources[g.source]?.Properties?.Roles ?? []).map((r: { Ref: string }) => r.Ref) as string[]));

  test('exactly one role holds any write action (PutItem, DeleteItem, ...) on the ledger: the ledger writer function\'s', () => {
    expect([...ledgerWriterRoles()]).toEqual([roleOf(writerId)]);
  });

  describe('with ledgerRetentionDays: the writer archives, then deletes (docs/architecture.md, "No silent expiry")', () => {
    const config: MedicConfig = { ...testConfig, stackName: 'MedicRetention', ledgerRetentionDays: 400, runbooks: { ecsTaskRestart: [testConfig.runbooks.ecsTaskRestart![0]] } };
    const retained = synthStack(config).template;
    const json = retained.toJSON() as { Resources: Record<string, CfnResource> };
    const rLedger = Object.entries(json.Resources).find(([, r]) => r.Type === 'AWS::DynamoDB::Table' && r.Properties?.KeySchema?.some((k: { AttributeName: string }) => k.AttributeName === 'sk'))![0];
    const rWriter = logicalIdOf(retained, 'AWS::Lambda::Function', { Description: Match.stringLikeRegexp('one writer of the audit ledger') });
    const rWriterRole = json.Resources[rWriter].Properties!.Role['Fn::GetAtt'][0] as string;
    const bucketId = logicalIdOf(retained, 'AWS::S3::Bucket', { ObjectLockEnabled: true });
    const writerS3 = (action: string) => allowGrants(json)
      .filter((g) => (json.Resources[g.source]?.Properties?.Roles ?? []).some((r: { Ref: string }) => r.Ref === rWriterRole))
      .filter((g) => g.actions.includes(action))
      .flatMap((g) => g.resources.map((r) => JSON.stringify(r)))
      .filter((r) => r.includes(`"${bucketId}"`));

    test('DeleteItem on the ledger: the writer\'s role only, and the only forbidden grant in the stack; without retention no role has it', () => {
      expect([...ledgerWriterRoles(retained, rLedger, ['dynamodb:DeleteItem'])]).toEqual([rWriterRole]);
      expect([...ledgerWriterRoles(retained, rLedger)]).toEqual([rWriterRole]);
      expect(ledgerViolations(json, rLedger)).toEqual([expect.stringMatching(/: dynamodb:DeleteItem on .* covers dynamodb:DeleteItem$/)]);
      expect([...ledgerWriterRoles(template, ledgerId, ['dynamodb:DeleteItem'])]).toEqual([]);
      expect(allowGrants(template.toJSON()).filter((g) => g.actions.some((a) => actionCovers(a, 'dynamodb:DeleteItem')))).toEqual([]);
    });

    test('the writer may put and read archive/* (and read anchors/*), knows the retention, and has time for the run', () => {
      expect(writerS3('s3:PutObject')).toEqual(expect.arrayContaining([expect.stringMatching(/\/archive\/\*"/)]));
      expect(writerS3('s3:GetObject')).toEqual(expect.arrayContaining([expect.stringMatching(/\/archive\/\*"/), expect.stringMatching(/\/anchors\/\*"/)]));
      expect(json.Resources[rWriter].Properties!).toMatchObject({ Timeout: 300, Environment: { Variables: { MEDIC_LEDGER_RETENTION_DAYS: '400' } } });
      expect(resources[writerId].Properties!.Environment.Variables.MEDIC_LEDGER_RETENTION_DAYS).toBeUndefined();
      expect(JSON.stringify(allowGrants(template.toJSON()).filter((g) => g.actions.includes('s3:PutObject')))).not.toMatch(/archive/);
    });

    test('a daily schedule invokes the writer with {"archive": {}} at 01:15 UTC, after the digest; none without retention', () => {
      const schedules = Object.values(json.Resources).filter((r) => r.Type === 'AWS::Scheduler::Schedule' && JSON.stringify(r.Properties!.Target.Arn).includes(`"${rWriter}"`));
      expect(schedules.map((r) => [r.Properties!.ScheduleExpression, JSON.parse(r.Properties!.Target.Input)]).sort()).toEqual([
        ['cron(15 1 * * ? *)', { archive: {} }],
        ['cron(45 0 * * ? *)', { digest: {} }],
      ]);
      expect(Object.values(resources).filter((r) => r.Type === 'AWS::Scheduler::Schedule' && /"archive"/.test(JSON.stringify(r.Properties!.Target.Input)))).toEqual([]);
    });

    test('the config\'s ledgerRetentionDays reaches the stack; under 90 days is refused', () => {
      expect(() => synthStack({ ...config, stackName: 'MedicShortRetention', ledgerRetentionDays: 30 })).toThrow(/ledgerRetentionDays 30 is under 90 days/);
    });
  });

  test('every handler that appends may invoke the writer (and nothing else writes): validate, admit, complete, escalate, approval, each step handler and sweep', () => {
    const invokers = new Set(allowGrants(template.toJSON())
      .filter((g) => g.actions.includes('lambda:InvokeFunction') && g.resources.some((r) => JSON.stringify(r).includes(`"${writerId}"`)))
      .flatMap((g) => policyRoles(g.source)));
    expect(invokers.size).toBe(5 + runbookNames.length + sweeps + 1 /* ledger reconciler */ + 1 /* the anchors' daily digest schedule */);
    expect(invokers.has(roleOf(writerId))).toBe(false);
  });

  test('only the writer may make ledger MACs (kms:GenerateMac); the verifier may only verify them', () => {
    const onMacKey = allowGrants(template.toJSON()).filter((g) => g.resources.some((r) => JSON.stringify(r).includes(`"${macKeyId}"`)));
    const by = (action: string) => new Set(onMacKey.filter((g) => g.actions.some((a) => actionCovers(a, action))).flatMap((g) => policyRoles(g.source)));
    expect([...by('kms:GenerateMac')]).toEqual([roleOf(writerId)]);
    const verifyId = logicalIdOf(template, 'AWS::Lambda::Function', { Description: Match.stringLikeRegexp('verify the ledger') });
    expect([...by('kms:VerifyMac')]).toEqual([roleOf(verifyId)]);
    expect(resources[macKeyId].Properties).toMatchObject({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    expect(resources[macKeyId].DeletionPolicy).toBe('Retain');
  });

  test('the walker flags forbidden grants: wildcards, updates, deletes and PartiQL, in managed and inline policies', () => {
    const ledgerArn = { 'Fn::GetAtt': [ledgerId, 'Arn'] };
    const bad = {
      Resources: {
        P1: { Type: 'AWS::IAM::Policy', Properties: { PolicyDocument: { Statement: [
          { Effect: 'Allow', Action: 'dynamodb:*', Resource: ledgerArn },
          { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PartiQL*'], Resource: [{ 'Fn::Join': ['', [ledgerArn, '/index/*']] }] },
          { Effect: 'Deny', Action: 'dynamodb:DeleteItem', Resource: ledgerArn },
          { Effect: 'Allow', Action: 'dynamodb:UpdateItem', Resource: { 'Fn::GetAtt': ['SomeOtherTable', 'Arn'] } },
        ] } } },
        R1: { Type: 'AWS::IAM::Role', Properties: { Policies: [{ PolicyDocument: { Statement: [
          { Effect: 'Allow', Action: 'dynamodb:BatchWriteItem', Resource: '*' },
        ] } }] } },
        M1: { Type: 'AWS::IAM::ManagedPolicy', Properties: { PolicyDocument: { Statement: [
          { Effect: 'Allow', Action: '*', Resource: 'arn:aws:dynamodb:eu-west-1:111111111111:table/*' },
        ] } } },
      },
    };
    const found = ledgerViolations(bad, ledgerId);
    expect(found).toHaveLength(4);
    expect(found.join('\n')).toMatch(/P1: dynamodb:\*/);
    expect(found.join('\n')).toMatch(/P1: dynamodb:PartiQL\*/);
    expect(found.join('\n')).toMatch(/R1: dynamodb:BatchWriteItem/);
    expect(found.join('\n')).toMatch(/M1: \*/);
  });

  test('no principal is granted UpdateItem, DeleteItem, BatchWriteItem, PartiQL* or a wildcard on the ledger', () => {
    expect(ledgerViolations(template.toJSON(), ledgerId)).toEqual([]);
  });
});

describe('escalation e-mails', () => {
  const withEmails: MedicConfig = {
    ...testConfig,
    stackName: 'MedicEmails',
    escalationEmails: ['oncall@example.com', 'backup@example.com'],
    runbooks: { ecsTaskRestart: [testConfig.runbooks.ecsTaskRestart![0]] },
  };
  const emails = synthStack(withEmails).template;

  test('each configured address is an email subscription of the escalation topic', () => {
    const emailTopic = logicalIdOf(emails, 'AWS::SNS::Topic');
    emails.resourceCountIs('AWS::SNS::Subscription', 2);
    for (const address of withEmails.escalationEmails!) {
      emails.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: address, TopicArn: { Ref: emailTopic } });
    }
  });

  test('without configured addresses there is no subscription', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

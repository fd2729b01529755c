import { ACCOUNT, REGION, alarmRunbookNames, synthStack, testConfig } from '../support/synth';

// One synthesis for the whole file.
const { template } = synthStack(testConfig);
const templateJson = template.toJSON() as { Resources: Record<string, { Type: string; Properties?: Record<string, any>; Metadata?: Record<string, unknown> }> };
const resources = templateJson.Resources;
const runbooks = testConfig.runbooks.ecsTaskRestart!;
const drill = testConfig.runbooks.rdsFailoverDrill![0];
const asgRunbooks = testConfig.runbooks.asgElbHealthCheck!;
const STACK = testConfig.stackName;

const asList = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * Renders a CloudFormation value as the string it resolves to in this stack's environment
 * (partition `aws`); other references become `${Ref:Id}` / `${Id.Attr}`, so ARNs built with
 * `Fn::Join` and literal ARNs compare alike.
 */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, any>;
  if (v.Ref === 'AWS::Partition') return 'aws';
  if (v.Ref === 'AWS::Region') return REGION;
  if (v.Ref === 'AWS::AccountId') return ACCOUNT;
  if (typeof v.Ref === 'string') return `\${Ref:${v.Ref}}`;
  if (Array.isArray(v['Fn::GetAtt'])) return `\${${v['Fn::GetAtt'].join('.')}}`;
  if (Array.isArray(v['Fn::Join'])) return (v['Fn::Join'][1] as unknown[]).map(render).join(v['Fn::Join'][0]);
  return JSON.stringify(value);
}

const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;

interface Grant {
  readonly source: string;
  /** Logical ids of the roles the statement applies to. */
  readonly roles: string[];
  readonly actions: string[];
  readonly notActions: string[];
  readonly resources: string[];
  readonly notResource: boolean;
  readonly condition?: Record<string, any>;
}

/** Every Allow statement of every identity policy (policies, managed policies, inline role policies). */
function allowGrants(): Grant[] {
  const grants: Grant[] = [];
  const add = (source: string, roles: string[], document: { Statement?: unknown } | undefined) => {
    for (const s of asList(document?.Statement) as Array<Record<string, any>>) {
      if (s.Effect !== 'Allow') continue;
      grants.push({
        source,
        roles,
        actions: asList(s.Action) as string[],
        notActions: asList(s.NotAction) as string[],
        resources: asList(s.Resource).map(render),
        notResource: s.NotResource !== undefined,
        condition: s.Condition,
      });
    }
  };
  for (const [id, r] of Object.entries(resources)) {
    const roles = (asList(r.Properties?.Roles) as Array<{ Ref?: string }>).map((x) => x.Ref ?? JSON.stringify(x));
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') add(id, roles, r.Properties?.PolicyDocument);
    if (r.Type === 'AWS::IAM::Role') {
      for (const p of asList(r.Properties?.Policies) as Array<{ PolicyDocument?: { Statement?: unknown } }>) add(id, [id], p.PolicyDocument);
    }
  }
  return grants;
}
const grants = allowGrants();

/** Does an IAM action pattern (`ecs:*`, `*`, `ecs:Update*`) cover `action`? */
function actionCovers(pattern: string, action: string): boolean {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i').test(action);
}
const grantsOf = (action: string, among: Grant[] = grants) => among.filter((g) => g.actions.some((a) => actionCovers(a, action)));
const renderedCondition = (c: unknown): unknown => JSON.parse(JSON.stringify(c ?? null, (_k, v) => (v && typeof v === 'object' && !Array.isArray(v) && (v.Ref || v['Fn::Join'] || v['Fn::GetAtt']) ? render(v) : v)));

/** The role logical id of a function, found by its handler entry and (optionally) description. */
function roleOfFunction(entry: string, descriptionContains = ''): string {
  const found = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function'
    && r.Metadata?.['medic:entry'] === entry && String(r.Properties?.Description ?? '').includes(descriptionContains));
  if (found.length !== 1) throw new Error(`expected one function ${entry} "${descriptionContains}", found ${found.length}`);
  return found[0].Properties!.Role['Fn::GetAtt'][0] as string;
}
const stepRoles = Object.fromEntries(runbooks.map((rb) => [rb.name, roleOfFunction('ecs-task-restart/index.ts', `runbook ${rb.name}:`)]));
const drillRole = roleOfFunction('rds-failover-drill/index.ts', `runbook ${drill.name}:`);
const asgRoles = [
  ...asgRunbooks.map((rb) => roleOfFunction('asg-elb-health-check/index.ts', `runbook ${rb.name}:`)),
  ...asgRunbooks.filter((rb) => rb.sweepMinutes !== undefined).map((rb) => roleOfFunction('asg-elb-sweep/index.ts', `runbook ${rb.name}:`)),
];
const diskPruneRoles = [
  ...testConfig.runbooks.diskPrune!.map((rb) => roleOfFunction('disk-prune/index.ts', `runbook ${rb.name}:`)),
  ...testConfig.runbooks.diskPruneFleet!.map((rb) => roleOfFunction('disk-prune-fleet/index.ts', `runbook ${rb.name}:`)),
];
const certificateRoles = testConfig.runbooks.certificateRenewal!.map((rb) => roleOfFunction('certificate-renewal/index.ts', `runbook ${rb.name}:`));
const escalateRole = roleOfFunction('escalate/index.ts');
const completeRole = roleOfFunction('finish/index.ts');
const reconcileRole = roleOfFunction('ledger-reconcile/index.ts');
const approvalRole = roleOfFunction('approval/index.ts');
const admitRole = roleOfFunction('admit/index.ts');
const grantsOfRole = (role: string) => grants.filter((g) => g.roles.includes(role));

/** ECS actions that change a cluster, service or task. */
const MUTATING_ECS = [
  'ecs:UpdateService', 'ecs:StopTask', 'ecs:RunTask', 'ecs:StartTask', 'ecs:CreateService', 'ecs:DeleteService',
  'ecs:UpdateCluster', 'ecs:DeleteCluster', 'ecs:ExecuteCommand', 'ecs:RegisterTaskDefinition', 'ecs:UpdateServicePrimaryTaskSet',
  'ecs:TagResource', 'ecs:PutClusterCapacityProviders',
];
const isMutatingEcs = (pattern: string) => MUTATING_ECS.some((a) => actionCovers(pattern, a))
  || (/^ecs:/i.test(pattern) && !/^ecs:(Describe|List)/i.test(pattern));

describe('the api-restart step handler (services prod/api and prod/web)', () => {
  const role = stepRoles['api-restart'];
  const own = grantsOfRole(role);
  const serviceArns = [arn('ecs', 'service/prod/api'), arn('ecs', 'service/prod/web')];

  test('the role has its policies (the lookups below are not vacuous)', () => {
    expect(own.length).toBeGreaterThan(3);
  });

  test.each(['ecs:UpdateService', 'ecs:DescribeServices'])('%s only on the allow-listed service ARNs, never "*"', (action) => {
    const found = grantsOf(action, own);
    expect(found.length).toBeGreaterThan(0);
    expect([...new Set(found.flatMap((g) => g.resources))].sort()).toEqual(serviceArns.sort());
    expect(found.every((g) => !g.notResource)).toBe(true);
  });

  test('the service ARNs are built with the stack partition', () => {
    const raw = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties?.Roles as Array<{ Ref: string }>).some((x) => x.Ref === role))
      .flatMap((r) => r.Properties!.PolicyDocument.Statement as Array<Record<string, any>>)
      .find((s) => asList(s.Action).includes('ecs:UpdateService'));
    expect(raw?.Resource).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ecs:${REGION}:${ACCOUNT}:service/prod/api`]] },
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ecs:${REGION}:${ACCOUNT}:service/prod/web`]] },
    ]);
  });

  test('a forceNewDeployment runbook holds neither StopTask nor ListTasks', () => {
    expect(grantsOf('ecs:StopTask', own)).toEqual([]);
    expect(grantsOf('ecs:ListTasks', own)).toEqual([]);
  });
});

describe('the worker-batches step handler (stopTasks on prod/worker)', () => {
  const own = grantsOfRole(stepRoles['worker-batches']);

  test('ecs:StopTask only on task/prod/* with an ArnEquals ecs:cluster condition', () => {
    const found = grantsOf('ecs:StopTask', own);
    expect(found.length).toBeGreaterThan(0);
    for (const g of found) {
      expect(g.resources).toEqual([arn('ecs', 'task/prod/*')]);
      expect(renderedCondition(g.condition)).toEqual({ ArnEquals: { 'ecs:cluster': [arn('ecs', 'cluster/prod')] } });
    }
  });

  test('ecs:ListTasks on "*" only with the ecs:cluster condition', () => {
    const found = grantsOf('ecs:ListTasks', own);
    expect(found.length).toBeGreaterThan(0);
    for (const g of found) {
      expect(g.resources).toEqual(['*']);
      expect(renderedCondition(g.condition)).toEqual({ ArnEquals: { 'ecs:cluster': [arn('ecs', 'cluster/prod')] } });
    }
  });

  test('a stopTasks runbook holds no UpdateService', () => {
    expect(grantsOf('ecs:UpdateService', own)).toEqual([]);
  });
});

describe('the api-observe step handler (observe mode)', () => {
  test('holds no mutating ECS action at all', () => {
    const own = grantsOfRole(stepRoles['api-observe']);
    expect(own.flatMap((g) => g.actions).filter(isMutatingEcs)).toEqual([]);
    expect(grantsOf('ecs:DescribeServices', own).length).toBeGreaterThan(0);
  });
});

describe.each(runbooks.map((rb) => [rb.name, rb] as const))('the %s step handler', (name, rb) => {
  const own = grantsOfRole(stepRoles[name]);

  test('DescribeServices (and UpdateService, when it may act with forceNewDeployment) exactly on its configured services', () => {
    const expected = rb.services.map((s) => arn('ecs', `service/${s.clusterName}/${s.serviceName}`)).sort();
    const mayUpdate = rb.mode !== 'observe' && (rb.strategy ?? 'forceNewDeployment') === 'forceNewDeployment';
    expect([...new Set(grantsOf('ecs:DescribeServices', own).flatMap((g) => g.resources))].sort()).toEqual(expected);
    expect([...new Set(grantsOf('ecs:UpdateService', own).flatMap((g) => g.resources))].sort()).toEqual(mayUpdate ? expected : []);
  });

  test('cloudwatch:DescribeAlarms only on its attached alarm ARNs', () => {
    const found = grantsOf('cloudwatch:DescribeAlarms', own);
    expect(found.length).toBeGreaterThan(0);
    expect([...new Set(found.flatMap((g) => g.resources))].sort()).toEqual([...rb.alarmArns].sort());
  });

  test('ssm:GetParameters on the global switch and the runbook switches of this stack', () => {
    const found = grantsOf('ssm:GetParameters', own);
    expect(found.flatMap((g) => g.resources)).toEqual(expect.arrayContaining([
      arn('ssm', `parameter/medic/${STACK}/kill-switch/global`),
    ]));
    const runbookSwitch = arn('ssm', `parameter/medic/${STACK}/kill-switch/runbook/${name}`);
    expect(found.flatMap((g) => g.resources).some((r) => r === runbookSwitch || actionCovers(r, runbookSwitch))).toBe(true);
  });
});

describe('across the whole template', () => {
  test('Resource "*" appears only for services without resource-level permissions, or under a condition', () => {
    // cdk-nag's IAM5 is acknowledged per function for X-Ray; this keeps any other wildcard from hiding behind it.
    // ssm:CancelCommand too: wildcard-only, granted to the disk-prune runbooks to stop their own command when a guard closes.
    // states:SendTaskSuccess/SendTaskFailure: wildcard-only (they act on a task token), the approval function's alone (test/constructs/approval.test.ts).
    const noResourceLevel = /^(states:SendTaskSuccess|states:SendTaskFailure|autoscaling:DescribeAutoScalingGroups|ssm:CancelCommand|ssm:DescribeInstanceInformation|ssm:GetCommandInvocation|ssm:ListCommands|ssm:ListCommandInvocations|cloudwatch:GetMetricData|xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets)|logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups))$/;
    const offending = grants
      .filter((g) => g.resources.includes('*') && g.condition === undefined)
      .flatMap((g) => g.actions.filter((a) => !noResourceLevel.test(a)).map((a) => `${g.source}: ${a}`));
    expect(offending).toEqual([]);
    expect(grants.some((g) => g.resources.includes('*') && g.actions.some((a) => a.startsWith('xray:')))).toBe(true);
  });

  test('no Allow statement uses NotAction or NotResource', () => {
    expect(grants.filter((g) => g.notActions.length > 0 || g.notResource).map((g) => g.source)).toEqual([]);
  });

  test('no mutating ECS action (UpdateService, StopTask, ecs:*, *) on Resource "*" without a condition', () => {
    const offending = grants
      .filter((g) => g.condition === undefined && g.resources.some((r) => r === '*' || /^arn:[^:]*:ecs:[^:]*:[^:]*:\*/.test(r)))
      .flatMap((g) => g.actions.filter(isMutatingEcs).map((a) => `${g.source}: ${a} on ${g.resources.join(', ')}`));
    expect(offending).toEqual([]);
  });

  test('the mutating-ECS check recognises wildcards and the actions the runbooks use', () => {
    expect(['ecs:*', '*', 'ecs:Update*', 'ecs:UpdateService', 'ecs:StopTask', 'ECS:stoptask'].every(isMutatingEcs)).toBe(true);
    expect(['ecs:DescribeServices', 'ecs:ListTasks', 'cloudwatch:DescribeAlarms'].some(isMutatingEcs)).toBe(false);
  });

  test('only the runbook step handlers hold any ECS permission', () => {
    const holders = new Set(grants.filter((g) => g.actions.some((a) => /^ecs:/i.test(a) || a === '*')).flatMap((g) => g.roles));
    expect([...holders].sort()).toEqual(Object.values(stepRoles).sort());
  });

  test('ecs:ListTasks is always pinned to clusters by the ecs:cluster condition', () => {
    const found = grantsOf('ecs:ListTasks');
    expect(found.length).toBe(runbooks.filter((rb) => rb.strategy === 'stopTasks').length);
    for (const g of found) expect(Object.keys(g.condition?.ArnEquals ?? {})).toEqual(['ecs:cluster']);
  });

  test('cloudwatch:DescribeAlarms is never granted on "*"', () => {
    const found = grantsOf('cloudwatch:DescribeAlarms');
    expect(found.length).toBe(alarmRunbookNames(testConfig).length + 1); // each alarm runbook's alarms, the drill's guard alarms
    expect(found.filter((g) => g.resources.some((r) => r.includes('*')))).toEqual([]);
  });

  test('ssm:GetParameters(s) only under the kill-switch path of this stack', () => {
    const prefix = arn('ssm', `parameter/medic/${STACK}/kill-switch/`);
    const found = [...new Set([...grantsOf('ssm:GetParameters'), ...grantsOf('ssm:GetParameter')])];
    // The admission handler and every step handler read the switches.
    expect(new Set(found.flatMap((g) => g.roles))).toEqual(new Set([admitRole, drillRole, ...asgRoles, ...diskPruneRoles, ...certificateRoles, ...Object.values(stepRoles)]));
    expect(found.flatMap((g) => g.resources).filter((r) => !r.startsWith(prefix))).toEqual([]);
  });

  test('no principal of the stack can change or delete a kill switch', () => {
    const writers = ['ssm:PutParameter', 'ssm:DeleteParameter', 'ssm:DeleteParameters', 'ssm:LabelParameterVersion']
      .flatMap((a) => grantsOf(a).map((g) => `${g.source}: ${g.actions.join(',')}`));
    expect(writers).toEqual([]);
  });

  test('sns:Publish only for the escalate, complete (reports), approval (requests) and ledger reconciler (missed changes) handlers, only on the escalation topic', () => {
    const found = grantsOf('sns:Publish');
    expect(found.length).toBeGreaterThan(0);
    expect([...new Set(found.flatMap((g) => g.roles))].sort()).toEqual([completeRole, escalateRole, approvalRole, reconcileRole].sort());
    const topicId = Object.keys(template.findResources('AWS::SNS::Topic'))[0];
    expect([...new Set(found.flatMap((g) => g.resources))]).toEqual([`\${Ref:${topicId}}`]);
  });
});

describe('the orders-drill step handler (RDS failover drill)', () => {
  const own = grantsOfRole(drillRole);
  const instanceArn = arn('rds', 'db:orders-db');
  const clusterArn = arn('rds', 'cluster:orders-aurora');
  /** The configured target reader of orders-aurora (testConfig targetReaders). */
  const targetReaderArn = arn('rds', `db:${drill.targetReaders!['orders-aurora']}`);
  const MUTATING_RDS = ['rds:RebootDBInstance', 'rds:FailoverDBCluster', 'rds:ModifyDBInstance', 'rds:DeleteDBInstance', 'rds:StopDBInstance'];

  test.each([
    ['rds:DescribeDBInstances', instanceArn], ['rds:RebootDBInstance', instanceArn],
    ['rds:DescribeDBClusters', clusterArn],
    // FailoverDBCluster with TargetDBInstanceIdentifier names the reader too: granted on it as well (issue 13, item 13).
    ['rds:FailoverDBCluster', `${clusterArn} and ${targetReaderArn}`],
  ])('%s only on %s', (action, expected) => {
    const found = grantsOf(action, own);
    expect(found.length).toBeGreaterThan(0);
    expect([...new Set(found.flatMap((g) => g.resources))].sort()).toEqual(expected.split(' and ').sort());
  });

  test('the target reader\'s db ARN carries FailoverDBCluster only (not a reboot or describe of an instance outside dbInstances)', () => {
    const onReader = own.filter((g) => g.resources.includes(targetReaderArn));
    expect(onReader.flatMap((g) => g.actions)).toEqual(['rds:FailoverDBCluster']);
  });

  test('only the drill may call a mutating RDS action, and nowhere on "*"', () => {
    const holders = grants.filter((g) => g.actions.some((a) => MUTATING_RDS.some((m) => actionCovers(a, m))));
    expect([...new Set(holders.flatMap((g) => g.roles))]).toEqual([drillRole]);
    expect(holders.filter((g) => g.resources.some((r) => r.includes('*')))).toEqual([]);
  });

  test('cloudwatch:DescribeAlarms only on its guard alarms', () => {
    expect([...new Set(grantsOf('cloudwatch:DescribeAlarms', own).flatMap((g) => g.resources))].sort()).toEqual([...drill.guardAlarmArns!].sort());
  });

  test('the schedule role may only start the drill\'s own state machine', () => {
    // The drill's schedules (the platform has its own, e.g. the daily ledger export).
    const schedules = Object.values(resources).filter((r) => r.Type === 'AWS::Scheduler::Schedule' && /failover drill/.test(String(r.Properties?.Description)));
    expect(schedules).toHaveLength(drill.schedules!.length);
    const scheduleRole = (schedules[0].Properties!.Target.RoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    const starts = grantsOfRole(scheduleRole);
    expect(starts.flatMap((g) => g.actions)).toEqual(['states:StartExecution']);
    const machine = Object.entries(resources).find(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine' && r.Properties?.StateMachineName === `medic-${drill.name}`);
    expect(starts.flatMap((g) => g.resources)).toEqual([`\${Ref:${machine![0]}}`]);
  });
});

describe('an observe-mode drill', () => {
  test('may describe its databases but holds neither RebootDBInstance nor FailoverDBCluster', () => {
    const observe = synthStack({ ...testConfig, runbooks: { rdsFailoverDrill: [{ ...drill, mode: 'observe', schedules: [] }] } }).template.toJSON();
    const statements = Object.values(observe.Resources as Record<string, { Type: string; Properties?: Record<string, any> }>)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => asList(r.Properties!.PolicyDocument.Statement) as Array<{ Action: string | string[] }>);
    const actions = statements.flatMap((st) => asList(st.Action) as string[]);
    expect(actions).toEqual(expect.arrayContaining(['rds:DescribeDBInstances', 'rds:DescribeDBClusters']));
    expect(actions.filter((a) => /^rds:(Reboot|Failover)/.test(a))).toEqual([]);
  });
});

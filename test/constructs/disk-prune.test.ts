import { App, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { DiskPruneFleetRunbook, type DiskPruneFleetRunbookProps } from '../../lib/runbooks/disk-prune-fleet';
import { DiskPruneRunbook, type DiskPruneRunbookProps } from '../../lib/runbooks/disk-prune';
import { MedicPlatform } from '../../lib/platform/platform';
import { loadDocument } from '../support/ssm-document';
import { ACCOUNT, REGION, alarmArn, synthStack, testConfig } from '../support/synth';

const { template } = synthStack(testConfig);
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any>; Metadata?: Record<string, unknown> }>;
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);
/** Renders `Fn::Join` ARNs with `${Ref}` placeholders. */
const text = (v: unknown): string => (typeof v === 'string' ? v
  : (v as any)['Fn::Join'] ? (v as any)['Fn::Join'][1].map((p: any) => (typeof p === 'string' ? p : `\${${p.Ref}}`)).join('') : JSON.stringify(v));

const documents = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::SSM::Document');
const [documentId, document] = documents[0];

function statementsOfRunbook(name: string) {
  const fn = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['medic:entry'] === 'disk-prune/index.ts'
    && String(r.Properties.Description).includes(`runbook ${name}:`));
  const role = fn!.Properties.Role['Fn::GetAtt'][0];
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as Array<{ Ref: string }>).some((x) => x.Ref === role))
    .flatMap((r) => r.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown; Condition?: Record<string, any> }>);
}

describe('the Command document', () => {
  test('is registered from the YAML file, unchanged', () => {
    expect(documents).toHaveLength(1);
    expect(document.Properties).toMatchObject({ DocumentType: 'Command', UpdateMethod: 'NewVersion' });
    expect(document.Properties.Content).toEqual(loadDocument());
  });
});

describe('IAM of the step handler', () => {
  const statements = statementsOfRunbook('disk-prune');
  const sends = statements.filter((s) => asList(s.Action).includes('ssm:SendCommand'));

  test('ssm:SendCommand only with this document and on the listed instance, or on instances carrying the tag', () => {
    expect(sends).toHaveLength(2);
    const byArn = sends.find((s) => !s.Condition)!;
    expect(asList(byArn.Resource).map(text)).toEqual([
      `arn:\${AWS::Partition}:ssm:${REGION}:${ACCOUNT}:document/\${${documentId}}`,
      `arn:\${AWS::Partition}:ec2:${REGION}:${ACCOUNT}:instance/i-0123456789abcdef0`,
    ]);
    const byTag = sends.find((s) => s.Condition)!;
    expect(asList(byTag.Resource).map(text)).toEqual([`arn:\${AWS::Partition}:ec2:${REGION}:${ACCOUNT}:instance/*`]);
    expect(byTag.Condition).toEqual({ StringEquals: { 'ssm:resourceTag/medic:disk-prune': 'true' } });
  });

  test('the only actions on "*" are the reads without resource-level permissions, and CancelCommand (wildcard-only) to stop its own command', () => {
    const onStar = statements.filter((s) => asList(s.Resource).includes('*')).flatMap((s) => asList(s.Action)).filter((a) => !String(a).startsWith('xray:'));
    expect(onStar.sort()).toEqual(['cloudwatch:GetMetricData', 'ssm:CancelCommand', 'ssm:DescribeInstanceInformation', 'ssm:GetCommandInvocation']);
  });

  test('one acknowledgement of IAM5[Resource::*] from the runbook, naming CancelCommand and why', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'DiskAck', { env: { account: ACCOUNT, region: REGION } });
    const platform = new MedicPlatform(stack, 'Platform');
    const alarm = cloudwatch.Alarm.fromAlarmArn(stack, 'Alarm', alarmArn('disk'));
    const reasons = (mode: 'auto' | 'observe') => {
      const runbook = new DiskPruneRunbook(stack, `Ack-${mode}`, { platform, name: `ack-${mode}`, mode, alarms: [alarm], instances: ['i-0123456789abcdef0'] });
      return runbook.stepFunction.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.entries(m.data as Record<string, string>)).filter(([id]) => id.endsWith('AwsSolutions-IAM5[Resource::*]')).map(([, reason]) => reason);
    };
    // The function's own (X-Ray) and the runbook's: the runbook adds one, never one per grant.
    const auto = reasons('auto');
    expect(auto).toHaveLength(2);
    expect(auto[1]).toMatch(/GetMetricData support no resource-level permissions\. CancelCommand is wildcard-only .*the command id its own SendCommand returned/);
    expect(reasons('observe')[1]).not.toMatch(/CancelCommand/);
  });
});

describe('synth-time guards', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'DiskGuards', { env: { account: ACCOUNT, region: REGION } });
  const platform = new MedicPlatform(stack, 'Platform');
  const alarm = cloudwatch.Alarm.fromAlarmArn(stack, 'Alarm', alarmArn('disk'));
  let n = 0;
  const build = (overrides: Partial<DiskPruneRunbookProps>) => () => {
    n += 1;
    return new DiskPruneRunbook(stack, `Disk${n}`, { platform, name: `disk-${n}`, alarms: [alarm], instances: ['i-0123456789abcdef0'], ...overrides });
  };

  test('the defaults and a tag-only allow-list are accepted', () => {
    expect(build({})).not.toThrow();
    expect(build({ instances: [], optInTag: { key: 'medic:disk-prune', value: 'true' }, prune: { logRoot: '/srv/app/logs', maxDeleteMB: '500' } })).not.toThrow();
  });

  test.each<[string, Partial<DiskPruneRunbookProps>, RegExp]>([
    ['an instance ID that is not one', { instances: ['web-1'] }, /"web-1" is not an EC2 instance ID/],
    ['no instance and no tag', { instances: [] }, /list instances, or set optInTag/],
    ['a relative log root', { prune: { logRoot: 'var/log' } }, /prune\.logRoot "var\/log" does not match the document's allowedPattern/],
    ['a quote in a pattern', { prune: { logPatterns: "*.gz'" } }, /prune\.logPatterns/],
    ['a parameter the document does not have', { prune: { rootDir: '/' } as never }, /prune\.rootDir is not a parameter of the document/],
  ])('%s is a synth error', (_, overrides, message) => {
    expect(build(overrides)).toThrow(message);
  });
});

describe('the fleet variant', () => {
  const fleetFn = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['medic:entry'] === 'disk-prune-fleet/index.ts');
  const role = fleetFn!.Properties.Role['Fn::GetAtt'][0];
  const statements = Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as Array<{ Ref: string }>).some((x) => x.Ref === role))
    .flatMap((r) => r.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown; Condition?: Record<string, any> }>);

  test('shares the stack\'s one document', () => {
    expect(documents).toHaveLength(1);
  });

  test('SendCommand with the document, and on instances only under the Auto Scaling group tag condition', () => {
    const sends = statements.filter((s) => asList(s.Action).includes('ssm:SendCommand'));
    expect(sends.map((s) => [asList(s.Resource).map(text), s.Condition ?? null])).toEqual([
      [[`arn:\${AWS::Partition}:ssm:${REGION}:${ACCOUNT}:document/\${${documentId}}`], null],
      [[`arn:\${AWS::Partition}:ec2:${REGION}:${ACCOUNT}:instance/*`], { StringEquals: { 'ssm:resourceTag/aws:autoscaling:groupName': ['web-asg'] } }],
    ]);
  });

  test('reads on "*" only, those without resource-level permissions: GetCommandInvocation for summaries ListCommandInvocations cut', () => {
    const onStar = statements.filter((s) => asList(s.Resource).includes('*')).flatMap((s) => asList(s.Action)).filter((a) => !String(a).startsWith('xray:'));
    expect(onStar.sort()).toEqual(['cloudwatch:GetMetricData', 'ssm:CancelCommand', 'ssm:DescribeInstanceInformation', 'ssm:GetCommandInvocation', 'ssm:ListCommandInvocations', 'ssm:ListCommands']);
  });

  test('CancelCommand (wildcard-only) only when it may send: not in observe mode', () => {
    const cancels = statements.filter((s) => asList(s.Action).includes('ssm:CancelCommand'));
    expect(cancels.map((s) => [asList(s.Action), s.Resource, s.Condition ?? null])).toEqual([[['ssm:CancelCommand'], '*', null]]);
    const observing = new DiskPruneFleetRunbook(stack, 'Observing', { platform, name: 'fleet-observing', mode: 'observe', alarms: [alarm], autoScalingGroups: ['web-asg'] });
    const policies = JSON.stringify(Stack.of(observing).resolve((observing.stepFunction.role!.node.tryFindChild('DefaultPolicy') as iam.Policy).document));
    expect(policies).not.toContain('ssm:CancelCommand');
    expect(policies).toContain('ssm:ListCommands');
  });

  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'FleetGuards', { env: { account: ACCOUNT, region: REGION } });
  const platform = new MedicPlatform(stack, 'Platform');
  const alarm = cloudwatch.Alarm.fromAlarmArn(stack, 'Alarm', alarmArn('fleet-disk'));
  let n = 0;
  const build = (overrides: Partial<DiskPruneFleetRunbookProps>) => () => {
    n += 1;
    return new DiskPruneFleetRunbook(stack, `Fleet${n}`, { platform, name: `fleet-${n}`, alarms: [alarm], autoScalingGroups: ['web-asg'], ...overrides });
  };

  test('accepts the defaults, the cap boundaries and a tag fleet', () => {
    expect(build({})).not.toThrow();
    expect(build({ maxConcurrency: '50%', maxErrors: '25%' })).not.toThrow();
    expect(build({ maxConcurrency: '50', maxErrors: '0' })).not.toThrow();
    expect(build({ autoScalingGroups: [], optInTag: { key: 'role', value: 'web' } })).not.toThrow();
  });

  test.each<[string, Partial<DiskPruneFleetRunbookProps>, RegExp]>([
    ['the whole fleet at once', { maxConcurrency: '100%' }, /maxConcurrency "100%" must be 1-50 instances or 1%-50%/],
    ['more than 50 instances at once', { maxConcurrency: '51' }, /maxConcurrency "51"/],
    ['zero concurrency', { maxConcurrency: '0' }, /maxConcurrency "0"/],
    ['too many errors tolerated', { maxErrors: '30%' }, /maxErrors "30%" must be 0-10 instances or 0%-25%/],
    ['both a group and a tag', { optInTag: { key: 'role', value: 'web' } }, /exactly one of autoScalingGroups and optInTag/],
  ])('%s is a synth error', (_, overrides, message) => {
    expect(build(overrides)).toThrow(message);
  });
});

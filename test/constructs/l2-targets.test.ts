import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Aws, Duration, Fn, Stack, Token, Validations, type CfnResource } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';
import { synthWithNag } from '../support/nag-report';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct, type IConstruct } from 'constructs';
import { AsgElbHealthCheckRunbook } from '../../lib/runbooks/asg-elb-health-check';
import { CertificateRenewalRunbook } from '../../lib/runbooks/certificate-renewal';
import { DiskPruneFleetRunbook } from '../../lib/runbooks/disk-prune-fleet';
import { DiskPruneRunbook } from '../../lib/runbooks/disk-prune';
import { EcsTaskRestartRunbook } from '../../lib/runbooks/ecs-task-restart';
import { nagText } from '../../lib/platform/nag';
import { MedicPlatform } from '../../lib/platform/platform';
import { RdsFailoverDrillRunbook } from '../../lib/runbooks/rds-failover-drill';

/*
 * Runbooks given the L2 constructs of the same app (issue 15, item 2): an ECS service and its
 * cluster, an Auto Scaling group, a DB instance and an Aurora cluster, an ACM certificate and its
 * hosted zone, an EC2 instance and alarms, all created in the stack, so every name and ARN the
 * runbooks see is a token. The stack has no env (what `cdk init` gives) and is synthesized with
 * cdk-nag, with and without the feature flags a fresh `cdk init app` writes into cdk.json
 * (aws-cdk-lib's CURRENTLY_RECOMMENDED_FLAGS: the CLI's init-templates/.recommended-feature-flags.json
 * holds the same 89 flags).
 */

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;
interface Statement { Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, any> }

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) fs.rmSync(dir, { recursive: true, force: true });
});

const asList = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const ref = (id: string) => ({ Ref: id });
const getAtt = (id: string, attribute: string) => ({ 'Fn::GetAtt': [id, attribute] });
const logicalIdOf = (c: IConstruct): string => Stack.of(c).resolve(((c.node.defaultChild ?? c) as CfnResource).logicalId) as string;

function newApp(flags: boolean): { app: App; outdir: string } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'medic-l2-'));
  outdirs.push(outdir);
  return { app: new App({ outdir, context: { ...(flags ? CURRENTLY_RECOMMENDED_FLAGS : {}), 'aws:cdk:bundling-stacks': [] } }), outdir };
}

/** The workload a user's app would hold: L2 constructs whose names and ARNs are tokens. Nothing here is medic's. */
class Workload extends Construct {
  readonly vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['eu-west-1a', 'eu-west-1b'], privateSubnetIds: ['subnet-1', 'subnet-2'] });
  readonly cluster = new ecs.Cluster(this, 'Cluster', { vpc: this.vpc });
  readonly service: ecs.FargateService;
  readonly asg = new autoscaling.AutoScalingGroup(this, 'Asg', { vpc: this.vpc, instanceType: new ec2.InstanceType('t3.micro'), machineImage: ec2.MachineImage.latestAmazonLinux2023() });
  readonly targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', { vpc: this.vpc, port: 80, targets: [this.asg] });
  readonly db = new rds.DatabaseInstance(this, 'Db', { vpc: this.vpc, engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 }), multiAz: true });
  readonly aurora = new rds.DatabaseCluster(this, 'Aurora', {
    vpc: this.vpc,
    engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_4 }),
    writer: rds.ClusterInstance.provisioned('Writer'),
    readers: [rds.ClusterInstance.provisioned('Reader')],
  });
  readonly zone = new route53.PublicHostedZone(this, 'Zone', { zoneName: 'example.com' });
  readonly certificate = new acm.Certificate(this, 'Certificate', { domainName: 'www.example.com', validation: acm.CertificateValidation.fromDns(this.zone) });
  readonly instance = new ec2.Instance(this, 'Instance', { vpc: this.vpc, instanceType: new ec2.InstanceType('t3.micro'), machineImage: ec2.MachineImage.latestAmazonLinux2023() });
  readonly serviceAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task');
    taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:latest') });
    this.service = new ecs.FargateService(this, 'Service', { cluster: this.cluster, taskDefinition });
    this.serviceAlarm = this.alarm('ServiceCpu', this.service.metricCpuUtilization());
  }

  alarm(id: string, metric: cloudwatch.IMetric): cloudwatch.Alarm {
    return new cloudwatch.Alarm(this, id, { metric, threshold: 90, evaluationPeriods: 1 });
  }

  agentDiskMetric(dimensionsMap: Record<string, string>): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: 'CWAgent', metricName: 'disk_used_percent', dimensionsMap });
  }
}

/** Every built-in runbook, in auto mode (every grant made), on the workload's L2 constructs. */
function tokenStack(flags: boolean) {
  const { app, outdir } = newApp(flags);
  const stack = new Stack(app, 'Tokens');
  const w = new Workload(stack, 'Workload');
  const platform = new MedicPlatform(stack, 'Platform');
  const ecsRunbook = new EcsTaskRestartRunbook(stack, 'Ecs', {
    platform, name: 'ecs', mode: 'auto', strategy: 'stopTasks',
    services: [w.service, { clusterName: 'prod', serviceName: 'api' }], // both vocabularies at once
    alarms: [w.serviceAlarm],
  });
  const asgRunbook = new AsgElbHealthCheckRunbook(stack, 'AsgHealth', {
    platform, name: 'asg', mode: 'auto', autoScalingGroups: [w.asg], sweep: Duration.hours(1),
    targetGroups: { [w.targetGroup.targetGroupFullName]: w.asg }, // a token key: the alias's dimension value
    alarms: [w.alarm('AsgCpu', new cloudwatch.Metric({ namespace: 'AWS/EC2', metricName: 'CPUUtilization', dimensionsMap: { AutoScalingGroupName: w.asg.autoScalingGroupName } }))],
  });
  const drill = new RdsFailoverDrillRunbook(stack, 'Drill', {
    platform, mode: 'auto', dbInstances: [w.db], dbClusters: [w.aurora],
    targetReaders: { [w.aurora.clusterIdentifier]: w.aurora.instanceIdentifiers[1] },
    guardAlarms: [w.serviceAlarm],
    schedules: [{ dbInstanceIdentifier: w.db.instanceIdentifier, expression: 'cron(0 10 ? * TUE *)' }],
    window: { days: ['TUE'], startHourUtc: 9, endHourUtc: 12 },
  });
  const certificates = new CertificateRenewalRunbook(stack, 'Certs', {
    platform, name: 'certs', mode: 'auto', certificates: [w.certificate], hostedZones: { 'example.com': w.zone }, resendValidationEmail: true,
  });
  // Tagged certificates too: the wildcard grant's acknowledgement with a token region and account.
  new CertificateRenewalRunbook(stack, 'TaggedCerts', { platform, name: 'tagged-certs', mode: 'auto', optInTag: { key: 'medic:renew', value: 'true' } });
  const disk = new DiskPruneRunbook(stack, 'Disk', {
    platform, name: 'disk', mode: 'auto', instances: [w.instance], optInTag: { key: 'medic:disk-prune', value: 'true' },
    alarms: [w.alarm('DiskFull', w.agentDiskMetric({ InstanceId: w.instance.instanceId, path: '/' }))],
  });
  const fleet = new DiskPruneFleetRunbook(stack, 'Fleet', {
    platform, name: 'fleet', mode: 'auto', autoScalingGroups: [w.asg],
    alarms: [w.alarm('FleetDiskFull', w.agentDiskMetric({ AutoScalingGroupName: w.asg.autoScalingGroupName, path: '/' }))],
  });
  const nag = synthWithNag(app, outdir);
  const resources = (JSON.parse(fs.readFileSync(path.join(outdir, 'Tokens.template.json'), 'utf8')) as { Resources: Resources }).Resources;
  return { app, stack, w, ecsRunbook, asgRunbook, drill, certificates, disk, fleet, nag, resources };
}

/**
 * The settings a runbook's state machine carries (`Load runbook settings`), with every intrinsic
 * kept as it is in the template: the DefinitionString's `Fn::Join` parts that are not text are
 * put back where CDK cut the JSON text.
 */
function runbookSettings(resources: Resources, machine: IConstruct): Record<string, any> {
  const definition = resources[logicalIdOf(machine)].Properties.DefinitionString;
  const intrinsics: unknown[] = [];
  const text = typeof definition === 'string' ? definition
    : (definition['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : `@@${intrinsics.push(p) - 1}@@`)).join('');
  const restore = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const whole = /^@@(\d+)@@$/.exec(v);
      if (whole) return intrinsics[Number(whole[1])];
      if (v.includes('@@')) throw new Error(`a token inside a longer string: ${v}`);
      return v;
    }
    if (Array.isArray(v)) return v.map(restore);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [String(restore(k) === k ? k : JSON.stringify(restore(k))), restore(x)]));
    return v;
  };
  const parsed = restore(JSON.parse(text)) as { States: Record<string, { Parameters?: { runbook?: Record<string, any> } }> };
  return parsed.States['Load runbook settings'].Parameters!.runbook!;
}

/** Allow statements of the role of `fn`. */
function grantsOf(resources: Resources, fn: IConstruct): Statement[] {
  const role = logicalIdOf((fn as unknown as { role: IConstruct }).role);
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && asList(r.Properties.Roles).some((x) => (x as { Ref?: string }).Ref === role))
    .flatMap((r) => asList(r.Properties.PolicyDocument.Statement) as Statement[])
    .filter((s) => s.Effect === 'Allow');
}
const withAction = (statements: Statement[], action: string) => statements.filter((s) => asList(s.Action).includes(action));
/** An ARN `Fn::Join` flattened to text, intrinsics as `${Ref}` / `${Id.Attr}` (cdk-nag's rendering, with `$`). */
const arnText = (v: unknown): string => flattenCfnReference(v).replace(/</g, '${').replace(/>/g, '}');

const plain = tokenStack(false);
const flagged = tokenStack(true);

describe('cdk-nag on runbooks given token-valued L2 targets, in a stack with no env', () => {
  for (const [label, synthesized] of [['default feature flags', plain], ['the feature flags of a new `cdk init app`', flagged]] as const) {
    test(`${label}: no unacknowledged finding, of any severity, on anything medic made`, () => {
      const ours = synthesized.nag.findings.filter((f) => !f.path.startsWith('Tokens/Workload/'));
      expect(ours).toEqual([]);
    });

    test(`${label}: the check really ran (the workload itself, which is not medic's, has findings)`, () => {
      expect(synthesized.nag.findings.filter((f) => f.path.startsWith('Tokens/Workload/')).length).toBeGreaterThan(0);
    });
  }

  test('no acknowledgement id embeds a token', () => {
    const ids: string[] = [];
    const walk = (node: IConstruct) => {
      for (const entry of node.node.metadata) {
        if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY && entry.data) ids.push(...Object.keys(entry.data as object).map((k) => k.replace(/^annotation::/i, '')));
      }
      node.node.children.forEach(walk);
    };
    walk(plain.app);
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.filter((id) => Token.isUnresolved(id) || id.includes('${') || id.includes('Token['))).toEqual([]);
    // The StopTask grant on the cluster made in the stack: acknowledged as cdk-nag prints it.
    const cluster = logicalIdOf(plain.w.cluster);
    expect(ids).toContain(`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/<${cluster}>/*]`);
  });
});

describe('the allow-lists and IAM reference the resources of the stack (Ref / Fn::GetAtt), never a literal', () => {
  const { resources, w } = plain;
  const id = (c: IConstruct) => logicalIdOf(c);

  test('ECS: the service and its cluster (from service.cluster), beside a service given by name', () => {
    const settings = runbookSettings(resources, plain.ecsRunbook.runbook.stateMachine);
    expect(settings.target.allowed).toEqual([
      { ClusterName: ref(id(w.cluster)), ServiceName: getAtt(id(w.service), 'Name') },
      { ClusterName: 'prod', ServiceName: 'api' },
    ]);
    const grants = grantsOf(resources, plain.ecsRunbook.stepFunction);
    const describe = withAction(grants, 'ecs:DescribeServices');
    expect(describe.flatMap((s) => asList(s.Resource)).map(arnText)).toEqual([
      `arn:\${AWS::Partition}:ecs:\${AWS::Region}:\${AWS::AccountId}:service/\${${id(w.cluster)}}/\${${id(w.service)}.Name}`,
      'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:service/prod/api',
    ]);
    const stop = withAction(grants, 'ecs:StopTask');
    expect(stop.flatMap((s) => asList(s.Resource)).map(arnText)).toEqual([
      `arn:\${AWS::Partition}:ecs:\${AWS::Region}:\${AWS::AccountId}:task/\${${id(w.cluster)}}/*`,
      'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/prod/*',
    ]);
    expect(asList(stop[0].Condition!.ArnEquals['ecs:cluster']).map(arnText)).toEqual([
      `arn:\${AWS::Partition}:ecs:\${AWS::Region}:\${AWS::AccountId}:cluster/\${${id(w.cluster)}}`,
      'arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:cluster/prod',
    ]);
  });

  test('an alarm defined in the same stack: the rule pattern, the spec and the DescribeAlarms grant carry its ARN attribute', () => {
    const alarmArn = getAtt(id(w.serviceAlarm), 'Arn');
    const rule = resources[id(plain.ecsRunbook.runbook.rule!)].Properties.EventPattern;
    expect(rule).toEqual({ source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], resources: [alarmArn], detail: { state: { value: ['ALARM'] } } });
    expect(runbookSettings(resources, plain.ecsRunbook.runbook.stateMachine).alarmArns).toEqual([alarmArn]);
    const describeAlarms = withAction(grantsOf(resources, plain.ecsRunbook.stepFunction), 'cloudwatch:DescribeAlarms');
    expect(describeAlarms.flatMap((s) => asList(s.Resource))).toEqual([alarmArn]);
  });

  test('Auto Scaling: the group in the alarm allow-list, the manual allow-list, the options and the update grant', () => {
    const group = ref(id(w.asg));
    const settings = runbookSettings(resources, plain.asgRunbook.runbook.stateMachine);
    expect(settings.target.allowed).toEqual([{ AutoScalingGroupName: group }]);
    expect(settings.manualTargets.autoScalingGroupName.allowed).toEqual([group]);
    expect(settings.options.autoScalingGroups).toEqual([group]);
    expect(settings.target.aliases).toEqual([{ dimensions: { TargetGroup: getAtt(id(w.targetGroup), 'TargetGroupFullName') }, target: { AutoScalingGroupName: group } }]);
    const updates = withAction(grantsOf(resources, plain.asgRunbook.stepFunction), 'autoscaling:UpdateAutoScalingGroup');
    expect(updates.filter((s) => !s.Condition).flatMap((s) => asList(s.Resource)).map(arnText)).toEqual([
      `arn:\${AWS::Partition}:autoscaling:\${AWS::Region}:\${AWS::AccountId}:autoScalingGroup:*:autoScalingGroupName/\${${id(w.asg)}}`,
    ]);
  });

  test('RDS: the instance and the cluster in the allow-lists and the grants; the target reader and the schedule by their tokens', () => {
    const settings = runbookSettings(resources, plain.drill.runbook.stateMachine);
    expect(settings.manualTargets.dbInstanceIdentifier.allowed).toEqual([ref(id(w.db))]);
    expect(settings.manualTargets.dbClusterIdentifier.allowed).toEqual([ref(id(w.aurora))]);
    expect(settings.options.targetReaders).toEqual({ [JSON.stringify(ref(id(w.aurora)))]: ref(id(w.aurora.node.findChild('Reader'))) });
    const grants = grantsOf(resources, plain.drill.stepFunction);
    expect(withAction(grants, 'rds:RebootDBInstance').flatMap((s) => asList(s.Resource)).map(arnText))
      .toEqual([`arn:\${AWS::Partition}:rds:\${AWS::Region}:\${AWS::AccountId}:db:\${${id(w.db)}}`]);
    expect(withAction(grants, 'rds:FailoverDBCluster').flatMap((s) => asList(s.Resource)).map(arnText)).toEqual([
      `arn:\${AWS::Partition}:rds:\${AWS::Region}:\${AWS::AccountId}:cluster:\${${id(w.aurora)}}`,
      `arn:\${AWS::Partition}:rds:\${AWS::Region}:\${AWS::AccountId}:db:\${${id(w.aurora.node.findChild('Reader'))}}`,
    ]);
    expect(withAction(grants, 'cloudwatch:DescribeAlarms').flatMap((s) => asList(s.Resource))).toEqual([getAtt(id(w.serviceAlarm), 'Arn')]);
    expect(settings.options.guardAlarmNames).toEqual([ref(id(w.serviceAlarm))]);
    const schedule = resources[id(plain.drill.schedules[0])].Properties.Target.Input;
    expect(arnText(schedule)).toBe(`{"dbInstanceIdentifier":"\${${id(w.db)}}","trigger":"schedule","reason":"scheduled drill"}`);
  });

  test('ACM: the certificate in the allow-lists, the ACM event rule and the grants; the hosted zone by its id', () => {
    const certificate = ref(id(w.certificate));
    const settings = runbookSettings(resources, plain.certificates.runbook.stateMachine);
    expect(settings.target.allowed).toEqual([{ CertificateArn: certificate }]);
    expect(settings.eventTarget.allowed).toEqual([certificate]);
    expect(settings.options.certificates).toEqual([certificate]);
    expect(settings.options.hostedZones).toEqual({ 'example.com': ref(id(w.zone)) });
    expect(resources[id(plain.certificates.runbook.eventRule!)].Properties.EventPattern.resources).toEqual([certificate]);
    const grants = grantsOf(resources, plain.certificates.stepFunction);
    for (const action of ['acm:DescribeCertificate', 'acm:RenewCertificate', 'acm:ResendValidationEmail']) {
      expect(withAction(grants, action).flatMap((s) => asList(s.Resource))).toEqual([certificate]);
    }
    expect(withAction(grants, 'route53:ChangeResourceRecordSets').flatMap((s) => asList(s.Resource)).map(arnText))
      .toEqual([`arn:\${AWS::Partition}:route53:::hostedzone/\${${id(w.zone)}}`]);
  });

  test('disk pruning: the instance in the allow-list, the options and SendCommand; a fleet by its group\'s tag', () => {
    const instance = ref(id(w.instance));
    const settings = runbookSettings(resources, plain.disk.runbook.stateMachine);
    expect(settings.target.allowed).toEqual([{ InstanceId: instance }]);
    expect(settings.options.instances).toEqual([instance]);
    const send = withAction(grantsOf(resources, plain.disk.stepFunction), 'ssm:SendCommand').filter((s) => !s.Condition);
    expect(send.flatMap((s) => asList(s.Resource)).map(arnText)).toContain(`arn:\${AWS::Partition}:ec2:\${AWS::Region}:\${AWS::AccountId}:instance/\${${id(w.instance)}}`);
    expect(runbookSettings(resources, plain.fleet.runbook.stateMachine).target.allowed).toEqual([{ AutoScalingGroupName: ref(id(w.asg)) }]);
    const fleetSend = withAction(grantsOf(resources, plain.fleet.stepFunction), 'ssm:SendCommand').filter((s) => s.Condition);
    expect(fleetSend.map((s) => s.Condition)).toEqual([{ StringEquals: { 'ssm:resourceTag/aws:autoscaling:groupName': [ref(id(w.asg))] } }]);
  });
});

describe('validation runs on names known at synth time only', () => {
  const build = (services: ConstructorParameters<typeof EcsTaskRestartRunbook>[2]['services']) => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
    return () => new EcsTaskRestartRunbook(stack, 'R', { platform: new MedicPlatform(stack, 'Platform'), name: 'restart', services });
  };

  test('a literal name that is not an ECS name is still refused', () => {
    expect(build([{ clusterName: 'prod', serviceName: 'api/../web' }])).toThrow('"prod/api/../web" is not a valid ECS cluster/service name');
  });

  test('names that are tokens (a parameter, an import) pass: IAM checks them at deploy time', () => {
    expect(build([{ clusterName: Fn.importValue('ClusterName'), serviceName: Aws.STACK_NAME }])).not.toThrow();
  });

  test('a service imported with its cluster gives its literal names, which are checked', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S', { env: { account: '111111111111', region: 'eu-west-1' } });
    const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod', vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-1', availabilityZones: ['eu-west-1a'] }) });
    const service = ecs.FargateService.fromFargateServiceAttributes(stack, 'Svc', { cluster, serviceName: 'api' });
    const platform = new MedicPlatform(stack, 'Platform');
    expect(() => new EcsTaskRestartRunbook(stack, 'R', { platform, name: 'restart', services: [service] })).not.toThrow();
    const bad = ecs.FargateService.fromFargateServiceAttributes(stack, 'Bad', { cluster, serviceName: 'not a name' });
    expect(() => new EcsTaskRestartRunbook(stack, 'R2', { platform, name: 'restart-bad', services: [bad] }))
      .toThrow('"prod/not a name" is not a valid ECS cluster/service name');
  });
});

describe('nagText renders a value as cdk-nag prints it', () => {
  const stack = new Stack(new App(), 'S');
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-1', availabilityZones: ['eu-west-1a'] }) });
  const values: Array<[string, string]> = [
    ['a literal', 'IAM5[Resource::*]'],
    ['an ARN formatted with a Ref', `IAM5[Resource::${stack.formatArn({ service: 'ecs', resource: 'task', resourceName: `${cluster.clusterName}/*` })}]`],
    ['a GetAtt', `IAM5[Resource::${cluster.clusterArn}:*]`],
    ['pseudo parameters', `IAM5[Resource::arn:${Aws.PARTITION}:ssm:${Aws.REGION}:${Aws.ACCOUNT_ID}:parameter/medic/*]`],
  ];

  test.each(values)('%s, as cdk-nag\'s own flattenCfnReference of the resolved value', (_label, value) => {
    // cdk-nag flattens the resolved value of the Resource; the rule prefix is plain text either way.
    expect(nagText(stack, value)).toBe(flattenCfnReference(stack.resolve(value)));
    expect(Token.isUnresolved(nagText(stack, value))).toBe(false);
  });
});

describe('a service of another stack (a cross-stack reference), with the new-project feature flags', () => {
  const { app, outdir } = newApp(true);
  const workloadStack = new Stack(app, 'Workload');
  const w = new Workload(workloadStack, 'W');
  const medic = new Stack(app, 'Medic');
  new EcsTaskRestartRunbook(medic, 'Ecs', { platform: new MedicPlatform(medic, 'Platform'), name: 'ecs', mode: 'auto', strategy: 'stopTasks', services: [w.service], alarms: [w.serviceAlarm] });
  const { findings } = synthWithNag(app, outdir);

  test('the StopTask acknowledgement matches the finding as cdk-nag prints the imported cluster name: no unacknowledged finding in the medic stack', () => {
    expect(findings.filter((f) => f.path.startsWith('Medic/'))).toEqual([]);
    expect(findings.length).toBeGreaterThan(0);
  });
});

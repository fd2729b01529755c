import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration, Stack, Validations, type CfnResource } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { CertificateRenewalRunbook, certificateRenewalKind, type CertificateRenewalRunbookProps } from '../../lib/runbooks/certificate-renewal';
import { parseConfig, type MedicConfig } from '../../lib/config';
import { MedicStack } from '../../lib/medic-stack';
import { MedicPlatform } from '../../lib/platform/platform';
import { Runbook } from '../../lib/platform/runbook';
import { TemplateResolver, stateMachineId } from '../../lib/local/template-workflow';
import { ACCOUNT, REGION, alarmArn, certificateArn, synthStack, testConfig } from '../support/synth';

type Resources = Record<string, { Type: string; Properties: Record<string, any>; Metadata?: Record<string, unknown> }>;
interface Statement { Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, any> }

const ENTRY = 'certificate-renewal/index.ts';
const ZONE = 'Z0123456789EXAMPLE';
const ZONE_ARN = `arn:\${AWS::Partition}:route53:::hostedzone/${ZONE}`;
const CERTIFICATES = [certificateArn(1), certificateArn(2)];
const TAG = { key: 'medic:renew', value: 'true' };
/** ACM's events the runbook starts on, as named in https://docs.aws.amazon.com/acm/latest/userguide/supported-events.html. */
const ACM_DETAIL_TYPES = ['ACM Certificate Approaching Expiration', 'ACM Certificate Renewal Action Required'];
/** SearchCertificates (the only read that says whether a certificate was exported) has no resource-level permission: pinned to the region. */
const SEARCH_GRANT = { Effect: 'Allow', Action: 'acm:SearchCertificates', Resource: '*', Condition: { StringEquals: { 'aws:RequestedRegion': REGION } } };

const asList = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
/** Renders `Fn::Join` ARNs with `${Ref}` placeholders. */
const text = (v: unknown): string => (typeof v === 'string' ? v
  : (v as any)['Fn::Join'] ? (v as any)['Fn::Join'][1].map((p: any) => (typeof p === 'string' ? p : `\${${p.Ref}}`)).join('') : JSON.stringify(v));
/** Does an IAM action pattern (`acm:*`, `*`, `acm:Renew*`) cover `action`? */
const covers = (pattern: string, action: string): boolean =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i').test(action);
const withAction = (statements: Statement[], action: string) => statements.filter((s) => asList(s.Action).some((a) => covers(String(a), action)));
const resourcesOf = (template: Template) => template.toJSON().Resources as Resources;

/** Every Allow statement of every identity policy in the template, with the roles it is attached to. */
function identityGrants(resources: Resources): Array<{ roles: string[]; statement: Statement }> {
  const grants: Array<{ roles: string[]; statement: Statement }> = [];
  for (const [id, r] of Object.entries(resources)) {
    const documents = r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy' ? [r.Properties.PolicyDocument]
      : r.Type === 'AWS::IAM::Role' ? (asList(r.Properties.Policies) as Array<{ PolicyDocument: unknown }>).map((p) => p.PolicyDocument) : [];
    const roles = r.Type === 'AWS::IAM::Role' ? [id] : (asList(r.Properties.Roles) as Array<{ Ref: string }>).map((x) => x.Ref);
    for (const document of documents) {
      for (const statement of asList((document as { Statement?: unknown }).Statement) as Statement[]) {
        if (statement.Effect === 'Allow') grants.push({ roles, statement });
      }
    }
  }
  return grants;
}

/** Role of the (single) certificate-renewal step handler in the template. */
function stepRole(resources: Resources): string {
  const fns = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['medic:entry'] === ENTRY);
  if (fns.length !== 1) throw new Error(`expected one ${ENTRY} function, found ${fns.length}`);
  return fns[0].Properties.Role['Fn::GetAtt'][0] as string;
}
const stepStatements = (resources: Resources): Statement[] => {
  const role = stepRole(resources);
  return identityGrants(resources).filter((g) => g.roles.includes(role)).map((g) => g.statement);
};

/** A state machine's definition, with the intrinsics resolved as the offline runner resolves them. */
function definitionOf(resources: Resources, machineId: string): Record<string, any> {
  return JSON.parse(String(new TemplateResolver(resources).resolve(resources[machineId].Properties.DefinitionString)));
}

/**
 * A stack holding only the platform and one certificate runbook `certs` (default mode: observe),
 * synthesized; `props` may be a function of the stack, to make alarms in it.
 */
function isolated(props: Partial<CertificateRenewalRunbookProps> | ((stack: Stack) => Partial<CertificateRenewalRunbookProps>)): Resources {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Certs', { env: { account: ACCOUNT, region: REGION } });
  const platform = new MedicPlatform(stack, 'Platform', {});
  new CertificateRenewalRunbook(stack, 'C', {
    platform, name: 'certs', certificates: [certificateArn(1)], hostedZones: { 'example.com': ZONE },
    ...(typeof props === 'function' ? props(stack) : props),
  });
  return resourcesOf(Template.fromStack(stack));
}

const acmRules = (resources: Resources) => Object.values(resources)
  .filter((r) => r.Type === 'AWS::Events::Rule' && asList(r.Properties.EventPattern?.source).includes('aws.acm'));

const { stack, template } = synthStack(testConfig);
const resources = resourcesOf(template);
const certRenewal = stack.runbooksOf(certificateRenewalKind)[0];
const logicalId = (c: IConstruct): string => stack.resolve(((c.node.defaultChild ?? c) as CfnResource).logicalId) as string;

describe('IAM of the step handler (cert-renewal, auto)', () => {
  const statements = stepStatements(resources);

  test('RenewCertificate and ResendValidationEmail only on exactly the two configured certificates', () => {
    for (const action of ['acm:RenewCertificate', 'acm:ResendValidationEmail']) {
      const grants = withAction(statements, action);
      expect(grants).toHaveLength(1);
      expect(grants[0].Condition).toBeUndefined();
      expect(asList(grants[0].Resource)).toEqual(CERTIFICATES);
    }
  });

  test('reads of the certificates are on the configured ARNs too', () => {
    const reads = withAction(statements, 'acm:DescribeCertificate');
    expect(reads.map((s) => asList(s.Resource))).toEqual([CERTIFICATES]);
  });

  test('no ACM or Route 53 action on any wildcard resource but SearchCertificates, pinned to the region; otherwise "*" is only for X-Ray', () => {
    const acmOrRoute53 = statements.filter((s) => asList(s.Action).some((a) => /^(acm|route53):/.test(String(a))));
    const onWildcard = acmOrRoute53.filter((s) => asList(s.Resource).map(text).some((r) => r.includes('*')));
    expect(onWildcard).toEqual([SEARCH_GRANT]);
    const onStar = statements.filter((s) => asList(s.Resource).includes('*') && s.Condition === undefined).flatMap((s) => asList(s.Action));
    expect(onStar.length).toBeGreaterThan(0);
    expect(onStar.filter((a) => !String(a).startsWith('xray:'))).toEqual([]);
  });

  test('ChangeResourceRecordSets only in the configured zone, only UPSERTs of _*.example.com CNAMEs', () => {
    const changes = withAction(statements, 'route53:ChangeResourceRecordSets');
    expect(changes).toHaveLength(1);
    expect(asList(changes[0].Resource).map(text)).toEqual([ZONE_ARN]);
    expect(changes[0].Condition).toEqual({
      'ForAllValues:StringEquals': {
        'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
        'route53:ChangeResourceRecordSetsRecordTypes': ['CNAME'],
      },
      'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['_*.example.com'] },
    });
  });

  test('ListResourceRecordSets only on that zone, and no other Route 53 action', () => {
    const lists = withAction(statements, 'route53:ListResourceRecordSets');
    expect(lists).toHaveLength(1);
    expect(asList(lists[0].Resource).map(text)).toEqual([ZONE_ARN]);
    const route53 = new Set(statements.flatMap((s) => asList(s.Action)).filter((a) => String(a).startsWith('route53:')));
    expect(route53).toEqual(new Set(['route53:ListResourceRecordSets', 'route53:ChangeResourceRecordSets']));
  });

  test('no other role in the stack may renew certificates or change records', () => {
    const role = stepRole(resources);
    const grants = identityGrants(resources);
    for (const action of ['acm:RenewCertificate', 'acm:ResendValidationEmail', 'route53:ChangeResourceRecordSets']) {
      const holders = new Set(grants.filter((g) => asList(g.statement.Action).some((a) => covers(String(a), action))).flatMap((g) => g.roles));
      expect([action, holders]).toEqual([action, new Set([role])]);
    }
  });
});

describe('IAM by mode and options', () => {
  test('observe mode (the default) holds the reads but no RenewCertificate, ResendValidationEmail or ChangeResourceRecordSets', () => {
    const statements = stepStatements(isolated({ resendValidationEmail: true }));
    for (const action of ['acm:RenewCertificate', 'acm:ResendValidationEmail', 'route53:ChangeResourceRecordSets']) {
      expect([action, withAction(statements, action)]).toEqual([action, []]);
    }
    expect(withAction(statements, 'acm:DescribeCertificate').map((s) => asList(s.Resource))).toEqual([[certificateArn(1)]]);
    expect(withAction(statements, 'acm:ListTagsForCertificate').map((s) => asList(s.Resource))).toEqual([[certificateArn(1)]]);
    expect(withAction(statements, 'route53:ListResourceRecordSets').map((s) => asList(s.Resource).map(text))).toEqual([[ZONE_ARN]]);
    // Plan reads whether a private certificate was exported in every mode (an observed plan says what it would do).
    expect(withAction(statements, 'acm:SearchCertificates')).toEqual([SEARCH_GRANT]);
  });

  test('without resendValidationEmail, auto mode renews but may not resend validation emails', () => {
    const statements = stepStatements(isolated({ mode: 'auto' }));
    expect(withAction(statements, 'acm:RenewCertificate')).toHaveLength(1);
    expect(withAction(statements, 'acm:ResendValidationEmail')).toEqual([]);
  });

  describe('certificates allowed by tag only', () => {
    const tagged = isolated({ mode: 'auto', certificates: [], optInTag: TAG });
    const statements = stepStatements(tagged);

    test('RenewCertificate on the account\'s certificates only with the tag condition', () => {
      const renews = withAction(statements, 'acm:RenewCertificate');
      expect(renews).toHaveLength(1);
      expect(asList(renews[0].Resource).map(text)).toEqual([`arn:\${AWS::Partition}:acm:${REGION}:${ACCOUNT}:certificate/*`]);
      expect(renews[0].Condition).toEqual({ StringEquals: { 'aws:ResourceTag/medic:renew': 'true' } });
    });

    test('the ACM event rule has no resources filter: tag-allowed certificates cannot be listed', () => {
      const rules = acmRules(tagged);
      expect(rules).toHaveLength(1);
      expect(rules[0].Properties.EventPattern).toEqual({ source: ['aws.acm'], 'detail-type': ACM_DETAIL_TYPES });
    });
  });
});

describe('triggers', () => {
  const machineId = stateMachineId(stack, 'cert-renewal');
  const runbook = certRenewal.runbook;
  const target = expect.objectContaining({
    Arn: { Ref: machineId },
    DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(runbook.deadLetterQueue!), 'Arn'] } },
    RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 7200 },
  });

  test('one ACM rule, for the expiry and the renewal-action-required events of the two configured certificates, starts the workflow, with a dead-letter queue and retries', () => {
    expect(acmRules(resources)).toHaveLength(1);
    const rule = resources[logicalId(runbook.eventRule!)];
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.acm'],
      'detail-type': ACM_DETAIL_TYPES,
      resources: CERTIFICATES,
    });
    expect(rule.Properties.Targets).toEqual([target]);
    expect(rule.Properties.Description).toBe(`medic: ${ACM_DETAIL_TYPES.join(', ')} events for runbook cert-renewal`);
  });

  test('the runbook\'s spec lists the same detail types, so Validate accepts what the rule delivers', () => {
    const spec = definitionOf(resources, machineId).States['Load runbook settings'].Parameters.runbook;
    expect(spec.eventTarget).toMatchObject({ source: 'aws.acm', detailTypes: ACM_DETAIL_TYPES });
    expect(spec.eventTarget.detailType).toBeUndefined();
  });

  test('a service event target without a detail type is a synth error (a rule on the whole source would start it for every event)', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const s = new Stack(app, 'NoDetailTypes', { env: { account: ACCOUNT, region: REGION } });
    const platform = new MedicPlatform(s, 'Platform', {});
    const stepFunction = new lambda.Function(s, 'Steps', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({})') });
    const eventTarget = { source: 'aws.acm', type: 'acm-certificate', arnPattern: 'arn:aws:acm:.*', allowed: [certificateArn(1)] };
    expect(() => new Runbook(s, 'Empty', { platform, name: 'no-types', kind: 'test', stepFunction, reversible: false, eventTarget: { ...eventTarget, detailTypes: [] } }))
      .toThrow(/runbook no-types: eventTarget\.detailTypes must list at least one detail type of aws\.acm/);
    expect(() => new Runbook(s, 'Blank', { platform, name: 'blank-type', kind: 'test', stepFunction, reversible: false, eventTarget: { ...eventTarget, detailTypes: [''] } }))
      .toThrow(/eventTarget\.detailTypes must list at least one detail type/);
  });

  test('the alarm rule matches exactly the attached alarm going to ALARM', () => {
    const rule = resources[logicalId(runbook.rule!)];
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      resources: [alarmArn('cert-days-to-expiry')],
      detail: { state: { value: ['ALARM'] } },
    });
    expect(rule.Properties.Targets).toEqual([target]);
  });
});

describe('the state machine', () => {
  const machineId = stateMachineId(stack, 'cert-renewal');
  const definition = definitionOf(resources, machineId);
  const spec = definition.States['Load runbook settings'].Parameters.runbook;

  test('times out after the renewal horizon plus an hour (2 h + 1 h)', () => {
    expect(definition.TimeoutSeconds ?? resources[machineId].Properties.TimeoutSeconds).toBe(10800);
  });

  test('verifies every 15 minutes, after 2, across the horizon, and one reading suffices', () => {
    // ceil((7200 - 120) / 900) = 8 checks fit the 2-hour horizon.
    expect(spec.verification).toEqual({ initialDelaySeconds: 120, intervalSeconds: 900, maxChecks: 8, requiredConsecutiveSuccesses: 1 });
    expect(definition.States['Wait before verifying'].Seconds).toBe(120);
    expect(definition.States['Wait between checks'].Seconds).toBe(900);
  });

  // ACM's expiry events start 45 days before expiry for private and imported certificates, 30 for
  // public ones (supported-events.html): without renewWithinDays the handler applies those per type.
  test('without renewWithinDays the options carry none (the handler\'s window by type applies); with it, that many days for every type', () => {
    expect(spec.options).not.toHaveProperty('renewWithinDays');
    const entry = { ...testConfig.runbooks.certificateRenewal![0], renewWithinDays: 40 };
    const set = synthStack({ ...testConfig, runbooks: { certificateRenewal: [entry] } });
    const setSpec = definitionOf(resourcesOf(set.template), stateMachineId(set.stack, 'cert-renewal')).States['Load runbook settings'].Parameters.runbook;
    expect(setSpec.options.renewWithinDays).toBe(40);
  });

  test('the certificate ARN patterns pin the stack\'s account and region', () => {
    const patterns = [spec.target.dimensions.CertificateArn, spec.eventTarget.arnPattern];
    expect(new Set(patterns).size).toBe(1);
    const pattern = new RegExp(`^${patterns[0]}$`);
    expect(pattern.test(certificateArn(1))).toBe(true);
    expect(pattern.test(certificateArn(1).replace(ACCOUNT, '222222222222'))).toBe(false);
    expect(pattern.test(certificateArn(1).replace(REGION, 'us-east-1'))).toBe(false);
  });

  // A partial `verification` in the config must not reset the settings it does not name to the
  // generic defaults (30 s interval, 2 successes), which do not suit an asynchronous renewal.
  test('a config naming only verification.maxChecks keeps the runbook\'s own delay, interval and single reading', () => {
    const entry = { ...testConfig.runbooks.certificateRenewal![0], verification: { maxChecks: 4 } };
    const partial = synthStack({ ...testConfig, runbooks: { certificateRenewal: [entry] } });
    const partialResources = resourcesOf(partial.template);
    const partialSpec = definitionOf(partialResources, stateMachineId(partial.stack, 'cert-renewal')).States['Load runbook settings'].Parameters.runbook;
    expect(partialSpec.verification).toEqual({ initialDelaySeconds: 120, intervalSeconds: 900, maxChecks: 4, requiredConsecutiveSuccesses: 1 });
  });
});

describe('synth-time guards', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const guards = new Stack(app, 'CertGuards', { env: { account: ACCOUNT, region: REGION } });
  const platform = new MedicPlatform(guards, 'Platform', {});
  const alarm = cloudwatch.Alarm.fromAlarmArn(guards, 'Alarm', alarmArn('days-to-expiry'));
  let n = 0;
  const build = (overrides: Partial<CertificateRenewalRunbookProps>) => () => {
    n += 1;
    return new CertificateRenewalRunbook(guards, `Cert${n}`, {
      platform, name: `cert-${n}`, certificates: [certificateArn(1)], hostedZones: { 'example.com': ZONE }, ...overrides,
    });
  };

  test('the defaults and boundary values are accepted (so the failures below are the setting\'s)', () => {
    expect(build({})).not.toThrow();
    expect(build({ certificates: [], optInTag: TAG })).not.toThrow();
    expect(build({ hostedZones: { 'sub.example-1.co.uk': 'Z0123456789ABCDEFGHIJ' } })).not.toThrow();
    expect(build({ renewWithin: Duration.days(1) })).not.toThrow();
    expect(build({ renewWithin: Duration.days(90) })).not.toThrow();
    expect(build({ renewalHorizon: Duration.minutes(30) })).not.toThrow();
    expect(build({ renewalHorizon: Duration.hours(23) })).not.toThrow();
    expect(build({ renewalHorizon: Duration.hours(30), acmEvents: false, alarms: [alarm] })).not.toThrow();
  });

  // Without ACM events the horizon may reach 48 hours: 192 checks 15 minutes apart, within the
  // workflow's 200. Beyond, or with an interval that makes too many checks, the error names the horizon.
  test('a horizon up to 48 hours synthesizes without ACM events; longer ones, or too many checks, are named errors', () => {
    expect(build({ renewalHorizon: Duration.hours(48), acmEvents: false, alarms: [alarm] })).not.toThrow();
    expect(build({ renewalHorizon: Duration.hours(72), acmEvents: false, alarms: [alarm] })).toThrow(/renewalHorizon must be between 30 minutes and 48 hours \(got 72 hours\)/);
    expect(build({ renewalHorizon: Duration.hours(48), acmEvents: false, alarms: [alarm], verification: { interval: Duration.minutes(5) } }))
      .toThrow(/renewalHorizon of 48 hours checked every 300 s takes 576 checks, more than 200; lengthen verification.interval/);
  });

  const wrongArn = /is not an ACM certificate ARN of this stack's account and region/;
  test.each<[string, Partial<CertificateRenewalRunbookProps>, RegExp]>([
    ['no certificate and no tag', { certificates: [] }, /list certificates, or set optInTag/],
    ['a certificate of another account', { certificates: [certificateArn(1).replace(ACCOUNT, '222222222222')] }, wrongArn],
    ['a certificate of another region', { certificates: [certificateArn(1).replace(REGION, 'us-east-1')] }, wrongArn],
    ['a malformed certificate ARN', { certificates: [`arn:aws:acm:${REGION}:${ACCOUNT}:certificate/not-an-id`] }, wrongArn],
    ['a certificate id instead of its ARN', { certificates: ['00000001-1234-4321-abcd-0123456789ab'] }, wrongArn],
    ['an uppercase zone domain', { hostedZones: { 'Example.com': ZONE } }, /hostedZones key "Example\.com" is not a lowercase domain name without a trailing dot/],
    ['a zone domain with a trailing dot', { hostedZones: { 'example.com.': ZONE } }, /hostedZones key "example\.com\." is not a lowercase domain name/],
    ['a zone id not starting with Z', { hostedZones: { 'example.com': 'A0123456789EXAMPLE' } }, /hostedZones\["example\.com"\] = "A0123456789EXAMPLE" is not a Route 53 hosted zone id/],
    ['a zone id given as a path', { hostedZones: { 'example.com': `/hostedzone/${ZONE}` } }, /is not a Route 53 hosted zone id/],
    ['renewWithin 0 days', { renewWithin: Duration.days(0) }, /renewWithin must be 1 to 90 whole days \(got 0\)/],
    ['renewWithin 120 days', { renewWithin: Duration.days(120) }, /renewWithin must be 1 to 90 whole days \(got 120\)/],
    ['a 10-minute horizon', { renewalHorizon: Duration.minutes(10) }, /renewalHorizon must be between 30 minutes and 48 hours/],
    ['a 30-hour horizon with ACM events', { renewalHorizon: Duration.hours(30) }, /renewalHorizon of 30 hours overlaps ACM's next daily expiry event/],
  ])('%s is a synth error', (_, overrides, message) => {
    expect(build(overrides)).toThrow(message);
  });

  test('without ACM events and without an alarm, app synthesis fails: nothing would start the runbook', () => {
    const app2 = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack2 = new Stack(app2, 'CertNoTrigger', { env: { account: ACCOUNT, region: REGION } });
    new CertificateRenewalRunbook(stack2, 'C', { platform: new MedicPlatform(stack2, 'Platform', {}), name: 'untriggered', certificates: [certificateArn(1)], acmEvents: false });
    expect(() => Template.fromStack(stack2)).toThrow(/attached to no alarm/);
  });

  test('without ACM events but with an alarm (and a horizon past a day), the stack synthesizes with no ACM rule', () => {
    const alarmOnly = isolated((s) => ({ acmEvents: false, renewalHorizon: Duration.hours(30), alarms: [cloudwatch.Alarm.fromAlarmArn(s, 'A', alarmArn('days-to-expiry'))] }));
    expect(acmRules(alarmOnly)).toEqual([]);
    expect(Object.values(alarmOnly).filter((r) => r.Type === 'AWS::Events::Rule' && r.Properties.EventPattern?.source?.[0] === 'aws.cloudwatch')).toHaveLength(1);
  });
});

describe('configuration', () => {
  const entry = {
    name: 'certs',
    mode: 'auto',
    alarmArns: [alarmArn('cert-days-to-expiry')],
    certificates: [certificateArn(1)],
    optInTag: TAG,
    hostedZones: { 'example.com': ZONE },
    acmEvents: true,
    renewWithinDays: 30,
    renewalHorizonHours: 12,
    resendValidationEmail: false,
  };
  const configText = (e: Record<string, unknown>) => JSON.stringify({ stackName: 'Medic', env: { account: ACCOUNT, region: REGION }, runbooks: { certificateRenewal: [e] } });

  test('parseConfig accepts a certificateRenewal entry with every setting', () => {
    expect(parseConfig(configText(entry)).runbooks.certificateRenewal).toEqual([entry]);
  });

  test('an unknown setting inside the entry is an error naming it', () => {
    expect(() => parseConfig(configText({ ...entry, renewalHorizon: 12 }))).toThrow(/runbooks\.certificateRenewal\[0\]\.renewalHorizon: unknown setting/);
  });

  test('a non-boolean acmEvents is an error', () => {
    expect(() => parseConfig(configText({ ...entry, acmEvents: 'false' }))).toThrow(/runbooks\.certificateRenewal\[0\]\.acmEvents: must be true or false/);
  });
});

// test/constructs/nag.test.ts runs cdk-nag over bin/medic.config.example.json, whose certificate
// runbook is in observe mode: the auto-mode grants (renewal, record changes) are checked here.
describe('cdk-nag AwsSolutionsChecks on the certificate runbooks in auto mode', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'medic-nag-certs-'));
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test('no unacknowledged finding on the runbook by ARN (testConfig) or by tag', () => {
    const config: MedicConfig = {
      ...testConfig,
      runbooks: {
        certificateRenewal: [
          ...testConfig.runbooks.certificateRenewal!,
          { name: 'cert-by-tag', mode: 'auto', optInTag: TAG, resendValidationEmail: true },
        ],
      },
    };
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const nagged = new MedicStack(app, config.stackName, { config, env: config.env });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    try {
      app.synth();
    } catch {
      // Findings make synth throw under jest; the report below says which.
    }
    const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{ pluginName: string; violations: Array<{ ruleName: string; severity: string; violatingConstructs: Array<{ constructPath: string }> }> }>;
    };
    const prefixes = nagged.runbooksOf(certificateRenewalKind).map((r) => `${r.node.path}/`);
    expect(prefixes).toHaveLength(2);
    const findings = report.pluginReports.filter((p) => p.pluginName === 'AwsSolutions')
      .flatMap((p) => p.violations.flatMap((v) => v.violatingConstructs.map((c) => ({ rule: v.ruleName, severity: v.severity, path: c.constructPath }))))
      .filter((f) => prefixes.some((prefix) => f.path.startsWith(prefix)));
    expect(findings).toEqual([]);
  });
});

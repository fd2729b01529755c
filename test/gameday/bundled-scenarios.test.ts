import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runScenario, type ScenarioRun } from '../../lib/gameday/engine';
import { stopGameDayDynamo } from '../../lib/gameday/local-dynamo';
import { scenarioFiles } from '../../lib/cli/gameday';
import { checkInvariants } from '../../lib/gameday/invariants';
import { reportScenario } from '../../lib/gameday/report';
import { loadScenario, parseScenario } from '../../lib/gameday/scenario';
import type { LedgerEntry } from '../../lambdas/shared/ledger';
import { LOCAL_LEDGER_TABLE } from '../../lib/local/local-ledger';
import { synthStack, testConfig } from '../support/synth';
import { evaluate } from '../iam/evaluate';
import { deniedCalls } from '../iam/game-day-permissions';
import { referenceProblems, stackPolicyDocuments } from '../iam/policy-reference';
import { servicePaths } from '../iam/service-paths';
import { StackPolicies, type PolicyDocument } from '../iam/stack-policies';

/*
 * Every bundled scenario, run once in process: each meets its expectations (what `npx medic
 * gameday`, the README's first command, checks), and its permissions are proven with a real IAM
 * policy evaluator (iam-simulate, with the IAM service reference of iam-data): every AWS call the
 * handlers make, against the identity policy the stack synthesizes for that function; every
 * service-to-service path of the stacks; and every action and condition key of every policy.
 * Each check is also shown to fail when a grant is taken away.
 */

const ENV = { account: '111111111111', region: 'eu-west-1' };
const dbDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medic-iam-'));
const runs = new Map<string, ScenarioRun>();

beforeAll(async () => {
  process.env.MEDIC_LOCAL_DB_DIR = dbDir;
  // Exactly what `medic gameday` runs without arguments, on consecutive simulated days as it does.
  for (const [day, file] of scenarioFiles().entries()) runs.set(path.basename(file).replace(/\.ya?ml$/, ''), await runScenario(loadScenario(file), day));
}, 300_000);
afterAll(async () => {
  await stopGameDayDynamo();
  fs.rmSync(dbDir, { recursive: true, force: true });
});

const run = (name: string): ScenarioRun => {
  const found = runs.get(name);
  if (!found) throw new Error(`no bundled scenario ${name}`);
  return found;
};

/** The template with `edit` applied to a copy of each statement (return undefined to drop it). */
function withStatements(template: Record<string, unknown>, edit: (statement: Record<string, any>, resourceId: string) => Record<string, any> | undefined): Record<string, unknown> {
  const copy = structuredClone(template) as { Resources: Record<string, { Type: string; Properties: Record<string, any> }> };
  for (const [id, resource] of Object.entries(copy.Resources)) {
    const document = resource.Properties?.PolicyDocument ?? resource.Properties?.KeyPolicy;
    if (!document) continue;
    document.Statement = document.Statement.map((s: Record<string, any>) => edit(s, id)).filter(Boolean);
  }
  return copy;
}
const actionsOf = (statement: Record<string, any>): string[] => [statement.Action].flat();

test('every bundled scenario meets its expectations (the README\'s first command, `npx medic gameday`)', () => {
  const bundled = fs.readdirSync(path.join(__dirname, '..', '..', 'scenarios')).filter((f) => /\.ya?ml$/.test(f));
  expect(runs.size).toBe(bundled.length);
  for (const [name, scenarioRun] of runs) {
    expect({ name, errors: scenarioRun.errors, failures: reportScenario(scenarioRun).failures }).toEqual({ name, errors: [], failures: [] });
  }
});

test('no bundled scenario breaks a safety invariant (what `medic gameday --chaos` checks, without its faults)', () => {
  for (const [name, scenarioRun] of runs) expect({ name, broken: checkInvariants(scenarioRun) }).toEqual({ name, broken: [] });
});

/*
 * The expectation matchers (docs/gameday.md, `expect`), each checked on a bundled run with
 * expectations of the test's own: met, and not met with the message `medic gameday` prints.
 */
describe('expectation matchers, on bundled runs', () => {
  /** The report of a bundled run (optionally altered) checked against `expect` (YAML, the inside of the scenario's `expect:`). */
  const checked = (name: string, expect: string, alter: (r: ScenarioRun) => ScenarioRun = (r) => r) => {
    const scenarioRun = alter(run(name));
    const parsed = parseScenario(`name: x\napp: ./x.ts\ntimeline: [{ alarm: a }]\nexpect:\n${expect}`, 'x.yaml').expect;
    return reportScenario({ ...scenarioRun, scenario: { ...scenarioRun.scenario, expect: parsed } });
  };
  const HEALS = 'ecs-restart-heals';
  const BURST = 'ecs-burst-blast-radius';
  const healsId = () => [...run(HEALS).incidents.keys()][0];

  test('counts as ranges: met, and not met with the range and what happened', () => {
    expect(checked(HEALS, "  calls: { 'ecs:UpdateService': { atLeast: 1, atMost: 2 } }\n  incidents: [{ runbook: api-restart, outcome: resolved, count: { atMost: 1 } }]").failures).toEqual([]);
    const report = checked(HEALS, "  incidents: [{ runbook: api-restart, outcome: resolved, count: { atLeast: 2 } }]\n  calls: { 'ecs:UpdateService': { atMost: 0 } }");
    expect(report.failures).toEqual([
      'expected at least 2 resolved incident(s) of api-restart, got 1 (its outcomes: resolved)',
      'expected at most 0 ecs:UpdateService call(s), the runbooks made 1',
    ]);
    expect(report.passed).toBe(false);
  });

  test('calls by runbook: the call is attributed to the runbook whose execution made it', () => {
    expect(checked(HEALS, "  calls: { 'api-restart/ecs:UpdateService': 1 }").failures).toEqual([]);
    expect(checked(HEALS, "  calls: { 'web-restart/ecs:UpdateService': { atLeast: 1 } }").failures)
      .toEqual(['expected at least 1 ecs:UpdateService call(s) by web-restart, it made 0 (ecs:UpdateService calls by runbook: api-restart)']);
  });

  test('callsWith: a subset of the parameters', () => {
    expect(checked(HEALS, "  callsWith: [{ call: 'ecs:UpdateService', parameters: { service: api, forceNewDeployment: true }, count: 1 }]").failures).toEqual([]);
    expect(checked(HEALS, "  callsWith: [{ call: 'ecs:UpdateService', parameters: { service: web } }]").failures).toEqual([
      'expected at least 1 ecs:UpdateService call(s) with {"service":"web"}, the runbooks made 0 (of 1 ecs:UpdateService call(s); parameters: {"cluster":"prod","service":"api","forceNewDeployment":true})',
    ]);
  });

  test('pages: subject and body, contains and regex', () => {
    expect(checked(BURST, "  pages:\n    - { subject: { regex: '^\\[medic\\] prod-restart: ' }, count: 2 }\n    - { body: { contains: 'BY REASON: blast-radius 2' }, count: 1 }").failures).toEqual([]);
    const subjects = run(BURST).notifications.map((n) => JSON.stringify(n.subject)).join(', ');
    expect(checked(BURST, "  pages: [{ subject: { contains: 'rolled back' }, body: { regex: 'WHAT FIRED' } }]").failures)
      .toEqual([`expected at least 1 page(s) with subject containing "rolled back" and body matching /WHAT FIRED/ to the escalation topic, got 0 (of 2: ${subjects})`]);
  });

  test('ledger phases: the exact sequence, consecutive repeats counted once', () => {
    expect(checked(HEALS, '  ledger: { phases: [{ runbook: api-restart, phases: [received, admitted, planned, acting, acted, checked, verified, completed] }] }').failures).toEqual([]);
    expect(checked(HEALS, '  ledger: { phases: [{ runbook: api-restart, phases: [received, admitted, completed] }] }').failures).toEqual([
      `expected every incident of api-restart to record phases received, admitted, completed, 1 of 1 did not: ${healsId()} recorded received, admitted, planned, acting, acted, checked, verified, completed`,
    ]);
    expect(checked(HEALS, '  ledger: { phases: [{ runbook: api-restart, outcome: denied, phases: [received, denied] }] }').failures)
      .toEqual(['expected every denied incident of api-restart to record phases received, denied, there is no such incident']);
  });

  /** The run with its incident's trail rewritten by `edit`. */
  const edited = (edit: (entries: LedgerEntry[]) => LedgerEntry[]) => (r: ScenarioRun): ScenarioRun => ({
    ...r, incidents: new Map([...r.incidents].map(([id, entries]) => [id, edit(entries)])),
  });

  test('ledger terminal: every incident ends in an ending entry', () => {
    expect(checked(HEALS, '  ledger: { terminal: true }').failures).toEqual([]);
    expect(checked(HEALS, '  ledger: { terminal: true }', edited((entries) => entries.slice(0, 5))).failures).toEqual([
      `expected every incident to end in an ending entry (completed, escalated, digested, digest-sent, rejected, duplicate, suppressed, swept, reconciled), 1 of 1 did not: ${healsId()} (last: acted)`,
    ]);
  });

  test('ledger chainsVerify: every hash chain verifies', () => {
    expect(checked(HEALS, '  ledger: { chainsVerify: true }').failures).toEqual([]);
    const tampered = edited((entries) => entries.map((e) => (e.seq === 2 ? { ...e, detail: '{"forged":true}' } : e)));
    expect(checked(HEALS, '  ledger: { chainsVerify: true }', tampered).failures).toEqual([
      `expected every incident's hash chain to verify, 1 of 1 did not: ${healsId()} at entry 2: hash does not match the entry's content (entry modified)`,
    ]);
  });

  test('denials: by runbook and category', () => {
    expect(checked(BURST, '  denials: [{ runbook: prod-restart, reason: blast-radius, count: { atLeast: 3 } }]').failures).toEqual([]);
    expect(checked(BURST, '  denials: [{ runbook: prod-restart, reason: kill-switch }]').failures)
      .toEqual(['expected at least 1 kill-switch denial(s) of prod-restart, got 0 (its denials: blast-radius x3)']);
  });

  test('each expectation\'s result is in the report, met or not, in the order of expect', () => {
    const report = checked(HEALS, "  incidents: [{ runbook: api-restart, outcome: resolved }]\n  calls: { 'ecs:UpdateService': 2 }\n  ledger: { terminal: true }");
    expect(report.expectations).toEqual([
      { expectation: 'at least 1 resolved incident(s) of api-restart', passed: true, detail: 'got 1' },
      { expectation: '2 ecs:UpdateService call(s)', passed: false, detail: 'expected 2 ecs:UpdateService call(s), the runbooks made 1' },
      { expectation: 'every incident ends in an ending entry', passed: true, detail: 'all 1 did' },
    ]);
    expect(report.failures).toEqual(['expected 2 ecs:UpdateService call(s), the runbooks made 1']);
  });
});

describe('every AWS call of the game day is allowed by the synthesized policy of the function that made it', () => {
  test('all bundled scenarios: no call denied, and every mutating API medic uses was evaluated', async () => {
    const evaluated = new Set<string>();
    for (const [name, scenarioRun] of runs) {
      const { denials, evaluated: count } = await deniedCalls(scenarioRun);
      expect({ name, denials }).toEqual({ name, denials: [] });
      expect(count).toBeGreaterThan(0);
      for (const call of scenarioRun.apiCalls) evaluated.add(`${call.service}:${call.operation}`);
    }
    expect([...evaluated]).toEqual(expect.arrayContaining([
      'ecs:UpdateService', 'ecs:ListTasks', 'ecs:StopTask', 'autoscaling:UpdateAutoScalingGroup', 'rds:FailoverDBCluster', 'rds:RebootDBInstance', 'ssm:SendCommand', 'ssm:CancelCommand',
      'acm:RenewCertificate', 'route53:ChangeResourceRecordSets', 'sns:Publish', 's3:PutObject', 'dynamodb:PutItem', 'ssm:GetParameters',
    ]));
  });

  test('only the ledger writer puts ledger items and makes MACs; every other function appends by invoking it', async () => {
    const writers = new Set<string>();
    const macs = new Set<string>();
    const invokers = new Set<string>();
    for (const scenarioRun of runs.values()) {
      for (const call of scenarioRun.apiCalls) {
        if (call.service === 'dynamodb' && call.input.TableName === LOCAL_LEDGER_TABLE && call.operation !== 'Query' && call.operation !== 'GetItem') writers.add(`${call.functionId} ${call.operation}`);
        if (call.service === 'kms' && call.operation === 'GenerateMac') macs.add(String(call.functionId));
        if (call.service === 'lambda') invokers.add(String(call.functionId));
      }
    }
    expect(writers.size).toBe(1);
    expect([...writers][0]).toMatch(/^PlatformLedgerWriterFunction\w+ PutItem$/);
    expect([...macs]).toEqual([[...writers][0].split(' ')[0]]);
    expect(invokers.size).toBeGreaterThan(4);
    expect([...invokers].some((f) => f.startsWith('PlatformLedgerWriter'))).toBe(false);
  });

  test('a grant taken out of the template is a denial naming the function, the call and the resource', async () => {
    const heals = run('ecs-restart-heals');
    const template = withStatements(heals.template, (s) => {
      const actions = actionsOf(s).filter((a) => a !== 'ecs:UpdateService');
      return actions.length ? { ...s, Action: actions } : undefined;
    });
    const { denials } = await deniedCalls(heals, template);
    expect(denials.map((d) => [d.functionId, d.call, d.request.resource, d.verdict.result])).toEqual([
      [expect.stringMatching(/^EcsTaskRestart.*Steps/), 'ecs:UpdateService', 'arn:aws:ecs:eu-west-1:111111111111:service/prod/api', 'ImplicitlyDenied'],
    ]);
  });

  test('a tag condition is evaluated against the resource\'s tags: with another tag in the condition, SendCommand on the fleet is denied', async () => {
    const fleet = run('disk-prune-fleet');
    expect((await deniedCalls(fleet)).denials).toEqual([]);
    const template = withStatements(fleet.template, (s) => {
      const equals = s.Condition?.StringEquals as Record<string, unknown> | undefined;
      const key = Object.keys(equals ?? {}).find((k) => k.startsWith('ssm:resourceTag/'));
      return key ? { ...s, Condition: { StringEquals: { [key]: 'another-fleet' } } } : s;
    });
    const { denials } = await deniedCalls(fleet, template);
    expect(denials.length).toBeGreaterThan(0);
    expect(new Set(denials.map((d) => `${d.call} ${d.request.resource.split(':')[5].split('/')[0]}`))).toEqual(new Set(['ssm:SendCommand instance']));
  });

  test('FailoverDBCluster to a named reader is also authorised on the reader\'s db ARN (issue 13, item 13)', async () => {
    const withReader = [...runs.values()].find((r) => r.apiCalls.some((c) => c.operation === 'FailoverDBCluster' && c.input.TargetDBInstanceIdentifier));
    expect(withReader).toBeDefined();
    expect((await deniedCalls(withReader!)).denials).toEqual([]);
    const template = withStatements(withReader!.template, (s) => (actionsOf(s).includes('rds:FailoverDBCluster')
      ? { ...s, Resource: [s.Resource].flat().filter((r: unknown) => !JSON.stringify(r).includes(':db:')) }
      : s));
    const { denials } = await deniedCalls(withReader!, template);
    expect(denials.map((d) => [d.call, d.request.resource.split(':').slice(5).join(':')])).toEqual([
      ['rds:FailoverDBCluster', expect.stringMatching(/^db:/)],
    ]);
  });
});

/** The templates to check: the test config (every runbook kind and option), a stack with retention (archiving) and each bundled scenario's stack. */
function templates(): Array<[string, Record<string, unknown>]> {
  const withRetention = { ...testConfig, stackName: 'MedicRetention', ledgerRetentionDays: 400, runbooks: { ecsTaskRestart: [testConfig.runbooks.ecsTaskRestart![0]] } };
  return [['test config', synthStack(testConfig).template.toJSON()], ['retention (archiving)', synthStack(withRetention).template.toJSON()], ...[...runs].map(([name, r]): [string, Record<string, unknown>] => [name, r.template])];
}

describe('service-to-service paths', () => {
  test('alarms and rules may publish to the escalation topic and use its key; rules and schedules start their state machines; dead-letter queues accept their rule; state machines invoke their functions', async () => {
    const kinds = new Set<string>();
    for (const [name, template] of templates()) {
      for (const p of servicePaths(new StackPolicies(template, ENV))) {
        kinds.add(`${p.principal.includes(':role/') ? 'role' : p.principal} ${p.request.action}`);
        const verdict = await evaluate(p.principal, ENV.account, p.request, p.identityPolicies, p.resourcePolicy);
        expect({ name, path: p.path, verdict }).toEqual({ name, path: p.path, verdict: { result: 'Allowed' } });
      }
    }
    expect([...kinds]).toEqual(expect.arrayContaining([
      'cloudwatch.amazonaws.com sns:Publish', 'cloudwatch.amazonaws.com kms:GenerateDataKey', 'events.amazonaws.com sns:Publish',
      'events.amazonaws.com kms:Decrypt', 'events.amazonaws.com sqs:SendMessage', 'role states:StartExecution', 'role lambda:InvokeFunction',
    ]));
  });

  test('each path is denied when the policy that opens it loses its statement', async () => {
    const template = run('ecs-restart-heals').template;
    const cases: Array<[string, (s: Record<string, any>, id: string) => boolean]> = [
      ['cloudwatch.amazonaws.com sns:Publish', (s) => JSON.stringify(s.Principal ?? '').includes('cloudwatch') && actionsOf(s).includes('sns:Publish')],
      ['events.amazonaws.com kms:GenerateDataKey,events.amazonaws.com kms:Decrypt', (s, id) => id.includes('Key') && JSON.stringify(s.Principal ?? '').includes('events')],
      ['events.amazonaws.com sqs:SendMessage', (s) => actionsOf(s).includes('sqs:SendMessage')],
      ['role states:StartExecution', (s) => actionsOf(s).includes('states:StartExecution')],
      ['role lambda:InvokeFunction', (s) => actionsOf(s).includes('lambda:InvokeFunction')],
    ];
    for (const [kind, drop] of cases) {
      const broken = new StackPolicies(withStatements(template, (s, id) => (drop(s, id) ? undefined : s)), ENV);
      const denied: string[] = [];
      for (const p of servicePaths(broken)) {
        const verdict = await evaluate(p.principal, ENV.account, p.request, p.identityPolicies, p.resourcePolicy);
        if (verdict.result !== 'Allowed') denied.push(`${p.principal.includes(':role/') ? 'role' : p.principal} ${p.request.action}`);
      }
      expect({ kind, denied: [...new Set(denied)] }).toEqual({ kind, denied: kind.split(',') });
    }
  });
});

describe('every policy speaks the IAM service reference', () => {
  test('every action and condition key of every synthesized policy exists and applies to its actions', async () => {
    for (const [name, template] of templates()) {
      for (const { name: policy, document } of stackPolicyDocuments(new StackPolicies(template, ENV))) {
        expect({ name, policy, problems: await referenceProblems(policy, document) }).toEqual({ name, policy, problems: [] });
      }
    }
  });

  test('an unknown action, an unknown key and a key of another service are reported', async () => {
    const document: PolicyDocument = {
      Statement: [
        { Effect: 'Allow', Action: 'ecs:RestartService', Resource: '*' },
        { Effect: 'Allow', Action: 'sns:Publish', Resource: '*', Condition: { ArnEquals: { 'ecs:cluster': 'arn:aws:ecs:eu-west-1:111111111111:cluster/prod' } } },
        { Effect: 'Allow', Action: 'rds:Failover*', Resource: '*', Condition: { StringEquals: { 'rds:no-such-key': 'x' } } },
      ],
    };
    expect((await referenceProblems('fixture', document)).map((p) => p.problem)).toEqual([
      'action ecs:RestartService is not in the IAM reference',
      'condition key ecs:cluster does not apply to sns:Publish',
      'condition key rds:no-such-key is not in the IAM reference',
    ]);
  });
});

import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadScenario, parseScenario, ScenarioError, WORLD_KEYS } from '../../lib/gameday/scenario';

const ROOT = path.join(__dirname, '..', '..');
const CONFIG = `config:
  stackName: GameDay
  env: { account: '111111111111', region: eu-west-1 }
  runbooks: {}
`;
const TIMELINE = 'timeline: [{ alarm: a }]\n';
const scenario = (extra: string, timeline = TIMELINE) => parseScenario(`name: s\n${CONFIG}${timeline}${extra}`, 'test.yaml', '/scenarios');

/** The error parseScenario throws for `extra`, failing the test if it does not throw. */
function errorOf(extra: string, timeline = TIMELINE): string {
  try {
    scenario(extra, timeline);
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    expect((error as Error).message).not.toContain('\n');
    return (error as Error).message;
  }
  throw new Error('parseScenario accepted the scenario');
}

describe('world keys', () => {
  test('WORLD_KEYS is exactly the set of world parts the simulated services read (world.spec.<key> in lib/gameday/services)', () => {
    const dir = path.join(ROOT, 'lib', 'gameday', 'services');
    const read = new Set(fs.readdirSync(dir).flatMap((f) => [...fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/world\.spec\.(\w+)/g)].map((m) => m[1])));
    expect([...read].sort()).toEqual(Object.keys(WORLD_KEYS).sort());
  });

  test('an unknown key under world is an error naming it and the known ones', () => {
    expect(errorOf('world: { ecs: { services: [] }, ecss: { services: [] } }'))
      .toBe('test.yaml: world.ecss: unknown key; did you mean "ecs"? (known: alarms, ecs, autoScaling, rds, ec2, acm; a services module of your own declares the keys it reads: services: [{ module: <path>, world: [ecss] }])');
  });

  test('a services module of your own declares the world keys it reads; its part reaches world.spec unchanged', () => {
    const s = scenario('services: [./plain.ts, { module: ./payments.ts, world: [payments] }]\nworld: { payments: { ledger: [1, 2] } }');
    expect(s.services).toEqual(['/scenarios/plain.ts', '/scenarios/payments.ts']);
    expect(s.world).toEqual({ payments: { ledger: [1, 2] }, alarms: {} });
  });

  test('a declaration is checked like everything else', () => {
    expect(errorOf('services: [{ module: ./payments.ts, worlds: [payments] }]')).toContain('services[0].worlds: unknown key; did you mean "world"? (known: module, world)');
    expect(errorOf('services: [{ module: ./payments.ts }]')).toBe('test.yaml: services[0].world: is required');
    expect(errorOf('services: [7]')).toBe('test.yaml: services[0]: must be a module path, or { module: <path>, world: [<keys it reads>] }, got 7');
  });

  test('world must be a mapping', () => {
    expect(errorOf('world: [ecs]')).toMatch(/^test\.yaml: world: must be an object: each service's part of the simulated AWS, got a list/);
  });
});

describe('alarms', () => {
  test('are read with their defaults: recovers never is no recovery', () => {
    const s = scenario(`world:
  alarms:
    api-5xx: { state: ALARM, dimensions: { ClusterName: prod }, threshold: 5, recovers: { when: 'ecs:UpdateService', after: 90s } }
    quiet: { recovers: never }
`);
    expect(s.world.alarms).toEqual({
      'api-5xx': { state: 'ALARM', dimensions: { ClusterName: 'prod' }, threshold: 5, recovers: { when: 'ecs:UpdateService', after: 90 } },
      quiet: {},
    });
  });

  test.each<[string, string]>([
    ['{ stat: ALARM }', 'test.yaml: world.alarms.a.stat: unknown key; did you mean "state"? (known: state, namespace, metric, dimensions, threshold, recovers)'],
    ['{ state: FIRING }', 'test.yaml: world.alarms.a.state: must be one of OK, ALARM, INSUFFICIENT_DATA, got "FIRING"'],
    ['{ dimensions: { Port: 80 } }', 'test.yaml: world.alarms.a.dimensions.Port: must be a string (quote it), got 80'],
    ['{ recovers: { when: UpdateService, after: 1m } }', 'test.yaml: world.alarms.a.recovers.when: "UpdateService" is not service:Operation (e.g. ecs:UpdateService)'],
    ['{ recovers: { when: \'ecs:UpdateService\' } }', 'test.yaml: world.alarms.a.recovers.after: is required'],
    ['{ recovers: sometimes }', 'test.yaml: world.alarms.a.recovers: must be { when: service:Operation, after: duration } or never, got "sometimes"'],
  ])('alarm %s is refused', (spec, message) => {
    expect(errorOf(`world: { alarms: { a: ${spec} } }`)).toBe(message);
  });
});

describe('timeline, faults, expectations', () => {
  test('defaults: at 0, one delivery, no faults, no expectations, a 7-day limit, the default start', () => {
    const s = scenario('', 'timeline: [{ alarm: a }, { event: { source: aws.acm, detailType: X, resources: [] } }]\n');
    expect(s.timeline).toEqual([
      { at: 0, kind: 'alarm', alarm: 'a', state: 'ALARM', deliveries: 1 },
      { at: 0, kind: 'event', source: 'aws.acm', detailType: 'X', resources: [], detail: {}, deliveries: 1 },
    ]);
    expect(s).toMatchObject({ faults: [], expect: { incidents: [], calls: {} }, limitSeconds: 7 * 86400, description: '', services: [] });
    expect(s.start.toISOString()).toBe('2026-11-22T03:17:00.000Z');
  });

  test('every kind of event and fault reads as before', () => {
    const s = scenario(`faults:
  - { dynamodb: unavailable, after: 'ecs:UpdateService', for: 10m }
  - { dynamodb: unavailable, for: 1m }
expect: { totalIncidents: 2, notifications: 1, leasesHeld: 0 }
`, `timeline:
  - { at: 1m, changeCalendar: CLOSED }
  - { at: 2m, start: { runbook: drill, input: { dryRun: true } } }
  - { at: 3m, reconcile: true }
  - { at: 4m, killSwitch: off }
`);
    expect(s.timeline).toEqual([
      { at: 60, kind: 'change-calendar', state: 'CLOSED' },
      { at: 120, kind: 'start', runbook: 'drill', input: { dryRun: true } },
      { at: 180, kind: 'reconcile' },
      { at: 240, kind: 'kill-switch', value: 'off' },
    ]);
    expect(s.faults).toEqual([
      { kind: 'dynamodb-unavailable', from: 0, for: 600, after: 'ecs:UpdateService' },
      { kind: 'dynamodb-unavailable', from: 0, for: 60 },
    ]);
    expect(s.expect).toEqual({ incidents: [], calls: {}, totalIncidents: 2, notifications: 1, leasesHeld: 0 });
  });

  test('fault rules, alarm states, changes and triggers read with their defaults', () => {
    const s = scenario(`faults:
  - { operation: 'ecs:UpdateService', error: ThrottlingException }
  - { operation: 'dynamodb:PutItem', target: ledger, after: 2, times: always, window: { from: 1m, for: 5m }, error: timeout-after-effect }
  - { operation: 'lambda:InvokeFunction', target: Act, runbook: r, error: timeout-while-running }
  - { operation: 'sns:Publish', error: latency, latency: 30s }
`, `timeline:
  - { at: 1m, alarm: a, state: OK }
  - { at: 2m, change: { ecs: { service: api, delete: true } } }
  - { when: { phase: admitted, runbook: r }, killSwitch: on }
  - { when: { call: 'ecs:UpdateService', occurrence: 2, delay: 10s }, changeCalendar: CLOSED }
`);
    expect(s.faults).toEqual([
      { kind: 'api', operation: 'ecs:UpdateService', after: 0, times: 1, effect: { kind: 'error', error: 'ThrottlingException' } },
      { kind: 'api', operation: 'dynamodb:PutItem', target: 'ledger', after: 2, times: Number.MAX_SAFE_INTEGER, window: { from: 60, for: 300 }, effect: { kind: 'timeout-after-effect' } },
      { kind: 'api', operation: 'lambda:InvokeFunction', target: 'Act', runbook: 'r', after: 0, times: 1, effect: { kind: 'timeout-while-running' } },
      { kind: 'api', operation: 'sns:Publish', after: 0, times: 1, effect: { kind: 'latency', seconds: 30 } },
    ]);
    expect(s.timeline).toEqual([
      { at: 0, kind: 'kill-switch', value: 'on', when: { phase: 'admitted', runbook: 'r', occurrence: 1, delay: 0 } },
      { at: 0, kind: 'change-calendar', state: 'CLOSED', when: { call: 'ecs:UpdateService', occurrence: 2, delay: 10 } },
      { at: 60, kind: 'alarm', alarm: 'a', state: 'OK', deliveries: 1 },
      { at: 120, kind: 'change', service: 'ecs', change: { service: 'api', delete: true } },
    ]);
  });

  test('the matchers read: counts as ranges, calls by runbook, callsWith, pages, ledger and denials', () => {
    const s = scenario(`expect:
  incidents: [{ runbook: r, outcome: resolved, count: { atLeast: 1, atMost: 2 } }]
  calls: { 'ecs:UpdateService': { atMost: 1 }, 'r/ecs:UpdateService': 1 }
  callsWith: [{ call: 'r/ecs:UpdateService', parameters: { service: api, forceNewDeployment: true }, count: { atLeast: 1 } }]
  pages: [{ subject: { contains: restart }, body: { regex: 'WHAT FIRED: .*api' } }]
  ledger: { phases: [{ runbook: r, outcome: resolved, phases: [received, admitted, completed] }], terminal: true, chainsVerify: true }
  denials: [{ runbook: r, reason: blast-radius, count: 3 }]
`, TIMELINE);
    expect(s.expect).toEqual({
      incidents: [{ runbook: 'r', outcome: 'resolved', count: { atLeast: 1, atMost: 2 } }],
      calls: { 'ecs:UpdateService': { atMost: 1 }, 'r/ecs:UpdateService': 1 },
      callsWith: [{ call: 'r/ecs:UpdateService', parameters: { service: 'api', forceNewDeployment: true }, count: { atLeast: 1 } }],
      pages: [{ subject: { contains: 'restart' }, body: { regex: 'WHAT FIRED: .*api' } }],
      ledger: { phases: [{ runbook: 'r', outcome: 'resolved', phases: ['received', 'admitted', 'completed'] }], terminal: true, chainsVerify: true },
      denials: [{ runbook: 'r', reason: 'blast-radius', count: 3 }],
    });
  });

  test.each<[string, string, string, string]>([
    ['an event whose detail is not an object', '', 'timeline: [{ event: { source: s, detailType: d, resources: [], detail: text } }]\n', 'test.yaml: timeline[0].event.detail: must be an object (the event\'s detail), got "text"'],
    ['an unknown key in an event', '', 'timeline: [{ event: { source: s, detailType: d, resources: [], details: {} } }]\n', 'test.yaml: timeline[0].event.details: unknown key; did you mean "detail"? (known: source, detailType, resources, detail, account, region, id, time)'],
    ['a start without input', '', 'timeline: [{ start: { runbook: r } }]\n', 'test.yaml: timeline[0].start.input: is required'],
    ['an event with no kind', '', 'timeline: [{ at: 1m }]\n', 'test.yaml: timeline[0]: give exactly one of alarm, change, killSwitch, changeCalendar, start, event, approve, reject, sweep, reconcile (got none)'],
    ['a timeline that is not a list', '', 'timeline: { alarm: a }\n', 'test.yaml: timeline: must list at least one event, got an object'],
    ['a fault with from and after', 'faults: [{ dynamodb: unavailable, from: 0s, after: \'ecs:UpdateService\', for: 1m }]', TIMELINE, 'test.yaml: faults[0]: give from or after, not both'],
    ['a fault of no kind', 'faults: [{ error: ThrottlingException }]', TIMELINE, 'test.yaml: faults[0]: give exactly one of operation, dynamodb (got none)'],
    ['a negative count', 'faults: [{ operation: \'ecs:UpdateService\', error: E, times: -1 }]', TIMELINE, 'test.yaml: faults[0].times: must be a whole number, got -1'],
    ['an unknown expectation', 'expect: { incident: [] }', TIMELINE, 'test.yaml: expect.incident: unknown key; did you mean "incidents"? (known: incidents, calls, callsWith, pages, ledger, denials, totalIncidents, notifications, leasesHeld, approvals, deadLetters, selfAlarms)'],
    ['a call count that is not a number', 'expect: { calls: { \'ecs:UpdateService\': one } }', TIMELINE, 'test.yaml: expect.calls["ecs:UpdateService"]: must be a whole number or { atLeast?, atMost? }, got "one"'],
    ['a call count that is not whole', 'expect: { calls: { \'ecs:UpdateService\': 1.5 } }', TIMELINE, 'test.yaml: expect.calls["ecs:UpdateService"]: must be a whole number, got 1.5'],
    ['a misspelt range bound', 'expect: { calls: { \'ecs:UpdateService\': { atleast: 1 } } }', TIMELINE, 'test.yaml: expect.calls["ecs:UpdateService"].atleast: unknown key; did you mean "atLeast"? (known: atLeast, atMost)'],
    ['a range without bounds', 'expect: { incidents: [{ runbook: r, outcome: resolved, count: {} }] }', TIMELINE, 'test.yaml: expect.incidents[0].count: give atLeast, atMost or both'],
    ['a range upside down', 'expect: { incidents: [{ runbook: r, outcome: resolved, count: { atLeast: 3, atMost: 1 } }] }', TIMELINE, 'test.yaml: expect.incidents[0].count: atLeast (3) is more than atMost (1)'],
    ['a calls key that is not an operation', 'expect: { calls: { UpdateService: 1 } }', TIMELINE, 'test.yaml: expect.calls.UpdateService: is not service:Operation or runbook/service:Operation (e.g. api-restart/ecs:UpdateService)'],
    ['callsWith without parameters', 'expect: { callsWith: [{ call: \'ecs:UpdateService\' }] }', TIMELINE, 'test.yaml: expect.callsWith[0].parameters: is required'],
    ['callsWith of no operation', 'expect: { callsWith: [{ call: UpdateService, parameters: {} }] }', TIMELINE, 'test.yaml: expect.callsWith[0].call: "UpdateService" is not service:Operation or runbook/service:Operation (e.g. api-restart/ecs:UpdateService)'],
    ['a page matcher with two kinds', 'expect: { pages: [{ subject: { contains: a, regex: b } }] }', TIMELINE, 'test.yaml: expect.pages[0].subject: give exactly one of contains, regex (got contains, regex)'],
    ['a page matcher that is text', 'expect: { pages: [{ body: down }] }', TIMELINE, 'test.yaml: expect.pages[0].body: must be an object: give exactly one of contains, regex'],
    ['a page regex that does not compile', 'expect: { pages: [{ subject: { regex: \'(\' } }] }', TIMELINE, 'test.yaml: expect.pages[0].subject.regex: "(" is not a regular expression (Invalid regular expression: /(/: Unterminated group)'],
    ['an unknown phase', 'expect: { ledger: { phases: [{ runbook: r, phases: [received, healed] }] } }', TIMELINE, `test.yaml: expect.ledger.phases[0].phases[1]: must be a phase: ${'received, rejected, duplicate, admitted, denied, planned, deferred, approval-requested, approved, approval-rejected, approval-expired, acting, acted, act-failed, checked, verified, verification-failed, rolled-back, rollback-failed, escalated, completed, swept, suppressed, digested, digest-sent, reconciled'}, got "healed"`],
    ['terminal: false', 'expect: { ledger: { terminal: false } }', TIMELINE, 'test.yaml: expect.ledger.terminal: must be true (leave it out to not check), got false'],
    ['an unknown ledger check', 'expect: { ledger: { chains: true } }', TIMELINE, 'test.yaml: expect.ledger.chains: unknown key (known: phases, terminal, chainsVerify)'],
    ['a denial without its reason', 'expect: { denials: [{ runbook: r }] }', TIMELINE, 'test.yaml: expect.denials[0].reason: is required'],
    ['a start that is not a date', 'start: yesterday', TIMELINE, 'test.yaml: start: "yesterday" is not a date (like 2026-11-22T03:17:00Z)'],
    ['an alarm state that is not one', '', 'timeline: [{ alarm: a, state: FIRING }]\n', 'test.yaml: timeline[0].state: must be one of ALARM, OK, INSUFFICIENT_DATA, got "FIRING"'],
    ['a change of two services', '', 'timeline: [{ change: { ecs: {}, rds: {} } }]\n', 'test.yaml: timeline[0].change: must name one world key with its change (got ecs, rds), e.g. { ecs: { service: api, delete: true } }'],
    ['both at and when', '', 'timeline: [{ at: 1m, when: { phase: admitted }, killSwitch: on }]\n', 'test.yaml: timeline[0]: give at (a time) or when (a trigger), not both'],
    ['a trigger with no phase or call', '', 'timeline: [{ when: { runbook: r }, killSwitch: on }]\n', 'test.yaml: timeline[0].when: give exactly one of phase (a ledger phase) or call (service:Operation)'],
    ['a trigger on an unknown phase', '', 'timeline: [{ when: { phase: healed }, killSwitch: on }]\n', `test.yaml: timeline[0].when.phase: must be a phase: ${'received, rejected, duplicate, admitted, denied, planned, deferred, approval-requested, approved, approval-rejected, approval-expired, acting, acted, act-failed, checked, verified, verification-failed, rolled-back, rollback-failed, escalated, completed, swept, suppressed, digested, digest-sent, reconciled'}, got "healed"`],
    ['a misspelt trigger key', '', 'timeline: [{ when: { phase: admitted, ocurrence: 2 }, killSwitch: on }]\n', 'test.yaml: timeline[0].when.ocurrence: unknown key; did you mean "occurrence"? (known: phase, call, runbook, occurrence, delay)'],
    ['latency without its duration', 'faults: [{ operation: \'ecs:UpdateService\', error: latency }]', TIMELINE, 'test.yaml: faults[0].latency: error: latency needs latency: <duration> (how late the answer comes)'],
    ['a latency on an error', 'faults: [{ operation: \'ecs:UpdateService\', error: ThrottlingException, latency: 5s }]', TIMELINE, 'test.yaml: faults[0].latency: is only for error: latency'],
    ['timeout-while-running on an API', 'faults: [{ operation: \'ecs:UpdateService\', error: timeout-while-running }]', TIMELINE, 'test.yaml: faults[0].error: timeout-while-running is only for lambda:InvokeFunction (the handler runs on while its caller gives up)'],
    ['a DynamoDB fault for one runbook', 'faults: [{ operation: \'dynamodb:PutItem\', error: InternalServerError, runbook: r }]', TIMELINE, 'test.yaml: faults[0].runbook: DynamoDB faults affect every caller (the local DynamoDB cannot tell runbooks apart); use target: ledger, limiter or a table name'],
    ['times that is not a count', 'faults: [{ operation: \'ecs:UpdateService\', error: E, times: often }]', TIMELINE, 'test.yaml: faults[0].times: must be a whole number or always, got "often"'],
  ])('%s is refused with its path', (_what, extra, timeline, message) => {
    expect(errorOf(extra, timeline)).toBe(message);
  });

  test('YAML that does not parse is one line naming the file', () => {
    expect(() => parseScenario('name: s\ntimeline: [{ alarm: a }\n', 'broken.yaml')).toThrow(/^broken\.yaml: not valid YAML \([^\n]*\)$/);
  });

  test('a file that is not a mapping', () => {
    expect(() => parseScenario('- a\n', 'list.yaml')).toThrow(new ScenarioError('list.yaml: must be a mapping, got a list'));
  });
});

test('every bundled scenario and the own-app fixture parse', () => {
  const dir = path.join(ROOT, 'scenarios');
  const files = [...fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => path.join(dir, f)), path.join(ROOT, 'test', 'gameday', 'fixtures', 'own-app.yaml')];
  for (const file of files) expect(() => loadScenario(file)).not.toThrow();
});

describe('kill-switch events: any value, the parameter deleted, or unreadable', () => {
  test('each reads as its own kind of value', () => {
    const s = scenario('', `timeline:
  - { at: 1m, killSwitch: 'Off', runbook: r }
  - { at: 2m, killSwitch: '' }
  - { at: 3m, killSwitch: { deleted: true }, runbook: r }
  - { at: 4m, killSwitch: { unreadable: true } }
`);
    expect(s.timeline).toEqual([
      { at: 60, kind: 'kill-switch', value: 'Off', runbook: 'r' },
      { at: 120, kind: 'kill-switch', value: '' },
      { at: 180, kind: 'kill-switch', value: { deleted: true }, runbook: 'r' },
      { at: 240, kind: 'kill-switch', value: { unreadable: true } },
    ]);
  });

  test.each([
    ['{ deleted: false }'],
    ['{ gone: true }'],
    ['42'],
  ])('%s is refused with one line naming the event', (value) => {
    expect(errorOf('', `timeline: [{ at: 1m, killSwitch: ${value} }]\n`)).toMatch(/^test\.yaml: timeline\[0\]\.killSwitch: /);
  });
});

test('a raw event can claim its account, region, id and time (a duration from the scenario start)', () => {
  const s = scenario('', `timeline:
  - { at: 30m, event: { source: aws.acm, detailType: d, resources: [], account: '222222222222', region: us-east-1, id: e-1, time: 5m } }
  - { at: 31m, event: { source: aws.acm, detailType: d, resources: [] } }
`);
  expect(s.timeline).toEqual([
    { at: 1800, kind: 'event', source: 'aws.acm', detailType: 'd', resources: [], detail: {}, account: '222222222222', region: 'us-east-1', id: 'e-1', time: 300, deliveries: 1 },
    { at: 1860, kind: 'event', source: 'aws.acm', detailType: 'd', resources: [], detail: {}, deliveries: 1 },
  ]);
  expect(errorOf('', 'timeline: [{ event: { source: s, detailType: d, resources: [], time: soon } }]\n')).toBe('test.yaml: timeline[0].event.time: "soon" is not a duration (like 90s, 2m, 1h30m, or a number of seconds)');
});

import { canonicalJson } from '../../lambdas/shared/canonical-json';
import type { LedgerEntry, Phase } from '../../lambdas/shared/ledger';
import { jsonReport, scenarioLines, summaryTable } from '../../lib/cli/gameday';
import { SimClock } from '../../lib/gameday/clock';
import type { ScenarioRun } from '../../lib/gameday/engine';
import { formatDuration, parseDuration } from '../../lib/gameday/duration';
import { countMet, countText, includesParameters, outcomeOf, reportScenario } from '../../lib/gameday/report';
import { matchesPattern } from '../../lib/gameday/routing';
import { parseScenario } from '../../lib/gameday/scenario';

describe('SimClock', () => {
  const START = new Date('2026-11-22T03:17:00Z');

  test('concurrent participants see one time: the clock moves only when all of them wait, to the earliest wake-up', async () => {
    const clock = new SimClock(START);
    const seen: string[] = [];
    const worker = (name: string, waits: number[]) => clock.participate(async () => {
      for (const seconds of waits) {
        // Real work between waits does not move simulated time.
        await new Promise((resolve) => setTimeout(resolve, 3));
        await clock.sleep(seconds);
        seen.push(`${name}@${(clock.now() - START.getTime()) / 1000}`);
      }
    });
    clock.schedule(START.getTime(), () => {
      void worker('a', [60, 60]);
      void worker('b', [90]);
    });
    await clock.run(3600_000);
    expect(seen).toEqual(['a@60', 'b@90', 'a@120']);
  });

  test('Date reads the clock while installed; new Date(x) still means x', async () => {
    const clock = new SimClock(START);
    clock.install();
    try {
      expect(new Date().toISOString()).toBe('2026-11-22T03:17:00.000Z');
      expect(Date.now()).toBe(START.getTime());
      expect(new Date('2020-01-01T00:00:00Z').toISOString()).toBe('2020-01-01T00:00:00.000Z');
      expect(new Date() instanceof Date).toBe(true);
    } finally {
      clock.uninstall();
    }
    expect(Date.now()).toBeGreaterThan(START.getTime());
  });

  test('a scenario that would run past its limit fails instead of spinning', async () => {
    const clock = new SimClock(START);
    clock.schedule(START.getTime(), () => void clock.participate(async () => { for (;;) await clock.sleep(3600); }));
    await expect(clock.run(86_400_000)).rejects.toThrow('the scenario was still running after 86400s of simulated time');
  });
});

describe('durations', () => {
  test.each<[unknown, number]>([['90s', 90], ['2m', 120], ['1h30m', 5400], ['1d', 86400], [45, 45], ['500ms', 0.5]])('%s is %d s', (text, seconds) => {
    expect(parseDuration(text, 'x')).toBe(seconds);
  });
  test.each(['', '5 minutes', '-1s', '1h-2m', 'm'])('"%s" is refused', (text) => {
    expect(() => parseDuration(text, 'timeline[0].at')).toThrow(/^timeline\[0\]\.at: ".*" is not a duration/);
  });
  test('printing', () => {
    expect([45, 143, 3600 + 5 * 60].map(formatDuration)).toEqual(['45s', '2m23s', '1h05m']);
  });
});

describe('matchesPattern (EventBridge matching of the synthesized rules)', () => {
  const alarmRule = { source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], resources: ['arn:alarm:a'], detail: { state: { value: ['ALARM'] } } };
  const event = (resources: string[], state: string) => ({ source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change', resources, detail: { state: { value: state } } });

  test('matches its alarm going to ALARM, and any resource of a list', () => {
    expect(matchesPattern(alarmRule, event(['arn:alarm:a'], 'ALARM'))).toBe(true);
    expect(matchesPattern(alarmRule, event(['arn:alarm:z', 'arn:alarm:a'], 'ALARM'))).toBe(true);
  });
  test('not another alarm, another state or a missing field', () => {
    expect(matchesPattern(alarmRule, event(['arn:alarm:b'], 'ALARM'))).toBe(false);
    expect(matchesPattern(alarmRule, event(['arn:alarm:a'], 'OK'))).toBe(false);
    expect(matchesPattern(alarmRule, { source: 'aws.cloudwatch' })).toBe(false);
  });
  test('content filters it does not implement are an error, not a silent match', () => {
    expect(() => matchesPattern({ source: [{ suffix: '.acm' }] }, { source: 'aws.acm' })).toThrow(/content filter/);
  });
});

describe('parseScenario', () => {
  const CONFIG = `config:
  stackName: GameDay
  env: { account: '111111111111', region: eu-west-1 }
  runbooks: {}
`;
  const scenario = (extra: string) => parseScenario(`name: s\n${CONFIG}${extra}`, 'test.yaml');

  test('reads events, faults and expectations, sorted by time', () => {
    const s = scenario(`timeline:
  - { at: 10m, killSwitch: on, runbook: api-restart }
  - { at: 0s, alarm: api-5xx, deliveries: 2 }
faults:
  - { operation: 'ecs:UpdateService', error: ThrottlingException, times: 2 }
  - { dynamodb: unavailable, from: 1m, for: 5m }
expect:
  incidents: [{ runbook: api-restart, outcome: resolved, count: 1 }]
  calls: { 'ecs:UpdateService': 1 }
`);
    expect(s.timeline).toEqual([
      { at: 0, kind: 'alarm', alarm: 'api-5xx', state: 'ALARM', deliveries: 2 },
      { at: 600, kind: 'kill-switch', value: 'on', runbook: 'api-restart' },
    ]);
    expect(s.faults).toEqual([
      { kind: 'api', operation: 'ecs:UpdateService', after: 0, times: 2, effect: { kind: 'error', error: 'ThrottlingException' } },
      { kind: 'dynamodb-unavailable', from: 60, for: 300 },
    ]);
    expect(s.expect).toEqual({ incidents: [{ runbook: 'api-restart', outcome: 'resolved', count: 1 }], calls: { 'ecs:UpdateService': 1 } });
    expect(s.start.toISOString()).toBe('2026-11-22T03:17:00.000Z');
  });

  test.each<[string, RegExp]>([
    ['timeline: []', /timeline: must list at least one event/],
    ['timeline: [{ at: 0s, alarm: a, killSwitch: on }]', /give exactly one of alarm, change, killSwitch/],
    ['timeline: [{ at: soon, alarm: a }]', /timeline\[0\]\.at: "soon" is not a duration/],
    ['timeline: [{ alarm: a, retries: 2 }]', /timeline\[0\]\.retries: unknown key \(known: at, alarm, deliveries, state\)/],
    ['timeline: [{ alarm: a }]\nexpect: { incidents: [{ runbook: r, outcome: healed }] }', /outcome: must be one of resolved/],
    ['timeline: [{ alarm: a }]\nfaults: [{ operation: UpdateService, error: E }]', /is not service:Operation/],
    ['timeline: [{ alarm: a }]\nsurprise: 1', /test\.yaml: surprise: unknown key/],
  ])('%s is refused', (extra, message) => {
    expect(() => scenario(extra)).toThrow(message);
  });

  test('the config is checked as the reference app checks it', () => {
    expect(() => parseScenario('name: s\nconfig: { stackName: S, env: { account: 1, region: r }, runbooks: {} }\ntimeline: [{ alarm: a }]', 'bad.yaml'))
      .toThrow(/bad\.yaml: config\.env\.account: must be a 12-digit account id/);
  });
});

describe('expectation matching', () => {
  test('counts: a number is exact, a range is inclusive, none is at least one', () => {
    expect([countMet(2, 2), countMet(2, 3), countMet({ atLeast: 1 }, 5), countMet({ atMost: 1 }, 2), countMet({ atLeast: 1, atMost: 2 }, 0), countMet(undefined, 0), countMet(undefined, 1)])
      .toEqual([true, false, true, false, false, false, true]);
    expect([countText(2), countText({ atLeast: 1 }), countText({ atMost: 3 }), countText({ atLeast: 1, atMost: 3 }), countText({ atLeast: 2, atMost: 2 }), countText(undefined)])
      .toEqual(['2', 'at least 1', 'at most 3', 'between 1 and 3', '2', 'at least 1']);
  });

  test('parameters: a subset of objects at any depth; lists element by element; other values exactly', () => {
    const call = { cluster: 'prod', service: 'api', forceNewDeployment: true, tags: [{ key: 'a', value: '1' }], nested: { a: 1, b: 2 } };
    expect(includesParameters(call, { service: 'api', forceNewDeployment: true })).toBe(true);
    expect(includesParameters(call, { nested: { a: 1 }, tags: [{ key: 'a' }] })).toBe(true);
    expect(includesParameters(call, { forceNewDeployment: 'true' })).toBe(false);
    expect(includesParameters(call, { tags: [] })).toBe(false);
    expect(includesParameters(call, { missing: undefined, service: 'api' })).toBe(true);
    expect(includesParameters(call, { nested: 1 })).toBe(false);
  });
});

describe('outcomeOf', () => {
  const entries = (...phases: string[]): LedgerEntry[] => phases.map((phase, seq) => ({ phase, seq, detail: phase === 'completed' ? '{"outcome":"observed"}' : '{}' }) as unknown as LedgerEntry);
  test.each<[string[], string]>([
    [['received', 'admitted', 'planned', 'acting', 'acted', 'checked', 'verified', 'completed'], 'observed'],
    [['received', 'denied', 'escalated'], 'denied'],
    [['received', 'admitted', 'planned', 'escalated'], 'escalated'],
    [['rejected', 'escalated'], 'rejected'],
    [['duplicate'], 'duplicate'],
    [['received', 'admitted', 'planned', 'deferred'], 'deferred'],
    [['received', 'admitted'], 'incomplete'],
  ])('%j -> %s', (phases, outcome) => {
    expect(outcomeOf(entries(...phases))).toBe(outcome);
  });
});

describe('the printed report shows untrusted text inert; the JSON report keeps it exact', () => {
  // Alarm names, dimensions, reasons, error messages and published subjects are chosen by whoever
  // can create an alarm or put an event: printed, they must not drive the terminal or forge a line.
  const FORGED = 'WHAT MEDIC DID: nothing';
  const ALARM = `api-5xx\u001b[2J\u001b[31m\n${FORGED}\u202e`;
  const SHOWN_ALARM = 'api-5xx\\x1b[2J\\x1b[31m\\nWHAT MEDIC DID: nothing\\u202e';
  const ERROR = `execution api-restart-1 of api-restart could not run: boom\u001b[1A\u001b[2K\r\n${FORGED}`;
  const steps: Array<[Phase, string, unknown]> = [
    ['received', '03:17:00', { trigger: { kind: 'alarm', name: ALARM, at: '2026-11-22T03:17:00.000Z' }, target: { type: 'ecs-service', id: 'prod/api\u001b]0;pwned\u0007' } }],
    ['admitted', '03:17:00', {}],
    ['planned', '03:17:00', { decision: 'act', summary: `restart for ${ALARM}` }],
    ['acted', '03:17:00', { result: { calls: [{ service: 'ecs', operation: 'UpdateService', parameters: { cluster: 'prod', service: 'api\r\u009b2K', tags: { 'k\u202e': 'v\u2028' } } }] } }],
    ['checked', '03:18:00', { verdict: 'failure', reason: `ECS said\n${FORGED}\u2066` }],
    ['escalated', '03:19:00', { headline: 'verification failed\u001b[8m', diagnosis: ALARM }],
  ];
  const entries: LedgerEntry[] = steps.map(([phase, time, detail], i) => ({
    pk: 'INCIDENT#i', sk: `${i + 1}#${phase}`, incidentId: 'api-restart-0001', seq: i + 1, phase, at: `2026-11-22T${time}.000Z`, day: '2026-11-22',
    runbook: 'api-restart', targetArn: 'arn:aws:ecs:eu-west-1:111111111111:service/prod/api', actor: 'a', detail: canonicalJson(detail), prevHash: '', hash: '',
  }));
  const SUBJECT = `[medic] api-restart: verification failed (${ALARM})`;
  const run = {
    scenario: { name: 'hostile\u001b[31m', file: 'scenarios/hostile.yaml', expect: { incidents: [], calls: {} } },
    incidents: new Map([['api-restart-0001', entries]]),
    calls: [], errors: [ERROR], faultsApplied: [], unfiredTriggers: [], functionErrors: [], surroundings: { deadLetters: [], selfAlarms: [], unsimulatedAlarms: [] }, approvalAnswers: [],
    notifications: [{ at: '2026-11-22T03:19:00.000Z', subject: SUBJECT, message: `WHAT MEDIC DID: ${ALARM}` }],
  } as unknown as ScenarioRun;
  const report = reportScenario(run);
  const printed = [...scenarioLines(report), summaryTable([report])].join('\n');

  test('no control, escape or bidi character reaches the terminal, and the forged text never starts a line', () => {
    expect(printed).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    const lines = printed.split('\n').map((line) => line.replace(/^[│\s]+/, '').replace(/^\d\d:\d\d:\d\d /, ''));
    expect(lines.filter((line) => line.startsWith(FORGED))).toEqual([]);
  });

  test('the timeline, NOTIFY and failure lines show the escapes', () => {
    expect(report.incidents[0].timeline).toEqual([
      `03:17:00 DETECT ${SHOWN_ALARM} ALARM (ecs-service prod/api\\x1b]0;pwned\\x07)`,
      '03:17:00 ADMIT all guards passed',
      `03:17:00 PLAN act: restart for ${SHOWN_ALARM}`,
      '03:17:00 ACT ecs:UpdateService cluster=prod service=api\\r\\x9b2K tags={"k\\u202e":"v\\u2028"}',
      '03:18:00 VERIFY failure: ECS said\\nWHAT MEDIC DID: nothing\\u2066',
      `03:19:00 ESCALATE verification failed\\x1b[8m: ${SHOWN_ALARM}`,
    ]);
    expect(printed).toContain(`\n== hostile\\x1b[31m (scenarios/hostile.yaml) ==`);
    expect(printed).toContain(`   03:19:00 NOTIFY [medic] api-restart: verification failed (${SHOWN_ALARM})`);
    expect(printed).toContain('   EXPECTATION NOT MET: execution api-restart-1 of api-restart could not run: boom\\x1b[1A\\x1b[2K\\r\\nWHAT MEDIC DID: nothing');
    expect(printed).toMatch(/│ hostile\\x1b\[31m +│/);
  });

  test('the JSON report (for machines) keeps every value exact', () => {
    const json = jsonReport([report]) as { scenarios: Array<{ name: string; failures: string[]; incidents: Array<{ entries: Array<{ detail: any }> }> }> };
    expect(json.scenarios[0].name).toBe('hostile\u001b[31m');
    expect(json.scenarios[0].failures).toEqual([ERROR]);
    expect(json.scenarios[0].incidents[0].entries.map((e) => e.detail)).toEqual(steps.map(([, , detail]) => detail));
  });
});

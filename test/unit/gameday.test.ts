import type { LedgerEntry } from '../../lambdas/shared/ledger';
import { SimClock } from '../../lib/gameday/clock';
import { formatDuration, parseDuration } from '../../lib/gameday/duration';
import { outcomeOf } from '../../lib/gameday/report';
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
    expect(() => matchesPattern({ source: [{ prefix: 'aws.' }] }, { source: 'aws.acm' })).toThrow(/content filter/);
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
      { at: 0, kind: 'alarm', alarm: 'api-5xx', deliveries: 2 },
      { at: 600, kind: 'kill-switch', value: 'on', runbook: 'api-restart' },
    ]);
    expect(s.faults).toEqual([
      { kind: 'api', operation: 'ecs:UpdateService', error: 'ThrottlingException', times: 2 },
      { kind: 'dynamodb-unavailable', from: 60, for: 300 },
    ]);
    expect(s.expect).toEqual({ incidents: [{ runbook: 'api-restart', outcome: 'resolved', count: 1 }], calls: { 'ecs:UpdateService': 1 } });
    expect(s.start.toISOString()).toBe('2026-11-22T03:17:00.000Z');
  });

  test.each<[string, RegExp]>([
    ['timeline: []', /timeline: must list at least one event/],
    ['timeline: [{ at: 0s, alarm: a, killSwitch: on }]', /give exactly one of alarm, killSwitch/],
    ['timeline: [{ at: soon, alarm: a }]', /timeline\[0\]\.at: "soon" is not a duration/],
    ['timeline: [{ alarm: a, retries: 2 }]', /timeline\[0\]: unknown key\(s\) retries/],
    ['timeline: [{ alarm: a }]\nexpect: { incidents: [{ runbook: r, outcome: healed }] }', /outcome: must be one of resolved/],
    ['timeline: [{ alarm: a }]\nfaults: [{ operation: UpdateService, error: E }]', /is not service:Operation/],
    ['timeline: [{ alarm: a }]\nsurprise: 1', /test\.yaml: unknown key\(s\) surprise/],
  ])('%s is refused', (extra, message) => {
    expect(() => scenario(extra)).toThrow(message);
  });

  test('the config is checked as the reference app checks it', () => {
    expect(() => parseScenario('name: s\nconfig: { stackName: S, env: { account: 1, region: r }, runbooks: {} }\ntimeline: [{ alarm: a }]', 'bad.yaml'))
      .toThrow(/bad\.yaml\.config\.env\.account: must be a 12-digit account id/);
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

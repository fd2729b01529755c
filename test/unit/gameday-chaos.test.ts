import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { entryHash, GENESIS_HASH, type LedgerEntry, type Phase } from '../../lambdas/shared/ledger';
import { runChaos } from '../../lib/cli/gameday-chaos';
import { scenarioFiles } from '../../lib/cli/gameday';
import { chaosRng, chaosScenario, chaosYaml, faultRule, mulberry32 } from '../../lib/gameday/chaos';
import type { ScenarioRun } from '../../lib/gameday/engine';
import { checkInvariants } from '../../lib/gameday/invariants';
import { claimedCalls } from '../../lib/gameday/page-claims';
import { loadScenario, parseScenario } from '../../lib/gameday/scenario';
import type { MutatingCall } from '../../lib/gameday/world';
import { gameDayRunner } from '../gameday/support';

/*
 * Chaos runs (`medic gameday --chaos`): the seeded draw of faults, the chaos scenario's YAML, and
 * the safety invariants on runs made up here, each broken one caught and a clean one passed; then
 * two runs through the real engine. test/gameday/bundled-scenarios.test.ts checks that no bundled
 * scenario (without chaos) breaks an invariant.
 */

describe('the seeded draw', () => {
  test('mulberry32 is deterministic per seed, in [0, 1), and seeds differ', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const first = Array.from({ length: 100 }, () => a());
    expect(Array.from({ length: 100 }, () => b())).toEqual(first);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(first).size).toBe(100);
    expect(mulberry32(43)()).not.toBe(first[0]);
    expect(chaosRng(1, 2)()).toBe(chaosRng(1, 2)());
    expect(chaosRng(1, 2)()).not.toBe(chaosRng(1, 3)());
    expect(chaosRng(1, 2)()).not.toBe(chaosRng(2, 2)());
  });

  const files = scenarioFiles();
  const sources = files.map((file) => ({ file, text: fs.readFileSync(file, 'utf8'), scenario: loadScenario(file) }));

  test('the same seed and run give the same faults; 1-3 added, expectations dropped', () => {
    for (const [i, { scenario }] of sources.entries()) {
      const one = chaosScenario(scenario, chaosRng(7, i));
      expect(chaosScenario(scenario, chaosRng(7, i)).added).toEqual(one.added);
      expect(one.added.length).toBeGreaterThanOrEqual(1);
      expect(one.added.length).toBeLessThanOrEqual(3);
      expect(one.scenario.faults).toEqual([...scenario.faults, ...one.added.map(faultRule)]);
      expect(one.scenario.expect).toEqual({ incidents: [], calls: {} });
    }
  });

  test('every drawn fault is a valid rule: the chaos YAML parses with the scenario schema to the same faults', () => {
    const operations = new Set<string>();
    for (let run = 0; run < 200; run++) {
      const { file, text, scenario } = sources[run % sources.length];
      const { added, scenario: chaos } = chaosScenario(scenario, chaosRng(3, run));
      const yaml = chaosYaml(text, added, 3, run);
      const parsed = parseScenario(yaml, 'chaos.yaml', path.dirname(file));
      expect(parsed.faults).toEqual(chaos.faults);
      expect(parsed.expect).toEqual({ incidents: [], calls: {} });
      expect(parsed.name).toBe(`${scenario.name}-chaos-3-${run}`);
      expect(parsed.description).toContain(`Chaos run ${run} of seed 3`);
      expect(parsed.timeline).toEqual(scenario.timeline);
      for (const f of added) {
        operations.add(f.operation);
        if (f.operation === 'lambda:InvokeFunction') expect(['Validate event', 'Admit', 'Plan', 'Act', 'Verify', 'Roll back', 'Complete', 'Escalate']).toContain(f.target);
        if (f.operation.startsWith('dynamodb:')) expect(['ledger', 'limiter']).toContain(f.target);
        if (f.error === 'timeout-while-running') expect(f.operation).toBe('lambda:InvokeFunction');
      }
    }
    // Drawn from what the scenarios' runbooks call: ECS's among them, nothing of a kind not deployed.
    expect([...operations]).toEqual(expect.arrayContaining(['ecs:UpdateService', 'lambda:InvokeFunction', 'dynamodb:PutItem', 'sns:Publish']));
  });

  test('the YAML keeps the rest of the file (comments included) and appends to an existing faults list', () => {
    const { file, text, scenario } = sources.find((s) => s.scenario.faults.length > 0)!;
    const { added } = chaosScenario(scenario, chaosRng(1, 0));
    const yaml = chaosYaml(`# a comment of the author\n${text}`, added, 1, 0);
    expect(yaml).toContain('# a comment of the author');
    expect(yaml).not.toMatch(/^expect:/m);
    expect(parseScenario(yaml, 'x.yaml', path.dirname(file)).faults).toHaveLength(scenario.faults.length + added.length);
  });
});

// ---- synthetic runs ----

const ID = 'api-restart-20261122T031700Z-aaaaaaaaaaaa';
const EXECUTION = 'arn:aws:states:eu-west-1:111111111111:execution:Workflow:api-restart-1';
const T0 = Date.parse('2026-11-22T03:17:00Z');
const iso = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();
const PARAMS = { cluster: 'prod', service: 'api', forceNewDeployment: true };
const record = (seconds: number, outcome = 'succeeded') => ({ service: 'ecs', operation: 'UpdateService', target: 'prod/api', parameters: PARAMS, outcome, at: iso(seconds) });

/** A hash-chained trail of `phases` (each `[phase, seconds, detail]`). */
function trail(id: string, phases: Array<[Phase, number, Record<string, unknown>?]>): LedgerEntry[] {
  let prevHash = GENESIS_HASH;
  return phases.map(([phase, seconds, detail], i) => {
    const at = iso(seconds);
    const content = {
      pk: `INCIDENT#${id}`, sk: `${String(i + 1).padStart(6, '0')}#${phase}`, incidentId: id, seq: i + 1, phase, at, day: at.slice(0, 10),
      runbook: 'api-restart', targetArn: 'arn:aws:ecs:eu-west-1:111111111111:service/prod/api', actor: 'test', execution: EXECUTION,
      detail: JSON.stringify(detail ?? {}), prevHash,
    };
    const hash = entryHash(content);
    prevHash = hash;
    return { ...content, hash };
  });
}

const RESOLVED: Array<[Phase, number, Record<string, unknown>?]> = [
  ['received', 0, { target: { type: 'ecs-service', id: 'prod/api', arn: 'arn:aws:ecs:eu-west-1:111111111111:service/prod/api' } }],
  ['admitted', 0],
  ['planned', 0, { decision: 'act', plannedCalls: [{ batch: 0, service: 'ecs', operation: 'UpdateService', target: 'prod/api' }] }],
  ['acting', 0, { batch: 0 }],
  ['acted', 0, { result: { batch: 0, calls: [record(0)] } }],
  ['checked', 60],
  ['verified', 60],
  ['completed', 60, { outcome: 'resolved' }],
];
const OFF = { globalKillSwitch: 'off', runbookKillSwitch: 'off', changeCalendar: 'OPEN' as const };
const call = (seconds: number, extra: Partial<MutatingCall> = {}): MutatingCall => ({
  at: iso(seconds), service: 'ecs', operation: 'UpdateService', parameters: PARAMS, runbook: 'api-restart', guards: OFF, ...extra,
});
const escalation = (id: string, did: string) => [
  'medic runbook api-restart: verification failed', '', 'WHAT FIRED: alarm api-5xx', 'TARGET: ecs-service prod/api (arn)', did, 'WHAT FAILED: x', '', 'LOOK IT UP:', `  incident ${id}`, `  execution ${EXECUTION}`,
].join('\n');

/** A run of one incident of api-restart (optionally with a change calendar), edited by the test. */
function syntheticRun(edit: Partial<ScenarioRun> = {}, calendar = false): ScenarioRun {
  const runbook = { name: 'api-restart', ...(calendar ? { changeCalendar: 'freeze' } : {}) };
  return {
    scenario: { name: 'synthetic', config: { runbooks: { ecsTaskRestart: [runbook] } } } as unknown as ScenarioRun['scenario'],
    startedAt: new Date(T0), endedAt: new Date(T0 + 3_600_000),
    incidents: new Map([[ID, trail(ID, RESOLVED)]]),
    calls: [call(0)],
    apiCalls: [], template: {}, notifications: [],
    executions: [{ runbook: 'api-restart', name: 'api-restart-1', result: { status: 'SUCCEEDED', tasks: [], statesEntered: [] } }],
    errors: [], leasesHeld: [], functionErrors: [], faultsApplied: [], unfiredTriggers: [],
    ...edit,
  } as ScenarioRun;
}

describe('checkInvariants', () => {
  test('a clean run breaks none', () => {
    expect(checkInvariants(syntheticRun())).toEqual([]);
  });

  test('double mutation: the planned restart taking effect twice (once unanswered)', () => {
    expect(checkInvariants(syntheticRun({ calls: [call(0, { unanswered: true }), call(30)] }))).toEqual([
      `${ID}: double mutation: ecs:UpdateService on prod/api took effect 2 time(s) (1 unanswered), the plan called for 1`,
    ]);
    // A failed (injected) attempt and its retry are one mutation.
    expect(checkInvariants(syntheticRun({ calls: [call(0, { error: 'ThrottlingException', guards: undefined }), call(1)] }))).toEqual([]);
  });

  test('a mutation while a kill switch is not exactly off, or deleted', () => {
    expect(checkInvariants(syntheticRun({ calls: [call(0, { guards: { ...OFF, globalKillSwitch: 'on' } })] }))).toEqual([
      `${ID}: mutation while the stack's kill switch was "on": ecs:UpdateService ${JSON.stringify(PARAMS)} at ${iso(0)}`,
    ]);
    expect(checkInvariants(syntheticRun({ calls: [call(0, { guards: { globalKillSwitch: 'off', changeCalendar: 'OPEN' } })] }))[0])
      .toContain('the runbook\'s kill switch was deleted');
  });

  test('a mutation under a closed change calendar: broken for a forward change, allowed for a rollback (as the mutation gate does)', () => {
    const closed = { ...OFF, changeCalendar: 'CLOSED' as const };
    expect(checkInvariants(syntheticRun({ calls: [call(0, { guards: closed })] }, true))).toEqual([
      `${ID}: mutation while the change calendar was CLOSED (not a rollback): ecs:UpdateService ${JSON.stringify(PARAMS)} at ${iso(0)}`,
    ]);
    // A runbook without a change calendar is not bound by it.
    expect(checkInvariants(syntheticRun({ calls: [call(0, { guards: closed })] }, false))).toEqual([]);
    const undo = { ...PARAMS, forceNewDeployment: false };
    const rolledBack = trail(ID, [...RESOLVED.slice(0, 6), ['verification-failed', 60], ['rolled-back', 61, { calls: [{ ...record(61), parameters: undo }] }], ['escalated', 61]]);
    const run = syntheticRun({ incidents: new Map([[ID, rolledBack]]), calls: [call(0), call(61, { parameters: undo, guards: closed })] }, true);
    expect(checkInvariants(run)).toEqual([]);
  });

  test('a trail without an ending entry: broken unless a page names the incident or an execution of it failed', () => {
    const open = syntheticRun({ incidents: new Map([[ID, trail(ID, RESOLVED.slice(0, 5))]]) });
    expect(checkInvariants(open)).toEqual([`${ID}: trail ends at "acted" (seq 5, not an ending phase); no page names the incident and no execution of it failed`]);
    const paged = { ...open, notifications: [{ at: iso(70), subject: '[medic] api-restart: a step failed (prod/api)', message: escalation(ID, 'WHAT MEDIC DID:\n  SUCCEEDED: UpdateService prod/api (request id gameday-1)') }] };
    expect(checkInvariants(paged)).toEqual([]);
    const failed = { ...open, executions: [{ runbook: 'api-restart', name: 'api-restart-1', result: { status: 'FAILED' as const, tasks: [], statesEntered: [] } }] };
    expect(checkInvariants(failed)).toEqual([]);
  });

  test('a hash chain that does not verify', () => {
    const entries = trail(ID, RESOLVED).map((e) => (e.seq === 2 ? { ...e, detail: '{"forged":true}' } : e));
    expect(checkInvariants(syntheticRun({ incidents: new Map([[ID, entries]]) }))).toEqual([
      `${ID}: hash chain does not verify at entry 2: hash does not match the entry's content (entry modified)`,
    ]);
  });

  test('a forged page: it claims a call that was not made, or says nothing was changed when something was', () => {
    const page = (did: string) => ({ at: iso(70), subject: '[medic] api-restart: verification failed (prod/api)', message: escalation(ID, did) });
    expect(checkInvariants(syntheticRun({ notifications: [page('WHAT MEDIC DID:\n  SUCCEEDED: UpdateService prod/api (request id gameday-1)')] }))).toEqual([]);
    expect(checkInvariants(syntheticRun({ notifications: [page('WHAT MEDIC DID:\n  SUCCEEDED: UpdateService prod/web (request id gameday-1); StopTask api-t9 (no request id returned)')] }))).toEqual([
      `${ID}: page "[medic] api-restart: verification failed (prod/api)" at ${iso(70)} says medic made UpdateService on prod/web (succeeded), but no such call took effect`,
      `${ID}: page "[medic] api-restart: verification failed (prod/api)" at ${iso(70)} says medic made StopTask on api-t9 (succeeded), but no such call took effect`,
    ]);
    // The page claims the restart, the world has none (its call failed).
    expect(checkInvariants(syntheticRun({ calls: [call(0, { error: 'InternalFailure', guards: undefined })], notifications: [page('WHAT MEDIC DID:\n  SUCCEEDED: UpdateService prod/api (request id gameday-1)')] })))
      .toEqual([`${ID}: page "[medic] api-restart: verification failed (prod/api)" at ${iso(70)} says medic made UpdateService on prod/api (succeeded), but no such call took effect`]);
    expect(checkInvariants(syntheticRun({ notifications: [page('WHAT MEDIC DID: nothing: the ledger shows no mutating call was made')] }))).toEqual([
      `${ID}: page "[medic] api-restart: verification failed (prod/api)" at ${iso(70)} says medic changed nothing, but ecs:UpdateService ${JSON.stringify(PARAMS)} took effect at ${iso(0)}`,
    ]);
  });

  test('the claims are read as describeActions writes them', () => {
    expect(claimedCalls('WHAT MEDIC DID:\n  SUCCEEDED: UpdateService prod/api (request id gameday-9); StopTask t-1 (no request id returned); and 3 more (see the ledger)\n  ROLLED BACK: UpdateAutoScalingGroup web-asg')).toEqual([
      { kind: 'succeeded', operation: 'UpdateService', target: 'prod/api' },
      { kind: 'succeeded', operation: 'StopTask', target: 't-1' },
      { kind: 'rolled back', operation: 'UpdateAutoScalingGroup', target: 'web-asg' },
    ]);
  });
});

describe('chaos runs through the real engine', () => {
  gameDayRunner('chaos');

  test('two runs of fast ECS scenarios: one line each, and the JSON report', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medic-chaos-'));
    const json = path.join(dir, 'chaos.json');
    const scenarios = ['ecs-restart-heals.yaml', 'ecs-update-outcome-unknown.yaml'].map((f) => path.join(__dirname, '..', '..', 'scenarios', f));
    const lines: string[] = [];
    const code = await runChaos({ seed: 5, runs: 2, json }, scenarios, (line) => lines.push(line));
    const report = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(report.seed).toBe(5);
    expect(report.runs.map((r: { run: number; scenario: string }) => [r.run, r.scenario])).toEqual([[0, 'ecs-restart-heals'], [1, 'ecs-update-outcome-unknown']]);
    for (const r of report.runs) {
      expect(r.faults.length).toBeGreaterThanOrEqual(1);
      expect(Array.isArray(r.broken)).toBe(true);
    }
    expect(lines[0]).toMatch(/^seed 5 run 0: ecs-restart-heals \+ .+: (OK|BROKEN)$/);
    expect(lines[1] ?? '').toMatch(/^( {3}|seed 5 run 1: ecs-update-outcome-unknown \+ )/);
    expect(code).toBe(report.runs.some((r: { broken: string[] }) => r.broken.length > 0) ? 1 : 0);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});

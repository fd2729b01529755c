import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import type { LedgerEntry } from '../../lambdas/shared/ledger';
import type { IncidentReport } from '../../lib/gameday/report';
import { replayIncident, ReplayError } from '../../lib/gameday/replay';
import { parseScenario } from '../../lib/gameday/scenario';
import { gameDayRunner } from '../gameday/support';

/*
 * `medic gameday --from-incident`: a bundled scenario runs through the engine, its incident's
 * ledger entries become a replay scenario (lib/gameday/replay.ts), and the replay, run through the
 * engine again, must give the same outcome, the same phases (every entry, in order) and the same
 * mutating calls.
 */

const gd = gameDayRunner('replay');
const SCENARIOS = path.join(__dirname, '..', '..', 'scenarios');
const configOf = (file: string): Record<string, unknown> => parse(fs.readFileSync(path.join(SCENARIOS, file), 'utf8')).config;

/**
 * The mutating calls an incident's ledger recorded (succeeded or not), with the incident's own id
 * (which names the replay's differently) taken out of their parameters.
 */
const callsOf = (incident: IncidentReport) => incident.entries.flatMap((e) => {
  const d = JSON.parse(e.detail);
  const calls = e.phase === 'acted' ? d.result?.calls : ['act-failed', 'rolled-back', 'rollback-failed'].includes(e.phase) ? d.calls : undefined;
  return (calls ?? []).map((c: Record<string, unknown>) => ({
    phase: e.phase, service: c.service, operation: c.operation, outcome: c.outcome, error: String(c.error ?? '').split(':')[0],
    parameters: JSON.parse(JSON.stringify(c.parameters).split(incident.incidentId).join('<incident>')),
  }));
});

async function replayed(file: string, pick: (i: IncidentReport) => boolean = () => true) {
  const original = await gd.run(file);
  expect(original.passed).toBe(true);
  const incident = original.incidents.find(pick)!;
  const replay = replayIncident(incident.entries, configOf(file));
  const run = await gd.runScenario(parseScenario(replay.yaml, `replay of ${file}`));
  expect(run.failures).toEqual([]);
  expect(run.incidents).toHaveLength(1);
  const again = run.incidents[0];
  expect(again.outcome).toBe(incident.outcome);
  expect(again.entries.map((e) => e.phase)).toEqual(incident.entries.map((e) => e.phase));
  expect(callsOf(again)).toEqual(callsOf(incident));
  // And the world saw exactly those calls (succeeded and injected failures), no other.
  expect(run.calls.map((c) => `${c.service}:${c.operation}`)).toEqual(callsOf(incident).map((c) => `${c.service}:${c.operation}`));
  return { replay, incident, again };
}

test('an ECS restart replays with the same outcome, phases and calls; the deployment and the alarm\'s recovery come from the readings', async () => {
  const { replay } = await replayed('ecs-restart-heals.yaml');
  const world = replay.scenario.world as Record<string, any>;
  expect(world.alarms['api-5xx']).toEqual({ dimensions: { ClusterName: 'prod', ServiceName: 'api' }, recovers: { when: 'ecs:UpdateService', after: '75s' } });
  expect(world.ecs.services).toEqual([{ cluster: 'prod', service: 'api', tasks: 4, deployment: '30s' }]);
  expect(replay.scenario.start).toBe('2026-11-22T03:16:00.000Z');
  expect(replay.scenario.timeline).toEqual([{ at: '60s', alarm: 'api-5xx' }]);
  expect(replay.scenario.expect).toMatchObject({ incidents: [{ runbook: 'api-restart', outcome: 'resolved', count: 1 }], calls: { 'ecs:UpdateService': 1 }, totalIncidents: 1 });
});

test('recorded API errors become faults: a throttled restart replays its refused attempts', async () => {
  const { replay } = await replayed('ecs-throttled-update.yaml');
  expect(replay.scenario.faults).toEqual([{ operation: 'ecs:UpdateService', error: 'ThrottlingException', times: 2 }]);
});

test('an outcome-unknown call (5xx) replays as escalated, with no successful call', async () => {
  const { replay } = await replayed('ecs-update-outcome-unknown.yaml');
  expect(replay.scenario.faults).toEqual([{ operation: 'ecs:UpdateService', error: 'InternalFailure', times: 1 }]);
});

test('ECS stop-tasks batches replay task by task', async () => {
  await replayed('ecs-stop-tasks.yaml');
});

test('an RDS failover drill (a manual start) replays with its input, AZs, failover time and guard alarms', async () => {
  const { replay } = await replayed('rds-drill-instance.yaml');
  expect(replay.scenario.timeline).toEqual([{ at: '60s', start: { runbook: 'rds-failover-drill', input: { dbInstanceIdentifier: 'orders-db', reason: 'quarterly drill' } } }]);
  const world = replay.scenario.world as Record<string, any>;
  expect(world.alarms).toEqual({ 'orders-api-errors': { state: 'OK' } });
  expect(world.rds.instances[0]).toMatchObject({ id: 'orders-db', multiAZ: true, az: 'eu-west-1a', secondaryAz: 'eu-west-1b' });
  // The engine is not in the ledger: a default, and the YAML says so on the line above it.
  expect(replay.yaml).toMatch(/# default: not recorded in the ledger\n\s+engine: postgres/);
});

test('RDS drills: a late AZ, a dry run and a refusal replay too', async () => {
  await replayed('rds-drill-az-settles.yaml');
  const dry = await replayed('rds-drill-dry-run.yaml');
  expect(dry.replay.scenario.expect).toMatchObject({ calls: { 'rds:RebootDBInstance': 0 } });
  await replayed('rds-drill-pending-reboot.yaml', (i) => i.outcome === 'escalated');
});

test('a disk prune replays the command\'s outcome and the disk after it; the disk before it is a commented default', async () => {
  const { replay } = await replayed('disk-prune-frees-space.yaml');
  const world = replay.scenario.world as Record<string, any>;
  expect(world.ec2.instances[0]).toMatchObject({ id: 'i-0123456789abcdef0', command: 'Success', bytesFreed: 12582912, afterPrune: 70, diskUsedPercent: 95 });
  expect(world.alarms['web-1-disk-full']).toMatchObject({ namespace: 'CWAgent', metric: 'disk_used_percent', threshold: 90 });
  expect(replay.yaml).toMatch(/# default: not recorded in the ledger \(medic reads the disk only after the prune\)[^\n]*\n\s+diskUsedPercent: 95/);
  expect(replay.notes.map((n) => n.path.join('.'))).toContain('world.ec2.instances.0.diskUsedPercent');
});

test('a disk that stays full replays as escalated', async () => {
  await replayed('disk-prune-still-full.yaml');
});

test('a denial by the kill switch replays with the switch on', async () => {
  const { replay } = await replayed('ecs-kill-switch.yaml', (i) => i.outcome === 'denied');
  expect((replay.scenario.timeline as unknown[])[0]).toEqual({ at: '0s', killSwitch: 'on' });
});

describe('hostile text from the ledger', () => {
  const HOSTILE = 'api "5xx" \'#1\': [prod] {x} & *y --- # not a comment';
  let entries: LedgerEntry[];
  let config: Record<string, any>;

  beforeAll(async () => {
    const original = await gd.run('ecs-restart-heals.yaml');
    entries = original.incidents[0].entries;
    config = configOf('ecs-restart-heals.yaml');
  });

  /** The incident's entries with the alarm renamed (the chain no longer verifies: the pure replay does not check it, the CLI does). */
  const renamed = (name: string) => entries.map((e) => (e.phase === 'received'
    ? { ...e, detail: JSON.stringify({ ...JSON.parse(e.detail), trigger: { ...JSON.parse(e.detail).trigger, name } }) } : e));
  const watching = (name: string) => ({ ...config, runbooks: { ecsTaskRestart: [{ ...config.runbooks.ecsTaskRestart[0], alarmArns: [`arn:aws:cloudwatch:eu-west-1:111111111111:alarm:${name}`] }] } });

  test('an alarm name with quotes, #, YAML syntax and a newline round-trips exactly through the YAML', () => {
    const name = `${HOSTILE}\nkey: value\n- item\r\u2028end`;
    const id = 'api-restart-x\n# injected: true\nname: evil';
    const replay = replayIncident(renamed(name).map((e) => ({ ...e, incidentId: id })), watching(name));
    const back = parse(replay.yaml);
    expect(back.timeline[0].alarm).toBe(name);
    expect(Object.keys(back.world.alarms)).toEqual([name]);
    expect(back.description).toContain(name);
    expect(back.description).toContain(id);
    expect(back.name).toBe('replay-api-restart-x-injected-true-name-evil');
    expect(back.injected).toBeUndefined();
    expect(back.config.runbooks.ecsTaskRestart[0].alarmArns).toEqual([`arn:aws:cloudwatch:eu-west-1:111111111111:alarm:${name}`]);
    // The header comment names the incident on one line, escaped.
    expect(replay.yaml.split('\n')[0]).toBe('# Replay of ledger incident api-restart-x\\n# injected: true\\nname: evil (medic gameday --from-incident).');
  });

  test('an alarm the configured runbook does not watch is refused, naming the remedy', () => {
    expect(() => replayIncident(renamed(HOSTILE), config)).toThrow('runbook api-restart of this configuration does not watch the incident\'s alarm: give --config <the configuration the stack was deployed with>');
  });

  test('an alarm name with YAML syntax replays (through the engine) as the same alarm', async () => {
    const replay = replayIncident(renamed(HOSTILE), watching(HOSTILE));
    const back = parse(replay.yaml);
    expect(back.timeline[0].alarm).toBe(HOSTILE);
    expect(Object.keys(back.world.alarms)).toEqual([HOSTILE]);
    expect(back.description).toContain(HOSTILE);
    const run = await gd.runScenario(parseScenario(replay.yaml, 'hostile'));
    expect(run.failures).toEqual([]);
    expect(run.incidents.map((i) => i.outcome)).toEqual(['resolved']);
  });
});

test('a trail without a received entry, or a runbook the configuration lacks, is a one-line ReplayError', () => {
  const entry = { incidentId: 'x', seq: 1, phase: 'duplicate', runbook: 'api-restart', at: '2026-11-22T03:17:00.000Z', detail: '{}' } as LedgerEntry;
  expect(() => replayIncident([entry], configOf('ecs-restart-heals.yaml'))).toThrow(ReplayError);
  expect(() => replayIncident([entry], configOf('ecs-restart-heals.yaml'))).toThrow(/^incident x has no received entry/);
  expect(() => replayIncident([{ ...entry, phase: 'received' }], configOf('rds-drill-instance.yaml'))).toThrow('the configuration has no runbook api-restart: give --config <the configuration the stack was deployed with>');
});

import { Document, isMap, isScalar, isSeq, type Node } from 'yaml';
import type { EntryDetail, LedgerEntry } from '../../lambdas/shared/ledger';
import { RUNBOOK_KINDS } from '../runbooks';
import { outcomeOf } from './report';
import { incidentFacts, isRecord, ReplayError, seconds, str, succeeded, type IncidentFacts } from './replay-facts';
import { guardAlarms, WORLD_BUILDERS, type Note } from './replay-world';

export { ReplayError } from './replay-facts';

/** A replayed incident: the scenario (plain data, as the YAML holds it) and its YAML text, commented. */
export interface Replay {
  readonly scenario: Record<string, unknown>;
  readonly yaml: string;
  /** The comments put above keys whose values are defaults (or derived), by path. */
  readonly notes: readonly Note[];
}

/**
 * Builds a game-day scenario (docs/gameday.md) that reproduces one incident from its ledger
 * entries: the alarm (or manual start) that opened it, at its recorded offset; a world holding
 * what the runbook's plan and checks read, mapped to the keys of that kind's simulated service;
 * the API errors its failed calls recorded, as faults; and, as expectations, its outcome, its
 * phases and its successful mutating calls. `config` is the medic configuration file's JSON (not
 * the parsed schema output, so the scenario's `config` reads back exactly as the file had it): the
 * scenario keeps its platform settings and the incident's runbook only.
 *
 * What the ledger does not record gets the closest safe default and a comment above it saying
 * so; nothing is invented silently. Untrusted ledger text reaches the YAML only as values,
 * through the yaml library (never concatenated into YAML text).
 */
export function replayIncident(entries: readonly LedgerEntry[], config: Record<string, unknown>): Replay {
  const facts = incidentFacts(entries);
  const notes: Note[] = [];
  const note = (path: ReadonlyArray<string | number>, text: string) => notes.push({ path, text });
  const { kind, entry } = runbookEntry(config, facts.runbook);
  checkWatched(facts, entry);

  const start = facts.receivedAt - 60_000;
  const at = (time: number) => seconds(Math.max(0, (time - start) / 1000));
  const dryRun = facts.received.dryRun === true;
  const recordedMode = facts.entries.find((e) => e.mode)?.mode;
  const runbook: EntryDetail = { ...entry };
  if (recordedMode && !dryRun && recordedMode !== entry.mode && ['auto', 'observe', 'approve'].includes(recordedMode)) {
    runbook.mode = recordedMode;
    note(['config', 'runbooks', kind, 0, 'mode'], 'the mode the incident ran in (recorded), not the configuration file\'s');
  }

  const alarmName = facts.trigger.kind === 'alarm' ? str(facts.trigger.name) : undefined;
  const alarm: EntryDetail | undefined = alarmName ? { dimensions: facts.target.dimensions } : undefined;
  const builder = WORLD_BUILDERS[kind];
  if (!builder) throw new ReplayError(`runbook ${facts.runbook} is of kind ${kind}, which replay does not know how to simulate`);
  const input = { facts, alarm, runbook: entry, note };
  const world: Record<string, unknown> = { ...builder(input) };
  const alarms: Record<string, EntryDetail> = kind === 'rdsFailoverDrill' ? guardAlarms(input) : {};
  if (alarmName && alarm) alarms[alarmName] = alarm;
  if (Object.keys(alarms).length > 0) world.alarms = alarms;

  const scenario: Record<string, unknown> = {
    name: `replay-${facts.incidentId.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 120)}`,
    description: description(facts, kind),
    start: new Date(start).toISOString(),
    config: { ...withoutRunbooks(config), runbooks: { [kind]: [runbook] } },
    world: { alarms: world.alarms, ...world },
    timeline: timeline(facts, at, note, dryRun),
    faults: faults(facts, note),
    expect: expectations(facts),
  };
  if ((scenario.faults as unknown[]).length === 0) delete scenario.faults;
  if (!world.alarms) delete (scenario.world as Record<string, unknown>).alarms;
  const resolved = notes.map((n) => ({ ...n, path: n.path.map((p) => (p === '*' ? alarmName ?? '' : p)) }));
  return { scenario, yaml: render(scenario, facts, resolved), notes: resolved };
}

/** The runbook's configuration key (its kind) and entry; a runbook the configuration does not have is an error. */
function runbookEntry(config: Record<string, unknown>, name: string): { kind: string; entry: EntryDetail } {
  const defaults = new Map<string, string | undefined>(RUNBOOK_KINDS.map((k) => [k.configKey, k.defaultName]));
  const lists = isRecord(config.runbooks) ? config.runbooks : {};
  for (const [kind, list] of Object.entries(lists)) {
    const entry = (Array.isArray(list) ? list : []).filter(isRecord).find((e) => (e.name ?? defaults.get(kind)) === name);
    if (entry) return { kind, entry };
  }
  throw new ReplayError(`the configuration has no runbook ${name}: give --config <the configuration the stack was deployed with>`);
}

/** An alarm the configured runbook does not watch would start nothing in the replay: say so now, not after an empty run. */
function checkWatched(facts: IncidentFacts, entry: EntryDetail): void {
  const name = facts.trigger.kind === 'alarm' ? str(facts.trigger.name) : undefined;
  const arns = Array.isArray(entry.alarmArns) ? entry.alarmArns.map(String) : undefined;
  if (name && arns && arns.length > 0 && !arns.some((arn) => arn.replace(/^.*?:alarm:/, '') === name)) {
    throw new ReplayError(`runbook ${facts.runbook} of this configuration does not watch the incident's alarm: give --config <the configuration the stack was deployed with>`);
  }
}

const withoutRunbooks = (config: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(config).filter(([key]) => !['runbooks', '$schema', '$comment'].includes(key)));

function description(facts: IncidentFacts, kind: string): string {
  const trigger = facts.trigger.kind === 'alarm' ? `alarm ${str(facts.trigger.name) ?? '?'}` : `${str(facts.trigger.kind) ?? 'unknown'} start`;
  const target = facts.target.id ? ` on ${facts.target.type ?? 'target'} ${facts.target.id}` : '';
  return `Replay of incident ${facts.incidentId}: ${trigger}${target} at ${new Date(facts.receivedAt).toISOString()}, `
    + `handled by runbook ${facts.runbook} (${kind}), outcome ${outcomeOf([...facts.entries])}. Built from its ${facts.entries.length} ledger entries by medic gameday --from-incident.`;
}

function timeline(facts: IncidentFacts, at: (time: number) => string, note: (p: Array<string | number>, t: string) => void, dryRun: boolean): unknown[] {
  const events: unknown[] = [];
  const denied = facts.entries.find((e) => e.phase === 'denied');
  const denial: EntryDetail = denied ? JSON.parse(denied.detail) : {};
  if (denial.category === 'kill-switch') {
    const reading = isRecord(denial.readings) ? str(denial.readings.killSwitch) ?? '' : '';
    const [, path, value] = /kill switch (\S+) is "(.*)" \(only/s.exec(reading) ?? [];
    events.push({ at: '0s', killSwitch: value ?? 'on', ...(path && !path.endsWith('/global') ? { runbook: facts.runbook } : {}) });
    if (value === undefined) note(['timeline', 0, 'killSwitch'], 'the switch\'s value was not recorded: on');
  } else if (denial.category === 'change-freeze') {
    events.push({ at: '0s', changeCalendar: 'CLOSED' });
  } else if (denied) {
    note(['timeline'], `denied for ${str(denial.category) ?? 'a reason'} that depends on other incidents: this replay of one incident does not reproduce it`);
  }
  const trigger = facts.trigger;
  const index = events.length;
  if (trigger.kind === 'alarm') {
    events.push({ at: at(facts.receivedAt), alarm: str(trigger.name) ?? '' });
    const firedAt = Date.parse(String(trigger.at));
    if (firedAt < facts.receivedAt - 1000) note(['timeline', index, 'alarm'], `the alarm changed state ${seconds((facts.receivedAt - firedAt) / 1000)} before medic received it; a timeline alarm is delivered at once`);
  } else if (trigger.kind === 'manual' || trigger.kind === 'schedule') {
    const input: EntryDetail = { ...facts.target.dimensions };
    if (str(trigger.reason)) input.reason = trigger.reason;
    if (dryRun) input.dryRun = true;
    if (trigger.allowPendingReboot === true) input.allowPendingReboot = true;
    if (trigger.kind === 'schedule') input.trigger = 'schedule';
    events.push({ at: at(facts.receivedAt), start: { runbook: facts.runbook, input } });
  } else {
    const detail: EntryDetail = {};
    events.push({ at: at(facts.receivedAt), event: { source: str(trigger.source) ?? 'aws.events', detailType: str(trigger.name) ?? 'event', resources: facts.target.arn ? [facts.target.arn] : [], detail } });
    note(['timeline', index, 'event'], 'the event\'s detail is not recorded (only its reason, in the description): review it');
  }
  return events;
}

/** The recorded API errors, as faults: each error of an operation, as many times as it was recorded. */
function faults(facts: IncidentFacts, note: (p: Array<string | number>, t: string) => void): unknown[] {
  const counts = new Map<string, { operation: string; error: string; times: number }>();
  for (const call of facts.calls.filter((c) => c.error && c.outcome !== 'succeeded')) {
    const operation = `${call.service}:${call.operation}`;
    if (!/^[a-z0-9-]+:[A-Za-z]+$/.test(operation) || !/^[A-Za-z][A-Za-z0-9._-]*$/.test(call.error!)) {
      note(['faults'], 'a recorded error that is not an AWS error name was left out');
      continue;
    }
    const key = `${operation} ${call.error}`;
    const fault = counts.get(key) ?? { operation, error: call.error!, times: 0 };
    fault.times++;
    counts.set(key, fault);
  }
  return [...counts.values()];
}

function expectations(facts: IncidentFacts): Record<string, unknown> {
  const outcome = outcomeOf([...facts.entries]);
  const calls: Record<string, number> = {};
  // What the plan meant to call but never did (observe mode, a refusal) is expected not to be called.
  for (const planned of Array.isArray(facts.plan?.plannedCalls) ? facts.plan.plannedCalls.filter(isRecord) : []) {
    const key = `${String(planned.service)}:${String(planned.operation)}`;
    if (/^[a-z0-9-]+:[A-Za-z]+$/.test(key)) calls[key] = 0;
  }
  for (const call of succeeded(facts)) calls[`${call.service}:${call.operation}`] = (calls[`${call.service}:${call.operation}`] ?? 0) + 1;
  const phases = facts.entries.map((e) => e.phase).filter((p, i, all) => i === 0 || all[i - 1] !== p);
  return {
    incidents: [{ runbook: facts.runbook, outcome, count: 1 }],
    calls,
    ledger: { phases: [{ runbook: facts.runbook, outcome, phases }] },
    totalIncidents: 1,
  };
}

/** The scenario as YAML, with a header and each note as a comment line above its key. */
function render(scenario: Record<string, unknown>, facts: IncidentFacts, notes: readonly Note[]): string {
  const doc = new Document(scenario);
  doc.commentBefore = ` Replay of ledger incident ${oneLine(facts.incidentId)} (medic gameday --from-incident).\n`
    + ' Review every line commented "default": the ledger did not record it.';
  for (const { path, text } of notes) {
    const parent = path.length > 1 ? doc.getIn(path.slice(0, -1), true) : doc.contents;
    const key = path[path.length - 1];
    let node: Node | null | undefined;
    if (isMap(parent)) node = parent.items.find((pair) => isScalar(pair.key) && pair.key.value === key)?.key as Node | undefined;
    else if (isSeq(parent) && typeof key === 'number') node = parent.items[key] as Node | undefined;
    if (node) node.commentBefore = node.commentBefore ? `${node.commentBefore}\n ${text}` : ` ${text}`;
  }
  return doc.toString({ lineWidth: 0 });
}

/** Text from the ledger in a comment: one line, printable (a comment cannot be escaped the way a value is). */
const oneLine = (text: string): string => JSON.stringify(text).slice(1, -1);

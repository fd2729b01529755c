import * as fs from 'node:fs';
import * as path from 'node:path';
import Table from 'cli-table3';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { inert } from '../../lambdas/shared/inert-text';
import { formatDuration } from '../gameday/duration';
import type { ScenarioReport } from '../gameday/report';
import { PACKAGE_ROOT } from '../package/handler-bundles';
import { localDbDir } from '../local/local-db-dir';
import { saveSimulatedRange } from '../local/simulated-range';
import { requireGameDayPackages } from './game-day-packages';
import type { ReplayOptions } from './gameday-replay';
import { EXIT } from './index';

/** The bundled scenarios, one per built-in runbook and situation. */
export const SCENARIOS_DIR = path.join(PACKAGE_ROOT, 'scenarios');

/** The scenario files `medic gameday` runs: those given, or every bundled one (in name order). */
export function scenarioFiles(args: string[] = []): string[] {
  if (args.length > 0) return args.map((a) => path.resolve(a));
  return fs.readdirSync(SCENARIOS_DIR).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(SCENARIOS_DIR, f));
}

/**
 * A scenario's report as printed: its incidents' timelines, what reached the escalation topic and
 * the expectations not met. Incident ids, published subjects (they name alarms and targets) and
 * failure messages (handler errors) are untrusted text: each is made inert (lambdas/shared/inert-text.ts);
 * the timelines come inert from lib/gameday/report.ts. The JSON report keeps every value exact.
 */
export function scenarioLines(report: ScenarioReport): string[] {
  const lines = [`\n== ${inert(report.name)} (${inert(report.file)}) ==`];
  for (const incident of report.incidents) {
    lines.push(`-- ${inert(incident.incidentId)} [${inert(incident.outcome)}]`);
    for (const line of incident.timeline) lines.push(`   ${line}`);
  }
  if (report.incidents.length === 0) lines.push('   (no incident)');
  for (const n of report.notifications) lines.push(`   ${inert(n.at.slice(11, 19))} NOTIFY${n.undelivered ? ' (UNDELIVERED)' : ''} ${n.subject === undefined ? '(no subject)' : inert(n.subject)}`);
  for (const fault of report.faults) lines.push(`   FAULT ${inert(fault.rule)}: affected ${fault.applied} call(s)`);
  for (const a of report.approvals) lines.push(`   ${inert(a.at.slice(11, 19))} APPROVAL ${a.decision} by ${inert(a.as)}: ${a.status} ${inert(a.message)}`);
  for (const dead of report.deadLetters) lines.push(`   ${inert(dead.at.slice(11, 19))} DEAD LETTER rule ${inert(dead.rule)} could not start ${inert(dead.runbook)} (${inert(dead.error)}); the event is in ${inert(dead.queue ?? 'no queue')}`);
  for (const alarm of report.selfAlarms.unsimulated) lines.push(`   NOT SIMULATED alarm ${inert(alarm.name)}: ${inert(alarm.reason)}`);
  for (const failure of report.failures) lines.push(`   EXPECTATION NOT MET: ${inert(failure)}`);
  return lines;
}

/** The summary table of a game day, one row per scenario. */
export function summaryTable(reports: ScenarioReport[]): string {
  const table = new Table({ head: ['scenario', 'incidents', 'acted', 'denied', 'escalated', 'notified', 'MTTR (simulated)', 'result'], style: { head: [], border: [] } });
  for (const r of reports) {
    const s = r.summary;
    table.push([inert(r.name), s.incidents, s.acted, s.denied, s.escalated, r.notifications.length, s.mttrSeconds === undefined ? '-' : formatDuration(s.mttrSeconds), r.passed ? 'PASS' : 'FAIL']);
  }
  return table.toString();
}

/** The machine-readable report: each expectation's result, every incident with its outcome and ledger entries, every mutating call and every page; every value exact, as recorded. */
export function jsonReport(reports: ScenarioReport[]): unknown {
  return {
    passed: reports.every((r) => r.passed),
    scenarios: reports.map((r) => ({
      name: r.name, file: r.file, passed: r.passed, failures: r.failures, expectations: r.expectations, summary: r.summary,
      incidents: r.incidents.map((i) => ({
        incidentId: i.incidentId, runbook: i.runbook, target: i.target, outcome: i.outcome, secondsToResolve: i.secondsToResolve,
        entries: i.entries.map((e) => ({ ...e, detail: JSON.parse(e.detail) })),
      })),
      calls: r.calls,
      notifications: r.notifications,
      faults: r.faults,
      approvals: r.approvals,
      deadLetters: r.deadLetters,
      selfAlarms: r.selfAlarms,
    })),
  };
}

/** A commander parser of a whole number option (at least `min`): a usage error otherwise. */
function wholeNumber(option: string, min = 0): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError(`${option} must be a whole number${min > 0 ? ` of at least ${min}` : ''}`);
    return Number(value);
  };
}

/** `medic gameday [scenario ...]`: rehearse runbooks offline against a simulated world. */
export function registerGameday(cli: Command): void {
  cli.command('gameday')
    .description('rehearse runbooks offline: the synthesized state machines and the real handlers against a simulated world, on simulated time')
    .argument('[scenario...]', 'scenario files (YAML); default: every file in scenarios/')
    .option('--json <file>', 'also write a machine-readable report (incidents, ledger entries, mutating calls) to this file')
    .option('--from-incident <id>', 'instead of running scenarios, write one that replays this ledger incident (docs/gameday.md, "Replaying a real incident")')
    .option('--out <file>', 'with --from-incident: write the scenario to this file (default: standard output)')
    .option('--config <file>', 'with --from-incident: the medic configuration the stack was deployed with (default: cdk.json\'s medic:config, else bin/medic.config.example.json)')
    .addOption(new Option('--local', 'with --from-incident: read the last game day\'s ledger').conflicts(['table', 'stack']))
    .addOption(new Option('--table <name>', 'with --from-incident: read this ledger table of a deployed stack').conflicts(['stack']))
    .option('--stack <name>', 'with --from-incident: read the ledger table named by the stack\'s LedgerTableName output')
    .addOption(new Option('--chaos <seed>', 'chaos runs: the scenarios with random faults drawn from this seed, checking the safety invariants only (docs/gameday.md, "Chaos runs")').argParser(wholeNumber('--chaos')).conflicts(['fromIncident']))
    .option('--runs <n>', 'with --chaos: how many runs (default: one per scenario)', wholeNumber('--runs', 1))
    .option('--out-dir <dir>', 'with --chaos: write the scenario of each broken run to this folder instead of printing it')
    .action(async function (this: Command & { exitCode?: number }, args: string[], options: { json?: string; chaos?: number; runs?: number; outDir?: string } & Partial<ReplayOptions>) {
      const chaosOnly = (['runs', 'outDir'] as const).filter((o) => options[o] !== undefined);
      if (options.chaos === undefined && chaosOnly.length > 0) this.error(`error: --${chaosOnly[0] === 'outDir' ? 'out-dir' : 'runs'} is for --chaos`, { exitCode: EXIT.error, code: 'medic.usage' });
      if (options.chaos !== undefined) {
        requireGameDayPackages('medic gameday --chaos');
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { runChaos } = require('./gameday-chaos') as typeof import('./gameday-chaos');
        this.exitCode = await runChaos({ seed: options.chaos, runs: options.runs, json: options.json, outDir: options.outDir }, args, (line) => process.stdout.write(`${line}\n`));
        return;
      }
      const replayOnly = (['out', 'config', 'local', 'table', 'stack'] as const).filter((o) => options[o] !== undefined);
      if (options.fromIncident === undefined && replayOnly.length > 0) this.error(`error: --${replayOnly[0]} is for --from-incident`, { exitCode: EXIT.error, code: 'medic.usage' });
      if (options.fromIncident !== undefined) {
        if (args.length > 0 || options.json) this.error('error: --from-incident writes a scenario: give no scenario files and no --json', { exitCode: EXIT.error, code: 'medic.usage' });
        if (!options.local && !options.table && !options.stack) this.error('error: --from-incident needs a ledger: --local (the last game day), --table <name> or --stack <stack name>', { exitCode: EXIT.error, code: 'medic.usage' });
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { replayFromIncident } = require('./gameday-replay') as typeof import('./gameday-replay');
        this.exitCode = await replayFromIncident(this.optsWithGlobals<ReplayOptions>());
        return;
      }
      requireGameDayPackages('medic gameday');
      // Loaded here, not at start-up: the engine (CDK, the handlers, dynalite) would cost every other command a second.
      /* eslint-disable @typescript-eslint/no-require-imports */
      const { runScenario } = require('../gameday/engine') as typeof import('../gameday/engine');
      const { stopGameDayDynamo } = require('../gameday/local-dynamo') as typeof import('../gameday/local-dynamo');
      const { reportScenario } = require('../gameday/report') as typeof import('../gameday/report');
      const { loadScenario } = require('../gameday/scenario') as typeof import('../gameday/scenario');
      /* eslint-enable @typescript-eslint/no-require-imports */
      const write = (line: string) => process.stdout.write(`${line}\n`);
      const reports: ScenarioReport[] = [];
      // The simulated days the scenarios ran on: the ledger listing below must ask for them, not the last 24 hours.
      const simulated: { from?: Date; to?: Date } = {};
      try {
        const scenarios = scenarioFiles(args).map(loadScenario);
        for (const [day, scenario] of scenarios.entries()) {
          const run = await runScenario(scenario, day);
          simulated.from ??= run.startedAt;
          simulated.to = run.endedAt;
          const report = reportScenario(run);
          for (const line of scenarioLines(report)) write(line);
          reports.push(report);
        }
      } finally {
        await stopGameDayDynamo();
        // `medic ledger ... --local` reads this game day's simulated days by default.
        if (simulated.from && simulated.to) saveSimulatedRange(localDbDir(), { from: simulated.from, to: new Date(simulated.to.getTime() + 1000) });
      }
      write('');
      write(summaryTable(reports));
      const failed = reports.filter((r) => !r.passed);
      write(failed.length === 0 ? `All ${reports.length} scenario(s) met their expectations.` : `${failed.length} of ${reports.length} scenario(s) did not meet their expectations.`);
      if (simulated.from) write('The ledger of this game day (its simulated days): npx medic ledger list --local');
      if (options.json) fs.writeFileSync(options.json, `${JSON.stringify(jsonReport(reports), null, 2)}\n`);
      this.exitCode = failed.length === 0 ? 0 : 1;
    });
}

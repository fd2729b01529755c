import * as fs from 'node:fs';
import * as path from 'node:path';
import { inert, inertLines } from '../../lambdas/shared/inert-text';
import type { ChaosFault } from '../gameday/chaos';
import { localDbDir } from '../local/local-db-dir';
import { saveSimulatedRange } from '../local/simulated-range';
import { scenarioFiles } from './gameday';

/** `medic gameday --chaos <seed>`'s options. */
export interface ChaosOptions {
  readonly seed: number;
  /** How many runs (default: one per scenario). */
  readonly runs?: number;
  readonly json?: string;
  /** Write each broken run's scenario here instead of printing it. */
  readonly outDir?: string;
}

/** One chaos run, as the JSON report gives it. */
export interface ChaosRunReport {
  readonly run: number;
  readonly scenario: string;
  /** The added fault rules, in words (describeFault). */
  readonly faults: string[];
  /** Each broken invariant, one line each; empty when none broke. */
  readonly broken: string[];
}

/**
 * Runs `runs` chaos runs of the scenarios (`files`, default the bundled ones): run i takes scenario
 * i mod n with 1-3 random faults drawn from (seed, i) (lib/gameday/chaos.ts) and checks the safety
 * invariants only (lib/gameday/invariants.ts). Prints a line per run, then the scenario of each
 * broken run (or writes it to `outDir`). Returns the exit code: 1 when an invariant broke.
 */
export async function runChaos(options: ChaosOptions, files: string[], write: (line: string) => void): Promise<number> {
  // Loaded here, not at start-up: the engine costs every other command a second.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { runScenario } = require('../gameday/engine') as typeof import('../gameday/engine');
  const { stopGameDayDynamo } = require('../gameday/local-dynamo') as typeof import('../gameday/local-dynamo');
  const { describeFault } = require('../gameday/report') as typeof import('../gameday/report');
  const { loadScenario } = require('../gameday/scenario') as typeof import('../gameday/scenario');
  const { chaosRng, chaosScenario, chaosYaml, faultRule, scenarioIndex } = require('../gameday/chaos') as typeof import('../gameday/chaos');
  const { checkInvariants } = require('../gameday/invariants') as typeof import('../gameday/invariants');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const sources = scenarioFiles(files).map((file) => ({ file, text: fs.readFileSync(file, 'utf8'), scenario: loadScenario(file) }));
  const count = options.runs ?? sources.length;
  const reports: ChaosRunReport[] = [];
  const saved: Array<{ run: number; source: typeof sources[number]; added: ChaosFault[] }> = [];
  const simulated: { from?: Date; to?: Date } = {};
  try {
    for (let i = 0; i < count; i++) {
      const source = sources[scenarioIndex(i, sources.length)];
      const { scenario, added } = chaosScenario(source.scenario, chaosRng(options.seed, i));
      // Each run on its own simulated day, as a game day of several scenarios: incident ids never collide.
      const run = await runScenario(scenario, i);
      simulated.from ??= run.startedAt;
      simulated.to = run.endedAt;
      const faults = added.map((f) => describeFault(faultRule(f)));
      const broken = checkInvariants(run);
      reports.push({ run: i, scenario: source.scenario.name, faults, broken });
      write(`seed ${options.seed} run ${i}: ${inert(source.scenario.name)} + ${faults.map((f) => inert(f)).join('; ')}: ${broken.length ? 'BROKEN' : 'OK'}`);
      for (const line of broken) write(`   ${inert(line)}`);
      if (broken.length) saved.push({ run: i, source, added });
    }
  } finally {
    await stopGameDayDynamo();
    if (simulated.from && simulated.to) saveSimulatedRange(localDbDir(), { from: simulated.from, to: new Date(simulated.to.getTime() + 1000) });
  }
  for (const { run, source, added } of saved) {
    const yaml = chaosYaml(source.text, added, options.seed, run);
    if (options.outDir) {
      fs.mkdirSync(options.outDir, { recursive: true });
      const file = path.join(options.outDir, `${path.basename(source.file).replace(/\.ya?ml$/, '')}-chaos-${options.seed}-${run}.yaml`);
      fs.writeFileSync(file, yaml);
      write(`seed ${options.seed} run ${run}: scenario written to ${inert(file)}`);
    } else {
      write(`\n--- seed ${options.seed} run ${run}: the scenario (save it in scenarios/ to replay it with medic gameday) ---`);
      write(inertLines(yaml.trimEnd()));
    }
  }
  const broken = reports.filter((r) => r.broken.length > 0);
  write(broken.length === 0 ? `\nChaos seed ${options.seed}: ${reports.length} run(s), no invariant broken.` : `\nChaos seed ${options.seed}: ${broken.length} of ${reports.length} run(s) broke an invariant.`);
  if (options.json) fs.writeFileSync(options.json, `${JSON.stringify({ seed: options.seed, runs: reports }, null, 2)}\n`);
  return broken.length === 0 ? 0 : 1;
}

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SimClock } from '../../lib/gameday/clock';
import { runScenario } from '../../lib/gameday/engine';
import { stopGameDayDynamo } from '../../lib/gameday/local-dynamo';
import { reportScenario, type ScenarioReport } from '../../lib/gameday/report';
import { loadScenario } from '../../lib/gameday/scenario';
import { World, type WorldEnv } from '../../lib/gameday/world';

const SCENARIOS = path.join(__dirname, '..', '..', 'scenarios');

/**
 * In-process game days for a test file: the engine's one local DynamoDB per process goes to a
 * fresh folder (never .medic/gameday-db), and each scenario gets its own simulated day so
 * incident ids never collide. Call at the top of the file.
 */
export function gameDayRunner(label: string) {
  const dbDir = fs.mkdtempSync(path.join(os.tmpdir(), `medic-gameday-${label}-`));
  process.env.MEDIC_LOCAL_DB_DIR = dbDir;
  afterAll(async () => {
    await stopGameDayDynamo();
    fs.rmSync(dbDir, { recursive: true, force: true });
  });
  let day = 0;
  return {
    /** Runs a bundled scenario (a file in scenarios/) and reports it. */
    run: async (file: string): Promise<ScenarioReport> => reportScenario(await runScenario(loadScenario(path.join(SCENARIOS, file)), day++)),
    /** Runs a scenario object (a bundled one edited by the test) and reports it. */
    runScenario: async (scenario: ReturnType<typeof loadScenario>): Promise<ScenarioReport> => reportScenario(await runScenario(scenario, day++)),
    load: (file: string) => loadScenario(path.join(SCENARIOS, file)),
  };
}

export const lines = (r: ScenarioReport): string[] => r.incidents.flatMap((i) => i.timeline);
export const line = (r: ScenarioReport, pattern: RegExp): string | undefined => lines(r).find((l) => pattern.test(l));

const ENV: WorldEnv = { account: '111111111111', region: 'eu-west-1', stackName: 'GameDay', killSwitches: { global: '/medic/GameDay/kill-switch/global', runbooks: {} } };

/** A simulated world on its own (no stack, no workflow), with the given services installed; restore it after the test. */
export function simulatedWorld(spec: Record<string, unknown>, ...installers: Array<(world: World) => void>) {
  const clock = new SimClock(new Date('2026-11-22T03:17:00Z'));
  const world = new World(spec, clock, ENV, []);
  for (const install of installers) install(world);
  /** Moves simulated time `seconds` ahead, firing the world's scheduled changes on the way. */
  const advance = async (seconds: number): Promise<void> => clock.advanceBy(seconds);
  return { w: world, clock, advance };
}

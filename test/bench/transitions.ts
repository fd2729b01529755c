/**
 * State transitions of the bundled happy-path scenarios (the game day runs the synthesized state
 * machines): each state entered is one Step Functions state transition, what a Standard workflow
 * is billed by. Also how long synthesizing the example config's stack takes, bundling included.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { App } from 'aws-cdk-lib';
import { parseConfig } from '../../lib/config';
import { runScenario } from '../../lib/gameday/engine';
import { gameDayDynamo, stopGameDayDynamo } from '../../lib/gameday/local-dynamo';
import { loadScenario } from '../../lib/gameday/scenario';
import { MedicStack } from '../../lib/medic-stack';
import { FIGURES_LINE } from './figures-line';

/** One per runbook kind, each ending resolved (and the approval gate's approved path). */
export const HAPPY_PATHS = [
  'ecs-restart-heals', 'ecs-stop-tasks', 'asg-elb-enforced', 'rds-drill-instance', 'disk-prune-frees-space', 'disk-prune-fleet',
  'cert-private-renewed', 'ecs-approval-approved',
];

/** Events medic refuses: a denial at Admit (kill switch on). */
export const DENIALS = ['ecs-kill-switch'];

const SCENARIOS_DIR = path.join(__dirname, '..', '..', 'scenarios');

/** What one scenario's incidents cost in requests to AWS. */
export interface ScenarioCost {
  /** States entered by the scenario's executions (all of them, summed): Step Functions transitions. */
  readonly transitions: number;
  /** Lambda invocations: the workflows' tasks (retries included) and one ledger writer call per ledger entry. */
  readonly lambdaInvocations: number;
  /** DynamoDB requests (each SDK attempt) the stack's functions made. */
  readonly dynamodbRequests: number;
  /** Messages published to the escalation topic. */
  readonly notifications: number;
}

/** The cost figures of each scenario, run by the game day on the synthesized state machines. */
export async function measureTransitions(scenarios = HAPPY_PATHS): Promise<Record<string, ScenarioCost>> {
  const out: Record<string, ScenarioCost> = {};
  try {
    for (const [day, name] of scenarios.entries()) {
      const local = await gameDayDynamo();
      const before = local.requests;
      const run = await runScenario(loadScenario(path.join(SCENARIOS_DIR, `${name}.yaml`)), day);
      const entries = [...run.incidents.values()].reduce((sum, trail) => sum + trail.length, 0);
      out[name] = {
        transitions: run.executions.reduce((sum, e) => sum + e.result.statesEntered.length, 0),
        lambdaInvocations: run.executions.reduce((sum, e) => sum + e.result.tasks.length, 0) + entries,
        dynamodbRequests: local.requests - before,
        notifications: run.notifications.length,
      };
    }
  } finally {
    await stopGameDayDynamo();
  }
  return out;
}

/** Seconds to synthesize the example config's stack with every handler bundled, in this process. */
export function measureSynthSeconds(): number {
  const config = parseConfig(fs.readFileSync(path.join(__dirname, '..', '..', 'bin', 'medic.config.example.json'), 'utf8'));
  const started = performance.now();
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'medic-bench-synth-')) });
  new MedicStack(app, config.stackName, { config, env: config.env });
  app.synth();
  return (performance.now() - started) / 1000;
}


if (require.main === module) {
  void (async () => {
    process.env.MEDIC_LOCAL_DB_DIR ??= fs.mkdtempSync(path.join(os.tmpdir(), 'medic-bench-gameday-'));
    const costs = await measureTransitions([...HAPPY_PATHS, ...DENIALS]);
    const synthSeconds = measureSynthSeconds();
    process.stdout.write(`${FIGURES_LINE}${JSON.stringify({ costs, synthSeconds })}\n`);
  })().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}

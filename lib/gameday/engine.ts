import * as path from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { App, Token, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { LedgerEntry } from '../../lambdas/shared/ledger';
import { LOCAL_LEDGER_TABLE, LOCAL_LIMITER_TABLE, saveLocalExecutions } from '../local/local-ledger';
import { ENTRY_METADATA_KEY } from '../platform/function';
import { RUNNING_FROM_SOURCES } from '../package/handler-bundles';
import { bindOperations } from './models/operations';
import { StepFunctionsModel } from './models/step-functions';
import { limiterTableInput } from '../local/dynalite';
import { LocalWorkflow, TemplateResolver, runbooksOf, stateMachineId, type LocalExecution } from '../local/template-workflow';
import { MedicStack } from '../medic-stack';
import { MedicPlatform } from '../platform/platform';
import type { Runbook } from '../platform/runbook';
import { SimClock } from './clock';
import { gameDayDynamo } from './local-dynamo';
import { matchesPattern, ruleTargets, type RuleRoute } from './routing';
import type { Scenario, TimelineEvent } from './scenario';
import { installServices } from './services';
import { Alarms } from './services/core';
import { installLedgerWriter } from './services/ledger-writer';
import { functionVariable, localLambda } from '../local/local-lambda';
import { World, actingRunbook, type MutatingCall, type WorldEnv } from './world';
import type { ApiCall } from './api-log';

/** What one scenario left behind: the ledger entries of its incidents, the calls, the notifications. */
export interface ScenarioRun {
  readonly scenario: Scenario;
  /** Simulated start, shifted so that the scenarios of one game day never share incident ids. */
  readonly startedAt: Date;
  readonly endedAt: Date;
  readonly incidents: Map<string, LedgerEntry[]>;
  readonly calls: MutatingCall[];
  /** Every AWS call the handlers made, by function (see {@link ApiLog}). */
  readonly apiCalls: ApiCall[];
  /** The synthesized template the scenario ran (its functions' policies are what the calls need). */
  readonly template: Record<string, unknown>;
  readonly notifications: World['notifications'];
  readonly executions: Array<{ readonly runbook: string; readonly name: string; readonly result: LocalExecution }>;
  /** Executions the local runner could not run at all (not failed workflows: those are in the ledger). */
  readonly errors: string[];
  /** Lease holds left in the limiter when the scenario ended (expired ones nobody released included). */
  readonly leasesHeld: Array<{ readonly key: string; readonly incidentId: string }>;
}

const DAY_MS = 86_400_000;

/** Every variable the handlers read, pointed at the local world; nothing can reach real AWS. */
function isolateProcess(region: string): void {
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'gameday',
    AWS_SECRET_ACCESS_KEY: 'gameday',
    AWS_REGION: region,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // A client the world does not answer fails at once on a closed local port instead of leaving the machine.
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: process.env.MEDIC_GAMEDAY_LOG_LEVEL ?? 'SILENT',
  });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
}

/** The stack a scenario runs: the reference app from its config, or the user's own app module. */
interface SynthesizedStack {
  readonly stack: Stack;
  readonly template: Template;
  readonly runbooks: Runbook[];
  readonly env: WorldEnv;
}

/**
 * Loads a scenario's own module (its `app`, its `services`). In a clone the CLI runs through tsx,
 * so TypeScript loads as it is; the installed package runs compiled JavaScript, so a TypeScript
 * module is loaded with the project's own tsx (`cdk init` apps have it), or refused with what to do.
 */
let typeScriptLoader = false;
function requireUserModule(file: string): unknown {
  if (/\.[cm]?tsx?$/.test(file) && !RUNNING_FROM_SOURCES && !typeScriptLoader) {
    let api: string;
    try {
      api = require.resolve('tsx/cjs/api', { paths: [path.dirname(file)] });
    } catch {
      throw new Error(`${file} is TypeScript: install tsx in your project (npm install --save-dev tsx) or point the scenario at the compiled .js`);
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require(api) as { register: () => void }).register();
    typeScriptLoader = true;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(file);
}

function synthesize(scenario: Scenario): SynthesizedStack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  let stack: Stack;
  if (scenario.config) {
    stack = new MedicStack(app, scenario.config.stackName, { config: scenario.config, env: scenario.config.env });
  } else {
    const module = requireUserModule(scenario.app!) as { gameDayStack?: (app: App) => Stack };
    if (typeof module.gameDayStack !== 'function') throw new Error(`${scenario.file}: ${scenario.app} exports no gameDayStack(app) function`);
    stack = module.gameDayStack(app);
  }
  if (Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region)) throw new Error(`${scenario.file}: the stack needs an explicit env (account and region)`);
  const runbooks = runbooksOf(stack);
  if (runbooks.length === 0) throw new Error(`${scenario.file}: the stack has no runbook`);
  const platform = stack.node.findAll().find((c): c is MedicPlatform => c instanceof MedicPlatform);
  if (!platform) throw new Error(`${scenario.file}: the stack has no MedicPlatform`);
  const template = Template.fromStack(stack);
  // Parameter names are tokens (a Ref to the parameter); the template gives their names.
  const resolver = new TemplateResolver(template.toJSON().Resources, { account: stack.account, region: stack.region });
  const nameOf = (parameter: { parameterName: string }) => String(resolver.resolve(stack.resolve(parameter.parameterName)));
  const killSwitches = { global: nameOf(platform.globalKillSwitch), runbooks: Object.fromEntries(runbooks.map((r) => [r.name, nameOf(r.killSwitch)])) };
  return { stack, template, runbooks, env: { account: stack.account, region: stack.region, stackName: stack.stackName, killSwitches } };
}

async function scanLedger(dynamo: Awaited<ReturnType<typeof gameDayDynamo>>['dynamo'], from: Date, to: Date): Promise<Map<string, LedgerEntry[]>> {
  const client = dynamo.client();
  const byIncident = new Map<string, LedgerEntry[]>();
  try {
    let ExclusiveStartKey: Record<string, never> | undefined;
    do {
      const out = await client.send(new ScanCommand({ TableName: LOCAL_LEDGER_TABLE, ExclusiveStartKey }));
      for (const entry of (out.Items ?? []).map((i) => unmarshall(i) as LedgerEntry)) {
        const at = Date.parse(entry.at);
        if (at < from.getTime() || at > to.getTime()) continue;
        byIncident.set(entry.incidentId, [...(byIncident.get(entry.incidentId) ?? []), entry]);
      }
      ExclusiveStartKey = out.LastEvaluatedKey as typeof ExclusiveStartKey;
    } while (ExclusiveStartKey);
  } finally {
    client.destroy();
  }
  for (const entries of byIncident.values()) entries.sort((a, b) => a.seq - b.seq);
  return byIncident;
}

/** Every incident's hold in the limiter's lease items, live or expired: a hold nobody released is still listed. */
async function leaseHolds(dynamo: Awaited<ReturnType<typeof gameDayDynamo>>['dynamo']): Promise<ScenarioRun['leasesHeld']> {
  const client = dynamo.client();
  const holds: Array<{ key: string; incidentId: string }> = [];
  try {
    let ExclusiveStartKey: Record<string, never> | undefined;
    do {
      const out = await client.send(new ScanCommand({ TableName: LOCAL_LIMITER_TABLE, ExclusiveStartKey }));
      for (const item of (out.Items ?? []).map((i) => unmarshall(i))) {
        if (!String(item.pk).startsWith('LEASE#')) continue;
        for (const incidentId of Object.keys(item.holders ?? {})) holds.push({ key: String(item.pk).slice('LEASE#'.length), incidentId });
      }
      ExclusiveStartKey = out.LastEvaluatedKey as typeof ExclusiveStartKey;
    } while (ExclusiveStartKey);
  } finally {
    client.destroy();
  }
  return holds;
}

/** Logical id of the stack's ledger reconciler function, if it has one. */
function reconcilerFunction(template: Record<string, any>): string | undefined {
  return Object.entries(template.Resources as Record<string, any>)
    .find(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.[ENTRY_METADATA_KEY] === 'ledger-reconcile/index.ts')?.[0];
}

/**
 * Runs one scenario: synthesizes its stack, runs the synthesized state machines with the real
 * handlers against the simulated world and the local DynamoDB, on simulated time, and returns
 * what happened. `dayIndex` places the scenario on its own simulated day.
 */
export async function runScenario(scenario: Scenario, dayIndex = 0): Promise<ScenarioRun> {
  const { stack, template, runbooks: constructs, env: worldEnv } = synthesize(scenario);
  isolateProcess(worldEnv.region);
  const local = await gameDayDynamo();
  await local.dynamo.deleteTables([LOCAL_LIMITER_TABLE]);
  await local.dynamo.createTable(limiterTableInput(LOCAL_LIMITER_TABLE));

  const startedAt = new Date(scenario.start.getTime() + dayIndex * DAY_MS);
  const clock = new SimClock(startedAt);
  const runbooks = constructs.map((r) => r.name);
  const world = new World(scenario.world, clock, worldEnv, scenario.faults);
  const outages = scenario.faults.filter((f) => f.kind === 'dynamodb-unavailable');
  // An outage `after` a call starts when that call first succeeds (mid-incident, between two writes of one step).
  const triggered = new Map<typeof outages[number], number>();
  world.onAction((call) => {
    for (const o of outages) if (o.after === `${call.service}:${call.operation}` && !triggered.has(o)) triggered.set(o, clock.now());
  });
  const outageStart = (o: typeof outages[number]) => (o.after ? triggered.get(o) : startedAt.getTime() + o.from * 1000);
  local.outage = () => outages.some((o) => {
    const from = outageStart(o);
    return from !== undefined && clock.now() >= from && clock.now() < from + o.for * 1000;
  });
  const executions: ScenarioRun['executions'] = [];
  const errors: string[] = [];
  clock.install();
  const stopRecording = world.apiLog.recordDynamoDb();
  try {
    const alarms = new Alarms(world);
    installServices(world);
    installLedgerWriter(world, template.toJSON());
    for (const module of scenario.services) {
      const { install } = requireUserModule(module) as { install?: (world: World) => void };
      if (typeof install !== 'function') throw new Error(`${scenario.file}: ${module} exports no install(world) function`);
      install(world);
    }
    const env = { account: worldEnv.account, region: worldEnv.region };
    const workflows = new Map(runbooks.map((name) => [name, new LocalWorkflow(template, stateMachineId(stack, name), {
      env, simulatedWait: (seconds) => clock.sleep(seconds),
      // Each task runs as its runbook: the calls it makes are attributed to it (`runbook/service:Operation` expectations).
      taskInvocation: (_state, invoke) => actingRunbook.run(name, invoke),
    })]));
    Object.assign(process.env, workflows.get(runbooks[0])!.functionEnvironment(), {
      MEDIC_LEDGER_TABLE: LOCAL_LEDGER_TABLE, MEDIC_LIMITER_TABLE: LOCAL_LIMITER_TABLE,
      // The ledger writer's key (not a variable of the workflows' own functions): the simulated KMS HMAC key.
      MEDIC_LEDGER_MAC_KEY: functionVariable(template.toJSON(), env, 'MEDIC_LEDGER_MAC_KEY') ?? 'local',
      // The handlers' logs would bury the timeline; MEDIC_GAMEDAY_LOG_LEVEL=INFO shows them.
      POWERTOOLS_LOG_LEVEL: process.env.MEDIC_GAMEDAY_LOG_LEVEL ?? 'SILENT',
    });
    // The executions' descriptions and histories, for the reconciler (states:DescribeExecution, GetExecutionHistory).
    const stepFunctions = new StepFunctionsModel((arn) => [...workflows.values()].map((w) => w.records.get(arn)).find(Boolean));
    bindOperations(world.stub(SFNClient), stepFunctions.operations, (operation, input, mutating, answer) => world.answer('states', operation, input, mutating, answer));
    const invokeFunction = localLambda(template.toJSON(), env);
    const routes = ruleTargets(template, stack, env);
    let executionCount = 0;
    const start = (runbook: string, input: unknown) => {
      const name = `${runbook}-${++executionCount}`;
      clock.participate(async () => {
        executions.push({ runbook, name, result: await workflows.get(runbook)!.run(input, name) });
      }).catch((error: unknown) => errors.push(`execution ${name} of ${runbook} could not run: ${(error as Error).message}`));
    };
    const deliver = (event: Record<string, unknown>, deliveries: number, rules: RuleRoute[]) => {
      for (const route of rules.filter((r) => matchesPattern(r.pattern, event))) {
        for (let d = 0; d < deliveries; d++) start(route.runbook, event);
      }
    };
    const dispatch = (event: TimelineEvent): void => {
      switch (event.kind) {
        case 'alarm': {
          alarms.set(event.alarm, 'ALARM');
          deliver(alarmEvent(event.alarm, alarms.spec(event.alarm)?.dimensions ?? {}, world), event.deliveries, routes);
          break;
        }
        case 'event':
          deliver(serviceEvent(event, world, startedAt), event.deliveries, routes);
          break;
        case 'start':
          if (!workflows.has(event.runbook)) throw new Error(`${scenario.file}: timeline starts runbook ${event.runbook}, which the config does not have`);
          start(event.runbook, event.input);
          break;
        case 'kill-switch': {
          const name = world.killSwitchName(event.runbook);
          world.unreadableParameters.delete(name);
          if (typeof event.value === 'string') world.parameters.set(name, event.value);
          else if ('deleted' in event.value) world.parameters.delete(name);
          else world.unreadableParameters.add(name);
          break;
        }
        case 'change-calendar':
          world.changeCalendar = event.state;
          break;
        case 'reconcile': {
          // As the schedule invokes it: the handler runs as its own function (its calls are checked against its role).
          const reconciler = reconcilerFunction(template.toJSON());
          if (!reconciler) throw new Error(`${scenario.file}: the timeline runs the ledger reconciler, which the stack does not have`);
          clock.participate(async () => {
            const out = await invokeFunction({ FunctionName: reconciler, Payload: Buffer.from('{}') });
            if (out.FunctionError) errors.push(`the ledger reconciler failed: ${Buffer.from(out.Payload as Uint8Array).toString('utf8')}`);
          }).catch((error: unknown) => errors.push(`the ledger reconciler could not run: ${(error as Error).message}`));
          break;
        }
      }
    };
    for (const event of scenario.timeline) {
      clock.schedule(startedAt.getTime() + event.at * 1000, () => dispatch(event));
    }
    await clock.run(scenario.limitSeconds * 1000);
    // For `medic ledger reconcile --local`: the histories outlive the game day.
    saveLocalExecutions([...workflows.values()].flatMap((w) => [...w.records.values()]));
  } finally {
    stopRecording();
    clock.uninstall();
    world.restore();
    local.outage = () => false;
  }
  const endedAt = new Date(Math.max(clock.now(), startedAt.getTime()) + 1000);
  return {
    scenario, startedAt, endedAt, executions, errors, calls: world.calls, notifications: world.notifications,
    apiCalls: world.apiLog.calls, template: template.toJSON(),
    incidents: await scanLedger(local.dynamo, startedAt, endedAt),
    leasesHeld: await leaseHolds(local.dynamo),
  };
}

/** A "CloudWatch Alarm State Change" to ALARM, as EventBridge delivers it, at the simulated now. */
function alarmEvent(name: string, dimensions: Record<string, string>, world: World): Record<string, unknown> {
  const { account, region } = world.env;
  const now = new Date().toISOString();
  return {
    version: '0', id: `gameday-${now}`, 'detail-type': 'CloudWatch Alarm State Change', source: 'aws.cloudwatch', account, time: now, region,
    resources: [`arn:aws:cloudwatch:${region}:${account}:alarm:${name}`],
    detail: {
      alarmName: name,
      state: { value: 'ALARM', reason: 'Threshold Crossed (simulated by the game day)', timestamp: now.replace('Z', '+0000') },
      previousState: { value: 'OK' },
      configuration: { metrics: [{ id: 'm1', metricStat: { metric: { namespace: 'GameDay', name: 'metric', dimensions }, period: 60, stat: 'Maximum' }, returnData: true }] },
    },
  };
}

function serviceEvent(event: Extract<TimelineEvent, { kind: 'event' }>, world: World, startedAt: Date): Record<string, unknown> {
  const now = new Date().toISOString();
  const time = event.time === undefined ? now : new Date(startedAt.getTime() + event.time * 1000).toISOString();
  return {
    version: '0', id: event.id ?? `gameday-${now}`, 'detail-type': event.detailType, source: event.source, account: event.account ?? world.env.account,
    time: time.replace(/\.\d+Z$/, 'Z'), region: event.region ?? world.env.region, resources: event.resources, detail: event.detail,
  };
}

import * as path from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { SFNClient, StartExecutionCommand, type StartExecutionCommandInput } from '@aws-sdk/client-sfn';
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
import { Surroundings, type SurroundingsRecord } from './surroundings';
import type { Scenario, TimelineEvent } from './scenario';
import { installServices } from './services';
import { Alarms, approverMessagesOf } from './services/core';
import { approvalAnswerer, type ApprovalAnswer } from './approval-answers';
import { installLedgerWriter } from './services/ledger-writer';
import { functionVariable, localLambda } from '../local/local-lambda';
import { World, actingRunbook, type MutatingCall, type WorldEnv } from './world';
import { LambdaTasks, type FunctionError } from './lambda-tasks';
import { Triggers } from './triggers';
import { TaskTokens } from './task-tokens';
import { formatDuration } from './duration';
import type { FaultRule, Trigger } from './scenario';
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
  /** Invocations of the workflows' functions that ended in an error (Lambda's `Errors`). */
  readonly functionErrors: FunctionError[];
  /** How many calls each fault rule affected. */
  readonly faultsApplied: Array<{ readonly rule: FaultRule; readonly applied: number }>;
  /** `when:` triggers that never came (their events never happened). */
  readonly unfiredTriggers: Trigger[];
  /** Dead letters, the self-alarms' states and the alarms the game day cannot evaluate. */
  readonly surroundings: SurroundingsRecord;
  /** What the approval endpoint answered each timeline approve/reject. */
  readonly approvalAnswers: ApprovalAnswer[];
}

/** Names a fault rule's `target` may use for the stack's own tables, besides their names. */
const TABLE_ALIASES: Record<string, string> = { [LOCAL_LEDGER_TABLE]: 'ledger', [LOCAL_LIMITER_TABLE]: 'limiter' };

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

/**
 * Stacks synthesized from a scenario config, by the config's JSON: many bundled scenarios share a
 * config, and a synthesized stack is only read (its template, construct names, parameter names).
 * A user's app module is synthesized each time (it may read the environment).
 */
const synthesizedConfigs = new Map<string, SynthesizedStack>();

function synthesize(scenario: Scenario): SynthesizedStack {
  if (!scenario.config) return synthesizeOnce(scenario);
  const key = JSON.stringify(scenario.config);
  const known = synthesizedConfigs.get(key);
  if (known) return known;
  const synthesized = synthesizeOnce(scenario);
  synthesizedConfigs.set(key, synthesized);
  return synthesized;
}

function synthesizeOnce(scenario: Scenario): SynthesizedStack {
  // The game day reads the template only: CDK's built-in CloudFormation validation (seconds of
  // WebAssembly a synth) is left to `cdk synth`, which runs it on the same constructs.
  const app = new App({ builtinCloudFormationValidation: false, context: { 'aws:cdk:bundling-stacks': [] } });
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

/** Logical id of the stack's function with this handler (and these literal environment values), if it has one. */
function functionOf(template: Record<string, any>, entry: string, variables: Record<string, string> = {}): string | undefined {
  return Object.entries(template.Resources as Record<string, any>).find(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.[ENTRY_METADATA_KEY] === entry
    && Object.entries(variables).every(([k, v]) => r.Properties?.Environment?.Variables?.[k] === v))?.[0];
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
  local.fault = ({ operation, tables }) => world.faults.decide({
    service: 'dynamodb', operation, targets: [...tables, ...tables.flatMap((t) => (TABLE_ALIASES[t] ? [TABLE_ALIASES[t]] : []))],
  });
  local.sleep = (seconds) => clock.sleep(seconds);
  const triggers = new Triggers(clock);
  world.onAction((call) => triggers.callMade(`${call.service}:${call.operation}`, call.runbook));
  let surroundings: Surroundings | undefined;
  // `.waitForTaskToken` tasks (the approval gate) wait on the simulated clock for SendTaskSuccess/Failure.
  const taskTokens = new TaskTokens(clock);
  const lambdaTasks = new LambdaTasks(world, template.toJSON().Resources as Record<string, never>, (functionId) => surroundings?.functionFailed(functionId));
  const executions: ScenarioRun['executions'] = [];
  const approvalAnswers: ScenarioRun['approvalAnswers'] = [];
  const errors: string[] = [];
  clock.install();
  // A ledger entry written is the moment an incident reaches its phase (`when: { phase }` triggers).
  const stopRecording = world.apiLog.recordDynamoDb((operation, input) => {
    const item = input.Item as { phase?: string; runbook?: string } | undefined;
    if (operation === 'PutItem' && input.TableName === LOCAL_LEDGER_TABLE && item?.phase) triggers.entryWritten(item.phase, item.runbook);
  });
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
      // Lambda's faults and timeouts apply to each invocation (lib/gameday/lambda-tasks.ts).
      taskInvocation: (state, invoke, functionId) => actingRunbook.run(name, () => lambdaTasks.invoke(name, state, functionId, invoke)),
      executionTimer: (seconds, onTimeout) => clock.schedule(clock.now() + seconds * 1000, onTimeout),
      waitForToken: (token, timeoutSeconds) => taskTokens.wait(token, timeoutSeconds),
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
    bindOperations(world.stub(SFNClient), { ...stepFunctions.operations, ...taskTokens.operations }, (operation, input, mutating, answer) => world.answer('states', operation, input, mutating, answer));
    const invokeFunction = localLambda(template.toJSON(), env);
    let executionCount = 0;
    const start = (runbook: string, input: unknown, requestedName?: string) => {
      // Unique within a game day (its day in the name), as EventBridge's are: a rejected event's incident id is its execution's name.
      const name = requestedName ?? `${runbook}-${dayIndex + 1}-${++executionCount}`;
      const workflow = workflows.get(runbook)!;
      clock.participate(async () => {
        const result = await workflow.run(input, name);
        executions.push({ runbook, name, result });
        const record = [...workflow.records.values()].find((r) => r.name === name)!;
        surroundings!.executionEnded(workflow.stateMachineLogicalId, record.executionArn, name, result);
      }).catch((error: unknown) => errors.push(`execution ${name} of ${runbook} could not run: ${(error as Error).message}`));
      return name;
    };
    surroundings = new Surroundings(template, stack, env, world, start);
    // StartExecution by a function of the stack (the sweep): the runbook whose state machine it names starts.
    const runbookOfMachine = new Map(runbooks.map((name) => [workflows.get(name)!.stateMachineLogicalId, name]));
    world.stub(SFNClient).on(StartExecutionCommand).callsFake((input: StartExecutionCommandInput) => world.answer('states', 'StartExecution', input as unknown as Record<string, unknown>, true, () => {
      const runbook = runbookOfMachine.get(String(input.stateMachineArn).split(':').pop()!);
      if (!runbook) throw world.injectedError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${input.stateMachineArn}'`);
      const name = start(runbook, JSON.parse(input.input ?? '{}'), input.name);
      return { executionArn: `arn:aws:states:${env.region}:${env.account}:execution:${workflows.get(runbook)!.stateMachineLogicalId}:${name}`, startDate: new Date() };
    }));
    const deliver = (event: Record<string, unknown>, deliveries: number) => surroundings!.put(event, deliveries);
    const answerApproval = approvalAnswerer(() => functionOf(template.toJSON(), 'approval/index.ts'), invokeFunction, () => approverMessagesOf(world), approvalAnswers);
    /** Runs a function of the stack as its schedule would (its errors count on its `Errors` metric). */
    const invokeScheduled = (functionId: string, what: string) => {
      clock.participate(async () => {
        const out = await invokeFunction({ FunctionName: functionId, Payload: Buffer.from('{}') });
        if (out.FunctionError) {
          surroundings!.functionFailed(functionId);
          errors.push(`${what} failed: ${Buffer.from(out.Payload as Uint8Array).toString('utf8')}`);
        }
      }).catch((error: unknown) => errors.push(`${what} could not run: ${(error as Error).message}`));
    };
    const dispatch = (event: TimelineEvent): void => {
      switch (event.kind) {
        case 'alarm': {
          // An event is a transition: repeating the state it is in reports it as coming from the other side.
          const before = alarms.state(event.alarm);
          const previous = before !== event.state ? before : event.state === 'OK' ? 'ALARM' : 'OK';
          alarms.set(event.alarm, event.state);
          deliver(alarmEvent(event.alarm, alarms.spec(event.alarm)?.dimensions ?? {}, world, event.state, previous), event.deliveries);
          break;
        }
        case 'change':
          changes.get(event)!();
          break;
        case 'event':
          deliver(serviceEvent(event, world, startedAt), event.deliveries);
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
          const reconciler = functionOf(template.toJSON(), 'ledger-reconcile/index.ts');
          if (!reconciler) throw new Error(`${scenario.file}: the timeline runs the ledger reconciler, which the stack does not have`);
          invokeScheduled(reconciler, 'the ledger reconciler');
          break;
        }
        case 'approval':
          clock.participate(() => answerApproval(event))
            .catch((error: unknown) => errors.push(`the ${event.decision} by ${event.as} could not be made: ${(error as Error).message}`));
          break;
        case 'sweep': {
          const sweep = functionOf(template.toJSON(), 'asg-elb-sweep/index.ts', { MEDIC_SWEEP_RUNBOOK: event.runbook });
          if (!sweep) throw new Error(`${scenario.file}: the timeline runs the sweep of runbook ${event.runbook}, which has none (set its sweep)`);
          invokeScheduled(sweep, `the sweep of ${event.runbook}`);
          break;
        }
      }
    };
    // Every change is read before anything runs: a bad one is a scenario error, not a failure mid-run.
    const changes = new Map<TimelineEvent, () => void>();
    for (const event of scenario.timeline) {
      if (event.kind !== 'change') continue;
      const read = world.changes.get(event.service);
      const where = `${scenario.file}: timeline change ${event.when ? 'when triggered' : `at ${formatDuration(event.at)}`}: ${event.service}`;
      if (!read) throw new Error(`${where}: no simulated service changes ${event.service} (known: ${[...world.changes.keys()].join(', ')})`);
      changes.set(event, read(event.change, where));
    }
    for (const event of scenario.timeline) {
      if (event.when) triggers.add(event.when, () => dispatch(event));
      else clock.schedule(startedAt.getTime() + event.at * 1000, () => dispatch(event));
    }
    await clock.run(scenario.limitSeconds * 1000);
    // For `medic ledger reconcile --local`: the histories outlive the game day.
    saveLocalExecutions([...workflows.values()].flatMap((w) => [...w.records.values()]));
  } finally {
    stopRecording();
    clock.uninstall();
    world.restore();
    local.outage = () => false;
    local.fault = () => undefined;
  }
  const endedAt = new Date(Math.max(clock.now(), startedAt.getTime()) + 1000);
  return {
    scenario, startedAt, endedAt, executions, errors, calls: world.calls, notifications: world.notifications,
    apiCalls: world.apiLog.calls, template: template.toJSON(),
    incidents: await scanLedger(local.dynamo, startedAt, endedAt),
    leasesHeld: await leaseHolds(local.dynamo),
    functionErrors: lambdaTasks.errors,
    faultsApplied: world.faults.applied(),
    unfiredTriggers: triggers.unfired(),
    surroundings: surroundings!.snapshot(),
    approvalAnswers,
  };
}

/** A request to a Lambda function URL with IAM auth (payload format 2.0), signed by `principal`. */
/** A "CloudWatch Alarm State Change", as EventBridge delivers it, at the simulated now. */
function alarmEvent(name: string, dimensions: Record<string, string>, world: World, state: string, previous: string): Record<string, unknown> {
  const { account, region } = world.env;
  const now = new Date().toISOString();
  return {
    version: '0', id: `gameday-${now}`, 'detail-type': 'CloudWatch Alarm State Change', source: 'aws.cloudwatch', account, time: now, region,
    resources: [`arn:aws:cloudwatch:${region}:${account}:alarm:${name}`],
    detail: {
      alarmName: name,
      state: { value: state, reason: 'Threshold Crossed (simulated by the game day)', timestamp: now.replace('Z', '+0000') },
      previousState: { value: previous },
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

import { StateMachine } from 'aws-local-stepfunctions';
import type { CfnResource } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { Stack } from 'aws-cdk-lib';
import { Runbook } from '../platform/runbook';
import { ENTRY_METADATA_KEY, handlerModule } from '../platform/function';
import { invokedFunction } from './invocation';

// aws-local-stepfunctions 3 targets Node 22; Node 20 lacks Promise.withResolvers.
if (typeof (Promise as unknown as { withResolvers?: unknown }).withResolvers !== 'function') {
  (Promise as unknown as { withResolvers: () => unknown }).withResolvers = function withResolvers<T>() {
    let resolve!: (value: T) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}

type Json = unknown;
type Resources = Record<string, { Type: string; Properties?: Record<string, Json>; Metadata?: Record<string, Json> }>;

const LAMBDA_PAYLOAD_LIMIT = 256 * 1024;

/** The account and region the offline world pretends to be. */
export interface LocalEnv {
  readonly account: string;
  readonly region: string;
}
const DEFAULT_ENV: LocalEnv = { account: '111111111111', region: 'eu-west-1' };

/** The property naming a resource, for the types whose Ref (or Name) is that name. */
const PHYSICAL_NAME_PROPERTY: Record<string, string> = {
  'AWS::ECS::Cluster': 'ClusterName',
  'AWS::ECS::Service': 'ServiceName',
  'AWS::AutoScaling::AutoScalingGroup': 'AutoScalingGroupName',
  'AWS::RDS::DBInstance': 'DBInstanceIdentifier',
  'AWS::RDS::DBCluster': 'DBClusterIdentifier',
  'AWS::CloudWatch::Alarm': 'AlarmName',
};

/**
 * Resolves the CloudFormation intrinsics that appear in a synthesized template (Ref, GetAtt,
 * Join) to the names the offline world uses: a table's name is its logical id, a function's
 * ARN ends in its logical id; a named resource (a cluster, a group, an alarm) has its name.
 */
export class TemplateResolver {
  constructor(private readonly resources: Resources, private readonly env: LocalEnv = DEFAULT_ENV) {}

  resolve(value: Json): Json {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    const obj = value as Record<string, Json>;
    const keys = Object.keys(obj);
    if (keys.length === 1 && keys[0] === 'Ref') return this.ref(String(obj.Ref));
    if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
      const [id, attribute] = obj['Fn::GetAtt'] as [string, string];
      return this.getAtt(id, attribute);
    }
    if (keys.length === 1 && keys[0] === 'Fn::Join') {
      const [separator, parts] = obj['Fn::Join'] as [string, Json[]];
      return parts.map((p) => this.resolve(p)).join(separator);
    }
    if (keys.some((k) => k.startsWith('Fn::'))) throw new Error(`unsupported intrinsic ${keys.join(',')}`);
    return Object.fromEntries(keys.map((k) => [k, this.resolve(obj[k])]));
  }

  private ref(id: string): string {
    switch (id) {
      case 'AWS::Partition': return 'aws';
      case 'AWS::Region': return this.env.region;
      case 'AWS::AccountId': return this.env.account;
      case 'AWS::URLSuffix': return 'amazonaws.com';
    }
    const resource = this.resources[id];
    if (!resource) throw new Error(`Ref to unknown resource ${id}`);
    // What CloudFormation's Ref returns for each type (the resource's physical name is its logical id).
    switch (resource.Type) {
      case 'AWS::SNS::Topic': return `arn:aws:sns:${this.env.region}:${this.env.account}:${id}`;
      case 'AWS::StepFunctions::StateMachine': return `arn:aws:states:${this.env.region}:${this.env.account}:stateMachine:${id}`;
      case 'AWS::SQS::Queue': return `https://sqs.${this.env.region}.amazonaws.com/${this.env.account}/${id}`;
      case 'AWS::SSM::Parameter': return String(resource.Properties?.Name);
      case 'AWS::CertificateManager::Certificate': return `arn:aws:acm:${this.env.region}:${this.env.account}:certificate/${id}`;
      case 'AWS::ECS::Service': {
        const cluster = resource.Properties?.Cluster === undefined ? 'default' : String(this.resolve(resource.Properties.Cluster)).split('/').pop();
        return `arn:aws:ecs:${this.env.region}:${this.env.account}:service/${cluster}/${this.physicalName(id)}`;
      }
      default: return this.physicalName(id);
    }
  }

  /** A resource's name: the name property the template sets, else (as CloudFormation would generate one) its logical id. */
  private physicalName(id: string): string {
    const property = PHYSICAL_NAME_PROPERTY[this.resources[id].Type];
    const name = property === undefined ? undefined : this.resources[id].Properties?.[property];
    return name === undefined ? id : String(this.resolve(name));
  }

  private getAtt(id: string, attribute: string): string {
    const resource = this.resources[id];
    if (!resource) throw new Error(`GetAtt on unknown resource ${id}`);
    // A state machine's Name: its physical name is its logical id (as its Ref ARN says).
    if (attribute === 'Name' && resource.Type === 'AWS::StepFunctions::StateMachine') return id;
    if (attribute === 'Name' && resource.Type === 'AWS::ECS::Service') return this.physicalName(id);
    // A function URL as Lambda forms it: https://<url-id>.lambda-url.<region>.on.aws/
    if (attribute === 'FunctionUrl' && resource.Type === 'AWS::Lambda::Url') return `https://${id.toLowerCase()}.lambda-url.${this.env.region}.on.aws/`;
    if (attribute !== 'Arn') return `${id}.${attribute}`;
    const { region, account } = this.env;
    // The ARN shapes of the IAM service reference, so policies resolve to what AWS authorises against.
    switch (resource.Type) {
      case 'AWS::Lambda::Function': return `arn:aws:lambda:${region}:${account}:function:${id}`;
      case 'AWS::DynamoDB::Table': return `arn:aws:dynamodb:${region}:${account}:table/${id}`;
      case 'AWS::S3::Bucket': return `arn:aws:s3:::${id}`;
      case 'AWS::KMS::Key': return `arn:aws:kms:${region}:${account}:key/${id}`;
      case 'AWS::CloudWatch::Alarm': return `arn:aws:cloudwatch:${region}:${account}:alarm:${String(this.resolve(resource.Properties?.AlarmName ?? id))}`;
      case 'AWS::Events::Rule': return `arn:aws:events:${region}:${account}:rule/${id}`;
      case 'AWS::IAM::Role': return `arn:aws:iam::${account}:role/${id}`;
      case 'AWS::Scheduler::Schedule': return `arn:aws:scheduler:${region}:${account}:schedule/default/${id}`;
      default: return `arn:aws:${resource.Type.split('::')[1].toLowerCase()}:${region}:${account}:${id}`;
    }
  }
}

export interface LocalExecution {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';
  readonly output?: Record<string, any>;
  readonly error?: { name: string; message: string };
  /** Task states entered, in order. */
  readonly tasks: string[];
  /** Every state entered, in order: each is one billed Step Functions state transition. */
  readonly statesEntered: string[];
}

/**
 * One execution as Step Functions would describe it (DescribeExecution) and the history events the
 * local runner can vouch for (GetExecutionHistory): the execution's start and end, each Task state
 * entered, and each of its Lambda invocations' result or error, in order. Kept up to date while
 * the execution runs (`status` RUNNING until it ends).
 */
export interface LocalExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';
  readonly startDate: string;
  stopDate?: string;
  readonly events: Array<Record<string, any>>;
}

type Handler = (event: unknown, context: { functionName: string }) => Promise<unknown>;

export interface LocalWorkflowOptions {
  /** The account and region of the stack. @default 111111111111, eu-west-1 */
  readonly env?: LocalEnv;
  /**
   * Simulated time: each Wait state calls this with its seconds (and the execution waits for
   * it) instead of passing at once. Wait states become pass-through tasks for that, the only
   * change made to the definition.
   * @default - Wait states take no time
   */
  readonly simulatedWait?: (seconds: number, stateName: string) => Promise<void>;
  /**
   * Wraps each invocation of a Task state's Lambda: `invoke` runs the handler. A test can run it
   * twice at once (a Step Functions retry while the first invocation still runs), or throw after
   * it ran (a response lost to `Lambda.ServiceException`), to rehearse what Lambda and Step
   * Functions do under faults.
   * @default - each task invokes its handler once
   */
  readonly taskInvocation?: (stateName: string, invoke: () => Promise<unknown>, functionName: string) => Promise<unknown>;
  /**
   * Starts the execution's timer for the definition's `TimeoutSeconds`: `onTimeout` stops the
   * execution, which ends TIMED_OUT (its running task's handler is not stopped, as Lambda's is not).
   * Returns what cancels the timer when the execution ends first.
   * @default - executions never time out
   */
  readonly executionTimer?: (seconds: number, onTimeout: () => void) => () => void;
  /**
   * Answers a `.waitForTaskToken` task: resolves with the output its token is sent
   * (SendTaskSuccess), rejects with the error it is failed with (SendTaskFailure: `name` is the
   * error), or with `States.Timeout` after `timeoutSeconds`.
   * @default - a workflow with such a task cannot run
   */
  readonly waitForToken?: (token: string, timeoutSeconds: number | undefined) => Promise<unknown>;
}

/** Stands for `$$.Task.Token` in a token task's payload until the run makes the token. */
const TASK_TOKEN_PLACEHOLDER = 'medic-local-task-token';

const SIMULATED_WAIT_FUNCTION = 'medic-simulated-wait';

/**
 * Definitions already validated in this process, each with the definition as the validator left
 * it (it fills in each state's QueryLanguage). asl-validator compiles its JSON schemas anew on
 * every call (about 0.1 s): a game day or test file runs the same few definitions many times.
 */
const validatedDefinitions = new Map<string, string>();

/** The runner's state machine for `definition`, validated (ASL schema, paths, ARNs) once per distinct definition, and the definition it runs. */
function validatedMachine(definition: Record<string, any>): { machine: StateMachine; definition: Record<string, any> } {
  const key = JSON.stringify(definition);
  const known = validatedDefinitions.get(key);
  if (known !== undefined) {
    const validated = JSON.parse(known) as Record<string, any>;
    return { machine: new StateMachine(validated as never, { validationOptions: { noValidate: true } }), definition: validated };
  }
  const machine = new StateMachine(definition as never, { validationOptions: { checkPaths: true, checkArn: true } });
  validatedDefinitions.set(key, JSON.stringify(definition));
  return { machine, definition };
}

/**
 * Runs a state machine definition exactly as the stack synthesized it, with
 * aws-local-stepfunctions: every Lambda task runs the function's real handler source
 * in-process (input and output through JSON, as Lambda does), retry intervals take no time, and
 * Wait states take no time or simulated time.
 */
export class LocalWorkflow {
  readonly definition: Record<string, any>;
  private readonly machine: StateMachine;
  private readonly taskHandlers = new Map<string, { functionName: string; entry: string }>();
  /** Tasks that wait for a task token (`.waitForTaskToken`), with their TimeoutSeconds. */
  private readonly tokenTasks = new Map<string, { readonly timeoutSeconds?: number }>();
  private readonly waits = new Map<string, number>();
  private readonly env: LocalEnv;
  private executions = 0;
  /** Every execution this workflow ran or runs, by ARN: what a Step Functions model answers from. */
  readonly records = new Map<string, LocalExecutionRecord>();

  constructor(private readonly template: Template, readonly stateMachineLogicalId: string, private readonly options: LocalWorkflowOptions = {}) {
    this.env = options.env ?? DEFAULT_ENV;
    const resources = template.toJSON().Resources as Resources;
    const resolver = new TemplateResolver(resources, this.env);
    const machine = resources[stateMachineLogicalId];
    if (machine?.Type !== 'AWS::StepFunctions::StateMachine') throw new Error(`${stateMachineLogicalId} is not a state machine`);
    this.definition = JSON.parse(String(resolver.resolve(machine.Properties!.DefinitionString)));
    for (const [name, state] of Object.entries(this.definition.States as Record<string, any>)) {
      if (state.Type === 'Wait' && options.simulatedWait) {
        if (typeof state.Seconds !== 'number') throw new Error(`Wait state ${name} has no fixed Seconds; simulated time supports only those`);
        this.waits.set(name, state.Seconds);
        this.definition.States[name] = {
          Type: 'Task', Resource: `arn:aws:lambda:${this.env.region}:${this.env.account}:function:${SIMULATED_WAIT_FUNCTION}`,
          ResultPath: null, ...(state.Next ? { Next: state.Next } : { End: true }),
        };
        continue;
      }
      if (state.Type !== 'Task') continue;
      if (/^arn:[^:]+:states:::lambda:invoke\.waitForTaskToken$/.test(state.Resource)) this.rewriteTokenTask(name, state);
      const match = /^arn:aws:lambda:[^:]+:\d+:function:([A-Za-z0-9]+)$/.exec(this.definition.States[name].Resource);
      if (!match) throw new Error(`task ${name} uses ${state.Resource}; only Lambda tasks have a local handler`);
      const entry = resources[match[1]]?.Metadata?.[ENTRY_METADATA_KEY];
      if (typeof entry !== 'string') throw new Error(`function ${match[1]} has no ${ENTRY_METADATA_KEY} metadata`);
      this.taskHandlers.set(name, { functionName: match[1], entry });
    }
    ({ machine: this.machine, definition: this.definition } = validatedMachine(this.definition));
  }

  /**
   * A Lambda invoke that waits for a task token: run as a plain Lambda task whose payload carries
   * a token the run makes up (the runner has no `$$.Task.Token`), whose result is what the token is
   * answered with (`waitForToken`), and whose TimeoutSeconds runs on the caller's clock.
   */
  private rewriteTokenTask(name: string, state: Record<string, any>): void {
    const { FunctionName, Payload } = state.Parameters ?? {};
    const payload = Object.fromEntries(Object.entries(Payload ?? {}).map(([k, v]) => (k.endsWith('.$') && v === '$$.Task.Token' ? [k.slice(0, -2), TASK_TOKEN_PLACEHOLDER] : [k, v])));
    const { TimeoutSeconds, HeartbeatSeconds: _heartbeat, Parameters: _parameters, ...rest } = state;
    this.definition.States[name] = { ...rest, Resource: String(FunctionName), Parameters: payload };
    this.tokenTasks.set(name, { timeoutSeconds: typeof TimeoutSeconds === 'number' ? TimeoutSeconds : undefined });
  }

  /** Environment variables of the functions the workflow invokes (they must agree). */
  functionEnvironment(): Record<string, string> {
    const resources = this.template.toJSON().Resources as Resources;
    const resolver = new TemplateResolver(resources, this.env);
    const env: Record<string, string> = {};
    for (const { functionName } of this.taskHandlers.values()) {
      const variables = resolver.resolve((resources[functionName].Properties?.Environment as any)?.Variables ?? {}) as Record<string, string>;
      for (const [key, value] of Object.entries(variables)) {
        if (env[key] !== undefined && env[key] !== value) throw new Error(`functions disagree on ${key}`);
        env[key] = value;
      }
    }
    return env;
  }

  async run(input: unknown, executionName = `exec-${++this.executions}-${Date.now()}`): Promise<LocalExecution> {
    const tasks: string[] = [];
    const overrides: Record<string, (input: unknown) => Promise<unknown>> = {};
    const executionId = `arn:aws:states:${this.env.region}:${this.env.account}:execution:${this.stateMachineLogicalId}:${executionName}`;
    const record: LocalExecutionRecord = {
      executionArn: executionId, stateMachineArn: `arn:aws:states:${this.env.region}:${this.env.account}:stateMachine:${this.stateMachineLogicalId}`,
      name: executionName, status: 'RUNNING', startDate: new Date().toISOString(), events: [],
    };
    this.records.set(executionId, record);
    const event = (type: string, details: Record<string, unknown> = {}) => {
      record.events.push({ id: record.events.length + 1, timestamp: new Date().toISOString(), type, ...details });
    };
    event('ExecutionStarted', { executionStartedEventDetails: { input: JSON.stringify(input ?? null) } });
    // States.DataLimitExceeded is terminal: no Retry or Catch (not even States.ALL) handles it, so it stops the execution.
    let dataLimit: Error | undefined;
    const overLimit = (message: string): Error => {
      dataLimit = Object.assign(new Error(message), { name: 'States.DataLimitExceeded' });
      execution.abort();
      return dataLimit;
    };
    // The runner retries at once (its intervals are overridden to 0): with simulated time, each
    // retry first waits its interval on the simulated clock, as Step Functions would.
    const retries = new RetryClock();
    let tokens = 0;
    for (const [stateName, { functionName, entry }] of this.taskHandlers) {
      overrides[stateName] = async (payload: unknown) => {
        const retryDelay = retries.entering(stateName, this.definition.States[stateName].Retry);
        if (retryDelay > 0 && this.options.simulatedWait) await this.options.simulatedWait(retryDelay, stateName);
        tasks.push(stateName);
        event('TaskStateEntered', { stateEnteredEventDetails: { name: stateName } });
        const tokenTask = this.tokenTasks.get(stateName);
        const token = tokenTask ? `${executionId}:${stateName}:${++tokens}` : undefined;
        const text = token ? JSON.stringify(payload).split(JSON.stringify(TASK_TOKEN_PLACEHOLDER)).join(JSON.stringify(token)) : JSON.stringify(payload);
        if (Buffer.byteLength(text) > LAMBDA_PAYLOAD_LIMIT) throw overLimit(`the input of task ${stateName} is over 256 KB`);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { handler } = require(handlerModule(entry)) as { handler: Handler };
        const invoke = async () => {
          const result = await invokedFunction.run(functionName, () => handler(JSON.parse(text), { functionName }));
          return result === undefined ? null : JSON.parse(JSON.stringify(result));
        };
        try {
          const invoked = await (this.options.taskInvocation ? this.options.taskInvocation(stateName, invoke, functionName) : invoke());
          // A token task's result is the answer to its token (SendTaskSuccess), not the function's.
          if (token && !this.options.waitForToken) throw new Error(`task ${stateName} waits for a task token; the local runner needs waitForToken to answer it`);
          const result = token ? await this.options.waitForToken!(token, tokenTask!.timeoutSeconds) : invoked;
          // Step Functions refuses a state output over its 256 KB limit: the task fails with States.DataLimitExceeded.
          if (Buffer.byteLength(JSON.stringify(result)) > LAMBDA_PAYLOAD_LIMIT) throw overLimit(`the output of task ${stateName} is over 256 KB`);
          event('LambdaFunctionSucceeded', { lambdaFunctionSucceededEventDetails: { output: JSON.stringify(result) } });
          retries.succeeded(stateName);
          return result;
        } catch (error) {
          // As Lambda reports a handler's error to Step Functions: the cause is its JSON error.
          const e = error as Error;
          retries.failed(stateName, e?.name || 'Error');
          event('LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: { error: e?.name || 'Error', cause: JSON.stringify({ errorType: e?.name || 'Error', errorMessage: e?.message }) } });
          throw error;
        }
      };
    }
    for (const [stateName, seconds] of this.waits) {
      overrides[stateName] = async () => {
        retries.entering(stateName, undefined);
        await this.options.simulatedWait!(seconds, stateName);
        return null;
      };
    }
    const allStates = Object.entries(this.definition.States as Record<string, any>);
    const zeroWaits = Object.fromEntries(allStates.filter(([, s]) => s.Type === 'Wait').map(([n]) => [n, 0]));
    const zeroRetries = Object.fromEntries(allStates.filter(([, s]) => s.Retry).map(([n]) => [n, 0]));
    const execution = this.machine.run(input as never, {
      overrides: { taskResourceLocalHandlers: overrides as never, waitTimeOverrides: zeroWaits, retryIntervalOverrides: zeroRetries },
      context: { Execution: { Id: executionId, Name: executionName, Input: input, StartTime: new Date().toISOString() } } as never,
    });
    let timedOut = false;
    const timeoutSeconds = this.definition.TimeoutSeconds;
    const cancelTimer = typeof timeoutSeconds === 'number' && this.options.executionTimer
      ? this.options.executionTimer(timeoutSeconds, () => {
        timedOut = true;
        execution.abort();
      })
      : () => undefined;
    const statesEntered: string[] = [];
    const logged = (async () => {
      for await (const event of execution.eventLogs) if (event.type === 'StateEntered') statesEntered.push(event.state.name);
    })();
    try {
      const output = (await execution.result.finally(cancelTimer)) as Record<string, any>;
      await logged;
      event('ExecutionSucceeded', { executionSucceededEventDetails: { output: JSON.stringify(output) } });
      Object.assign(record, { status: 'SUCCEEDED', stopDate: new Date().toISOString() });
      return { status: 'SUCCEEDED', output, tasks, statesEntered };
    } catch (error) {
      await logged.catch(() => undefined);
      if (dataLimit) {
        event('ExecutionFailed', { executionFailedEventDetails: { error: dataLimit.name, cause: dataLimit.message } });
        Object.assign(record, { status: 'FAILED', stopDate: new Date().toISOString() });
        return { status: 'FAILED', error: { name: dataLimit.name, message: dataLimit.message }, tasks, statesEntered };
      }
      if (timedOut) {
        event('ExecutionTimedOut', { executionTimedOutEventDetails: { error: 'States.Timeout', cause: `the execution ran longer than ${timeoutSeconds}s` } });
        Object.assign(record, { status: 'TIMED_OUT', stopDate: new Date().toISOString() });
        return { status: 'TIMED_OUT', error: { name: 'States.Timeout', message: `the execution ran longer than ${timeoutSeconds}s` }, tasks, statesEntered };
      }
      // The runner wraps the failing state's error (a Fail state's Error/Cause) in ExecutionError.
      const e = ((error as Error).cause ?? error) as Error;
      event('ExecutionFailed', { executionFailedEventDetails: { error: e.name, cause: e.message } });
      Object.assign(record, { status: 'FAILED', stopDate: new Date().toISOString() });
      return { status: 'FAILED', error: { name: e.name, message: e.message }, tasks, statesEntered };
    }
  }
}

interface Retrier {
  readonly ErrorEquals: string[];
  readonly IntervalSeconds?: number;
  readonly BackoffRate?: number;
  readonly MaxDelaySeconds?: number;
}

/**
 * When a task state is entered again right after it failed (nothing else ran between), it is a
 * retry: the wait before it is its retrier's IntervalSeconds x BackoffRate^(n-1), capped at
 * MaxDelaySeconds (Step Functions' defaults 1 s and 2). Jitter is left out: a `FULL` jitter
 * retrier waits up to this, the game day waits this, so runs are repeatable.
 */
export class RetryClock {
  private last?: { readonly state: string; readonly error?: string };
  private readonly attempts = new Map<string, number>();

  /** The seconds to wait before entering `state` now. */
  entering(state: string, retriers: Retrier[] | undefined): number {
    const previous = this.last;
    this.last = { state };
    if (previous?.state !== state || previous.error === undefined) {
      // A new visit of the state: its retriers count from zero again.
      this.succeeded(state);
      return 0;
    }
    const error = previous.error;
    const index = (retriers ?? []).findIndex((r) => r.ErrorEquals.includes(error) || r.ErrorEquals.includes('States.ALL')
      || (r.ErrorEquals.includes('States.TaskFailed') && !error.startsWith('States.')));
    if (index < 0) return 0;
    const key = `${state}#${index}`;
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    const retrier = retriers![index];
    const seconds = (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** (attempt - 1);
    return retrier.MaxDelaySeconds === undefined ? seconds : Math.min(seconds, retrier.MaxDelaySeconds);
  }

  failed(state: string, error: string): void {
    if (this.last?.state === state) this.last = { state, error };
  }

  succeeded(state: string): void {
    for (const key of [...this.attempts.keys()]) if (key.startsWith(`${state}#`)) this.attempts.delete(key);
  }
}

/** Every runbook construct in a stack (the reference app's, or any app built from the constructs). */
export function runbooksOf(stack: Stack): Runbook[] {
  return stack.node.findAll().filter((c): c is Runbook => c instanceof Runbook);
}

/** Logical id of a runbook's state machine in the stack's template. */
export function stateMachineId(stack: Stack, runbookName: string): string {
  const runbook = runbooksOf(stack).find((r) => r.name === runbookName);
  if (!runbook) throw new Error(`no runbook ${runbookName} in the stack`);
  return stack.resolve((runbook.stateMachine.node.defaultChild as CfnResource).logicalId) as string;
}

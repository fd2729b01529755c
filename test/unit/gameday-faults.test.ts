import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { gameDayDynamo, stopGameDayDynamo, tablesOf } from '../../lib/gameday/local-dynamo';
import { LOCAL_LEDGER_TABLE } from '../../lib/local/local-ledger';
import { SimClock } from '../../lib/gameday/clock';
import { FaultRules, targetMatches, textValues } from '../../lib/gameday/faults';
import { CLIENT_TIMEOUT_ERROR, FUNCTION_TIMED_OUT_ERROR, LambdaTasks } from '../../lib/gameday/lambda-tasks';
import { parseScenario, type FaultRule } from '../../lib/gameday/scenario';
import { installEcs } from '../../lib/gameday/services/ecs';
import { Triggers } from '../../lib/gameday/triggers';
import { World, actingRunbook, type WorldEnv } from '../../lib/gameday/world';
import { ENTRY_METADATA_KEY } from '../../lib/platform/function';
import { RetryClock } from '../../lib/local/template-workflow';

/**
 * Fault rules (docs/gameday.md, `faults`): which calls a rule affects (operation, target,
 * runbook, window, after, times) and what each effect does to a simulated API call and to a
 * Lambda invocation; and `when:` triggers.
 */

const ENV: WorldEnv = { account: '111111111111', region: 'eu-west-1', stackName: 'GameDay', killSwitches: { global: '/medic/GameDay/kill-switch/global', runbooks: { r: '/medic/GameDay/kill-switch/r' } } };
const START = new Date('2026-11-22T03:17:00Z');

/** The fault rules of a scenario whose `faults:` is `yaml`. */
function rules(yaml: string): FaultRule[] {
  const scenario = parseScenario(`name: t\nconfig: { stackName: S, env: { account: '111111111111', region: eu-west-1 }, runbooks: {} }\ntimeline: [{ alarm: a }]\nfaults:\n${yaml}`);
  return scenario.faults.filter((f): f is FaultRule => f.kind === 'api');
}

const call = (operation: string, targets: string[] = [], runbook?: string) => ({ service: operation.split(':')[0], operation: operation.split(':')[1], targets, ...(runbook ? { runbook } : {}) });

describe('which calls a rule affects', () => {
  test('after N calls go through, the next `times` fail, later ones go through again', () => {
    const faults = new FaultRules(rules("  - { operation: 'ecs:UpdateService', error: ThrottlingException, after: 2, times: 2 }"), START.getTime(), () => START.getTime());
    const outcomes = Array.from({ length: 6 }, () => faults.decide(call('ecs:UpdateService'))?.kind ?? 'ok');
    expect(outcomes).toEqual(['ok', 'ok', 'error', 'error', 'ok', 'ok']);
    expect(faults.decide(call('ecs:DescribeServices'))).toBeUndefined();
    expect(faults.applied()[0].applied).toBe(2);
  });

  test('always fails every matching call', () => {
    const faults = new FaultRules(rules("  - { operation: 'sns:Publish', error: InternalError, times: always }"), START.getTime(), () => START.getTime());
    expect(Array.from({ length: 50 }, () => faults.decide(call('sns:Publish'))?.kind)).toEqual(Array(50).fill('error'));
  });

  test('a target names the call\'s resource: a value, or the last segment of an ARN or path', () => {
    expect(targetMatches('api', ['arn:aws:ecs:eu-west-1:1:service/prod/api'])).toBe(true);
    expect(targetMatches('api', ['prod', 'api'])).toBe(true);
    expect(targetMatches('api', ['arn:aws:ecs:eu-west-1:1:service/prod/api-2'])).toBe(false);
    expect(targetMatches('i-1', ['arn:aws:ec2:eu-west-1:1:instance:i-1'])).toBe(true);
    expect(textValues({ cluster: 'prod', services: ['api', 'web'], Payload: new Uint8Array([1]), n: 3 })).toEqual(['prod', 'api', 'web']);
    const faults = new FaultRules(rules("  - { operation: 'ecs:UpdateService', target: web, error: AccessDeniedException, times: always }"), START.getTime(), () => START.getTime());
    expect(faults.decide(call('ecs:UpdateService', ['prod', 'api']))).toBeUndefined();
    expect(faults.decide(call('ecs:UpdateService', ['prod', 'web']))).toEqual({ kind: 'error', error: 'AccessDeniedException' });
  });

  test('a runbook rule affects only that runbook\'s calls', () => {
    const faults = new FaultRules(rules("  - { operation: 'ecs:UpdateService', runbook: r, error: E, times: always }"), START.getTime(), () => START.getTime());
    expect(faults.decide(call('ecs:UpdateService', [], 'other'))).toBeUndefined();
    expect(faults.decide(call('ecs:UpdateService')))
      .toBeUndefined();
    expect(faults.decide(call('ecs:UpdateService', [], 'r'))?.kind).toBe('error');
  });

  test('a window counts only the calls inside it, from the scenario start', () => {
    let now = START.getTime();
    const faults = new FaultRules(rules("  - { operation: 'ecs:UpdateService', error: E, times: always, window: { from: 1m, for: 2m } }"), START.getTime(), () => now);
    const at = (seconds: number) => {
      now = START.getTime() + seconds * 1000;
      return faults.decide(call('ecs:UpdateService'))?.kind ?? 'ok';
    };
    expect([at(59), at(60), at(179), at(180)]).toEqual(['ok', 'error', 'error', 'ok']);
  });

  test('the first matching rule decides; every matching rule counts the call', () => {
    const faults = new FaultRules(rules([
      "  - { operation: 'ecs:UpdateService', error: First }",
      "  - { operation: 'ecs:UpdateService', error: Second, after: 1 }",
    ].join('\n')), START.getTime(), () => START.getTime());
    expect([1, 2, 3].map(() => faults.decide(call('ecs:UpdateService')))).toEqual([{ kind: 'error', error: 'First' }, { kind: 'error', error: 'Second' }, undefined]);
  });
});

describe('what a fault does to a simulated API call', () => {
  let world: World;
  let clock: SimClock;
  afterEach(() => world.restore());

  function ecsWorld(faults: string): ECSClient {
    clock = new SimClock(START);
    world = new World({ ecs: { services: [{ cluster: 'prod', service: 'api' }] } }, clock, ENV, rules(faults));
    world.parameters.set(ENV.killSwitches.global, 'off');
    installEcs(world);
    return new ECSClient({ region: 'eu-west-1' });
  }
  const update = (ecs: ECSClient) => ecs.send(new UpdateServiceCommand({ cluster: 'prod', service: 'api', forceNewDeployment: true }));

  test('an error fails the call with no effect, recorded with its error and the AWS status', async () => {
    const ecs = ecsWorld("  - { operation: 'ecs:UpdateService', error: ServiceUnavailableException }");
    await expect(update(ecs)).rejects.toMatchObject({ name: 'ServiceUnavailableException', $fault: 'server', $metadata: { httpStatusCode: 503 } });
    const described = await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: ['api'] }));
    expect(described.services![0].deployments).toHaveLength(1);
    expect(world.calls).toEqual([expect.objectContaining({ operation: 'UpdateService', error: 'ServiceUnavailableException' })]);
  });

  test('a timeout after effect changes the service, records the call as made, and the caller sees the SDK\'s timeout', async () => {
    const ecs = ecsWorld("  - { operation: 'ecs:UpdateService', error: timeout-after-effect }");
    await expect(actingRunbook.run('r', () => update(ecs))).rejects.toMatchObject({ name: 'TimeoutError' });
    const described = await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: ['api'] }));
    expect(described.services![0].deployments![0].rolloutState).toBe('IN_PROGRESS');
    expect(world.calls).toEqual([expect.objectContaining({ operation: 'UpdateService', unanswered: true, runbook: 'r', guards: { globalKillSwitch: 'off', changeCalendar: 'OPEN' } })]);
    expect(world.calls[0].error).toBeUndefined();
  });

  test('latency answers after that much simulated time', async () => {
    const ecs = ecsWorld("  - { operation: 'ecs:UpdateService', error: latency, latency: 2m }");
    let answeredAt: number | undefined;
    void clock.participate(async () => {
      await update(ecs);
      answeredAt = clock.now();
    });
    await clock.run(3600_000);
    expect(answeredAt).toBe(START.getTime() + 120_000);
    expect(world.calls).toHaveLength(1);
  });

  test('the guards a call found are recorded with it', async () => {
    const ecs = ecsWorld('  []');
    world.parameters.set(ENV.killSwitches.runbooks.r, 'on');
    world.changeCalendar = 'CLOSED';
    await actingRunbook.run('r', () => update(ecs));
    expect(world.calls[0].guards).toEqual({ globalKillSwitch: 'off', runbookKillSwitch: 'on', changeCalendar: 'CLOSED' });
  });
});

describe('Lambda invocations of the workflows\' tasks', () => {
  const RESOURCES = { Act: { Properties: { Timeout: 60 }, Metadata: { [ENTRY_METADATA_KEY]: 'ecs-task-restart/index.ts' } } };

  function tasks(faults: string) {
    const clock = new SimClock(START);
    const world = new World({}, clock, ENV, rules(faults));
    const failed: string[] = [];
    return { clock, world, failed, lambda: new LambdaTasks(world, RESOURCES, (id) => failed.push(id)) };
  }

  test('an injected error fails the task before the handler runs', async () => {
    const { lambda } = tasks("  - { operation: 'lambda:InvokeFunction', target: Act, error: Lambda.ServiceException }");
    const handler = jest.fn(async () => 'done');
    await expect(lambda.invoke('r', 'Act', 'Act', handler)).rejects.toMatchObject({ name: 'Lambda.ServiceException' });
    expect(handler).not.toHaveBeenCalled();
    await expect(lambda.invoke('r', 'Act', 'Act', handler)).resolves.toBe('done');
  });

  test('timeout while running: the task fails at once and the handler goes on to its end', async () => {
    const { lambda, clock } = tasks("  - { operation: 'lambda:InvokeFunction', target: Act, error: timeout-while-running }");
    let finished = false;
    const handler = async () => {
      await clock.sleep(5);
      finished = true;
      return 'done';
    };
    const task = clock.participate(() => lambda.invoke('r', 'Act', 'Act', handler)).catch((e: Error) => e.name);
    await clock.run(3600_000);
    expect(await task).toBe(CLIENT_TIMEOUT_ERROR);
    expect(finished).toBe(true);
  });

  test('timeout after effect: the handler runs to its end, then the task fails', async () => {
    const { lambda } = tasks("  - { operation: 'lambda:InvokeFunction', target: ecs-task-restart, error: timeout-after-effect }");
    const handler = jest.fn(async () => 'done');
    await expect(lambda.invoke('r', 'Act', 'Act', handler)).rejects.toMatchObject({ name: CLIENT_TIMEOUT_ERROR });
    expect(handler).toHaveBeenCalledTimes(1);
  });

  test('a handler still waiting at the function\'s timeout is stopped: Sandbox.Timedout, no further call, an error counted', async () => {
    const { lambda, clock, world, failed } = tasks('  []');
    world.stub(ECSClient);
    const ecs = new ECSClient({ region: 'eu-west-1' });
    installEcs(world);
    let lateCall: string | undefined;
    const handler = async () => {
      await clock.sleep(61);
      lateCall = await ecs.send(new UpdateServiceCommand({ cluster: 'prod', service: 'api' })).then(() => 'made', (e: Error) => e.name);
      return 'done';
    };
    const task = clock.participate(() => lambda.invoke('r', 'Act', 'Act', handler)).catch((e: Error) => e.name);
    await clock.run(3600_000);
    expect(await task).toBe(FUNCTION_TIMED_OUT_ERROR);
    expect(lateCall).toBe(FUNCTION_TIMED_OUT_ERROR);
    expect(world.calls).toEqual([]);
    expect(failed).toEqual(['Act']);
    world.restore();
  });
});

describe('when: triggers', () => {
  test('fire on the n-th matching phase of the named runbook, after their delay', async () => {
    const clock = new SimClock(START);
    const triggers = new Triggers(clock);
    const fired: Array<[string, number]> = [];
    triggers.add({ phase: 'admitted', runbook: 'r', occurrence: 2, delay: 0 }, () => fired.push(['second admitted', clock.now()]));
    triggers.add({ call: 'ecs:UpdateService', occurrence: 1, delay: 30 }, () => fired.push(['after update', clock.now()]));
    triggers.add({ phase: 'acted', occurrence: 1, delay: 0 }, () => fired.push(['never', clock.now()]));
    triggers.entryWritten('admitted', 'r');
    triggers.entryWritten('admitted', 'other');
    expect(fired).toEqual([]);
    triggers.entryWritten('admitted', 'r');
    triggers.entryWritten('admitted', 'r');
    triggers.callMade('ecs:UpdateService', 'r');
    expect(fired).toEqual([['second admitted', START.getTime()]]);
    await clock.run(3600_000);
    expect(fired).toEqual([['second admitted', START.getTime()], ['after update', START.getTime() + 30_000]]);
    expect(triggers.unfired()).toEqual([{ phase: 'acted', occurrence: 1, delay: 0 }]);
  });

  test('the triggered event runs outside the handler that made it happen', () => {
    const triggers = new Triggers(new SimClock(START));
    let runbookSeen: string | undefined = 'unset';
    triggers.add({ phase: 'admitted', occurrence: 1, delay: 0 }, () => { runbookSeen = actingRunbook.getStore(); });
    actingRunbook.run('r', () => triggers.entryWritten('admitted', 'r'));
    expect(runbookSeen).toBeUndefined();
  });
});

describe('DynamoDB faults, at the local DynamoDB\'s door', () => {
  const dbDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medic-faults-'));
  let local: Awaited<ReturnType<typeof gameDayDynamo>>;
  let client: DynamoDBClient;
  beforeAll(async () => {
    local = await gameDayDynamo(dbDir);
    client = new DynamoDBClient({ region: 'eu-west-1', endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB, maxAttempts: 1, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  });
  afterAll(async () => {
    client.destroy();
    await stopGameDayDynamo();
    fs.rmSync(dbDir, { recursive: true, force: true });
  });
  afterEach(() => {
    local.fault = () => undefined;
  });
  const put = (id: string) => client.send(new PutItemCommand({ TableName: LOCAL_LEDGER_TABLE, Item: { pk: { S: id }, sk: { S: '1' } } }));
  const stored = async (id: string) => (await client.send(new GetItemCommand({ TableName: LOCAL_LEDGER_TABLE, Key: { pk: { S: id }, sk: { S: '1' } } }))).Item !== undefined;

  test('the tables a request names: TableName, RequestItems, each transaction item', () => {
    expect(tablesOf({ TableName: 'a' })).toEqual(['a']);
    expect(tablesOf({ RequestItems: { b: [], c: [] } })).toEqual(['b', 'c']);
    expect(tablesOf({ TransactItems: [{ Put: { TableName: 'd' } }, { ConditionCheck: { TableName: 'e' } }] })).toEqual(['d', 'e']);
  });

  test('an error answers as DynamoDB does, and the write has no effect', async () => {
    const seen: unknown[] = [];
    local.fault = (request) => {
      seen.push(request);
      return { kind: 'error', error: 'ProvisionedThroughputExceededException' };
    };
    await expect(put('err')).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException', $metadata: { httpStatusCode: 400 } });
    local.fault = () => undefined;
    expect(await stored('err')).toBe(false);
    expect(seen).toEqual([{ operation: 'PutItem', tables: [LOCAL_LEDGER_TABLE] }]);
  });

  test('a timeout after effect writes the item and the caller hears nothing back', async () => {
    local.fault = () => ({ kind: 'timeout-after-effect' });
    await expect(put('lost')).rejects.toThrow();
    local.fault = () => undefined;
    expect(await stored('lost')).toBe(true);
  });
});

describe('Step Functions retries take simulated time', () => {
  const RETRY = [
    { ErrorEquals: ['ThrottlingException'], IntervalSeconds: 2, BackoffRate: 2, MaxDelaySeconds: 10 },
    { ErrorEquals: ['States.ALL'], IntervalSeconds: 5 },
  ];

  test('a state entered again right after it failed waits its retrier\'s backoff; a new visit starts from zero', () => {
    const retries = new RetryClock();
    const waits: number[] = [];
    const attempt = (error?: string) => {
      waits.push(retries.entering('Act', RETRY));
      if (error) retries.failed('Act', error);
      else retries.succeeded('Act');
    };
    for (const error of ['ThrottlingException', 'ThrottlingException', 'ThrottlingException', 'ThrottlingException', 'Boom', undefined]) attempt(error);
    expect(waits).toEqual([0, 2, 4, 8, 10, 5]);
    retries.entering('Wait', undefined);
    expect(retries.entering('Act', RETRY)).toBe(0);
    retries.failed('Act', 'ThrottlingException');
    expect(retries.entering('Act', RETRY)).toBe(2);
  });

  test('an error no retrier names is not a retry (its Catch leads elsewhere): no wait', () => {
    const retries = new RetryClock();
    retries.entering('Act', [RETRY[0]]);
    retries.failed('Act', 'AccessDenied');
    expect(retries.entering('Act', [RETRY[0]])).toBe(0);
  });
});

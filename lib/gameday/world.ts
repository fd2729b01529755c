import { AsyncLocalStorage } from 'node:async_hooks';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import type { SimClock } from './clock';
import type { Fault, FaultRule, WorldSpec } from './scenario';
import { ApiLog } from './api-log';
import type { Published } from './models/sns';
import { FaultRules, TIMEOUT_ERROR, textValues } from './faults';
import { refuseIfStopped } from '../local/invocation';

/** A call a runbook made that changes something (what the game day counts and reports). */
export interface MutatingCall {
  readonly at: string;
  readonly service: string;
  readonly operation: string;
  readonly parameters: Record<string, unknown>;
  /** The injected error, when the call failed on purpose (and had no effect). */
  readonly error?: string;
  /** The call took effect but its caller saw a timeout (an injected `timeout-after-effect` or `timeout-while-running`). */
  readonly unanswered?: true;
  /** The runbook whose execution made the call (absent for calls outside any execution: the reconciler's). */
  readonly runbook?: string;
  /** The guards as they stood when the call was made (the kill switches' values, absent when deleted; the change calendar), for the safety invariants. */
  readonly guards?: { readonly globalKillSwitch?: string; readonly runbookKillSwitch?: string; readonly changeCalendar: 'OPEN' | 'CLOSED' };
}

/**
 * The runbook whose state machine is running the current task: the engine runs each task of an
 * execution inside it, and it follows the handler through every await, so a call is attributed to
 * its runbook even when executions interleave.
 */
export const actingRunbook = new AsyncLocalStorage<string>();

const byRunbook = (): { runbook?: string } => {
  const runbook = actingRunbook.getStore();
  return runbook === undefined ? {} : { runbook };
};

/** The HTTP status AWS answers an error with: 5xx for service failures, 4xx (400) for refusals and throttling. */
export function statusOf(error: string): number {
  if (/^(InternalFailure|InternalError|InternalServerError|InternalServiceFault|InternalServiceError|ServiceFailure|ServiceException)$/.test(error)) return 500;
  if (/^(ServiceUnavailable|ServiceUnavailableException|ServiceUnavailableError)$/.test(error)) return 503;
  return 400;
}

/** What the stack is, for the parts of the world that need names (kill switches, ARNs). */
export interface WorldEnv {
  readonly account: string;
  readonly region: string;
  readonly stackName: string;
  /** SSM parameter names of the stack's kill switch and of each runbook's. */
  readonly killSwitches: { readonly global: string; readonly runbooks: Record<string, string> };
}

// SDK clients and their mocks are typed per service; the world holds all of them.
type ClientClass = new (...args: any[]) => any;
export type AnyStub = AwsStub<any, any, any>;

/**
 * The simulated AWS a game day runs against: every SDK client the handlers use is answered by
 * aws-sdk-client-mock from the world's state, so the handlers' code runs unchanged. Service
 * modules (lib/gameday/services) install their answers through {@link World.answer}, which
 * applies injected faults and records mutating calls.
 */
export class World {
  readonly calls: MutatingCall[] = [];
  /** Every call answered by the world (and, through the engine, every DynamoDB call), for the IAM check. */
  readonly apiLog = new ApiLog();
  /** Every message the escalation topic accepted, in order (`undelivered` when an `sns:Deliver` fault kept it from its subscribers). */
  readonly notifications: Published[] = [];
  /** SSM parameters (kill switches) by name. */
  readonly parameters = new Map<string, string>();
  /** Parameters the runbooks may not read (a scenario's `killSwitch: { unreadable: true }`): GetParameters on them is denied. */
  readonly unreadableParameters = new Set<string>();
  changeCalendar: 'OPEN' | 'CLOSED' = 'OPEN';
  /**
   * The resource changes a timeline `change: { <world key>: {...} }` can make, by world key: each
   * service registers how it reads its change. Reading checks it (a bad change is a scenario error
   * before anything runs) and returns what applies it at its time.
   */
  readonly changes = new Map<string, (change: Record<string, unknown>, where: string) => () => void>();
  private readonly stubs = new Map<ClientClass, AnyStub>();
  /** The scenario's fault rules (`operation:` faults), for every simulated API, DynamoDB and Lambda invocations. */
  readonly faults: FaultRules;
  private readonly actionListeners: Array<(call: MutatingCall) => void> = [];
  private readonly deliveryFailureListeners: Array<() => void> = [];
  private requests = 0;

  constructor(readonly spec: WorldSpec, readonly clock: SimClock, readonly env: WorldEnv, faults: Fault[]) {
    this.faults = new FaultRules(faults.filter((f): f is FaultRule => f.kind === 'api'), clock.now(), () => clock.now());
  }

  /** The mock of an SDK client class (one per class, restored with the world). */
  stub<C extends ClientClass>(client: C): AnyStub {
    let stub = this.stubs.get(client);
    if (!stub) {
      stub = mockClient(client) as AnyStub;
      this.stubs.set(client, stub);
    }
    return stub;
  }

  /**
   * Answers `service:operation` through the scenario's fault rules: an injected error throws (a
   * failed mutating call is recorded with it); latency delays the answer in simulated time; a
   * timeout after effect answers, then throws the SDK's timeout; a timeout while running throws
   * it at once and lets the answer happen later. A mutating call that took effect is recorded and
   * told to the listeners (alarms that recover after an action, services that react).
   */
  async answer<T>(service: string, operation: string, input: Record<string, unknown>, mutating: boolean, answer: () => T | Promise<T>): Promise<T> {
    this.apiLog.record(service, operation, input);
    refuseIfStopped(`${service}:${operation}`);
    const effect = this.faults.decide({ service, operation, targets: textValues(input), ...byRunbook() });
    if (effect?.kind === 'error') {
      if (mutating) this.calls.push({ at: new Date().toISOString(), service, operation, parameters: input, error: effect.error, ...byRunbook() });
      throw this.injectedError(effect.error, `${effect.error} (injected by the scenario)`);
    }
    if (effect?.kind === 'latency') {
      await this.clock.sleep(effect.seconds);
      refuseIfStopped(`${service}:${operation}`);
    }
    const unanswered = effect?.kind === 'timeout-after-effect' || effect?.kind === 'timeout-while-running';
    const effected = async () => {
      const guards = this.guards();
      const result = await answer();
      if (mutating) {
        const call: MutatingCall = {
          at: new Date().toISOString(), service, operation, parameters: input, ...(unanswered ? { unanswered: true as const } : {}), ...byRunbook(), guards,
        };
        this.calls.push(call);
        for (const listener of this.actionListeners) listener(call);
      }
      return result;
    };
    if (effect?.kind === 'timeout-while-running') {
      // The callee goes on (Lambda runs the invoked function to its end) while the caller has given up.
      this.clock.participate(effected).catch(() => undefined);
      throw this.timeout(service, operation);
    }
    const result = await effected();
    if (effect?.kind === 'timeout-after-effect') throw this.timeout(service, operation);
    // Every AWS answer carries a request id; the ledger records it for each mutating call.
    if (result && typeof result === 'object' && !('$metadata' in result)) {
      return { ...result, $metadata: { httpStatusCode: 200, requestId: `gameday-${++this.requests}` } } as T;
    }
    return result;
  }

  /** An AWS error as the SDK throws it: `name` is the code, with the HTTP status AWS answers it with. */
  injectedError(name: string, message: string): Error {
    const status = statusOf(name);
    return Object.assign(new Error(message), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status, requestId: `gameday-${++this.requests}` } });
  }

  /** What the SDK throws when its request timed out: no HTTP status, no request id (it never got an answer). */
  private timeout(service: string, operation: string): Error {
    return Object.assign(new Error(`${service}:${operation} timed out (injected by the scenario: the call took effect)`), { name: TIMEOUT_ERROR, $metadata: {} });
  }

  /** The guards now, as a call made now would find them (for the runbook making it, when there is one). */
  private guards(): NonNullable<MutatingCall['guards']> {
    const runbook = actingRunbook.getStore();
    const runbookSwitch = runbook !== undefined && this.env.killSwitches.runbooks[runbook] !== undefined ? this.parameters.get(this.killSwitchName(runbook)) : undefined;
    return {
      ...(this.parameters.has(this.killSwitchName()) ? { globalKillSwitch: this.parameters.get(this.killSwitchName()) } : {}),
      ...(runbookSwitch !== undefined ? { runbookKillSwitch: runbookSwitch } : {}),
      changeCalendar: this.changeCalendar,
    };
  }

  /**
   * The escalation topic accepted `message` (from a handler, a rule or an alarm): it reaches its
   * subscribers unless an `sns:Deliver` fault rule fails the delivery, which SNS counts in
   * `NumberOfNotificationsFailed` (the listeners hear of it: the self-alarm on that metric).
   */
  notify(message: Published): void {
    const failed = this.faults.decide({ service: 'sns', operation: 'Deliver', targets: [message.subject ?? '', message.message ?? ''] });
    this.notifications.push(failed ? { ...message, undelivered: true } : message);
    if (failed) for (const listener of this.deliveryFailureListeners) listener();
  }

  /** Called when the escalation topic fails to deliver a message. */
  onDeliveryFailure(listener: () => void): void {
    this.deliveryFailureListeners.push(listener);
  }

  /** Called after every successful mutating call. */
  onAction(listener: (call: MutatingCall) => void): void {
    this.actionListeners.push(listener);
  }

  /** Schedules a change of the world `seconds` from now (simulated). */
  later(seconds: number, change: () => void): void {
    this.clock.schedule(this.clock.now() + seconds * 1000, change);
  }

  /** The stack's kill-switch parameter, or a runbook's. */
  killSwitchName(runbook?: string): string {
    if (!runbook) return this.env.killSwitches.global;
    const name = this.env.killSwitches.runbooks[runbook];
    if (!name) throw new Error(`there is no runbook ${runbook} in the stack`);
    return name;
  }

  restore(): void {
    for (const stub of this.stubs.values()) stub.restore();
    this.stubs.clear();
  }
}

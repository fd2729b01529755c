import { AsyncLocalStorage } from 'node:async_hooks';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import type { SimClock } from './clock';
import type { Fault, WorldSpec } from './scenario';
import { ApiLog } from './api-log';

/** A call a runbook made that changes something (what the game day counts and reports). */
export interface MutatingCall {
  readonly at: string;
  readonly service: string;
  readonly operation: string;
  readonly parameters: Record<string, unknown>;
  /** The injected error, when the call failed on purpose. */
  readonly error?: string;
  /** The runbook whose execution made the call (absent for calls outside any execution: the reconciler's). */
  readonly runbook?: string;
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
function statusOf(error: string): number {
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
  readonly notifications: Array<{ readonly at: string; readonly subject?: string; readonly message?: string }> = [];
  /** SSM parameters (kill switches) by name. */
  readonly parameters = new Map<string, string>();
  /** Parameters the runbooks may not read (a scenario's `killSwitch: { unreadable: true }`): GetParameters on them is denied. */
  readonly unreadableParameters = new Set<string>();
  changeCalendar: 'OPEN' | 'CLOSED' = 'OPEN';
  private readonly stubs = new Map<ClientClass, AnyStub>();
  private readonly apiFaults: Array<Extract<Fault, { kind: 'api' }> & { left: number }>;
  private readonly actionListeners: Array<(call: MutatingCall) => void> = [];
  private requests = 0;

  constructor(readonly spec: WorldSpec, readonly clock: SimClock, readonly env: WorldEnv, faults: Fault[]) {
    this.apiFaults = faults.filter((f): f is Extract<Fault, { kind: 'api' }> => f.kind === 'api').map((f) => ({ ...f, left: f.times }));
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
   * Answers `service:operation`: an injected fault throws its error (a throttled mutating call
   * is recorded as failed); otherwise `answer` runs, and a mutating call is recorded and told to
   * the listeners (alarms that recover after an action, services that react).
   */
  async answer<T>(service: string, operation: string, input: Record<string, unknown>, mutating: boolean, answer: () => T | Promise<T>): Promise<T> {
    this.apiLog.record(service, operation, input);
    const fault = this.apiFaults.find((f) => f.operation === `${service}:${operation}` && f.left > 0);
    if (fault) {
      fault.left--;
      if (mutating) this.calls.push({ at: new Date().toISOString(), service, operation, parameters: input, error: fault.error, ...byRunbook() });
      const status = statusOf(fault.error);
      throw Object.assign(new Error(`${fault.error} (injected by the scenario)`), {
        name: fault.error, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status, requestId: `gameday-${++this.requests}` },
      });
    }
    const result = await answer();
    if (mutating) {
      const call = { at: new Date().toISOString(), service, operation, parameters: input, ...byRunbook() };
      this.calls.push(call);
      for (const listener of this.actionListeners) listener(call);
    }
    // Every AWS answer carries a request id; the ledger records it for each mutating call.
    if (result && typeof result === 'object' && !('$metadata' in result)) {
      return { ...result, $metadata: { httpStatusCode: 200, requestId: `gameday-${++this.requests}` } } as T;
    }
    return result;
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

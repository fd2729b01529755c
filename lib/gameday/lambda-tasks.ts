import { lambdaInvocation } from '../local/invocation';
import type { World } from './world';
import { ENTRY_METADATA_KEY } from '../platform/function';

/** Lambda's default function timeout, when the template sets none. */
const DEFAULT_TIMEOUT_SECONDS = 3;

/**
 * The error Step Functions' Lambda integration reports when its call to Lambda timed out on the
 * client side: the function may still be running. The workflows retry it (CDK's
 * `retryOnServiceExceptions`), so the retry overlaps the first invocation.
 */
export const CLIENT_TIMEOUT_ERROR = 'Lambda.ClientExecutionTimeoutException';

/** What Step Functions reports for a function Lambda stopped at its timeout. */
export const FUNCTION_TIMED_OUT_ERROR = 'Sandbox.Timedout';

/** An invocation that ended in an error, as Lambda counts it (`Errors`, for the self-alarms). */
export interface FunctionError {
  readonly functionId: string;
  readonly atMs: number;
  readonly error: string;
}

/**
 * Runs each Task state's Lambda as Lambda and Step Functions would under the scenario's
 * `lambda:InvokeFunction` fault rules (target: the state's name, the handler's folder or the function's logical id):
 * an injected error fails the task before the handler runs (`Lambda.ServiceException`,
 * `Lambda.TooManyRequestsException`...); latency delays the start; `timeout-after-effect` runs
 * the handler to its end and then reports {@link CLIENT_TIMEOUT_ERROR}; `timeout-while-running`
 * reports it at once while the handler goes on. Every invocation is stopped at the function's
 * timeout (in simulated time): Step Functions sees {@link FUNCTION_TIMED_OUT_ERROR} and the handler
 * makes no further call. Errors are recorded per function in `errors`.
 */
export class LambdaTasks {
  readonly errors: FunctionError[] = [];

  constructor(
    private readonly world: World,
    private readonly resources: Record<string, { Properties?: { Timeout?: unknown }; Metadata?: Record<string, unknown> }>,
    /** Told of each invocation that ended in an error (the function's `Errors` metric). */
    private readonly onError: (functionId: string) => void = () => undefined,
  ) {}

  /** The `taskInvocation` of a LocalWorkflow running `runbook`'s state machine. */
  invoke(runbook: string, stateName: string, functionId: string, invoke: () => Promise<unknown>): Promise<unknown> {
    return this.withFaults(runbook, stateName, functionId, () => this.withTimeout(functionId, invoke));
  }

  private async withFaults(runbook: string, stateName: string, functionId: string, run: () => Promise<unknown>): Promise<unknown> {
    const effect = this.world.faults.decide({ service: 'lambda', operation: 'InvokeFunction', targets: [stateName, functionId, ...this.handlerOf(functionId)], runbook });
    switch (effect?.kind) {
      case 'error':
        throw this.world.injectedError(effect.error, `${effect.error} (injected by the scenario: task ${stateName} of ${runbook})`);
      case 'latency':
        await this.world.clock.sleep(effect.seconds);
        return run();
      case 'timeout-after-effect':
        await run();
        throw this.clientTimeout(stateName);
      case 'timeout-while-running':
        this.world.clock.participate(run).catch(() => undefined);
        throw this.clientTimeout(stateName);
      default:
        return run();
    }
  }

  /** Runs the handler; at its timeout Lambda stops it, whatever it is waiting for. */
  private withTimeout(functionId: string, invoke: () => Promise<unknown>): Promise<unknown> {
    const seconds = Number(this.resources[functionId]?.Properties?.Timeout ?? DEFAULT_TIMEOUT_SECONDS);
    const invocation = { killed: false, functionId };
    return new Promise((resolve, reject) => {
      let settled = false;
      const cancel = this.world.clock.schedule(this.world.clock.now() + seconds * 1000, () => {
        if (settled) return;
        settled = true;
        invocation.killed = true;
        this.fail(functionId, FUNCTION_TIMED_OUT_ERROR);
        reject(Object.assign(new Error(`Task timed out after ${seconds.toFixed(2)} seconds`), { name: FUNCTION_TIMED_OUT_ERROR }));
      });
      lambdaInvocation.run(invocation, invoke).then((result) => {
        if (settled) return;
        settled = true;
        cancel();
        resolve(result);
      }, (error: unknown) => {
        if (settled) return;
        settled = true;
        cancel();
        this.fail(functionId, (error as Error)?.name || 'Error');
        reject(error as Error);
      });
    });
  }

  /** The function's handler folder (`ecs-task-restart`, `admit`), another name a rule's target may use. */
  private handlerOf(functionId: string): string[] {
    const entry = this.resources[functionId]?.Metadata?.[ENTRY_METADATA_KEY];
    return typeof entry === 'string' ? [entry.split('/')[0]] : [];
  }

  private fail(functionId: string, error: string): void {
    this.errors.push({ functionId, atMs: this.world.clock.now(), error });
    this.onError(functionId);
  }

  private clientTimeout(stateName: string): Error {
    return Object.assign(new Error(`the invocation of task ${stateName} timed out on the client side; the function may still be running (injected by the scenario)`), { name: CLIENT_TIMEOUT_ERROR });
  }
}

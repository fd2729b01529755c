import { SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import type { SimClock } from './clock';
import { awsError, type ModelOperations } from './models/operations';

/**
 * Step Functions' task tokens for the game day: a `.waitForTaskToken` task waits (asleep on the
 * simulated clock) until its token is answered with SendTaskSuccess or SendTaskFailure, or its
 * TimeoutSeconds pass (`States.Timeout`). Answering an unknown token is `TaskDoesNotExist`, a
 * timed-out or answered one `TaskTimedOut`, as the Step Functions API reference lists them.
 */
export class TaskTokens {
  private readonly waiting = new Map<string, { readonly resolve: (output: unknown) => void; readonly reject: (error: Error) => void; readonly cancel: () => void; readonly wake: () => void }>();
  private readonly closed = new Set<string>();

  constructor(private readonly clock: SimClock) {}

  readonly operations: ModelOperations = {
    SendTaskSuccess: { command: SendTaskSuccessCommand, mutating: false, answer: (input: { taskToken: string; output: string }) => this.succeed(input) },
    SendTaskFailure: { command: SendTaskFailureCommand, mutating: false, answer: (input: { taskToken: string; error?: string; cause?: string }) => this.fail(input) },
    SendTaskHeartbeat: { command: SendTaskHeartbeatCommand, mutating: false, answer: (input: { taskToken: string }) => (this.open(input.taskToken), {}) },
  };

  /** The task's wait for its token (the LocalWorkflow's `waitForToken`). */
  wait(token: string, timeoutSeconds: number | undefined): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      const wake = this.clock.asleep();
      const cancel = timeoutSeconds === undefined ? () => undefined : this.clock.schedule(this.clock.now() + timeoutSeconds * 1000, () => {
        this.settle(token);
        reject(Object.assign(new Error(`the task timed out after ${timeoutSeconds}s without an answer to its token`), { name: 'States.Timeout' }));
      });
      this.waiting.set(token, { resolve, reject, cancel, wake });
    });
  }

  /** Tokens still waiting (for the report: an approval nobody gave). */
  pending(): string[] {
    return [...this.waiting.keys()];
  }

  private succeed(input: { taskToken: string; output: string }): Record<string, never> {
    const task = this.open(input.taskToken);
    let output: unknown;
    try {
      output = JSON.parse(input.output);
    } catch {
      // SendTaskSuccess, Errors: InvalidOutput "The provided JSON output data is not valid."
      throw awsError('InvalidOutput', 'The provided JSON output data is not valid');
    }
    this.settle(input.taskToken);
    task.resolve(output);
    return {};
  }

  private fail(input: { taskToken: string; error?: string; cause?: string }): Record<string, never> {
    const task = this.open(input.taskToken);
    this.settle(input.taskToken);
    task.reject(Object.assign(new Error(input.cause ?? ''), { name: input.error ?? 'Error' }));
    return {};
  }

  private open(token: string) {
    const task = this.waiting.get(token);
    if (task) return task;
    // API reference, SendTaskSuccess: TaskDoesNotExist; TaskTimedOut "The task token has either expired or the task associated with the token has already been closed."
    if (this.closed.has(token)) throw awsError('TaskTimedOut', 'Task Timed Out: the task token has expired or its task is closed');
    throw awsError('TaskDoesNotExist', 'Task Does Not Exist');
  }

  /** Closes the token: its waiter is awake (before it is settled: see SimClock.asleep) and its timeout cancelled. */
  private settle(token: string): void {
    this.waiting.get(token)?.wake();
    this.waiting.get(token)?.cancel();
    this.waiting.delete(token);
    this.closed.add(token);
  }
}

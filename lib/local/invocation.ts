import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The Lambda function whose handler is running, as the local runner invoked it (the function's
 * logical id in the template). It follows the handler through every await, so a simulated AWS
 * can tell which function's role an SDK call is made with even when executions interleave.
 */
export const invokedFunction = new AsyncLocalStorage<string>();

/**
 * The game day's Lambda invocation running the current code, when it runs with a timeout: once
 * Lambda has stopped it (`killed`), a call it still tries is refused, as a stopped function makes none.
 */
export const lambdaInvocation = new AsyncLocalStorage<{ killed: boolean; readonly functionId: string }>();

/** Throws if the current invocation was stopped at its timeout (what `Sandbox.Timedout` means). */
export function refuseIfStopped(call: string): void {
  const invocation = lambdaInvocation.getStore();
  if (invocation?.killed) throw Object.assign(new Error(`${call} not made: function ${invocation.functionId} had timed out and was stopped`), { name: 'Sandbox.Timedout' });
}

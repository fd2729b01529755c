import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The Lambda function whose handler is running, as the local runner invoked it (the function's
 * logical id in the template). It follows the handler through every await, so a simulated AWS
 * can tell which function's role an SDK call is made with even when executions interleave.
 */
export const invokedFunction = new AsyncLocalStorage<string>();

import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { invokedFunction, refuseIfStopped } from '../local/invocation';

/** One AWS API call a handler made during a game day, with the function whose role signs it. */
export interface ApiCall {
  /** The function's logical id in the template; absent for calls the game day itself makes. */
  readonly functionId?: string;
  /** The IAM service prefix (`ecs`, `rds`, `dynamodb`, ...). */
  readonly service: string;
  readonly operation: string;
  readonly input: Record<string, unknown>;
}

/**
 * Every AWS call of a game day, answered or failed, attributed to the function that made it, so
 * a test can evaluate each one against that function's synthesized IAM policy.
 */
export class ApiLog {
  readonly calls: ApiCall[] = [];

  record(service: string, operation: string, input: Record<string, unknown>): void {
    this.calls.push({ functionId: invokedFunction.getStore(), service, operation, input });
  }

  /**
   * Records the handlers' DynamoDB calls too: they go to the local DynamoDB, not to a mock.
   * lib-dynamodb's commands wrap the DynamoDB command they send (`clientCommand`), whose class
   * names the API operation. `onSuccess` hears of each call that succeeded, before its caller does.
   * Returns the function that stops recording.
   */
  recordDynamoDb(onSuccess?: (operation: string, input: Record<string, unknown>) => void): () => void {
    const prototype = DynamoDBDocumentClient.prototype as unknown as { send: (command: DocumentCommand, ...rest: unknown[]) => unknown };
    const original = Object.getOwnPropertyDescriptor(prototype, 'send');
    const inherited = prototype.send;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the wrapper needs the log and the client both
    const log = this;
    prototype.send = function send(this: unknown, command: DocumentCommand, ...rest: unknown[]) {
      const operation = (command.clientCommand ?? command).constructor.name.replace(/Command$/, '');
      log.record('dynamodb', operation, command.clientCommand?.input ?? command.input);
      refuseIfStopped(`dynamodb:${operation}`);
      const sent = inherited.call(this, command, ...rest) as Promise<unknown>;
      if (!onSuccess) return sent;
      return sent.then((result) => {
        onSuccess(operation, command.input);
        return result;
      });
    };
    return () => {
      if (original) Object.defineProperty(prototype, 'send', original);
      else delete (prototype as { send?: unknown }).send;
    };
  }
}

interface DocumentCommand {
  readonly input: Record<string, unknown>;
  readonly clientCommand?: { readonly input: Record<string, unknown> };
}

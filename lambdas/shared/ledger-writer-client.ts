import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { AppendInput, LedgerEntry } from './ledger';

let client: LambdaClient | undefined;

/** What the ledger writer function takes: one append. */
export interface LedgerWriterRequest {
  readonly append: Omit<AppendInput, 'table' | 'now'> & { readonly now?: string };
}

/**
 * Appends through the ledger writer function, synchronously. The writer's error comes back as
 * Lambda's `FunctionError` payload (`errorType`, `errorMessage`) and is thrown with the same
 * name, so callers see a DynamoDB error (`ConditionalCheckFailedException` after the writer's retries) exactly as if they had written.
 */
export async function invokeLedgerWriter(functionName: string, input: AppendInput): Promise<LedgerEntry> {
  client ??= new LambdaClient({});
  const { table: _table, now, ...append } = input;
  const request: LedgerWriterRequest = { append: { ...append, ...(now ? { now: now.toISOString() } : {}) } };
  const out = await client.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(request)) }));
  const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
  if (out.FunctionError) {
    let error: { errorType?: string; errorMessage?: string } = {};
    try {
      error = JSON.parse(text) as typeof error;
    } catch {
      // An unparsable error payload is still an error; its text is the message.
    }
    throw Object.assign(new Error(error.errorMessage ?? (text || `ledger writer failed (${out.FunctionError})`)), { name: error.errorType ?? 'Medic.LedgerWriterFailed' });
  }
  return JSON.parse(text) as LedgerEntry;
}

import type { InvokeCommandInput, InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { ENTRY_METADATA_KEY, handlerModule } from '../platform/function';
import { invokedFunction } from './invocation';
import { TemplateResolver, type LocalEnv } from './template-workflow';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }>;
type Handler = (event: unknown, context: { functionName: string }) => Promise<unknown>;

/**
 * Lambda's Invoke (RequestResponse) for the functions of a synthesized template, run in this
 * process: the function named (its name, as the template's Ref resolves it offline, or its
 * ARN) runs its handler source with the payload passed through JSON, inside
 * {@link invokedFunction} so its own calls are attributed to it. A handler error comes back as
 * Lambda reports it: `FunctionError: 'Unhandled'` with `errorType` and `errorMessage` (Lambda
 * API reference: Invoke). The function's environment variables that the process does not set
 * yet are set first (the offline world shares one process environment).
 */
export function localLambda(template: { Resources: Resources } | Record<string, unknown>, env: LocalEnv): (input: InvokeCommandInput) => Promise<InvokeCommandOutput> {
  const resources = (template as { Resources: Resources }).Resources;
  const resolver = new TemplateResolver(resources as never, env);
  return async (input) => {
    const name = String(input.FunctionName).split(':function:').pop()!.split(':')[0];
    const resource = resources[name];
    const entry = resource?.Metadata?.[ENTRY_METADATA_KEY];
    if (resource?.Type !== 'AWS::Lambda::Function' || typeof entry !== 'string') {
      throw Object.assign(new Error(`Function not found: ${String(input.FunctionName)}`), { name: 'ResourceNotFoundException', $fault: 'client', $metadata: { httpStatusCode: 404 } });
    }
    const variables = resolver.resolve((resource.Properties?.Environment as { Variables?: unknown } | undefined)?.Variables ?? {}) as Record<string, string>;
    for (const [key, value] of Object.entries(variables)) process.env[key] ??= value;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { handler } = require(handlerModule(entry)) as { handler: Handler };
    const payload: unknown = input.Payload ? JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8')) : {};
    const answer = (body: unknown, functionError?: string): InvokeCommandOutput => ({
      StatusCode: 200, ...(functionError ? { FunctionError: functionError } : {}),
      Payload: Buffer.from(JSON.stringify(body ?? null)) as unknown as InvokeCommandOutput['Payload'], $metadata: { httpStatusCode: 200 },
    });
    try {
      return answer(await invokedFunction.run(name, () => handler(payload, { functionName: name })));
    } catch (error) {
      const e = error as Error;
      return answer({ errorType: e.name || 'Error', errorMessage: e.message }, 'Unhandled');
    }
  };
}

/** The value the template's functions give an environment variable (the first function that sets it). */
export function functionVariable(template: Record<string, unknown>, env: LocalEnv, name: string): string | undefined {
  const resources = (template as { Resources: Resources }).Resources;
  const resolver = new TemplateResolver(resources as never, env);
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const value = (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.[name];
    if (value !== undefined) return String(resolver.resolve(value));
  }
  return undefined;
}

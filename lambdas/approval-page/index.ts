import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';

let client: LambdaClient | undefined;

const HTML = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'content-security-policy': "default-src 'none'" };
const MAX_BODY_CHARS = 16384;

const plain = (statusCode: number, text: string): LambdaFunctionURLResult => ({
  statusCode, headers: HTML, body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>medic</title></head><body><p>${text}</p></body></html>`,
});

/**
 * The one-click approval page's public function URL (a browser cannot sign requests). It holds
 * no permission but invoking the approval function, and forwards only the method, path and body
 * of the request; the approval function checks the link's secret and renders the page.
 */
export async function handler(event: LambdaFunctionURLEvent): Promise<LambdaFunctionURLResult> {
  const functionName = process.env.MEDIC_APPROVAL_FUNCTION;
  if (!functionName) return plain(500, 'The approval page is not configured (MEDIC_APPROVAL_FUNCTION is not set). Nothing was done.');
  if ((event.body?.length ?? 0) > MAX_BODY_CHARS) return plain(413, 'The request is too large. Nothing was done.');
  client ??= new LambdaClient({});
  const request = {
    action: 'page', method: event.requestContext?.http?.method ?? 'GET', path: event.rawPath ?? '/', body: event.body, isBase64Encoded: event.isBase64Encoded,
  };
  try {
    const out = await client.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(request)) }));
    const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
    if (out.FunctionError) throw new Error(text || out.FunctionError);
    const page = JSON.parse(text) as { statusCode?: unknown; headers?: unknown; body?: unknown };
    if (typeof page.statusCode !== 'number' || typeof page.body !== 'string') throw new Error('the approval function did not answer with a page');
    return page as LambdaFunctionURLResult;
  } catch (error) {
    console.error(JSON.stringify({ message: 'approval page failed', error: (error as Error).message }));
    return plain(502, 'medic could not answer just now. Nothing was decided by this attempt; open the link again to see the request\'s state.');
  }
}

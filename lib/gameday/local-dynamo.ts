import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openLocalTables, saveLocalExecutions } from '../local/local-ledger';
import type { LocalDynamo } from '../local/dynalite';
import type { FaultEffect } from './faults';

/**
 * The game day's DynamoDB: the persisted local dynalite behind a loopback proxy that can play
 * an outage (503 to every request) while `outage()` says so. The handlers' clients read the
 * endpoint once per process, so there is one per process, set up on first use.
 */
export interface GameDayDynamo {
  readonly dynamo: LocalDynamo;
  readonly proxy: http.Server;
  /** Set by the engine for the scenario running now. */
  outage: () => boolean;
  /** The fault injected into one request (the scenario's `dynamodb:<Operation>` rules), set by the engine. */
  fault: (request: DynamoRequest) => FaultEffect | undefined;
  /** Waits simulated time (an injected latency), set by the engine. */
  sleep: (seconds: number) => Promise<void>;
  /** Requests the proxy received (each SDK attempt), for the bench's cost figures. */
  requests: number;
}

/** One DynamoDB request as the proxy sees it: its operation and every table it touches. */
export interface DynamoRequest {
  readonly operation: string;
  readonly tables: string[];
}

/** The tables a DynamoDB request names: `TableName`, the keys of `RequestItems`, or each item of a transaction. */
export function tablesOf(body: Record<string, any>): string[] {
  const tables = new Set<string>();
  if (typeof body.TableName === 'string') tables.add(body.TableName);
  for (const name of Object.keys(body.RequestItems ?? {})) tables.add(name);
  for (const item of body.TransactItems ?? []) {
    for (const part of Object.values(item ?? {}) as Array<{ TableName?: unknown }>) if (typeof part?.TableName === 'string') tables.add(part.TableName);
  }
  return [...tables];
}

/** A DynamoDB error answer: the JSON protocol's `__type` names the error; 5xx for service failures. */
function errorAnswer(res: http.ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
  res.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message }));
}

let instance: Promise<GameDayDynamo> | undefined;

export function gameDayDynamo(dir?: string): Promise<GameDayDynamo> {
  instance ??= start(dir);
  return instance;
}

/** Closes the proxy and the local DynamoDB (the tables stay on disk for `medic ledger --local`). */
export async function stopGameDayDynamo(): Promise<void> {
  if (!instance) return;
  const { dynamo, proxy } = await instance;
  instance = undefined;
  proxy.closeAllConnections();
  await new Promise<void>((resolve) => proxy.close(() => resolve()));
  await dynamo.stop();
}

async function start(dir?: string): Promise<GameDayDynamo> {
  const dynamo = await openLocalTables({ fresh: true, dir, setEndpointEnv: false });
  // A fresh game day: no execution of an earlier one is left for `medic ledger reconcile --local`.
  saveLocalExecutions([], { dir, fresh: true });
  const target = new URL(dynamo.endpoint);
  const forward = (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse, afterAnswer?: () => void) => {
    const upstream = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      if (afterAnswer) {
        // The write took effect; the caller never hears of it (its connection drops), as after a timeout.
        answer.resume();
        answer.on('end', afterAnswer);
        return;
      }
      res.writeHead(answer.statusCode ?? 500, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (error) => {
      res.writeHead(502);
      res.end(String(error));
    });
    upstream.end(body);
  };
  const proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        state.requests++;
        if (state.outage()) return errorAnswer(res, 503, 'ServiceUnavailableException', 'DynamoDB is unavailable (simulated outage)');
        const body = Buffer.concat(chunks);
        const operation = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
        let parsed: Record<string, unknown> = {};
        try {
          parsed = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
        } catch {
          // Not JSON: dynalite answers it.
        }
        const effect = state.fault({ operation, tables: tablesOf(parsed) });
        switch (effect?.kind) {
          case 'error': {
            const status = /^(InternalServerError|InternalFailure)$/.test(effect.error) ? 500 : /Unavailable/.test(effect.error) ? 503 : 400;
            return errorAnswer(res, status, effect.error, `${effect.error} (injected by the scenario)`);
          }
          case 'latency':
            await state.sleep(effect.seconds);
            return forward(req, body, res);
          case 'timeout-after-effect':
          case 'timeout-while-running':
            return forward(req, body, res, () => res.destroy());
          default:
            return forward(req, body, res);
        }
      })();
    });
  });
  const state: GameDayDynamo = { dynamo, proxy, outage: () => false, fault: () => undefined, sleep: () => Promise.resolve(), requests: 0 };
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve()));
  process.env.AWS_ENDPOINT_URL_DYNAMODB = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  return state;
}

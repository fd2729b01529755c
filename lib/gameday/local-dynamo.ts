import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openLocalTables, saveLocalExecutions } from '../local/local-ledger';
import type { LocalDynamo } from '../local/dynalite';

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
  const proxy = http.createServer((req, res) => {
    if (state.outage()) {
      req.resume();
      res.writeHead(503, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ServiceUnavailableException', message: 'DynamoDB is unavailable (simulated outage)' }));
      return;
    }
    const upstream = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 500, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (error) => {
      res.writeHead(502);
      res.end(String(error));
    });
    req.pipe(upstream);
  });
  const state: GameDayDynamo = { dynamo, proxy, outage: () => false };
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve()));
  process.env.AWS_ENDPOINT_URL_DYNAMODB = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  return state;
}

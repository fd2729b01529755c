/**
 * The attempt budget under load, today's slots (`admitWithinRate`) against the versioned single
 * item they replaced (`baseline`, baseline-limiter.ts), in the same run: 50 callers on one key
 * (max 3 and max 50), and 1,000 events over 100 targets. Counts DynamoDB requests per decision
 * and checks that exactly the expected number was admitted.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { dynamo } from '../../lambdas/shared/clients';
import { acquireLease, admitWithinRate, type RateDecision } from '../../lambdas/shared/limiter';
import { baselineAcquireLease, baselineAdmitWithinRate } from './baseline-limiter';
import { percentile, pool } from './stats';

export type Admit = (table: string, key: string, incidentId: string, maxAttempts: number, windowSeconds: number) => Promise<RateDecision>;

type Acquire = (table: string, key: string, incidentId: string, max: number, leaseSeconds: number) => Promise<{ acquired: boolean; holders: string[] }>;

export const IMPLEMENTATIONS: ReadonlyArray<{ readonly name: 'slots' | 'baseline'; readonly admit: Admit; readonly acquire: Acquire }> = [
  { name: 'baseline', admit: baselineAdmitWithinRate, acquire: baselineAcquireLease },
  { name: 'slots', admit: admitWithinRate, acquire: acquireLease },
];

const CALLERS = 50;
const ROUNDS = 5;
const SPREAD_EVENTS = 1000;
const SPREAD_TARGETS = 100;
const SPREAD_CONCURRENCY = 50;
const SPREAD_MAX = 3;
const WINDOW_SECONDS = 3600;

/** DynamoDB requests (HTTP attempts) and conflicts made by one logical decision. */
interface Counts { requests: number; conflicts: number }
const tracker = new AsyncLocalStorage<Counts>();
let installed = false;

/** Counts every request the shared DynamoDB client sends inside `measured` (each HTTP attempt, SDK retries included). */
export function countRequests(): void {
  if (installed) return;
  installed = true;
  dynamo().middlewareStack.add(
    (next) => async (args) => {
      const store = tracker.getStore();
      if (store) store.requests++;
      return next(args);
    },
    { step: 'deserialize', name: 'benchRequestCounter' },
  );
  dynamo().middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        const store = tracker.getStore();
        if (store && (error as Error)?.name === 'ConditionalCheckFailedException') store.conflicts++;
        throw error;
      }
    },
    { step: 'initialize', name: 'benchAdmissionConflictCounter' },
  );
}

interface Sample { readonly ms: number; readonly requests: number; readonly conflicts: number; readonly decision?: RateDecision; readonly error?: unknown }

async function measured(op: () => Promise<RateDecision>): Promise<Sample> {
  const store: Counts = { requests: 0, conflicts: 0 };
  return tracker.run(store, async () => {
    const start = performance.now();
    try {
      const decision = await op();
      return { ms: performance.now() - start, requests: store.requests, conflicts: store.conflicts, decision };
    } catch (error) {
      return { ms: performance.now() - start, requests: store.requests, conflicts: store.conflicts, error };
    }
  });
}

/** The DynamoDB requests `op` sends (each HTTP attempt). */
export async function requestsOf(op: () => Promise<unknown>): Promise<number> {
  countRequests();
  const store: Counts = { requests: 0, conflicts: 0 };
  await tracker.run(store, op);
  return store.requests;
}

export interface ScenarioResult {
  readonly scenario: string;
  readonly samples: number[];
  readonly wallMs: number;
  readonly p50: number;
  readonly requestsPerDecision: number;
  readonly decisionsPerSecond: number;
  readonly conflicts: number;
  readonly admitted: number;
  readonly expected: number;
  readonly errors: number;
}

function summarise(scenario: string, samples: Sample[], wallMs: number, expected: number): ScenarioResult {
  const ms = samples.map((s) => s.ms);
  return {
    scenario,
    samples: ms,
    wallMs,
    p50: percentile([...ms].sort((a, b) => a - b), 50),
    requestsPerDecision: samples.reduce((n, s) => n + s.requests, 0) / samples.length,
    decisionsPerSecond: samples.length / (wallMs / 1000),
    conflicts: samples.reduce((n, s) => n + s.conflicts, 0),
    admitted: samples.filter((s) => s.decision?.admitted).length,
    expected,
    errors: samples.filter((s) => s.error).length,
  };
}

/** `CALLERS` concurrent first-time incidents on one key, `ROUNDS` times (a fresh key each round). */
async function contended(admit: Admit, table: string, label: string, maxAttempts: number): Promise<ScenarioResult> {
  const samples: Sample[] = [];
  let wall = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const key = `bench-runbook#${label}-target-${maxAttempts}-${round}`;
    const start = performance.now();
    samples.push(...await Promise.all(Array.from({ length: CALLERS }, (_, n) =>
      measured(() => admit(table, key, `inc-${label}-${maxAttempts}-${round}-${n}`, maxAttempts, WINDOW_SECONDS)))));
    wall += performance.now() - start;
  }
  return summarise(`${label}: ${CALLERS} concurrent on one key, max ${maxAttempts}`, samples, wall, Math.min(maxAttempts, CALLERS) * ROUNDS);
}

/**
 * The runbook cap in a storm: `CALLERS` concurrent incidents of one runbook (each on its own
 * target) acquire its lease with `maxConcurrent` = `max`, `ROUNDS` times (a fresh key each round).
 */
async function capContended(acquire: Acquire, table: string, label: string, max: number): Promise<ScenarioResult> {
  const samples: Sample[] = [];
  let wall = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const key = `runbook#bench-cap-${label}-${max}-${round}`;
    const start = performance.now();
    samples.push(...await Promise.all(Array.from({ length: CALLERS }, (_, n) => measured(async () => {
      const d = await acquire(table, key, `inc-cap-${label}-${max}-${round}-${n}`, max, WINDOW_SECONDS);
      return { admitted: d.acquired, inWindow: d.holders.length };
    }))));
    wall += performance.now() - start;
  }
  return summarise(`${label}: runbook cap, ${CALLERS} concurrent incidents, max ${max}`, samples, wall, Math.min(max, CALLERS) * ROUNDS);
}

/** `SPREAD_EVENTS` events round-robin over `SPREAD_TARGETS` keys, `SPREAD_CONCURRENCY` at a time, max `SPREAD_MAX` per key. */
async function spread(admit: Admit, table: string, label: string): Promise<ScenarioResult> {
  const start = performance.now();
  const samples = await pool(Array.from({ length: SPREAD_EVENTS }, (_, i) => () =>
    measured(() => admit(table, `bench-spread-${label}#target-${i % SPREAD_TARGETS}`, `inc-spread-${label}-${i}`, SPREAD_MAX, WINDOW_SECONDS))), SPREAD_CONCURRENCY);
  const perTarget = Math.ceil(SPREAD_EVENTS / SPREAD_TARGETS);
  return summarise(
    `${label}: ${SPREAD_EVENTS} events / ${SPREAD_TARGETS} targets, concurrency ${SPREAD_CONCURRENCY}, max ${SPREAD_MAX}`,
    samples, performance.now() - start, SPREAD_TARGETS * Math.min(perTarget, SPREAD_MAX),
  );
}

export interface AdmissionBench {
  readonly results: ScenarioResult[];
  /**
   * Flat figures under fixed names (`admission.*` for today's limiter: the budget's slots and the
   * counted lease, `baseline.admission.*` for the versioned items before them, `ratio.*` = baseline / today).
   */
  readonly metrics: Record<string, number>;
  /** Every scenario admitted exactly what it should have, without errors. */
  readonly exact: boolean;
}

/**
 * Runs every scenario for both implementations. `tables` maps each implementation to its own
 * empty limiter table (the slots read the legacy `RATE#` item, so they must not share keys).
 */
export async function benchAdmission(tables: Record<'slots' | 'baseline', string>): Promise<AdmissionBench> {
  countRequests();
  const results: ScenarioResult[] = [];
  const metrics: Record<string, number> = {};
  for (const { name, admit, acquire } of IMPLEMENTATIONS) {
    const table = tables[name];
    // warm up: connections, dynalite's table
    await Promise.all(Array.from({ length: 10 }, (_, i) => admit(table, `warmup-${name}`, `w-${i}`, 10, WINDOW_SECONDS)));
    const prefix = name === 'slots' ? 'admission' : 'baseline.admission';
    const put = (scope: string, r: ScenarioResult): void => {
      metrics[`${prefix}.${scope}.p50_ms`] = r.p50;
      metrics[`${prefix}.${scope}.requests_per_decision`] = r.requestsPerDecision;
      metrics[`${prefix}.${scope}.decisions_per_s`] = r.decisionsPerSecond;
      metrics[`${prefix}.${scope}.admitted`] = r.admitted;
      metrics[`${prefix}.${scope}.expected`] = r.expected;
      results.push(r);
    };
    put('contended.max3', await contended(admit, table, name, 3));
    put('contended.max50', await contended(admit, table, name, CALLERS));
    put('spread.100targets', await spread(admit, table, name));
    put('cap.contended.max3', await capContended(acquire, table, name, 3));
    put('cap.contended.max20', await capContended(acquire, table, name, 20));
  }
  for (const scope of ['contended.max3', 'contended.max50', 'spread.100targets', 'cap.contended.max3', 'cap.contended.max20']) {
    metrics[`ratio.admission.${scope}.p50_baseline_over_slots`] = metrics[`baseline.admission.${scope}.p50_ms`] / metrics[`admission.${scope}.p50_ms`];
    metrics[`ratio.admission.${scope}.decisions_per_s_slots_over_baseline`] = metrics[`admission.${scope}.decisions_per_s`] / metrics[`baseline.admission.${scope}.decisions_per_s`];
  }
  return { results, metrics, exact: results.every((r) => r.admitted === r.expected && r.errors === 0) };
}

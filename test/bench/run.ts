/**
 * `npm run bench`: ledger and limiter timings against dynalite on loopback. Offline; prints
 * numbers (and checks the admission counts). The numbers are relative (dynalite in this
 * process's machine), not DynamoDB service latency. `npm run bench -- --json FILE` also writes
 * the admission figures as one flat JSON object (names in ./admission.ts).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { dynamo } from '../../lambdas/shared/clients';
import { appendEntry, verifyIncident, type Phase } from '../../lambdas/shared/ledger';
import { LocalLedgerMac } from '../../lambdas/shared/ledger-mac';
import { LocalDynamo, ledgerTableInput, limiterTableInput } from '../../lib/local/dynalite';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { benchAdmission, requestsOf, type ScenarioResult } from './admission';
import { measureInit } from './init';
import { FIGURES_LINE } from './figures-line';
import type { ScenarioCost } from './transitions';
import { percentile, pool } from './stats';

const localMac = new LocalLedgerMac();

// Never reach AWS: fixed fake credentials and region (test/support/env.ts is a jest setup file,
// so the same settings are made here). The DynamoDB client is created lazily, after these.
process.env.AWS_ACCESS_KEY_ID = 'AKIDTESTONLY';
process.env.AWS_SECRET_ACCESS_KEY = 'test-only-secret';
process.env.AWS_REGION = 'eu-west-1';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
delete process.env.AWS_PROFILE;
process.env.MEDIC_LEDGER_MAC_KEY ??= 'local';

// ---- sizes (bounded: the whole run takes seconds) -----------------------------------------
const SEQUENTIAL_APPENDS = 300;
const INCIDENTS = 50;
const APPENDS_PER_INCIDENT = 10;
const INCIDENT_CONCURRENCY = 10;
const CHAIN_LENGTH = 100;
const VERIFY_RUNS = 20;

// ---- measurement helpers --------------------------------------------------------------------

/** Conflicts (ConditionalCheckFailedException) seen by the DynamoDB calls of one logical operation. */
const tracker = new AsyncLocalStorage<{ conflicts: number }>();
let totalConflicts = 0;

function countConflicts(): void {
  dynamo().middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if ((error as Error)?.name === 'ConditionalCheckFailedException') {
          totalConflicts++;
          const store = tracker.getStore();
          if (store) store.conflicts++;
        }
        throw error;
      }
    },
    { step: 'initialize', name: 'benchConflictCounter' },
  );
}

interface Timed<T> { readonly ms: number; readonly conflicts: number; readonly value?: T; readonly error?: unknown }

async function timed<T>(op: () => Promise<T>): Promise<Timed<T>> {
  const store = { conflicts: 0 };
  return tracker.run(store, async () => {
    const start = performance.now();
    try {
      const value = await op();
      return { ms: performance.now() - start, conflicts: store.conflicts, value };
    } catch (error) {
      return { ms: performance.now() - start, conflicts: store.conflicts, error };
    }
  });
}

interface Row {
  readonly scenario: string;
  readonly ops: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly perSecond: number;
  readonly notes: string;
}

function row(scenario: string, samples: number[], wallMs: number, notes: string): Row {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    scenario,
    ops: samples.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    perSecond: samples.length / (wallMs / 1000),
    notes,
  };
}

function printTable(rows: Row[]): void {
  const header = ['scenario', 'ops', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'ops/s', 'notes'];
  const cells = rows.map((r) => [
    r.scenario, String(r.ops), r.p50.toFixed(2), r.p95.toFixed(2), r.p99.toFixed(2), r.max.toFixed(2), r.perSecond.toFixed(0), r.notes,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (values: string[]): string =>
    values.map((v, i) => (i === 0 || i === values.length - 1 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ').trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
}

// ---- tables ---------------------------------------------------------------------------------

const PHASES: Phase[] = ['received', 'admitted', 'planned', 'acting', 'acted', 'checked', 'checked', 'verified', 'completed'];
const phaseAt = (i: number): Phase => PHASES[i % PHASES.length];

function append(table: string, incidentId: string, i: number) {
  return appendEntry({
    table,
    incidentId,
    phase: phaseAt(i),
    runbook: 'bench-runbook',
    targetArn: `arn:aws:ecs:eu-west-1:111111111111:service/bench/${incidentId}`,
    mode: 'auto',
    actor: 'bench',
    execution: `arn:aws:states:eu-west-1:111111111111:execution:medic-bench:${incidentId}`,
    detail: { step: i, readings: { runningCount: 4, desiredCount: 4 }, note: 'a detail of a realistic size '.repeat(8) },
  });
}

// ---- scenarios ------------------------------------------------------------------------------

async function sequentialAppends(table: string): Promise<Row> {
  const samples: number[] = [];
  const start = performance.now();
  for (let i = 0; i < SEQUENTIAL_APPENDS; i++) {
    const r = await timed(() => append(table, 'bench-sequential', i));
    if (r.error) throw r.error;
    samples.push(r.ms);
  }
  const wall = performance.now() - start;
  const report = await verifyIncident(table, 'bench-sequential', localMac);
  return row('ledger append: sequential, 1 incident', samples, wall, `chain of ${report.entries} verifies: ${report.ok}`);
}

async function appendsAcrossIncidents(table: string): Promise<Row> {
  const samples: number[] = [];
  let conflicts = 0;
  const incidentIds = Array.from({ length: INCIDENTS }, (_, n) => `bench-multi-${String(n).padStart(2, '0')}`);
  const start = performance.now();
  // Each incident's appends are sequential (one owning execution); up to 10 incidents at once.
  await pool(incidentIds.map((id) => async () => {
    for (let i = 0; i < APPENDS_PER_INCIDENT; i++) {
      const r = await timed(() => append(table, id, i));
      if (r.error) throw r.error;
      samples.push(r.ms);
      conflicts += r.conflicts;
    }
  }), INCIDENT_CONCURRENCY);
  const wall = performance.now() - start;
  let verified = 0;
  for (const id of incidentIds) if ((await verifyIncident(table, id, localMac)).ok) verified++;
  return row(
    `ledger append: ${INCIDENTS} incidents, concurrency ${INCIDENT_CONCURRENCY}`,
    samples, wall, `${verified}/${INCIDENTS} chains verify, ${conflicts} conflicts`,
  );
}

async function verifyLongChain(table: string): Promise<Row> {
  for (let i = 0; i < CHAIN_LENGTH; i++) await append(table, 'bench-chain-100', i);
  const samples: number[] = [];
  let ok = true;
  const start = performance.now();
  for (let run = 0; run < VERIFY_RUNS; run++) {
    const r = await timed(() => verifyIncident(table, 'bench-chain-100', localMac));
    if (r.error) throw r.error;
    ok &&= r.value!.ok && r.value!.entries === CHAIN_LENGTH;
    samples.push(r.ms);
  }
  return row(`verifyIncident: ${CHAIN_LENGTH}-entry chain`, samples, performance.now() - start, `ok every run: ${ok}`);
}

function admissionRow(r: ScenarioResult): Row {
  return row(
    `${r.scenario.includes('runbook cap') ? 'acquireLease' : 'admitWithinRate'} ${r.scenario}`, r.samples, r.wallMs,
    `${r.requestsPerDecision.toFixed(2)} req/decision, ${r.conflicts} conflicts, admitted ${r.admitted} (expected ${r.expected}), errors ${r.errors}`,
  );
}

async function main(): Promise<void> {
  const local = new LocalDynamo();
  await local.start();
  const started = performance.now();
  try {
    await local.createTable(ledgerTableInput('bench-ledger'));
    await local.createTable(limiterTableInput('bench-limiter'));
    countConflicts();
    // warm up the client, its connections and dynalite
    for (let i = 0; i < 20; i++) await append('bench-ledger', 'bench-warmup', i);

    const rows: Row[] = [];
    rows.push(await sequentialAppends('bench-ledger'));
    rows.push(await appendsAcrossIncidents('bench-ledger'));
    rows.push(await verifyLongChain('bench-ledger'));
    await local.createTable(limiterTableInput('bench-limiter-baseline'));
    const admission = await benchAdmission({ slots: 'bench-limiter', baseline: 'bench-limiter-baseline' });
    rows.push(...admission.results.map(admissionRow));

    console.log('');
    console.log(`medic bench: dynalite (in-process, in memory) on loopback ${local.endpoint}, node ${process.version}`);
    console.log('These are relative numbers for comparing changes, NOT DynamoDB service latency.');
    console.log('Each ledger append = 1 Query (head) + 1 conditional PutItem (the sort key is the sequence number: a second writer fails the condition).');
    console.log('Rate decisions: baseline = 1 GetItem + 1 versioned PutItem of one RATE#<key> item, retried on conflict;');
    console.log('slots = 1 BatchGetItem of the slots + 1 conditional PutItem on a free slot (the next on conflict; none to deny).');
    console.log('');
    printTable(rows);
    console.log('');
    const m = admission.metrics;
    for (const scope of ['contended.max3', 'contended.max50', 'spread.100targets']) {
      console.log(`${scope}: p50 ${m[`baseline.admission.${scope}.p50_ms`].toFixed(2)} -> ${m[`admission.${scope}.p50_ms`].toFixed(2)} ms `
        + `(baseline/slots ${m[`ratio.admission.${scope}.p50_baseline_over_slots`].toFixed(1)}), requests/decision `
        + `${m[`baseline.admission.${scope}.requests_per_decision`].toFixed(2)} -> ${m[`admission.${scope}.requests_per_decision`].toFixed(2)}, decisions/s `
        + `${m[`baseline.admission.${scope}.decisions_per_s`].toFixed(0)} -> ${m[`admission.${scope}.decisions_per_s`].toFixed(0)}`);
    }
    for (const r of admission.results) {
      console.log(`${r.admitted === r.expected && r.errors === 0 ? 'exact' : 'NOT EXACT'}: ${r.scenario}: admitted ${r.admitted}, expected ${r.expected}, errors ${r.errors}`);
    }
    if (!admission.exact) process.exitCode = 1;

    const roundTrips: number[] = [];
    for (let i = 0; i < 20; i++) roundTrips.push(await requestsOf(() => append('bench-ledger', 'bench-round-trips', i)));
    const ledger = { 'ledger.append.p50_ms': rows[0].p50, 'ledger.append.round_trips': roundTrips.reduce((a, b) => a + b, 0) / roundTrips.length };
    console.log(`ledger append: p50 ${ledger['ledger.append.p50_ms'].toFixed(2)} ms, ${ledger['ledger.append.round_trips'].toFixed(2)} DynamoDB round trips`);

    console.log('');
    console.log('Module init of each handler bundle as the stack ships it (median of 15 fresh node processes):');
    const init = await measureInit();
    for (const [handler, f] of Object.entries(init)) console.log(`  ${handler.padEnd(24)} ${f.median_ms.toFixed(1).padStart(6)} ms  ${String(Math.round(f.bytes / 1024)).padStart(4)} KB bundle`);

    console.log('');
    console.log('Happy paths and a denial on the game day (the synthesized state machines), and the example stack\'s synth:');
    const { costs, synthSeconds } = gameDayFigures();
    for (const [name, cost] of Object.entries(costs)) {
      console.log(`  ${name.padEnd(26)} ${String(cost.transitions).padStart(3)} transitions, ${String(cost.lambdaInvocations).padStart(3)} Lambda invocations, `
        + `${String(cost.dynamodbRequests).padStart(3)} DynamoDB requests, ${cost.notifications} page(s)`);
    }
    console.log(`  synth of the example config (bundling included): ${synthSeconds.toFixed(1)} s`);

    const figures: Record<string, number> = {
      ...admission.metrics,
      ...ledger,
      ...Object.fromEntries(Object.entries(init).map(([handler, f]) => [`init.${handler}.median_ms`, f.median_ms])),
      ...Object.fromEntries(Object.entries(costs).flatMap(([name, c]) => [
        [`transitions.${name}`, c.transitions], [`cost.${name}.lambda_invocations`, c.lambdaInvocations], [`cost.${name}.dynamodb_requests`, c.dynamodbRequests],
      ])),
      synth_s: synthSeconds,
    };
    const jsonAt = process.argv.indexOf('--json');
    if (jsonAt >= 0) {
      const file = process.argv[jsonAt + 1];
      if (!file) throw new Error('--json needs a file name');
      writeFileSync(file, `${JSON.stringify(figures, null, 2)}\n`);
      console.log(`figures written to ${file}`);
    }
    console.log('');
    console.log(`total conditional-check conflicts: ${totalConflicts}; wall time ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    dynamo().destroy();
    await local.stop();
  }
}

/** Runs test/bench/transitions.ts in a child process: the game day changes process-wide settings (endpoints, clocks). */
function gameDayFigures(): { costs: Record<string, ScenarioCost>; synthSeconds: number } {
  const out = execFileSync(process.execPath, [require.resolve('tsx/cli'), path.join(__dirname, 'transitions.ts')], {
    encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: '' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const line = out.split('\n').find((l) => l.startsWith(FIGURES_LINE));
  if (!line) throw new Error(`the game-day figures did not come back:\n${out.slice(-2000)}`);
  return JSON.parse(line.slice(FIGURES_LINE.length)) as { costs: Record<string, ScenarioCost>; synthSeconds: number };
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});

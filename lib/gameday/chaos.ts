import { parseDocument, type YAMLMap } from 'yaml';
import type { FaultEffect } from './faults';
import type { FaultRule, Scenario } from './scenario';

/**
 * Chaos runs (`medic gameday --chaos <seed>`): a bundled scenario with a few random fault rules
 * added, drawn from the calls that scenario can make. Everything here is pure and seeded, so a
 * seed and a run number always give the same faults (docs/gameday.md, "Chaos runs").
 */

/** A source of numbers in [0, 1), as Math.random. */
export type Rng = () => number;

/**
 * mulberry32 (Tommy Ettinger's 32-bit generator, public domain): one 32-bit state, a period of
 * 2^32, good enough statistics for picking faults, and a few lines with no dependency. Not for
 * anything secret.
 */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of a text, 32 bits: turns (seed, run) into one well-mixed mulberry32 seed. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash >>> 0;
}

/** The generator of run `run` of seed `seed`: independent of every other run, the same every time. */
export function chaosRng(seed: number, run: number): Rng {
  return mulberry32(fnv1a(`medic-chaos:${seed}:${run}`));
}

/** A fault rule as a scenario writes it (the YAML of `faults:`). */
export interface ChaosFault {
  readonly operation: string;
  readonly error: string;
  /** Seconds, with `error: latency`. */
  readonly latency?: number;
  readonly target?: string;
  readonly after: number;
  readonly times: number;
  /** Seconds from the scenario's start. */
  readonly window?: { readonly from: number; readonly for: number };
}

/** An operation a fault may hit, with the errors that make sense for it. */
interface Candidate {
  readonly operation: string;
  readonly errors: readonly string[];
  readonly targets?: readonly string[];
}

const AWS_ERRORS = ['ThrottlingException', 'InternalFailure', 'ServiceUnavailable', 'AccessDeniedException', 'timeout-after-effect', 'latency'] as const;
const DYNAMODB_ERRORS = ['ProvisionedThroughputExceededException', 'ThrottlingException', 'InternalServerError', 'ServiceUnavailable', 'timeout-after-effect', 'latency'] as const;
const LAMBDA_ERRORS = ['Lambda.ServiceException', 'Lambda.TooManyRequestsException', 'timeout-after-effect', 'timeout-while-running', 'latency'] as const;
const aws = (...operations: string[]): Candidate[] => operations.map((operation) => ({ operation, errors: AWS_ERRORS }));

/**
 * The simulated APIs each runbook kind's handlers call (IAM-style, as the world records them),
 * by config key. From the handlers' SDK commands (lambdas/<kind>/index.ts); a new kind without an
 * entry still gets the platform's calls below.
 */
export const KIND_OPERATIONS: Record<string, readonly Candidate[]> = {
  ecsTaskRestart: aws('ecs:DescribeServices', 'ecs:UpdateService', 'ecs:ListTasks', 'ecs:StopTask'),
  asgElbHealthCheck: aws('autoscaling:DescribeAutoScalingGroups', 'autoscaling:UpdateAutoScalingGroup'),
  rdsFailoverDrill: aws('rds:DescribeDBInstances', 'rds:DescribeDBClusters', 'rds:RebootDBInstance', 'rds:FailoverDBCluster', 'cloudwatch:DescribeAlarms'),
  diskPrune: aws('ssm:DescribeInstanceInformation', 'ssm:SendCommand', 'ssm:GetCommandInvocation', 'cloudwatch:GetMetricData'),
  diskPruneFleet: aws('ssm:DescribeInstanceInformation', 'ssm:SendCommand', 'ssm:ListCommands', 'ssm:ListCommandInvocations', 'ssm:GetCommandInvocation', 'cloudwatch:GetMetricData'),
  certificateRenewal: aws('acm:DescribeCertificate', 'acm:SearchCertificates', 'acm:ListTagsForCertificate', 'acm:RenewCertificate', 'acm:ResendValidationEmail',
    'route53:ListResourceRecordSets', 'route53:ChangeResourceRecordSets'),
};

/** What every stack calls: the kill switches, the alarm check, the escalation topic. */
const PLATFORM_OPERATIONS: readonly Candidate[] = aws('ssm:GetParameters', 'cloudwatch:DescribeAlarms', 'sns:Publish');
/** The ledger and the limiter (target: the engine's aliases of the two tables). */
const DYNAMODB_OPERATIONS: readonly Candidate[] = ['PutItem', 'Query', 'UpdateItem', 'GetItem', 'BatchGetItem'].map((op) => ({ operation: `dynamodb:${op}`, errors: DYNAMODB_ERRORS, targets: ['ledger', 'limiter'] }));
/** Each Task state of the synthesized workflow (lib/platform/runbook-workflow.ts), as `lambda:InvokeFunction` targets. */
const TASK_STATES = ['Validate event', 'Admit', 'Plan', 'Act', 'Verify', 'Roll back', 'Complete', 'Escalate'] as const;
const LAMBDA_OPERATIONS: readonly Candidate[] = [{ operation: 'lambda:InvokeFunction', errors: LAMBDA_ERRORS, targets: TASK_STATES }];

/** The config keys of the runbook kinds a scenario deploys (none for a scenario with its own `app`). */
export function scenarioKinds(scenario: Pick<Scenario, 'config'>): string[] {
  const runbooks = (scenario.config?.runbooks ?? {}) as Record<string, unknown[] | undefined>;
  return Object.keys(runbooks).filter((k) => (runbooks[k]?.length ?? 0) > 0).sort();
}

const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)];
const between = (rng: Rng, min: number, max: number): number => min + Math.floor(rng() * (max - min + 1));

/** One random fault rule for a call the scenario can make. */
export function drawFault(scenario: Pick<Scenario, 'config'>, rng: Rng): ChaosFault {
  const own = scenarioKinds(scenario).flatMap((k) => KIND_OPERATIONS[k] ?? []);
  // The runbooks' own calls most often; the platform's, the tables and the tasks the rest of the time.
  const roll = rng();
  const pool = own.length > 0 && roll < 0.4 ? own : roll < 0.6 ? DYNAMODB_OPERATIONS : roll < 0.85 ? LAMBDA_OPERATIONS : PLATFORM_OPERATIONS;
  const candidate = pick(rng, pool);
  const error = pick(rng, candidate.errors);
  return {
    operation: candidate.operation,
    error,
    ...(error === 'latency' ? { latency: between(rng, 5, 1200) } : {}),
    ...(candidate.targets ? { target: pick(rng, candidate.targets) } : {}),
    after: between(rng, 0, 3),
    times: between(rng, 1, 3),
    // Sometimes only inside a window, so the fault hits a later step than the first call.
    ...(rng() < 0.3 ? { window: { from: between(rng, 0, 30) * 60, for: between(rng, 5, 120) * 60 } } : {}),
  };
}

/** A drawn fault as the rule the scenario schema makes of it (lib/gameday/scenario.ts). */
export function faultRule(fault: ChaosFault): FaultRule {
  const effect: FaultEffect = fault.error === 'latency' ? { kind: 'latency', seconds: fault.latency ?? 0 }
    : fault.error === 'timeout-after-effect' || fault.error === 'timeout-while-running' ? { kind: fault.error }
      : { kind: 'error', error: fault.error };
  return {
    kind: 'api', operation: fault.operation, ...(fault.target !== undefined ? { target: fault.target } : {}),
    after: fault.after, times: fault.times, ...(fault.window ? { window: fault.window } : {}), effect,
  };
}

/** A chaos scenario: the scenario with 1-3 random fault rules added (and no expectations: chaos checks the invariants only). */
export interface ChaosScenario {
  readonly scenario: Scenario;
  readonly added: ChaosFault[];
}

/** The scenario with 1-3 fault rules drawn with `rng` added to its own; its expectations dropped. */
export function chaosScenario(scenario: Scenario, rng: Rng): ChaosScenario {
  const added = Array.from({ length: between(rng, 1, 3) }, () => drawFault(scenario, rng));
  return {
    added,
    scenario: { ...scenario, faults: [...scenario.faults, ...added.map(faultRule)], expect: { incidents: [], calls: {} } },
  };
}

/** Which scenario run `run` uses: round-robin, so `--runs` equal to the number of scenarios runs each once. */
export const scenarioIndex = (run: number, count: number): number => run % count;

/**
 * The chaos scenario as a file to save in scenarios/: the original YAML (comments and layout
 * kept, through the yaml package's Document API) with the drawn faults appended to `faults`,
 * `expect` removed (add what should come of it before committing), the name suffixed and a
 * description naming the seed and run.
 */
export function chaosYaml(original: string, added: readonly ChaosFault[], seed: number, run: number): string {
  const doc = parseDocument(original);
  const name = String(doc.get('name') ?? 'scenario');
  const description = String(doc.get('description') ?? '').trim();
  doc.set('name', `${name}-chaos-${seed}-${run}`);
  doc.set('description', `Chaos run ${run} of seed ${seed} (medic gameday --chaos ${seed}): ${name} with ${added.length} random fault(s) added.${description ? ` ${description}` : ''}`);
  doc.delete('expect');
  let faults = doc.get('faults') as { add?: (node: unknown) => void } | undefined;
  if (!faults?.add) {
    doc.set('faults', doc.createNode([]));
    faults = doc.get('faults') as { add: (node: unknown) => void };
  }
  for (const fault of added) {
    const node = doc.createNode(yamlFault(fault)) as YAMLMap;
    node.flow = true;
    faults.add!(node);
  }
  const header = ` Chaos run: medic gameday --chaos ${seed} (run ${run}). Add the expectations this run should meet before saving it in scenarios/.`;
  doc.commentBefore = doc.commentBefore ? `${header}\n${doc.commentBefore}` : header;
  return doc.toString({ lineWidth: 0 });
}

/** A fault as YAML values: durations in seconds as `90s`, so the file reads as the others do. */
function yamlFault(fault: ChaosFault): Record<string, unknown> {
  const s = (seconds: number) => `${seconds}s`;
  return {
    operation: fault.operation,
    error: fault.error,
    ...(fault.latency !== undefined ? { latency: s(fault.latency) } : {}),
    ...(fault.target !== undefined ? { target: fault.target } : {}),
    after: fault.after,
    times: fault.times,
    ...(fault.window ? { window: { from: s(fault.window.from), for: s(fault.window.for) } } : {}),
  };
}

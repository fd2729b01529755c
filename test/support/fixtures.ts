import type {
  ExecutionInfo, Incident, Mode, RunbookSpec, Target, TargetSpec, Trigger, WorkflowState,
} from '../../lambdas/shared/types';
import { ACCOUNT, REGION, alarmArn } from './synth';

/**
 * Builders for the contracts the handlers share, centred on one ECS runbook (`api-restart`)
 * whose alarm (`prod-api-5xx`) fired for the service prod/api. Each builder returns fresh objects
 * and takes overrides for whatever a test needs to differ.
 */

/** The alarm every default fixture is triggered by. */
export const ALARM = 'prod-api-5xx';

/** The incident id of the default received incident. */
export const INCIDENT_ID = 'api-restart-20261122T031722Z-0123456789ab';

/** What an ECS cluster or service name in an alarm dimension must match. */
const ECS_NAME_PATTERN = '[A-Za-z0-9_-]{1,255}';

/** The `ecs-service` target spec: cluster and service from the alarm dimensions, limited to `allowed` (default prod/api). */
export function ecsTargetSpec(allowed: Array<Record<string, string>> = [{ ClusterName: 'prod', ServiceName: 'api' }]): TargetSpec {
  return {
    type: 'ecs-service',
    dimensions: { ClusterName: ECS_NAME_PATTERN, ServiceName: ECS_NAME_PATTERN },
    idTemplate: '{ClusterName}/{ServiceName}',
    arnTemplate: 'arn:{partition}:ecs:{region}:{account}:service/{ClusterName}/{ServiceName}',
    allowed,
  };
}

/**
 * An `ecs-task-restart` runbook spec as the state machine injects it: `api-restart`, auto mode, in the
 * test account and region, attached to the `prod-api-5xx` alarm, allowed to act on prod/api.
 * The runbook kill switch follows the name unless `killSwitch` is overridden.
 */
export function ecsRunbookSpec(overrides: Partial<RunbookSpec> = {}): RunbookSpec {
  const name = overrides.name ?? 'api-restart';
  return {
    name,
    kind: 'ecs-task-restart',
    mode: 'auto',
    account: ACCOUNT,
    region: REGION,
    partition: 'aws',
    trigger: 'alarm',
    alarmArns: [alarmArn(ALARM)],
    target: ecsTargetSpec(),
    policy: { maxAttempts: 3, windowSeconds: 3600, maxConcurrent: 2, leaseSeconds: 7200 },
    verification: { initialDelaySeconds: 60, intervalSeconds: 30, maxChecks: 4, requiredConsecutiveSuccesses: 2 },
    killSwitch: { global: '/medic/kill-switch', runbook: `/medic/${name}/kill-switch` },
    options: {},
    ...overrides,
  };
}

/** The incident target for an ECS service (default prod/api) in the test account and region. */
export function ecsTarget(cluster = 'prod', service = 'api'): Target {
  return {
    type: 'ecs-service',
    id: `${cluster}/${service}`,
    arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${cluster}/${service}`,
    region: REGION,
    account: ACCOUNT,
    dimensions: { ClusterName: cluster, ServiceName: service },
  };
}

/** The `prod-api-5xx` alarm going to ALARM (no reason unless given). */
export function alarmTrigger(overrides: Partial<Trigger> = {}): Trigger {
  return { kind: 'alarm', source: alarmArn(ALARM), name: ALARM, at: '2026-11-22T03:17:22.318Z', ...overrides };
}

/** An incident Validate accepted: {@link INCIDENT_ID} for `api-restart` in auto mode, triggered by the alarm, targeting prod/api. */
export function receivedIncident(overrides: Partial<Incident> = {}): Incident {
  return {
    incidentId: INCIDENT_ID,
    status: 'received',
    runbook: 'api-restart',
    mode: 'auto',
    trigger: alarmTrigger(),
    target: ecsTarget(),
    ...overrides,
  };
}

/** A Step Functions execution `name` of the state machine `stateMachine`. */
export function executionInfo(name = 'run-1', stateMachine = 'medic-api-restart'): ExecutionInfo {
  return { id: `arn:aws:states:${REGION}:${ACCOUNT}:execution:${stateMachine}:${name}`, name, startedAt: '2026-11-22T03:17:30.000Z' };
}

/**
 * A workflow state just past admission: the default runbook and execution, a received incident
 * and `{ admitted: true, leases: [] }`. Overrides replace whole fields (pass `undefined` to drop one);
 * `mode`, when given, is then set on both the runbook and the incident.
 */
export function workflowState(overrides: Partial<WorkflowState> & { mode?: Mode } = {}): WorkflowState {
  const { mode, ...fields } = overrides;
  const state: WorkflowState = {
    event: {},
    runbook: ecsRunbookSpec(),
    execution: executionInfo(),
    incident: receivedIncident(),
    admission: { admitted: true, leases: [] },
    ...fields,
  };
  if (mode === undefined) return state;
  return { ...state, runbook: { ...state.runbook, mode }, incident: state.incident && { ...state.incident, mode } };
}

/**
 * An `rds-failover-drill` runbook spec: started by hand, auto mode, allowed to fail over the
 * instance `orders-db` and the cluster `orders-aurora`, with one guard alarm and the given options.
 */
export function drillRunbookSpec(options: Record<string, unknown> = {}, overrides: Partial<RunbookSpec> = {}): RunbookSpec {
  return ecsRunbookSpec({
    name: 'rds-failover-drill',
    kind: 'rds-failover-drill',
    trigger: 'manual',
    alarmArns: [],
    target: undefined,
    manualTargets: {
      dbInstanceIdentifier: { type: 'rds-instance', pattern: '[a-zA-Z][a-zA-Z0-9-]{0,62}', arnTemplate: 'arn:{partition}:rds:{region}:{account}:db:{id}', allowed: ['orders-db'] },
      dbClusterIdentifier: { type: 'rds-cluster', pattern: '[a-zA-Z][a-zA-Z0-9-]{0,62}', arnTemplate: 'arn:{partition}:rds:{region}:{account}:cluster:{id}', allowed: ['orders-aurora'] },
    },
    verification: { initialDelaySeconds: 30, intervalSeconds: 15, maxChecks: 90, requiredConsecutiveSuccesses: 2 },
    options: { guardAlarmNames: ['prod-api-5xx'], targetReaders: {}, failoverTimeoutSeconds: 900, guardRecoverySeconds: 300, ...options },
    ...overrides,
  });
}

/** The incident target of a drill: DB instance `orders-db`, or cluster `orders-aurora` with `kind: 'cluster'`. */
export function drillTarget(kind: 'instance' | 'cluster' = 'instance', id = kind === 'instance' ? 'orders-db' : 'orders-aurora'): Target {
  const field = kind === 'instance' ? 'dbInstanceIdentifier' : 'dbClusterIdentifier';
  return {
    type: `rds-${kind}`,
    id,
    arn: `arn:aws:rds:${REGION}:${ACCOUNT}:${kind === 'instance' ? 'db' : 'cluster'}:${id}`,
    region: REGION,
    account: ACCOUNT,
    dimensions: { [field]: id },
  };
}

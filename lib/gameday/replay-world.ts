import type { EntryDetail } from '../../lambdas/shared/ledger';
import { between, isRecord, num, seconds, str, succeeded, type Check, type IncidentFacts } from './replay-facts';

/** A comment to put above one key of the scenario: why its value is a default, or where it came from. */
export interface Note {
  readonly path: ReadonlyArray<string | number>;
  readonly text: string;
}

/** What a world builder gets: the incident, the triggering alarm's spec (to add its recovery), and where to leave notes. */
export interface WorldInput {
  readonly facts: IncidentFacts;
  /** `world.alarms[<the alarm that fired>]`, when an alarm started the incident. */
  readonly alarm?: EntryDetail;
  /** The runbook's configuration entry. */
  readonly runbook: EntryDetail;
  readonly note: (path: ReadonlyArray<string | number>, text: string) => void;
}

type Builder = (input: WorldInput) => Record<string, unknown>;

const NOT_RECORDED = 'default: not recorded in the ledger';

/**
 * The time a change took, from `from` (a call), as the checks after it recorded it: between the
 * last check that did not see it and the first that did; undefined when none saw it.
 */
function seenAfter(checks: readonly Check[], from: number, saw: (c: Check) => boolean): number | undefined {
  const after = checks.filter((c) => c.at >= from);
  const first = after.findIndex(saw);
  if (first < 0) return undefined;
  return between(from, first > 0 ? after[first - 1].at : from, after[first].at);
}

/** When the alarm that fired went back to OK, from the `alarm` readings the checks recorded (ECS). */
function alarmRecovery(input: WorldInput, call: { at: number; service: string; operation: string } | undefined): void {
  const { alarm, facts, note } = input;
  if (!alarm || !call) return;
  const states = facts.checks.filter((c) => c.at >= call.at && ['OK', 'ALARM', 'INSUFFICIENT_DATA'].includes(String(c.readings.alarm)));
  const ok = states.find((c) => c.readings.alarm === 'OK');
  if (ok) {
    // Recovery counts from the first call; the alarm must not clear before the last call made before it was read OK
    // (each batch's call is made while it is in ALARM), nor before the last reading that saw it in ALARM.
    const lastCall = Math.max(...succeeded(facts).filter((c) => c.at <= ok.at && c.service === call.service && c.operation === call.operation).map((c) => c.at));
    const lastAlarm = Math.max(call.at, lastCall, ...states.filter((c) => c.at < ok.at).map((c) => c.at));
    alarm.recovers = { when: `${call.service}:${call.operation}`, after: seconds(between(call.at, lastAlarm, ok.at)) };
  }
  else if (states.length === 0) note(['world', 'alarms', '*'], 'the alarm was not read after the action (its recovery is not recorded): it stays in ALARM');
}

const ecs: Builder = (input) => {
  const { facts, note } = input;
  const [clusterFromId, ...rest] = (facts.target.id ?? '').split('/');
  const cluster = facts.target.dimensions.ClusterName ?? clusterFromId;
  const service = facts.target.dimensions.ServiceName ?? rest.join('/');
  const details: EntryDetail = isRecord(facts.plan?.details) ? facts.plan.details : {};
  const spec: EntryDetail = { cluster, service };
  const at = (key: string) => ['world', 'ecs', 'services', 0, key];
  const desired = num(details.desiredCount);
  spec.tasks = desired ?? 4;
  if (desired === undefined) note(at('tasks'), NOT_RECORDED);
  else if (num(details.runningCount) !== desired) note(at('tasks'), `recorded ${num(details.runningCount) ?? '?'} of ${desired} running at the plan; the world starts with all of them running`);
  if (str(details.deploymentController) && details.deploymentController !== 'ECS') spec.deploymentController = details.deploymentController;
  const deployments = Array.isArray(details.deployments) ? details.deployments.filter(isRecord) : [];
  if (deployments.length > 1 || deployments.some((d) => d.rolloutState === 'IN_PROGRESS')) spec.deploymentInProgress = true;

  const calls = succeeded(facts).filter((c) => c.service === 'ecs');
  const first = calls[0];
  if (first) {
    const deploymentId = str(first.details.deploymentId);
    const ours = (c: Check) => (Array.isArray(c.readings.deployments) ? c.readings.deployments.filter(isRecord) : []).find((d) => d.id === deploymentId);
    const failed = facts.checks.find((c) => c.at >= first.at && ours(c)?.rolloutState === 'FAILED');
    const steady = (c: Check) => (deploymentId ? ours(c)?.rolloutState === 'COMPLETED'
      : num(c.readings.runningCount) === num(c.readings.desiredCount) && num(c.readings.pendingCount) === 0);
    const took = seenAfter(facts.checks.filter((c) => c.batch === facts.checks.find((k) => k.at >= first.at)?.batch), first.at, steady);
    if (failed) {
      const rolledBack = (Array.isArray(failed.readings.deployments) ? failed.readings.deployments.filter(isRecord) : []).some((d) => d.status === 'PRIMARY' && d.id !== deploymentId);
      spec.deployment = rolledBack ? 'rolls-back' : 'fails';
    } else if (took !== undefined) {
      spec.deployment = seconds(took);
      note(at('deployment'), 'from the readings: between the last check that saw it in progress and the first that saw it complete');
    } else {
      spec.deployment = 'never';
      note(at('deployment'), 'no recorded check saw the deployment (or replacement task) complete');
    }
  }
  alarmRecovery(input, first);
  return { ecs: { services: [spec] } };
};

const rds: Builder = ({ facts, note }) => {
  const details: EntryDetail = isRecord(facts.plan?.details) ? facts.plan.details : {};
  const pre: EntryDetail = isRecord(details.preState) ? details.preState : {};
  const cluster = facts.target.dimensions.dbClusterIdentifier !== undefined || pre.kind === 'cluster' || /cluster/.test(facts.target.type ?? '');
  const id = facts.target.id ?? '';
  const where = cluster ? ['world', 'rds', 'clusters', 0] : ['world', 'rds', 'instances', 0];
  const spec: EntryDetail = { id };
  if (str(details.status)) spec.status = details.status;
  const pendingText = str(details.pendingReboot) ?? '';
  if (cluster) {
    spec.engine = str(details.engine) ?? 'aurora-postgresql';
    if (!str(details.engine)) note([...where, 'engine'], NOT_RECORDED);
    spec.writer = str(pre.writer) ?? str(details.writer) ?? `${id}-1`;
    if (!str(pre.writer) && !str(details.writer)) note([...where, 'writer'], NOT_RECORDED);
    spec.readers = Array.isArray(pre.readers) ? pre.readers : Array.isArray(details.readers) ? details.readers : [];
    const pending = Array.isArray(details.pendingRebootMembers) ? details.pendingRebootMembers : /pending-reboot on (.+?): the failover/.exec(pendingText)?.[1].split(', ');
    if (pending?.length) spec.pendingReboot = pending;
  } else {
    spec.multiAZ = str(pre.primaryAz) ? true : typeof details.multiAZ === 'boolean' ? details.multiAZ : true;
    spec.engine = str(details.engine) ?? 'postgres';
    if (!str(details.engine)) note([...where, 'engine'], NOT_RECORDED);
    const az = str(pre.primaryAz) ?? str(details.availabilityZone);
    const secondaryAz = str(pre.secondaryAz) ?? str(details.secondaryAvailabilityZone);
    if (az) spec.az = az;
    if (secondaryAz) spec.secondaryAz = secondaryAz;
    const groups = Array.isArray(details.pendingRebootParameterGroups) ? details.pendingRebootParameterGroups
      : /DB parameter group (.+?) of .+ is pending-reboot/.exec(pendingText)?.[1].split(', ');
    if (groups?.length) spec.parameterGroups = groups.map((name: unknown) => ({ name: String(name), status: 'pending-reboot' }));
  }
  const call = succeeded(facts).find((c) => c.service === 'rds');
  if (call) {
    const after = facts.checks.filter((c) => c.at >= call.at);
    const moved = (c: Check) => c.readings.status === 'available' && (cluster ? str(c.readings.writer) !== undefined && c.readings.writer !== spec.writer : str(c.readings.availabilityZone) !== undefined && c.readings.availabilityZone !== spec.az);
    const available = (c: Check) => c.readings.status === 'available';
    const failover = seenAfter(after, call.at, available);
    if (failover === undefined) {
      spec.failover = 'never';
      note([...where, 'failover'], 'no recorded check saw the database available again');
    } else if (!cluster && !after.some(moved)) {
      spec.failover = 'in-place';
      note([...where, 'failover'], 'recorded available again in the same AZ; in-place takes 90 s in the world, whatever it took');
    } else {
      spec.failover = seconds(failover);
      note([...where, 'failover'], 'from the readings: between the last check that saw it rebooting and the first that saw it available');
      // RDS may report the new AZ after the status is available again: when the first check that saw it available saw the old AZ.
      const availableCheck = after.find(available)!;
      if (!cluster && !moved(availableCheck)) {
        const settles = seenAfter(after.filter((c) => c.at >= availableCheck.at), call.at + failover * 1000, moved);
        if (settles !== undefined) spec.azSettles = seconds(settles);
      }
    }
  }
  return { rds: { [cluster ? 'clusters' : 'instances']: [spec] } };
};

/** The drill's guard alarms, in the states its plan read them in. */
export function guardAlarms({ facts, runbook, note }: WorldInput): Record<string, EntryDetail> {
  const details: EntryDetail = isRecord(facts.plan?.details) ? facts.plan.details : {};
  const alarms: Record<string, EntryDetail> = {};
  if (isRecord(details.guards)) {
    for (const [name, state] of Object.entries(details.guards)) if (typeof state === 'string') alarms[name] = { state };
  } else {
    for (const arn of Array.isArray(runbook.guardAlarmArns) ? runbook.guardAlarmArns : []) {
      const name = String(arn).replace(/^.*?:alarm:/, '');
      alarms[name] = { state: 'OK' };
      note(['world', 'alarms', name, 'state'], `${NOT_RECORDED} (the plan did not read the guard alarms)`);
    }
  }
  const changed = facts.checks.some((c) => Array.isArray(c.readings.guardTimeline) && c.readings.guardTimeline.filter(isRecord)
    .some((t) => isRecord(t.states) && Object.values(t.states).some((s) => s !== 'OK')));
  if (changed) note(['world', 'alarms'], 'a guard alarm left OK during the drill (guardTimeline): the world does not replay guard alarms changing state');
  return alarms;
}

const instanceId = (arn: unknown): string | undefined => str(arn)?.split('/').pop();

/** The disk prune command's outcome and timing on one instance, from the checks after `from`. */
function commandOutcome(facts: IncidentFacts, from: number, spec: EntryDetail, where: Array<string | number>, note: WorldInput['note'], alarm?: EntryDetail): void {
  const ended = (c: Check) => ['Success', 'Failed', 'TimedOut', 'Cancelled'].includes(String(c.readings.commandStatus));
  const end = facts.checks.find((c) => c.at >= from && ended(c));
  if (!end) return;
  const status = String(end.readings.commandStatus);
  if (status === 'Success' || status === 'Failed' || status === 'TimedOut') spec.command = status;
  const took = seenAfter(facts.checks, from, ended);
  if (took !== undefined && status !== 'TimedOut') spec.commandTakes = seconds(took);
  const summary: EntryDetail = isRecord(end.readings.summary) ? end.readings.summary : {};
  if (num(summary.bytesFreed) !== undefined) spec.bytesFreed = summary.bytesFreed;
  const metric: EntryDetail | undefined = [end, ...facts.checks.filter((c) => c.at > end.at)].map((c) => c.readings.metric).find(isRecord);
  const value = num(metric?.value);
  const threshold = num(metric?.threshold);
  if (alarm && metric) {
    Object.assign(alarm, { namespace: 'CWAgent', metric: str(metric.name) ?? 'disk_used_percent', threshold: threshold ?? 90 });
    if (threshold === undefined) note(['world', 'alarms', '*', 'threshold'], NOT_RECORDED);
  }
  const freed = status === 'Success' && num(summary.bytesFreed) !== 0;
  if (value !== undefined && freed) spec.afterPrune = value;
  if (value !== undefined && !freed) spec.diskUsedPercent = value;
  else {
    spec.diskUsedPercent = (threshold ?? 90) < 95 ? 95 : 100;
    note([...where, 'diskUsedPercent'], `${NOT_RECORDED} (medic reads the disk only after the prune): above the alarm's threshold`);
  }
}

const diskPrune: Builder = ({ facts, alarm, note }) => {
  const details: EntryDetail = isRecord(facts.plan?.details) ? facts.plan.details : {};
  const where = ['world', 'ec2', 'instances', 0];
  const spec: EntryDetail = { id: facts.target.id ?? facts.target.dimensions.InstanceId };
  if (facts.plan?.decision !== 'act') {
    if (str(details.pingStatus) === undefined) spec.managed = false;
    else if (details.pingStatus !== 'Online') spec.online = false;
    note(where, 'medic did not act: the instance\'s state is derived from the plan\'s refusal; review it');
  }
  const call = succeeded(facts).find((c) => c.operation === 'SendCommand');
  if (call) commandOutcome(facts, call.at, spec, where, note, alarm);
  return { ec2: { instances: [spec] } };
};

const diskPruneFleet: Builder = ({ facts, alarm, note }) => {
  const details: EntryDetail = isRecord(facts.plan?.details) ? facts.plan.details : {};
  const group = facts.target.dimensions.AutoScalingGroupName ?? facts.target.id;
  const online = (Array.isArray(facts.plan?.resources) ? facts.plan.resources : []).map(instanceId).filter(Boolean);
  const offline = (Array.isArray(details.notOnline) ? details.notOnline : []).map(String);
  const instances: EntryDetail[] = [...online.map((id) => ({ id, autoScalingGroup: group })), ...offline.map((id) => ({ id, autoScalingGroup: group, online: false }))];
  const call = succeeded(facts).find((c) => c.operation === 'SendCommand');
  if (call && instances.length > 0) {
    const fleetSpec: EntryDetail = {};
    commandOutcome(facts, call.at, fleetSpec, ['world', 'ec2', 'instances', 0], () => undefined, alarm);
    // The ledger records the fleet's totals, not each instance's run: every online instance gets the fleet's outcome.
    for (const spec of instances.filter((i) => i.online !== false)) {
      for (const key of ['command', 'afterPrune', 'diskUsedPercent'] as const) if (fleetSpec[key] !== undefined) spec[key] = fleetSpec[key];
    }
    note(['world', 'ec2', 'instances'], 'the ledger records the fleet command\'s totals only: each instance\'s disk, timing and outcome are defaults or the fleet\'s');
  }
  if (instances.length === 0) note(['world', 'ec2'], 'the plan recorded no instance of the fleet: add them');
  return { ec2: { instances } };
};

const asg: Builder = ({ facts, note }) => {
  const details: EntryDetail = isRecord(facts.plan?.details) ? facts.plan.details : {};
  const where = ['world', 'autoScaling', 'groups', 0];
  const spec: EntryDetail = { name: facts.target.dimensions.AutoScalingGroupName ?? facts.target.id };
  if (str(details.healthCheckType)) spec.healthCheckType = details.healthCheckType;
  if (num(details.healthCheckGracePeriod) !== undefined) spec.gracePeriod = details.healthCheckGracePeriod;
  if (num(details.minSize) !== undefined) spec.minSize = details.minSize;
  if (num(details.healthyInService) !== undefined) spec.healthy = details.healthyInService;
  if (Array.isArray(details.loadBalancers)) spec.targetGroups = details.loadBalancers.filter((l: unknown) => String(l).includes(':targetgroup/'));
  else note([...where, 'name'], 'its target groups were not recorded: the world\'s default (one named after the group)');
  const call = succeeded(facts).find((c) => c.operation === 'UpdateAutoScalingGroup');
  const minSize = num(details.minSize) ?? 0;
  if (call) {
    const collapse = seenAfter(facts.checks, call.at, (c) => (num(c.readings.healthyInService) ?? minSize) < minSize);
    if (collapse !== undefined) Object.assign(spec, { afterEnforcing: 'collapses', collapseAfter: seconds(collapse) });
  }
  return { autoScaling: { groups: [spec] } };
};

const certificate: Builder = ({ facts, note }) => {
  const details: EntryDetail = isRecord(facts.plan?.details) ? facts.plan.details : {};
  const domains = str(details.domains)?.split(', ') ?? [];
  const spec: EntryDetail = { arn: facts.target.arn ?? facts.target.id, domains };
  if (num(details.daysLeft) !== undefined) spec.daysLeft = details.daysLeft;
  note(['world', 'acm'], 'the certificate\'s type, validation, records, zones and what ACM does after medic acts are not recorded: defaults; review them');
  return { acm: { certificates: [spec] } };
};

/** The world builder of each built-in runbook kind, by its configuration key. */
export const WORLD_BUILDERS: Readonly<Record<string, Builder>> = {
  ecsTaskRestart: ecs,
  rdsFailoverDrill: rds,
  diskPrune,
  diskPruneFleet,
  asgElbHealthCheck: asg,
  certificateRenewal: certificate,
};

import {
  DescribeDBClustersCommand, DescribeDBInstancesCommand, FailoverDBClusterCommand, RDSClient, RebootDBInstanceCommand,
  type DBCluster, type DBInstance,
} from '@aws-sdk/client-rds';
import { parseDuration } from '../duration';
import type { World } from '../world';

/**
 * `world.rds.instances[]`: `{ id, multiAZ (true), status (available), az (<region>a), secondaryAz
 * (<region>b), engine (postgres), parameterGroups ([{ name: default.<engine>, status: in-sync }]),
 * failover: <duration> | never | in-place (default 90s), azSettles: <duration> (default 0s) }`.
 * After RebootDBInstance with ForceFailover the instance is `rebooting`; `failover` later it is
 * `available` with the primary and standby AZs swapped (`in-place`: available again after 90 s in
 * the same AZ; `never`: stays `rebooting`). With `azSettles`, DescribeDBInstances still reports
 * the old AZs for that long after the status is `available` again. A reboot without failover
 * comes back in the same AZ. Any reboot applies parameter groups in `pending-reboot` (in-sync after).
 *
 * `world.rds.clusters[]`: `{ id, status (available), engine (aurora-postgresql), writer,
 * readers[], pendingReboot ([] : members whose DB cluster parameter group is pending-reboot),
 * failover: <duration> | never (default 90s) }`. `engine` `aurora-mysql` / `aurora-postgresql`
 * is an Aurora cluster; `mysql` / `postgres` a Multi-AZ DB cluster (with a
 * DBClusterInstanceClass). After FailoverDBCluster the cluster is `failing-over`; `failover`
 * later it is `available` with the requested reader (else the first) as writer and the old writer
 * a reader. A requested reader on a `mysql` Multi-AZ DB cluster is refused
 * (InvalidParameterCombination). Members are also described by DescribeDBInstances (with their
 * DBClusterIdentifier).
 *
 * Each behaviour follows the AWS documentation named beside it (the SDK's dist-types doc
 * comments of @aws-sdk/client-rds unless said otherwise).
 */
type Failover = { readonly kind: 'after'; readonly seconds: number } | { readonly kind: 'never' } | { readonly kind: 'in-place'; readonly seconds: number };

interface SimInstance {
  readonly id: string;
  readonly multiAZ: boolean;
  readonly engine: string;
  status: string;
  az: string;
  secondaryAz: string;
  /** What DescribeDBInstances reports while the AZ fields lag the status (`azSettles`). */
  reportedAzs?: { readonly az: string; readonly secondaryAz: string };
  parameterGroups: Array<{ readonly name: string; status: string }>;
  readonly failover: Failover;
  readonly azSettlesSeconds: number;
  generation: number;
}

interface SimCluster {
  readonly id: string;
  readonly engine: string;
  status: string;
  writer: string;
  readers: string[];
  readonly pendingReboot: Set<string>;
  readonly failover: Exclude<Failover, { kind: 'in-place' }>;
  generation: number;
}

type InstanceSpec = {
  id: string; multiAZ?: boolean; status?: string; az?: string; secondaryAz?: string; engine?: string;
  parameterGroups?: Array<{ name: string; status?: string }>; failover?: string | number; azSettles?: string | number;
};
type ClusterSpec = { id: string; status?: string; engine?: string; writer: string; readers?: string[]; pendingReboot?: string[]; failover?: string | number };

/** CreateDBClusterMessage.Engine, valid values for Aurora DB clusters and Multi-AZ DB clusters (neptune aside). */
const CLUSTER_ENGINES = ['aurora-mysql', 'aurora-postgresql', 'mysql', 'postgres'];
/** DBParameterGroupStatus.ParameterApplyStatus, its documented values. */
const APPLY_STATUSES = ['applying', 'failed-to-apply', 'in-sync', 'pending-database-upgrade', 'pending-reboot'];
const isMultiAzDbCluster = (c: SimCluster): boolean => c.engine === 'mysql' || c.engine === 'postgres';

const IN_PLACE_SECONDS = 90;
const fault = (name: string, message: string) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: name.endsWith('NotFoundFault') ? 404 : 400 } });

function readFailover(value: string | number | undefined, where: string, inPlace: boolean): Failover {
  if (value === 'never') return { kind: 'never' };
  if (value === 'in-place') {
    if (!inPlace) throw new Error(`${where}: in-place is for instances; a cluster takes a duration or never`);
    return { kind: 'in-place', seconds: IN_PLACE_SECONDS };
  }
  return { kind: 'after', seconds: parseDuration(value ?? '90s', where) };
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new Error(`${where}: must be a non-empty string`);
  return value;
}

export function installRds(world: World): void {
  const spec = (world.spec.rds as { instances?: InstanceSpec[]; clusters?: ClusterSpec[] } | undefined) ?? {};
  const { region, account } = world.env;
  const instances = new Map<string, SimInstance>();
  const clusters = new Map<string, SimCluster>();
  for (const [i, s] of (spec.instances ?? []).entries()) {
    const where = `world.rds.instances[${i}]`;
    const id = text(s?.id, `${where}.id`);
    const engine = s.engine === undefined ? 'postgres' : text(s.engine, `${where}.engine`);
    const parameterGroups = (s.parameterGroups ?? [{ name: `default.${engine}` }]).map((g, j) => {
      const status = g?.status ?? 'in-sync';
      if (!APPLY_STATUSES.includes(status)) throw new Error(`${where}.parameterGroups[${j}].status: one of ${APPLY_STATUSES.join(', ')}`);
      return { name: text(g?.name, `${where}.parameterGroups[${j}].name`), status };
    });
    instances.set(id, {
      id,
      multiAZ: s.multiAZ ?? true,
      engine,
      status: s.status ?? 'available',
      az: s.az ?? `${region}a`,
      secondaryAz: s.secondaryAz ?? `${region}b`,
      parameterGroups,
      failover: readFailover(s.failover, `${where}.failover`, true),
      azSettlesSeconds: parseDuration(s.azSettles ?? 0, `${where}.azSettles`),
      generation: 0,
    });
  }
  for (const [i, s] of (spec.clusters ?? []).entries()) {
    const where = `world.rds.clusters[${i}]`;
    const id = text(s?.id, `${where}.id`);
    const engine = s.engine ?? 'aurora-postgresql';
    if (!CLUSTER_ENGINES.includes(engine)) throw new Error(`${where}.engine: one of ${CLUSTER_ENGINES.join(', ')}`);
    const writer = text(s.writer, `${where}.writer`);
    const readers = (s.readers ?? []).map((r, j) => text(r, `${where}.readers[${j}]`));
    const pendingReboot = (s.pendingReboot ?? []).map((m, j) => text(m, `${where}.pendingReboot[${j}]`));
    const stranger = pendingReboot.find((m) => m !== writer && !readers.includes(m));
    if (stranger) throw new Error(`${where}.pendingReboot: ${stranger} is not a member of the cluster`);
    clusters.set(id, {
      id,
      engine,
      status: s.status ?? 'available',
      writer,
      readers,
      pendingReboot: new Set(pendingReboot),
      failover: readFailover(s.failover, `${where}.failover`, false) as SimCluster['failover'],
      generation: 0,
    });
  }

  const describeInstance = (db: SimInstance): DBInstance => ({
    DBInstanceIdentifier: db.id,
    DBInstanceArn: `arn:aws:rds:${region}:${account}:db:${db.id}`,
    DBInstanceClass: 'db.r6g.large',
    Engine: db.engine,
    DBInstanceStatus: db.status,
    MultiAZ: db.multiAZ,
    AvailabilityZone: db.reportedAzs?.az ?? db.az,
    ...(db.multiAZ ? { SecondaryAvailabilityZone: db.reportedAzs?.secondaryAz ?? db.secondaryAz } : {}),
    PendingModifiedValues: {},
    DBParameterGroups: db.parameterGroups.map((g) => ({ DBParameterGroupName: g.name, ParameterApplyStatus: g.status })),
  });
  /** A cluster member, as DescribeDBInstances shows it (a drill of it is refused: drill the cluster). */
  const describeMember = (cluster: SimCluster, id: string): DBInstance => ({
    DBInstanceIdentifier: id,
    DBInstanceArn: `arn:aws:rds:${region}:${account}:db:${id}`,
    DBInstanceClass: isMultiAzDbCluster(cluster) ? 'db.m6gd.large' : 'db.r6g.large',
    Engine: cluster.engine,
    DBInstanceStatus: cluster.status === 'available' ? 'available' : 'rebooting',
    MultiAZ: false,
    AvailabilityZone: `${region}${'abc'[[cluster.writer, ...cluster.readers].indexOf(id) % 3]}`,
    DBClusterIdentifier: cluster.id,
    PendingModifiedValues: {},
  });
  const memberOf = (c: SimCluster, id: string, writer: boolean) => ({
    DBInstanceIdentifier: id, IsClusterWriter: writer, PromotionTier: 1, DBClusterParameterGroupStatus: c.pendingReboot.has(id) ? 'pending-reboot' : 'in-sync',
  });
  const describeCluster = (c: SimCluster): DBCluster => ({
    DBClusterIdentifier: c.id,
    DBClusterArn: `arn:aws:rds:${region}:${account}:cluster:${c.id}`,
    Engine: c.engine,
    // DBCluster.EngineMode: "either provisioned or serverless" (an Aurora setting: CreateDBCluster
    // "Valid for Cluster Type: Aurora DB clusters only"); DBClusterInstanceClass: "This setting is
    // only for non-Aurora Multi-AZ DB clusters" (and "required to create a Multi-AZ DB cluster").
    ...(isMultiAzDbCluster(c) ? { DBClusterInstanceClass: 'db.m6gd.large' } : { EngineMode: 'provisioned' }),
    Status: c.status,
    MultiAZ: c.readers.length > 0,
    PendingModifiedValues: {},
    DBClusterMembers: [memberOf(c, c.writer, true), ...c.readers.map((r) => memberOf(c, r, false))],
  });
  const allInstances = (): DBInstance[] => [
    ...[...instances.values()].map(describeInstance),
    ...[...clusters.values()].flatMap((c) => [c.writer, ...c.readers].filter((id) => !instances.has(id)).map((id) => describeMember(c, id))),
  ];

  const rds = world.stub(RDSClient);

  rds.on(DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier?: string }) => world.answer('rds', 'DescribeDBInstances', input, false, () => {
    const all = allInstances();
    if (input.DBInstanceIdentifier === undefined) return { DBInstances: all };
    const found = all.filter((db) => db.DBInstanceIdentifier === input.DBInstanceIdentifier);
    if (found.length === 0) throw fault('DBInstanceNotFoundFault', `DBInstance ${input.DBInstanceIdentifier} not found.`);
    return { DBInstances: found };
  }));

  rds.on(DescribeDBClustersCommand).callsFake((input: { DBClusterIdentifier?: string }) => world.answer('rds', 'DescribeDBClusters', input, false, () => {
    if (input.DBClusterIdentifier === undefined) return { DBClusters: [...clusters.values()].map(describeCluster) };
    const cluster = clusters.get(input.DBClusterIdentifier);
    if (!cluster) throw fault('DBClusterNotFoundFault', `DBCluster ${input.DBClusterIdentifier} not found.`);
    return { DBClusters: [describeCluster(cluster)] };
  }));

  rds.on(RebootDBInstanceCommand).callsFake((input: { DBInstanceIdentifier: string; ForceFailover?: boolean }) => world.answer('rds', 'RebootDBInstance', input, true, () => {
    const db = instances.get(input.DBInstanceIdentifier);
    if (!db) {
      if ([...clusters.values()].some((c) => [c.writer, ...c.readers].includes(input.DBInstanceIdentifier))) {
        throw fault('InvalidParameterCombination', `ForceFailover is not supported for ${input.DBInstanceIdentifier}, a member of a DB cluster (simulated)`);
      }
      throw fault('DBInstanceNotFoundFault', `DBInstance ${input.DBInstanceIdentifier} not found.`);
    }
    if (db.status !== 'available') throw fault('InvalidDBInstanceStateFault', `DBInstance ${db.id} is not in available state (it is ${db.status}).`);
    if (input.ForceFailover && !db.multiAZ) {
      throw fault('InvalidParameterCombination', `Cannot reboot DBInstance ${db.id} with failover: it is not a Multi-AZ instance.`);
    }
    db.status = 'rebooting';
    const generation = ++db.generation;
    const failsOver = input.ForceFailover === true && db.failover.kind === 'after';
    if (db.failover.kind !== 'never') {
      world.later(db.failover.seconds, () => {
        if (db.generation !== generation) return;
        db.status = 'available';
        // RebootDBInstance: "if you change the DB parameter group associated with the DB instance,
        // you must reboot the instance for the changes to take effect"; DBParameterGroupStatus
        // `pending-reboot`: "will be applied after the DB instance reboots".
        for (const group of db.parameterGroups) if (group.status === 'pending-reboot') group.status = 'in-sync';
        if (!failsOver) return;
        // RDS User Guide, failover process for Multi-AZ DB instances: "When the failover is
        // complete, it can take additional time for the RDS console to reflect the new
        // Availability Zone." With azSettles the AZ fields lag the status by that long.
        if (db.azSettlesSeconds > 0) {
          db.reportedAzs = { az: db.az, secondaryAz: db.secondaryAz };
          world.later(db.azSettlesSeconds, () => {
            if (db.generation === generation) db.reportedAzs = undefined;
          });
        }
        [db.az, db.secondaryAz] = [db.secondaryAz, db.az];
      });
    }
    return { DBInstance: describeInstance(db) };
  }));

  rds.on(FailoverDBClusterCommand).callsFake((input: { DBClusterIdentifier: string; TargetDBInstanceIdentifier?: string }) => world.answer('rds', 'FailoverDBCluster', input, true, () => {
    const cluster = clusters.get(input.DBClusterIdentifier);
    if (!cluster) throw fault('DBClusterNotFoundFault', `DBCluster ${input.DBClusterIdentifier} not found.`);
    if (cluster.status !== 'available') throw fault('InvalidDBClusterStateFault', `DBCluster ${cluster.id} is not in available state (it is ${cluster.status}).`);
    if (cluster.readers.length === 0) throw fault('InvalidDBClusterStateFault', `DBCluster ${cluster.id} has no reader to fail over to.`);
    const target = input.TargetDBInstanceIdentifier;
    // FailoverDBClusterMessage.TargetDBInstanceIdentifier: "This setting isn't supported for RDS for
    // MySQL Multi-AZ DB clusters." The docs name no error code for it; modelled as RDS's common
    // InvalidParameterCombination (400: parameters that must not be used together), a refusal.
    if (target !== undefined && cluster.engine === 'mysql') {
      throw fault('InvalidParameterCombination', `TargetDBInstanceIdentifier is not supported for RDS for MySQL Multi-AZ DB cluster ${cluster.id} (simulated).`);
    }
    if (target !== undefined && !cluster.readers.includes(target)) {
      throw fault('InvalidDBInstanceStateFault', `${target} is not a reader of DBCluster ${cluster.id}.`);
    }
    cluster.status = 'failing-over';
    const generation = ++cluster.generation;
    if (cluster.failover.kind === 'after') {
      world.later(cluster.failover.seconds, () => {
        if (cluster.generation !== generation) return;
        // Members' pending-reboot statuses stay: ModifyDBClusterParameterGroup applies such changes
        // "after a reboot without failover"; that a failover applies them is not documented.
        const promoted = target ?? cluster.readers[0];
        cluster.readers = [...cluster.readers.filter((r) => r !== promoted), cluster.writer];
        cluster.writer = promoted;
        cluster.status = 'available';
      });
    }
    return { DBCluster: describeCluster(cluster) };
  }));
}

import {
  DescribeDBClustersCommand, DescribeDBInstancesCommand, FailoverDBClusterCommand, RDSClient, RebootDBInstanceCommand,
  type DBCluster, type DBInstance,
} from '@aws-sdk/client-rds';
import { parseDuration } from '../duration';
import type { World } from '../world';

/**
 * `world.rds.instances[]`: `{ id, multiAZ (true), status (available), az (<region>a), secondaryAz
 * (<region>b), failover: <duration> | never | in-place (default 90s) }`. After RebootDBInstance
 * with ForceFailover the instance is `rebooting`; `failover` later it is `available` with the
 * primary and standby AZs swapped (`in-place`: available again after 90 s in the same AZ;
 * `never`: stays `rebooting`). A reboot without failover comes back in the same AZ.
 *
 * `world.rds.clusters[]`: `{ id, status (available), writer, readers[], failover: <duration> |
 * never (default 90s) }`. After FailoverDBCluster the cluster is `failing-over`; `failover` later
 * it is `available` with the requested reader (else the first) as writer and the old writer a
 * reader. Members are also described by DescribeDBInstances (with their DBClusterIdentifier).
 */
type Failover = { readonly kind: 'after'; readonly seconds: number } | { readonly kind: 'never' } | { readonly kind: 'in-place'; readonly seconds: number };

interface SimInstance {
  readonly id: string;
  readonly multiAZ: boolean;
  status: string;
  az: string;
  secondaryAz: string;
  readonly failover: Failover;
  generation: number;
}

interface SimCluster {
  readonly id: string;
  status: string;
  writer: string;
  readers: string[];
  readonly failover: Exclude<Failover, { kind: 'in-place' }>;
  generation: number;
}

type InstanceSpec = { id: string; multiAZ?: boolean; status?: string; az?: string; secondaryAz?: string; failover?: string | number };
type ClusterSpec = { id: string; status?: string; writer: string; readers?: string[]; failover?: string | number };

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
    instances.set(id, {
      id,
      multiAZ: s.multiAZ ?? true,
      status: s.status ?? 'available',
      az: s.az ?? `${region}a`,
      secondaryAz: s.secondaryAz ?? `${region}b`,
      failover: readFailover(s.failover, `${where}.failover`, true),
      generation: 0,
    });
  }
  for (const [i, s] of (spec.clusters ?? []).entries()) {
    const where = `world.rds.clusters[${i}]`;
    const id = text(s?.id, `${where}.id`);
    clusters.set(id, {
      id,
      status: s.status ?? 'available',
      writer: text(s.writer, `${where}.writer`),
      readers: (s.readers ?? []).map((r, j) => text(r, `${where}.readers[${j}]`)),
      failover: readFailover(s.failover, `${where}.failover`, false) as SimCluster['failover'],
      generation: 0,
    });
  }

  const describeInstance = (db: SimInstance): DBInstance => ({
    DBInstanceIdentifier: db.id,
    DBInstanceArn: `arn:aws:rds:${region}:${account}:db:${db.id}`,
    DBInstanceClass: 'db.r6g.large',
    Engine: 'postgres',
    DBInstanceStatus: db.status,
    MultiAZ: db.multiAZ,
    AvailabilityZone: db.az,
    ...(db.multiAZ ? { SecondaryAvailabilityZone: db.secondaryAz } : {}),
    PendingModifiedValues: {},
  });
  /** A cluster member, as DescribeDBInstances shows it (a drill of it is refused: drill the cluster). */
  const describeMember = (cluster: SimCluster, id: string): DBInstance => ({
    DBInstanceIdentifier: id,
    DBInstanceArn: `arn:aws:rds:${region}:${account}:db:${id}`,
    DBInstanceClass: 'db.r6g.large',
    Engine: 'aurora-postgresql',
    DBInstanceStatus: cluster.status === 'available' ? 'available' : 'rebooting',
    MultiAZ: false,
    AvailabilityZone: `${region}${'abc'[[cluster.writer, ...cluster.readers].indexOf(id) % 3]}`,
    DBClusterIdentifier: cluster.id,
    PendingModifiedValues: {},
  });
  const describeCluster = (c: SimCluster): DBCluster => ({
    DBClusterIdentifier: c.id,
    DBClusterArn: `arn:aws:rds:${region}:${account}:cluster:${c.id}`,
    Engine: 'aurora-postgresql',
    Status: c.status,
    MultiAZ: c.readers.length > 0,
    PendingModifiedValues: {},
    DBClusterMembers: [
      { DBInstanceIdentifier: c.writer, IsClusterWriter: true, PromotionTier: 1, DBClusterParameterGroupStatus: 'in-sync' },
      ...c.readers.map((r) => ({ DBInstanceIdentifier: r, IsClusterWriter: false, PromotionTier: 1, DBClusterParameterGroupStatus: 'in-sync' })),
    ],
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
        if (failsOver) [db.az, db.secondaryAz] = [db.secondaryAz, db.az];
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
    if (target !== undefined && !cluster.readers.includes(target)) {
      throw fault('InvalidDBInstanceStateFault', `${target} is not a reader of DBCluster ${cluster.id}.`);
    }
    cluster.status = 'failing-over';
    const generation = ++cluster.generation;
    if (cluster.failover.kind === 'after') {
      world.later(cluster.failover.seconds, () => {
        if (cluster.generation !== generation) return;
        const promoted = target ?? cluster.readers[0];
        cluster.readers = [...cluster.readers.filter((r) => r !== promoted), cluster.writer];
        cluster.writer = promoted;
        cluster.status = 'available';
      });
    }
    return { DBCluster: describeCluster(cluster) };
  }));
}

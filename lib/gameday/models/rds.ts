import {
  DescribeDBClustersCommand, DescribeDBInstancesCommand, FailoverDBClusterCommand, RebootDBInstanceCommand,
  type DBCluster, type DBInstance,
} from '@aws-sdk/client-rds';
import type { ModelClock, ModelEnv } from './clock';
import { awsError, type ModelOperations } from './operations';

/**
 * How a database comes back from a reboot: `after` its seconds with the primary moved (a reboot
 * with failover); `in-place` after its seconds in the same AZ (it rebooted without failing over);
 * `never` stays rebooting / failing-over.
 */
export type Failover = { readonly kind: 'after'; readonly seconds: number } | { readonly kind: 'never' } | { readonly kind: 'in-place'; readonly seconds: number };

/** A DB instance (Multi-AZ or not) as the model keeps it. */
export interface RdsInstance {
  readonly id: string;
  readonly multiAZ: boolean;
  readonly engine: string;
  status: string;
  az: string;
  secondaryAz: string;
  /** What DescribeDBInstances reports while the AZ fields lag the status (`azSettlesSeconds`). */
  reportedAzs?: { readonly az: string; readonly secondaryAz: string };
  parameterGroups: Array<{ readonly name: string; status: string }>;
  failover: Failover;
  /** How long after a failover the AZ fields still show the old AZs (0: at once). */
  azSettlesSeconds: number;
  /** Bumped on every reboot, so a change scheduled by an older reboot does nothing. */
  generation: number;
}

/** An Aurora DB cluster or a Multi-AZ DB cluster (engine `mysql` / `postgres`). */
export interface RdsCluster {
  readonly id: string;
  readonly engine: string;
  status: string;
  writer: string;
  readers: string[];
  /** Members whose DB cluster parameter group is `pending-reboot`. */
  readonly pendingReboot: Set<string>;
  failover: Exclude<Failover, { kind: 'in-place' }>;
  generation: number;
}

/** CreateDBClusterMessage.Engine, valid values for Aurora DB clusters and Multi-AZ DB clusters (neptune aside). */
export const CLUSTER_ENGINES = ['aurora-mysql', 'aurora-postgresql', 'mysql', 'postgres'];
/** DBParameterGroupStatus.ParameterApplyStatus, its documented values. */
export const APPLY_STATUSES = ['applying', 'failed-to-apply', 'in-sync', 'pending-database-upgrade', 'pending-reboot'];
const isMultiAzDbCluster = (c: RdsCluster): boolean => c.engine === 'mysql' || c.engine === 'postgres';
/** RDS answers a missing resource (`...NotFoundFault`) with 404, other refusals with 400 (API reference, each action's Errors). */
const fault = (name: string, message: string) => awsError(name, message, name.endsWith('NotFoundFault') ? 404 : 400);

/**
 * Amazon RDS for the runbooks that drill failovers: Multi-AZ DB instances (RebootDBInstance with
 * ForceFailover), Aurora DB clusters and Multi-AZ DB clusters (FailoverDBCluster), and how they come
 * back over time. Used by the game-day world (lib/gameday/services/rds.ts) and the workflow tests
 * (test/support/fake-rds.ts). Each behaviour follows the AWS documentation named beside it (the
 * SDK's dist-types doc comments of @aws-sdk/client-rds unless said otherwise).
 */
export class RdsModel {
  readonly instances = new Map<string, RdsInstance>();
  readonly clusters = new Map<string, RdsCluster>();

  readonly operations: ModelOperations = {
    DescribeDBInstances: { command: DescribeDBInstancesCommand, mutating: false, answer: (input: { DBInstanceIdentifier?: string }) => this.describeDBInstances(input) },
    DescribeDBClusters: { command: DescribeDBClustersCommand, mutating: false, answer: (input: { DBClusterIdentifier?: string }) => this.describeDBClusters(input) },
    RebootDBInstance: { command: RebootDBInstanceCommand, mutating: true, answer: (input: { DBInstanceIdentifier: string; ForceFailover?: boolean }) => this.rebootDBInstance(input) },
    FailoverDBCluster: {
      command: FailoverDBClusterCommand, mutating: true,
      answer: (input: { DBClusterIdentifier: string; TargetDBInstanceIdentifier?: string }) => this.failoverDBCluster(input),
    },
  };

  constructor(private readonly clock: ModelClock, private readonly env: ModelEnv) {}

  /** A DB instance, `available`, Multi-AZ in `<region>a` with its standby in `<region>b`, failing over in 90 s unless said. */
  addInstance(spec: Partial<Omit<RdsInstance, 'generation' | 'reportedAzs'>> & { id: string }): RdsInstance {
    const engine = spec.engine ?? 'postgres';
    const instance: RdsInstance = {
      multiAZ: true, status: 'available', az: `${this.env.region}a`, secondaryAz: `${this.env.region}b`,
      parameterGroups: [{ name: `default.${engine}`, status: 'in-sync' }], failover: { kind: 'after', seconds: 90 }, azSettlesSeconds: 0,
      ...spec, engine, generation: 0,
    };
    this.instances.set(instance.id, instance);
    return instance;
  }

  /** A DB cluster, `available`, an Aurora PostgreSQL one unless said, failing over in 90 s unless said. */
  addCluster(spec: Partial<Omit<RdsCluster, 'generation' | 'pendingReboot'>> & { id: string; writer: string; pendingReboot?: Iterable<string> }): RdsCluster {
    const cluster: RdsCluster = {
      status: 'available', engine: 'aurora-postgresql', readers: [], failover: { kind: 'after', seconds: 90 },
      ...spec, pendingReboot: new Set(spec.pendingReboot ?? []), generation: 0,
    };
    this.clusters.set(cluster.id, cluster);
    return cluster;
  }

  describeDBInstances(input: { DBInstanceIdentifier?: string }): { DBInstances: DBInstance[] } {
    const all = [
      ...[...this.instances.values()].map((db) => this.describeInstance(db)),
      ...[...this.clusters.values()].flatMap((c) => [c.writer, ...c.readers].filter((id) => !this.instances.has(id)).map((id) => this.describeMember(c, id))),
    ];
    if (input.DBInstanceIdentifier === undefined) return { DBInstances: all };
    // DescribeDBInstances, Errors: DBInstanceNotFoundFault, "DBInstanceIdentifier doesn't refer to an existing DB instance" (404).
    const found = all.filter((db) => db.DBInstanceIdentifier === input.DBInstanceIdentifier);
    if (found.length === 0) throw fault('DBInstanceNotFoundFault', `DBInstance ${input.DBInstanceIdentifier} not found.`);
    return { DBInstances: found };
  }

  describeDBClusters(input: { DBClusterIdentifier?: string }): { DBClusters: DBCluster[] } {
    if (input.DBClusterIdentifier === undefined) return { DBClusters: [...this.clusters.values()].map((c) => this.describeCluster(c)) };
    // DescribeDBClusters, Errors: DBClusterNotFoundFault, "DBClusterIdentifier doesn't refer to an existing DB cluster" (404).
    const cluster = this.clusters.get(input.DBClusterIdentifier);
    if (!cluster) throw fault('DBClusterNotFoundFault', `DBCluster ${input.DBClusterIdentifier} not found.`);
    return { DBClusters: [this.describeCluster(cluster)] };
  }

  /**
   * RebootDBInstance: the instance is `rebooting`; with ForceFailover on a Multi-AZ instance it comes
   * back `available` with the primary and standby AZs swapped (RebootDBInstanceMessage.ForceFailover:
   * "the reboot is conducted through a Multi-AZ failover"; not allowed "if the instance isn't
   * configured for Multi-AZ"). Without failover it comes back in the same AZ.
   */
  rebootDBInstance(input: { DBInstanceIdentifier: string; ForceFailover?: boolean }): { DBInstance: DBInstance } {
    const db = this.instances.get(input.DBInstanceIdentifier);
    if (!db) {
      // RebootDBInstance is for DB instances; a member of a DB cluster fails over with FailoverDBCluster. The docs
      // name no error code for rebooting a member with ForceFailover: modelled as InvalidParameterCombination (400).
      if ([...this.clusters.values()].some((c) => [c.writer, ...c.readers].includes(input.DBInstanceIdentifier))) {
        throw fault('InvalidParameterCombination', `ForceFailover is not supported for ${input.DBInstanceIdentifier}, a member of a DB cluster (simulated)`);
      }
      throw fault('DBInstanceNotFoundFault', `DBInstance ${input.DBInstanceIdentifier} not found.`);
    }
    // RebootDBInstance, Errors: InvalidDBInstanceStateFault, "The DB instance isn't in a valid state."
    if (db.status !== 'available') throw fault('InvalidDBInstanceStateFault', `DBInstance ${db.id} is not in available state (it is ${db.status}).`);
    if (input.ForceFailover && !db.multiAZ) {
      throw fault('InvalidParameterCombination', `Cannot reboot DBInstance ${db.id} with failover: it is not a Multi-AZ instance.`);
    }
    db.status = 'rebooting';
    const generation = ++db.generation;
    const failsOver = input.ForceFailover === true && db.failover.kind === 'after';
    if (db.failover.kind !== 'never') {
      this.clock.later(db.failover.seconds, () => {
        if (db.generation !== generation) return;
        db.status = 'available';
        // RebootDBInstance: "if you change the DB parameter group associated with the DB instance,
        // you must reboot the instance for the changes to take effect"; DBParameterGroupStatus
        // `pending-reboot`: "will be applied after the DB instance reboots".
        for (const group of db.parameterGroups) if (group.status === 'pending-reboot') group.status = 'in-sync';
        if (!failsOver) return;
        // RDS User Guide, failover process for Multi-AZ DB instances: "When the failover is
        // complete, it can take additional time for the RDS console to reflect the new
        // Availability Zone." With azSettlesSeconds the AZ fields lag the status by that long.
        if (db.azSettlesSeconds > 0) {
          db.reportedAzs = { az: db.az, secondaryAz: db.secondaryAz };
          this.clock.later(db.azSettlesSeconds, () => {
            if (db.generation === generation) db.reportedAzs = undefined;
          });
        }
        [db.az, db.secondaryAz] = [db.secondaryAz, db.az];
      });
    }
    return { DBInstance: this.describeInstance(db) };
  }

  /**
   * FailoverDBCluster: the cluster is `failing-over`, then `available` with the requested reader
   * (TargetDBInstanceIdentifier, else one the service picks: the first here) as writer and the old
   * writer a reader ("forces a failover for a DB cluster ... promotes one of the Aurora Replicas").
   */
  failoverDBCluster(input: { DBClusterIdentifier: string; TargetDBInstanceIdentifier?: string }): { DBCluster: DBCluster } {
    const cluster = this.clusters.get(input.DBClusterIdentifier);
    if (!cluster) throw fault('DBClusterNotFoundFault', `DBCluster ${input.DBClusterIdentifier} not found.`);
    // FailoverDBCluster, Errors: InvalidDBClusterStateFault, "The requested operation can't be performed while the cluster is in this state."
    if (cluster.status !== 'available') throw fault('InvalidDBClusterStateFault', `DBCluster ${cluster.id} is not in available state (it is ${cluster.status}).`);
    if (cluster.readers.length === 0) throw fault('InvalidDBClusterStateFault', `DBCluster ${cluster.id} has no reader to fail over to.`);
    const target = input.TargetDBInstanceIdentifier;
    // FailoverDBClusterMessage.TargetDBInstanceIdentifier: "This setting isn't supported for RDS for
    // MySQL Multi-AZ DB clusters." The docs name no error code for it; modelled as RDS's common
    // InvalidParameterCombination (400: parameters that must not be used together), a refusal.
    if (target !== undefined && cluster.engine === 'mysql') {
      throw fault('InvalidParameterCombination', `TargetDBInstanceIdentifier is not supported for RDS for MySQL Multi-AZ DB cluster ${cluster.id} (simulated).`);
    }
    // FailoverDBCluster, Errors: InvalidDBInstanceStateFault, "The DB instance isn't in a valid state."
    if (target !== undefined && !cluster.readers.includes(target)) {
      throw fault('InvalidDBInstanceStateFault', `${target} is not a reader of DBCluster ${cluster.id}.`);
    }
    cluster.status = 'failing-over';
    const generation = ++cluster.generation;
    if (cluster.failover.kind === 'after') {
      this.clock.later(cluster.failover.seconds, () => {
        if (cluster.generation !== generation) return;
        // Members' pending-reboot statuses stay: ModifyDBClusterParameterGroup applies such changes
        // "after a reboot without failover"; that a failover applies them is not documented.
        const promoted = target ?? cluster.readers[0];
        cluster.readers = [...cluster.readers.filter((r) => r !== promoted), cluster.writer];
        cluster.writer = promoted;
        cluster.status = 'available';
      });
    }
    return { DBCluster: this.describeCluster(cluster) };
  }

  /**
   * The database's status changes, whoever changed it (a timeline change: someone modifies it,
   * reboots it, stops it). DBInstance.DBInstanceStatus / DBCluster.Status are free text in the API
   * ("Viewing Amazon RDS DB instance status", RDS User Guide, lists the values); the calls that need
   * `available` refuse any other. A reboot or failover in progress still completes as `failover` says.
   */
  setStatus(db: RdsInstance | RdsCluster, status: string): void {
    db.status = status;
  }

  /**
   * DeleteDBInstance / DeleteDBCluster: the database is gone, so DescribeDBInstances answers
   * DBInstanceNotFoundFault and DescribeDBClusters DBClusterNotFoundFault (404), as for an
   * identifier that never existed. The model skips the `deleting` status. A deleted cluster's
   * members go with it (an Aurora cluster is deleted once its instances are; DeleteDBCluster
   * deletes a Multi-AZ DB cluster's).
   */
  deleteDatabase(db: RdsInstance | RdsCluster): void {
    if ('writer' in db) this.clusters.delete(db.id);
    else this.instances.delete(db.id);
  }

  private describeInstance(db: RdsInstance): DBInstance {
    const { region, account } = this.env;
    return {
      DBInstanceIdentifier: db.id,
      DBInstanceArn: `arn:aws:rds:${region}:${account}:db:${db.id}`,
      DBInstanceClass: 'db.r6g.large',
      Engine: db.engine,
      DBInstanceStatus: db.status,
      MultiAZ: db.multiAZ,
      AvailabilityZone: db.reportedAzs?.az ?? db.az,
      // DBInstance.SecondaryAvailabilityZone: "If present, specifies the name of the secondary Availability Zone for a DB instance with multi-AZ support."
      ...(db.multiAZ ? { SecondaryAvailabilityZone: db.reportedAzs?.secondaryAz ?? db.secondaryAz } : {}),
      PendingModifiedValues: {},
      DBParameterGroups: db.parameterGroups.map((g) => ({ DBParameterGroupName: g.name, ParameterApplyStatus: g.status })),
    };
  }

  /** A cluster member, as DescribeDBInstances shows it (DBInstance.DBClusterIdentifier: "the DB cluster that the DB instance is a member of"). */
  private describeMember(cluster: RdsCluster, id: string): DBInstance {
    const { region, account } = this.env;
    return {
      DBInstanceIdentifier: id,
      DBInstanceArn: `arn:aws:rds:${region}:${account}:db:${id}`,
      DBInstanceClass: isMultiAzDbCluster(cluster) ? 'db.m6gd.large' : 'db.r6g.large',
      Engine: cluster.engine,
      // A member reboots while its cluster fails over; otherwise it shows its cluster's status (stopped, modifying, ...).
      DBInstanceStatus: cluster.status === 'failing-over' ? 'rebooting' : cluster.status,
      MultiAZ: false,
      AvailabilityZone: `${region}${'abc'[[cluster.writer, ...cluster.readers].indexOf(id) % 3]}`,
      DBClusterIdentifier: cluster.id,
      PendingModifiedValues: {},
    };
  }

  private describeCluster(c: RdsCluster): DBCluster {
    const { region, account } = this.env;
    // DBClusterMember.DBClusterParameterGroupStatus: "the status of the DB cluster parameter group for this member".
    const member = (id: string, writer: boolean) => ({
      DBInstanceIdentifier: id, IsClusterWriter: writer, PromotionTier: 1, DBClusterParameterGroupStatus: c.pendingReboot.has(id) ? 'pending-reboot' : 'in-sync',
    });
    return {
      DBClusterIdentifier: c.id,
      DBClusterArn: `arn:aws:rds:${region}:${account}:cluster:${c.id}`,
      Engine: c.engine,
      // DBCluster.EngineMode: "either provisioned or serverless" (an Aurora setting: CreateDBCluster
      // "Valid for Cluster Type: Aurora DB clusters only"); DBClusterInstanceClass: "This setting is
      // only for non-Aurora Multi-AZ DB clusters" (and "required to create a Multi-AZ DB cluster").
      ...(isMultiAzDbCluster(c) ? { DBClusterInstanceClass: 'db.m6gd.large' } : { EngineMode: 'provisioned' }),
      Status: c.status,
      // DBCluster.MultiAZ: "whether the DB cluster has instances in multiple Availability Zones".
      MultiAZ: c.readers.length > 0,
      PendingModifiedValues: {},
      DBClusterMembers: [member(c.writer, true), ...c.readers.map((r) => member(r, false))],
    };
  }
}

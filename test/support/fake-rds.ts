import {
  DescribeDBClustersCommand, DescribeDBInstancesCommand, FailoverDBClusterCommand, RDSClient, RebootDBInstanceCommand,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';

interface FakeInstance {
  status: string;
  multiAZ: boolean;
  az: string;
  secondaryAz: string;
  clusterId?: string;
  engine: string;
  /** `DBParameterGroups`: name and `ParameterApplyStatus`. */
  parameterGroups: Array<{ name: string; status: string }>;
}
interface FakeCluster {
  status: string;
  writer: string;
  readers: string[];
  promote?: string;
  /** `aurora-postgresql` (default), `aurora-mysql`, or `mysql` / `postgres` for a Multi-AZ DB cluster. */
  engine: string;
  /** Members whose `DBClusterParameterGroupStatus` is `pending-reboot`. */
  pendingRebootMembers: string[];
}

/** How a simulated database responds to a failover request. */
export type FailoverBehaviour = 'fails-over' | 'reboots-in-place' | 'never-available';

const fault = (name: string, message: string, httpStatusCode = 400) => Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode } });
const isMultiAzDbCluster = (c: FakeCluster) => c.engine === 'mysql' || c.engine === 'postgres';

/**
 * Simulated RDS for workflow tests: Multi-AZ instances, Aurora clusters and Multi-AZ DB clusters
 * that go through `rebooting` / `failing-over` for a few describes after a failover request, then
 * come back `available` with the primary moved (or not, or never, per `behaviour`). Each
 * behaviour follows the AWS documentation named beside it (the SDK's dist-types doc comments
 * unless said otherwise), as lib/gameday/services/rds.ts does for the game day.
 */
export class FakeRds {
  readonly client = mockClient(RDSClient);
  readonly instances = new Map<string, FakeInstance>();
  readonly clusters = new Map<string, FakeCluster>();
  behaviour: FailoverBehaviour = 'fails-over';
  /** Describe calls that still see the failover in progress. */
  describesWhileFailingOver = 2;
  /**
   * Describe calls, once an instance is `available` again after failing over, that still report
   * the old primary AZ. RDS User Guide, failover process for Multi-AZ DB instances: "When the
   * failover is complete, it can take additional time for the RDS console to reflect the new
   * Availability Zone."
   */
  describesBeforeAzSettles = 0;
  private remaining = new Map<string, number>();
  private staleAz = new Map<string, { left: number; az: string; secondaryAz: string }>();

  constructor() {
    this.install();
  }

  reset(): void {
    this.client.reset();
    this.instances.clear();
    this.clusters.clear();
    this.remaining.clear();
    this.staleAz.clear();
    this.behaviour = 'fails-over';
    this.describesWhileFailingOver = 2;
    this.describesBeforeAzSettles = 0;
    this.install();
  }

  restore(): void {
    this.client.restore();
  }

  addInstance(id: string, overrides: Partial<FakeInstance> = {}): void {
    this.instances.set(id, {
      status: 'available', multiAZ: true, az: 'eu-west-1a', secondaryAz: 'eu-west-1b', engine: 'postgres',
      parameterGroups: [{ name: 'default.postgres16', status: 'in-sync' }], ...overrides,
    });
  }

  addCluster(id: string, writer: string, readers: string[], overrides: Partial<Omit<FakeCluster, 'writer' | 'readers'>> = {}): void {
    this.clusters.set(id, { status: 'available', writer, readers, engine: 'aurora-postgresql', pendingRebootMembers: [], ...overrides });
  }

  /** RebootDBInstance and FailoverDBCluster calls, with their parameters. */
  failovers(): Array<{ operation: string; input: Record<string, unknown> }> {
    return [
      ...this.client.commandCalls(RebootDBInstanceCommand).map((c) => ({ operation: 'RebootDBInstance', input: { ...c.args[0].input } })),
      ...this.client.commandCalls(FailoverDBClusterCommand).map((c) => ({ operation: 'FailoverDBCluster', input: { ...c.args[0].input } })),
    ];
  }

  /** One describe of a database in failover: counts down, then settles per `behaviour`. */
  private progress(id: string, settle: () => void): void {
    const left = this.remaining.get(id);
    if (left === undefined) return;
    if (left > 0 || this.behaviour === 'never-available') {
      this.remaining.set(id, left - 1);
      return;
    }
    this.remaining.delete(id);
    settle();
  }

  private install(): void {
    this.client.on(DescribeDBInstancesCommand).callsFake((input) => {
      const id = input.DBInstanceIdentifier as string;
      const db = this.instances.get(id);
      if (!db) throw fault('DBInstanceNotFoundFault', `DBInstance ${id} not found.`, 404);
      this.progress(id, () => {
        db.status = 'available';
        // RebootDBInstance: a reboot applies the parameter-group changes that wait for one
        // ("if you change the DB parameter group [...] you must reboot the instance for the changes to take effect").
        db.parameterGroups = db.parameterGroups.map((g) => (g.status === 'pending-reboot' ? { ...g, status: 'in-sync' } : g));
        if (this.behaviour !== 'fails-over') return;
        if (this.describesBeforeAzSettles > 0) this.staleAz.set(id, { left: this.describesBeforeAzSettles, az: db.az, secondaryAz: db.secondaryAz });
        [db.az, db.secondaryAz] = [db.secondaryAz, db.az];
      });
      // The AZ fields may lag the status (see describesBeforeAzSettles).
      const stale = this.staleAz.get(id);
      if (stale) {
        if (--stale.left <= 0) this.staleAz.delete(id);
      }
      return {
        DBInstances: [{
          DBInstanceIdentifier: id, DBInstanceStatus: db.status, Engine: db.engine, MultiAZ: db.multiAZ, AvailabilityZone: stale?.az ?? db.az,
          SecondaryAvailabilityZone: db.multiAZ ? (stale?.secondaryAz ?? db.secondaryAz) : undefined, DBClusterIdentifier: db.clusterId, PendingModifiedValues: {},
          DBParameterGroups: db.parameterGroups.map((g) => ({ DBParameterGroupName: g.name, ParameterApplyStatus: g.status })),
        }],
      };
    });
    this.client.on(RebootDBInstanceCommand).callsFake((input) => {
      const db = this.instances.get(input.DBInstanceIdentifier as string)!;
      db.status = 'rebooting';
      this.remaining.set(input.DBInstanceIdentifier as string, this.describesWhileFailingOver);
      return { DBInstance: { DBInstanceIdentifier: input.DBInstanceIdentifier, DBInstanceStatus: 'rebooting' } };
    });
    this.client.on(DescribeDBClustersCommand).callsFake((input) => {
      const id = input.DBClusterIdentifier as string;
      const cluster = this.clusters.get(id);
      if (!cluster) throw fault('DBClusterNotFoundFault', `DBCluster ${id} not found.`, 404);
      this.progress(id, () => {
        cluster.status = 'available';
        if (this.behaviour !== 'fails-over') return;
        const promoted = cluster.promote ?? cluster.readers[0];
        cluster.readers = [...cluster.readers.filter((r) => r !== promoted), cluster.writer];
        cluster.writer = promoted;
      });
      const multiAz = isMultiAzDbCluster(cluster);
      const member = (m: string, writer: boolean) => ({
        DBInstanceIdentifier: m, IsClusterWriter: writer, DBClusterParameterGroupStatus: cluster.pendingRebootMembers.includes(m) ? 'pending-reboot' : 'in-sync',
      });
      return {
        DBClusters: [{
          DBClusterIdentifier: id, Status: cluster.status, MultiAZ: true, Engine: cluster.engine,
          // DBCluster.EngineMode: "either provisioned or serverless" (Aurora); DBClusterInstanceClass: "only for non-Aurora Multi-AZ DB clusters".
          ...(multiAz ? { DBClusterInstanceClass: 'db.m6gd.large' } : { EngineMode: 'provisioned' }),
          DBClusterMembers: [member(cluster.writer, true), ...cluster.readers.map((r) => member(r, false))],
        }],
      };
    });
    this.client.on(FailoverDBClusterCommand).callsFake((input) => {
      const cluster = this.clusters.get(input.DBClusterIdentifier as string)!;
      // FailoverDBClusterMessage.TargetDBInstanceIdentifier: "This setting isn't supported for RDS for
      // MySQL Multi-AZ DB clusters." The docs name no error code for it: modelled as RDS's common
      // InvalidParameterCombination (400), a refusal.
      if (input.TargetDBInstanceIdentifier !== undefined && cluster.engine === 'mysql') {
        throw fault('InvalidParameterCombination', 'TargetDBInstanceIdentifier is not supported for RDS for MySQL Multi-AZ DB clusters (simulated).');
      }
      cluster.status = 'failing-over';
      cluster.promote = input.TargetDBInstanceIdentifier as string | undefined;
      this.remaining.set(input.DBClusterIdentifier as string, this.describesWhileFailingOver);
      return { DBCluster: { DBClusterIdentifier: input.DBClusterIdentifier, Status: 'failing-over' } };
    });
  }
}

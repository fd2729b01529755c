import {
  DescribeDBClustersCommand, DescribeDBInstancesCommand, FailoverDBClusterCommand, RDSClient, RebootDBInstanceCommand,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';

interface FakeInstance { status: string; multiAZ: boolean; az: string; secondaryAz: string; clusterId?: string }
interface FakeCluster { status: string; writer: string; readers: string[]; promote?: string }

/** How a simulated database responds to a failover request. */
export type FailoverBehaviour = 'fails-over' | 'reboots-in-place' | 'never-available';

/**
 * Simulated RDS for workflow tests: Multi-AZ instances and Aurora clusters that go through
 * `rebooting` / `failing-over` for a few describes after a failover request, then come back
 * `available` with the primary moved (or not, or never, per `behaviour`).
 */
export class FakeRds {
  readonly client = mockClient(RDSClient);
  readonly instances = new Map<string, FakeInstance>();
  readonly clusters = new Map<string, FakeCluster>();
  behaviour: FailoverBehaviour = 'fails-over';
  /** Describe calls that still see the failover in progress. */
  describesWhileFailingOver = 2;
  private remaining = new Map<string, number>();

  constructor() {
    this.install();
  }

  reset(): void {
    this.client.reset();
    this.instances.clear();
    this.clusters.clear();
    this.remaining.clear();
    this.behaviour = 'fails-over';
    this.describesWhileFailingOver = 2;
    this.install();
  }

  restore(): void {
    this.client.restore();
  }

  addInstance(id: string, overrides: Partial<FakeInstance> = {}): void {
    this.instances.set(id, { status: 'available', multiAZ: true, az: 'eu-west-1a', secondaryAz: 'eu-west-1b', ...overrides });
  }

  addCluster(id: string, writer: string, readers: string[]): void {
    this.clusters.set(id, { status: 'available', writer, readers });
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
    const notFound = (name: string, message: string) => Object.assign(new Error(message), { name });
    this.client.on(DescribeDBInstancesCommand).callsFake((input) => {
      const id = input.DBInstanceIdentifier as string;
      const db = this.instances.get(id);
      if (!db) throw notFound('DBInstanceNotFoundFault', `DBInstance ${id} not found.`);
      this.progress(id, () => {
        db.status = 'available';
        if (this.behaviour === 'fails-over') [db.az, db.secondaryAz] = [db.secondaryAz, db.az];
      });
      return {
        DBInstances: [{
          DBInstanceIdentifier: id, DBInstanceStatus: db.status, MultiAZ: db.multiAZ, AvailabilityZone: db.az,
          SecondaryAvailabilityZone: db.multiAZ ? db.secondaryAz : undefined, DBClusterIdentifier: db.clusterId, PendingModifiedValues: {},
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
      if (!cluster) throw notFound('DBClusterNotFoundFault', `DBCluster ${id} not found.`);
      this.progress(id, () => {
        cluster.status = 'available';
        if (this.behaviour !== 'fails-over') return;
        const promoted = cluster.promote ?? cluster.readers[0];
        cluster.readers = [...cluster.readers.filter((r) => r !== promoted), cluster.writer];
        cluster.writer = promoted;
      });
      return {
        DBClusters: [{
          DBClusterIdentifier: id, Status: cluster.status, MultiAZ: true,
          DBClusterMembers: [
            { DBInstanceIdentifier: cluster.writer, IsClusterWriter: true },
            ...cluster.readers.map((r) => ({ DBInstanceIdentifier: r, IsClusterWriter: false })),
          ],
        }],
      };
    });
    this.client.on(FailoverDBClusterCommand).callsFake((input) => {
      const cluster = this.clusters.get(input.DBClusterIdentifier as string)!;
      cluster.status = 'failing-over';
      cluster.promote = input.TargetDBInstanceIdentifier as string | undefined;
      this.remaining.set(input.DBClusterIdentifier as string, this.describesWhileFailingOver);
      return { DBCluster: { DBClusterIdentifier: input.DBClusterIdentifier, Status: 'failing-over' } };
    });
  }
}

import { FailoverDBClusterCommand, RDSClient, RebootDBInstanceCommand } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { bindOperations } from '../../lib/gameday/models/operations';
import { RdsModel, type Failover, type RdsCluster, type RdsInstance } from '../../lib/gameday/models/rds';
import { TEST_ENV, type StepClock } from './step-clock';

/** How a simulated database responds to a failover request. */
export type FailoverBehaviour = 'fails-over' | 'reboots-in-place' | 'never-available';

/**
 * RDS for workflow tests: the game day's model (lib/gameday/models/rds.ts) answering the SDK
 * through aws-sdk-client-mock, on the harness's {@link StepClock}. The knobs below set how every
 * database comes back, read when a reboot or failover is requested.
 */
export class FakeRds {
  readonly client = mockClient(RDSClient);
  behaviour: FailoverBehaviour = 'fails-over';
  /**
   * Seconds a reboot or failover takes. The drill of the test config checks 30 s after acting and
   * every 15 s: 50 s means two readings still rebooting, then available with the primary moved.
   */
  failoverSeconds = 50;
  /** Seconds the AZ fields still show the old AZs once the status is available again (the model's azSettlesSeconds). */
  azSettlesSeconds = 0;
  private model!: RdsModel;

  constructor(private readonly clock: StepClock) {
    this.reset();
  }

  get instances(): Map<string, RdsInstance> {
    return this.model.instances;
  }

  get clusters(): Map<string, RdsCluster> {
    return this.model.clusters;
  }

  reset(): void {
    this.client.reset();
    this.behaviour = 'fails-over';
    this.failoverSeconds = 50;
    this.azSettlesSeconds = 0;
    this.model = new RdsModel(this.clock, TEST_ENV);
    bindOperations(this.client, this.model.operations, (operation, _input, _mutating, answer) => {
      if (operation === 'RebootDBInstance' || operation === 'FailoverDBCluster') this.applyKnobs();
      return answer();
    });
  }

  restore(): void {
    this.client.restore();
  }

  /** A Multi-AZ instance in eu-west-1a (standby eu-west-1b), parameter group default.postgres16 in sync, unless overridden. */
  addInstance(id: string, overrides: Partial<Pick<RdsInstance, 'status' | 'multiAZ' | 'az' | 'secondaryAz' | 'engine' | 'parameterGroups'>> = {}): void {
    this.model.addInstance({ id, parameterGroups: [{ name: 'default.postgres16', status: 'in-sync' }], ...overrides });
  }

  /** An Aurora PostgreSQL cluster unless `engine` says; `pendingReboot` lists members whose cluster parameter group is pending-reboot. */
  addCluster(id: string, writer: string, readers: string[], overrides: { engine?: string; status?: string; pendingReboot?: string[] } = {}): void {
    this.model.addCluster({ id, writer, readers, ...overrides });
  }

  /** RebootDBInstance and FailoverDBCluster calls, with their parameters. */
  failovers(): Array<{ operation: string; input: Record<string, unknown> }> {
    return [
      ...this.client.commandCalls(RebootDBInstanceCommand).map((c) => ({ operation: 'RebootDBInstance', input: { ...c.args[0].input } })),
      ...this.client.commandCalls(FailoverDBClusterCommand).map((c) => ({ operation: 'FailoverDBCluster', input: { ...c.args[0].input } })),
    ];
  }

  private applyKnobs(): void {
    const failover: Failover = this.behaviour === 'never-available' ? { kind: 'never' }
      : this.behaviour === 'reboots-in-place' ? { kind: 'in-place', seconds: this.failoverSeconds } : { kind: 'after', seconds: this.failoverSeconds };
    for (const db of this.model.instances.values()) {
      db.failover = failover;
      db.azSettlesSeconds = this.azSettlesSeconds;
    }
    for (const cluster of this.model.clusters.values()) cluster.failover = failover.kind === 'in-place' ? { kind: 'after', seconds: failover.seconds } : failover;
  }
}

import { RDSClient } from '@aws-sdk/client-rds';
import { parseDuration } from '../duration';
import { bindOperations } from '../models/operations';
import { APPLY_STATUSES, CLUSTER_ENGINES, RdsModel, type Failover, type RdsCluster, type RdsInstance } from '../models/rds';
import type { World } from '../world';
import { ChangeReader } from './change-reader';

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
 * The behaviour is the shared model's (lib/gameday/models/rds.ts, which cites the AWS
 * documentation of each); this module reads the scenario into it and answers through the world.
 */
type InstanceSpec = {
  id: string; multiAZ?: boolean; status?: string; az?: string; secondaryAz?: string; engine?: string;
  parameterGroups?: Array<{ name: string; status?: string }>; failover?: string | number; azSettles?: string | number;
};
type ClusterSpec = { id: string; status?: string; engine?: string; writer: string; readers?: string[]; pendingReboot?: string[]; failover?: string | number };

const IN_PLACE_SECONDS = 90;

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

/** A status as RDS writes them: lower-case words joined by hyphens (`available`, `storage-full`), so `Rebooting` is a typo. */
const STATUS_TEXT = /^[a-z]+(-[a-z]+)*$/;

/** The database a change names: exactly one of `instance` or `cluster`. */
function changedDatabase(model: RdsModel, read: ChangeReader): RdsInstance | RdsCluster {
  if (read.has('instance') === read.has('cluster')) throw new Error(`${read.where}: give exactly one of instance or cluster`);
  const kind = read.has('instance') ? 'instance' : 'cluster';
  const id = read.target(kind, `DB ${kind}`);
  const all: Map<string, RdsInstance | RdsCluster> = kind === 'instance' ? model.instances : model.clusters;
  const db = all.get(id);
  if (!db) throw read.error(kind, `no ${kind} ${id} in world.rds (known: ${[...all.keys()].join(', ') || 'none'})`);
  return db;
}

/** Reads a timeline `change: { rds: {...} }`: `{ instance | cluster, status: <text> }` or `{ instance | cluster, delete: true }`. */
function readChange(model: RdsModel, change: Record<string, unknown>, where: string): () => void {
  const read = new ChangeReader(change, where, ['instance', 'cluster', 'status', 'delete']);
  const db = changedDatabase(model, read);
  read.requireChange(['status', 'delete']);
  if (read.flag('delete')) return () => model.deleteDatabase(db);
  const status = read.text('status')!;
  if (!STATUS_TEXT.test(status)) throw read.error('status', `${JSON.stringify(status)} is not a status as RDS writes them (available, rebooting, modifying, storage-full, ...)`);
  return () => model.setStatus(db, status);
}

/** Reads `world.rds` into a model on the world's clock and answers RDS calls from it. */
export function installRds(world: World): RdsModel {
  const spec = (world.spec.rds as { instances?: InstanceSpec[]; clusters?: ClusterSpec[] } | undefined) ?? {};
  const model = new RdsModel({ now: () => world.clock.now(), later: (seconds, change) => world.later(seconds, change) }, world.env);
  for (const [i, s] of (spec.instances ?? []).entries()) {
    const where = `world.rds.instances[${i}]`;
    const id = text(s?.id, `${where}.id`);
    const engine = s.engine === undefined ? 'postgres' : text(s.engine, `${where}.engine`);
    const parameterGroups = (s.parameterGroups ?? [{ name: `default.${engine}` }]).map((g, j) => {
      const status = g?.status ?? 'in-sync';
      if (!APPLY_STATUSES.includes(status)) throw new Error(`${where}.parameterGroups[${j}].status: one of ${APPLY_STATUSES.join(', ')}`);
      return { name: text(g?.name, `${where}.parameterGroups[${j}].name`), status };
    });
    model.addInstance({
      id,
      engine,
      parameterGroups,
      ...(s.multiAZ !== undefined ? { multiAZ: s.multiAZ } : {}),
      ...(s.status !== undefined ? { status: s.status } : {}),
      ...(s.az !== undefined ? { az: s.az } : {}),
      ...(s.secondaryAz !== undefined ? { secondaryAz: s.secondaryAz } : {}),
      failover: readFailover(s.failover, `${where}.failover`, true),
      azSettlesSeconds: parseDuration(s.azSettles ?? 0, `${where}.azSettles`),
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
    model.addCluster({
      id, engine, writer, readers, pendingReboot, status: s.status ?? 'available',
      failover: readFailover(s.failover, `${where}.failover`, false) as RdsCluster['failover'],
    });
  }
  bindOperations(world.stub(RDSClient), model.operations, (operation, input, mutating, answer) => world.answer('rds', operation, input, mutating, answer));
  world.changes.set('rds', (change, where) => readChange(model, change, where));
  return model;
}

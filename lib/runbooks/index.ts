import { asgElbHealthCheckKind } from './asg-elb-health-check';
import { certificateRenewalKind } from './certificate-renewal';
import { diskPruneFleetKind } from './disk-prune-fleet';
import { diskPruneKind } from './disk-prune';
import { ecsTaskRestartKind } from './ecs-task-restart';
import { rdsFailoverDrillKind } from './rds-failover-drill';

/**
 * The registry of runbook kinds: the config-driven stack builds, the config schema accepts and
 * the tests cover exactly these (test/unit/runbook-registry.test.ts checks each has a handler,
 * its tests and a scenario). A new kind is one module exporting its construct and its
 * `defineRunbookKind(...)` entry, added here.
 */
export const RUNBOOK_KINDS = [
  ecsTaskRestartKind,
  rdsFailoverDrillKind,
  asgElbHealthCheckKind,
  diskPruneKind,
  diskPruneFleetKind,
  certificateRenewalKind,
] as const;

export type BuiltInRunbookKind = typeof RUNBOOK_KINDS[number];

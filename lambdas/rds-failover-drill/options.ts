/**
 * The RDS failover drill's options: written into the runbook spec by the construct
 * (lib/runbooks/rds-failover-drill.ts) and read by the step handler, with their defaults set here once.
 */

/** Settings the construct puts in the runbook's options. */
export interface RdsFailoverDrillOptions {
  readonly guardAlarmNames: string[];
  /** Cluster -> reader to promote. */
  readonly targetReaders: Record<string, string>;
  /** When scheduled drills may start (UTC). */
  readonly window?: { readonly days: string[]; readonly startHourUtc: number; readonly endHourUtc: number };
  /** The database must be available with a new primary/writer within this long of the request. */
  readonly failoverTimeoutSeconds: number;
  /** Guard alarms must be OK within this long of the database being available again. */
  readonly guardRecoverySeconds: number;
}

/** The default of each option that has one (no guard alarms, target readers or window unless configured). */
export const RDS_FAILOVER_DRILL_DEFAULTS = {
  failoverTimeoutSeconds: 900,
  guardRecoverySeconds: 300,
} as const satisfies Partial<RdsFailoverDrillOptions>;

/** `options` with each unset option at its default. */
export function resolveRdsFailoverDrillOptions(options: Partial<RdsFailoverDrillOptions>): RdsFailoverDrillOptions {
  return {
    guardAlarmNames: options.guardAlarmNames ?? [],
    targetReaders: options.targetReaders ?? {},
    window: options.window,
    failoverTimeoutSeconds: options.failoverTimeoutSeconds ?? RDS_FAILOVER_DRILL_DEFAULTS.failoverTimeoutSeconds,
    guardRecoverySeconds: options.guardRecoverySeconds ?? RDS_FAILOVER_DRILL_DEFAULTS.guardRecoverySeconds,
  };
}

/**
 * The ASG ELB health-check runbook's options: written into the runbook spec by the construct
 * (lib/runbooks/asg-elb-health-check.ts) and read by the step handler, with their defaults set here once.
 */

/** Settings the construct puts in the runbook's options. */
export interface AsgElbHealthCheckOptions {
  /** `HealthCheckGracePeriod` set with `HealthCheckType=ELB`, in seconds. */
  readonly healthCheckGracePeriod: number;
  /** Groups configured by name (alarm path, and allowed without the tag). */
  readonly autoScalingGroups: string[];
  /** Groups carrying this tag are allowed too (sweep and manual starts). */
  readonly optInTag?: { readonly key: string; readonly value: string };
}

/** The default of each option that has one (no groups and no tag unless configured). */
export const ASG_ELB_HEALTH_CHECK_DEFAULTS = {
  healthCheckGracePeriod: 300,
} as const satisfies Partial<AsgElbHealthCheckOptions>;

/** `options` with each unset option at its default. */
export function resolveAsgElbHealthCheckOptions(options: Partial<AsgElbHealthCheckOptions>): AsgElbHealthCheckOptions {
  return {
    healthCheckGracePeriod: options.healthCheckGracePeriod ?? ASG_ELB_HEALTH_CHECK_DEFAULTS.healthCheckGracePeriod,
    autoScalingGroups: options.autoScalingGroups ?? [],
    optInTag: options.optInTag,
  };
}

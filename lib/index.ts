/**
 * medic's public API: the platform, the built-in runbooks, the generic runbook for your own, the
 * config-driven stack and its loader. Import from the package root:
 * `import { MedicPlatform, EcsTaskRestartRunbook } from '@medic-runbooks/medic';`
 */
export { MedicPlatform, type MedicPlatformProps } from './platform';
export { Runbook, type RunbookCommonProps, type RunbookProps } from './runbook';
export type { RunbookPolicyProps, VerificationProps } from './policy';
export { EcsTaskRestartRunbook, type EcsTaskRestartRunbookProps, type EcsServiceRef, type EcsServiceTarget } from './ecs-task-restart-runbook';
export {
  AsgElbHealthCheckRunbook, type AsgElbHealthCheckRunbookProps, type AutoScalingGroupTarget, type OptInTag, DEFAULT_OPT_IN_TAG,
} from './asg-elb-health-check-runbook';
export { RdsFailoverDrill, type RdsFailoverDrillProps, type DrillWindow, type DrillSchedule } from './rds-failover-drill';
export { CertificateRenewalRunbook, type CertificateRenewalRunbookProps } from './certificate-renewal-runbook';
export { DiskPruneRunbook, type DiskPruneRunbookProps } from './disk-prune-runbook';
export { DiskPruneFleetRunbook, type DiskPruneFleetRunbookProps } from './disk-prune-fleet-runbook';
export { DiskPruneDocument, type PruneSettings } from './disk-prune-document';
export { MedicFunction, type MedicFunctionProps } from './function';
export { MedicDashboard, type MedicDashboardProps } from './dashboard';
export { LedgerExport, type LedgerExportProps } from './ledger-export';
export { MedicStack, type MedicStackProps } from './medic-stack';
export { ConfigError, loadConfig, parseConfig, type MedicConfig } from './config';
export type { Mode } from '../lambdas/shared/types';

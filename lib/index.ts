/**
 * medic's public API: the platform, the built-in runbooks, the generic runbook for your own, the
 * config-driven stack and its loader. Import from the package root:
 * `import { MedicPlatform, EcsTaskRestartRunbook } from '@medic-runbooks/medic';`
 */
export { MedicPlatform, type MedicPlatformProps } from './platform/platform';
export { Runbook, type RunbookCommonProps, type RunbookProps } from './platform/runbook';
export type { RunbookApprovalProps, RunbookPolicyProps, VerificationProps } from './platform/policy';
export { EcsTaskRestartRunbook, type EcsTaskRestartRunbookProps, type EcsServiceRef, type EcsServiceTarget } from './runbooks/ecs-task-restart';
export {
  AsgElbHealthCheckRunbook, type AsgElbHealthCheckRunbookProps, type AutoScalingGroupTarget, type OptInTag, DEFAULT_OPT_IN_TAG,
} from './runbooks/asg-elb-health-check';
export { RdsFailoverDrillRunbook, type RdsFailoverDrillRunbookProps, type DrillWindow, type DrillSchedule } from './runbooks/rds-failover-drill';
export { CertificateRenewalRunbook, type CertificateRenewalRunbookProps } from './runbooks/certificate-renewal';
export { DiskPruneRunbook, type DiskPruneRunbookProps } from './runbooks/disk-prune';
export { DiskPruneFleetRunbook, type DiskPruneFleetRunbookProps } from './runbooks/disk-prune-fleet';
export { DiskPruneDocument, type PruneSettings } from './runbooks/disk-prune-document';
export { MedicFunction, type MedicFunctionProps } from './platform/function';
export { MedicDashboard, type MedicDashboardProps } from './platform/dashboard';
export { LedgerExport, type LedgerExportProps } from './platform/ledger-export';
export { MedicStack, type MedicStackProps } from './medic-stack';
export { ConfigError, loadConfig, parseConfig, type MedicConfig } from './config';
export type { Mode } from '../lambdas/shared/types';
export { configSchemaFor, type AnyRunbookKind, type ConfigOptions } from './config';
// Runbook kinds: the registry of the built-in ones, and what a kind of your own is made of.
export { RUNBOOK_KINDS } from './runbooks';
export { defineRunbookKind, commonRunbookProps, runbookConstructId, type RunbookKind, type RunbookConstruct } from './platform/runbook-kind';
export * as configSchema from './platform/config-schema';

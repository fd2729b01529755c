import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import type { MedicConfig, RunbookConfig } from './config';
import { AsgElbHealthCheckRunbook } from './asg-elb-health-check-runbook';
import { CertificateRenewalRunbook } from './certificate-renewal-runbook';
import { MedicDashboard } from './dashboard';
import { DiskPruneFleetRunbook } from './disk-prune-fleet-runbook';
import { DiskPruneRunbook } from './disk-prune-runbook';
import { EcsTaskRestartRunbook } from './ecs-task-restart-runbook';
import { LedgerExport } from './ledger-export';
import { MedicPlatform } from './platform';
import { RdsFailoverDrill } from './rds-failover-drill';
import type { Runbook, RunbookCommonProps } from './runbook';

export interface MedicStackProps extends StackProps {
  readonly config: MedicConfig;
}

/** The reference app's stack: the platform plus the runbooks a {@link MedicConfig} lists. */
export class MedicStack extends Stack {
  public readonly platform: MedicPlatform;
  public readonly ecsTaskRestartRunbooks: EcsTaskRestartRunbook[] = [];
  public readonly rdsFailoverDrills: RdsFailoverDrill[] = [];
  public readonly asgElbHealthCheckRunbooks: AsgElbHealthCheckRunbook[] = [];
  public readonly diskPruneRunbooks: DiskPruneRunbook[] = [];
  public readonly diskPruneFleetRunbooks: DiskPruneFleetRunbook[] = [];
  public readonly certificateRenewalRunbooks: CertificateRenewalRunbook[] = [];
  /** The CloudWatch dashboard of the platform and every runbook (`medic-<stack name>`). */
  public readonly dashboard: MedicDashboard;
  /** The daily ledger export to S3 and its Athena (Glue) table (docs/audit.md). */
  public readonly ledgerExport: LedgerExport;

  constructor(scope: Construct, id: string, props: MedicStackProps) {
    super(scope, id, { ...props, description: 'medic: guarded, audited runbooks for CloudWatch alarms' });
    const { config } = props;
    this.platform = new MedicPlatform(this, 'Platform', {
      escalationEmails: config.escalationEmails,
      ledgerRetentionDays: config.ledgerRetentionDays,
      anchorRetention: config.ledgerAnchorRetentionDays === undefined ? undefined : Duration.days(config.ledgerAnchorRetentionDays),
    });
    this.ledgerExport = new LedgerExport(this, 'LedgerExport', { platform: this.platform });

    for (const rb of config.runbooks.ecsTaskRestart ?? []) {
      this.ecsTaskRestartRunbooks.push(new EcsTaskRestartRunbook(this, `EcsTaskRestart-${rb.name}`, {
        ...this.commonProps(rb),
        services: rb.services,
        strategy: rb.strategy,
        maxStopPercent: rb.maxStopPercent,
      }));
    }

    for (const drill of config.runbooks.rdsFailoverDrill ?? []) {
      const name = drill.name ?? 'rds-failover-drill';
      this.rdsFailoverDrills.push(new RdsFailoverDrill(this, `RdsFailoverDrill-${name}`, {
        ...this.commonProps({ ...drill, name, alarmArns: [] }),
        dbInstances: drill.dbInstances,
        dbClusters: drill.dbClusters,
        targetReaders: drill.targetReaders,
        guardAlarms: (drill.guardAlarmArns ?? []).map((arn, i) => cloudwatch.Alarm.fromAlarmArn(this, `GuardAlarm-${name}-${i}`, arn)),
        schedules: drill.schedules,
        window: drill.window,
        failoverTimeout: drill.failoverTimeoutMinutes === undefined ? undefined : Duration.minutes(drill.failoverTimeoutMinutes),
        guardRecoveryTime: drill.guardRecoveryMinutes === undefined ? undefined : Duration.minutes(drill.guardRecoveryMinutes),
      }));
    }

    for (const rb of config.runbooks.asgElbHealthCheck ?? []) {
      this.asgElbHealthCheckRunbooks.push(new AsgElbHealthCheckRunbook(this, `AsgElbHealthCheck-${rb.name}`, {
        ...this.commonProps({ ...rb, alarmArns: rb.alarmArns ?? [] }),
        autoScalingGroups: rb.autoScalingGroups,
        targetGroups: rb.targetGroups,
        optInTag: rb.optInTag,
        sweep: rb.sweepMinutes === undefined ? undefined : Duration.minutes(rb.sweepMinutes),
        maxPerSweep: rb.maxPerSweep,
        healthCheckGracePeriod: rb.healthCheckGracePeriodSeconds === undefined ? undefined : Duration.seconds(rb.healthCheckGracePeriodSeconds),
        allowShortGracePeriod: rb.allowShortGracePeriod,
      }));
    }

    for (const rb of config.runbooks.diskPrune ?? []) {
      this.diskPruneRunbooks.push(new DiskPruneRunbook(this, `DiskPrune-${rb.name}`, {
        ...this.commonProps(rb),
        instances: rb.instances,
        instanceTag: rb.instanceTag,
        prune: rb.prune,
        deliveryTimeout: rb.deliveryTimeoutMinutes === undefined ? undefined : Duration.minutes(rb.deliveryTimeoutMinutes),
      }));
    }

    for (const rb of config.runbooks.diskPruneFleet ?? []) {
      this.diskPruneFleetRunbooks.push(new DiskPruneFleetRunbook(this, `DiskPruneFleet-${rb.name}`, {
        ...this.commonProps(rb),
        autoScalingGroups: rb.autoScalingGroups,
        fleetTag: rb.fleetTag,
        prune: rb.prune,
        maxConcurrency: rb.maxConcurrency,
        maxErrors: rb.maxErrors,
        deliveryTimeout: rb.deliveryTimeoutMinutes === undefined ? undefined : Duration.minutes(rb.deliveryTimeoutMinutes),
      }));
    }

    for (const rb of config.runbooks.certificateRenewal ?? []) {
      this.certificateRenewalRunbooks.push(new CertificateRenewalRunbook(this, `CertificateRenewal-${rb.name}`, {
        ...this.commonProps({ ...rb, alarmArns: rb.alarmArns ?? [] }),
        certificates: rb.certificates,
        certificateTag: rb.certificateTag,
        hostedZones: rb.hostedZones,
        acmEvents: rb.acmEvents,
        renewWithin: rb.renewWithinDays === undefined ? undefined : Duration.days(rb.renewWithinDays),
        renewalHorizon: rb.renewalHorizonHours === undefined ? undefined : Duration.hours(rb.renewalHorizonHours),
        resendValidationEmail: rb.resendValidationEmail,
      }));
    }

    this.dashboard = new MedicDashboard(this, 'Dashboard', { platform: this.platform, runbooks: this.runbooks() });

    new CfnOutput(this, 'LedgerTableName', { value: this.platform.ledger.tableName, description: 'Audit ledger (DynamoDB)' });
    new CfnOutput(this, 'LedgerMacKeyArn', { value: this.platform.ledgerMacKey.keyArn, description: 'HMAC key authenticating ledger entries (medic ledger verify --mac-key)' });
    new CfnOutput(this, 'LedgerAnchorsBucketName', { value: this.platform.ledgerAnchors.bucket.bucketName, description: 'Ledger anchors (S3 Object Lock, compliance): medic ledger verify checks every chain against them' });
    new CfnOutput(this, 'LedgerReconcileFunctionName', {
      value: this.platform.ledgerReconciler.reconcileFunction.functionName, description: 'Closes incomplete ledger trails (medic ledger reconcile --stack)',
    });
    new CfnOutput(this, 'LimiterTableName', { value: this.platform.limiter.tableName, description: 'Claims, rate logs and leases (DynamoDB)' });
    new CfnOutput(this, 'EscalationTopicArn', { value: this.platform.escalationTopic.topicArn, description: 'Subscribe on-call here' });
    new CfnOutput(this, 'GlobalKillSwitchParameter', { value: this.platform.globalKillSwitch.parameterName, description: 'Set to "on" to stop every runbook' });
    new CfnOutput(this, 'LedgerVerifyFunctionName', { value: this.platform.ledgerVerifyFunction.functionName, description: 'Verifies the ledger hash chain' });
    new CfnOutput(this, 'LedgerExportBucketName', { value: this.ledgerExport.bucket.bucketName, description: 'Daily ledger exports (exports/day=YYYY-MM-DD/ledger.jsonl)' });
    new CfnOutput(this, 'LedgerExportFunctionName', { value: this.ledgerExport.exportFunction.functionName, description: 'Exports a UTC day of the ledger (payload {"day":"YYYY-MM-DD"}, default yesterday)' });
    new CfnOutput(this, 'LedgerAthenaTable', { value: this.ledgerExport.tableRef, description: 'Athena table over the ledger exports (docs/audit.md)' });
    for (const runbook of this.runbooks()) {
      new CfnOutput(this, `StateMachine-${runbook.name}`, { value: runbook.stateMachine.stateMachineArn, description: `Workflow of runbook ${runbook.name}` });
    }
  }

  /** Every runbook of the stack, whatever its kind. */
  public runbooks(): Runbook[] {
    return [
      ...this.ecsTaskRestartRunbooks.map((r) => r.runbook),
      ...this.rdsFailoverDrills.map((r) => r.runbook),
      ...this.asgElbHealthCheckRunbooks.map((r) => r.runbook),
      ...this.diskPruneRunbooks.map((r) => r.runbook),
      ...this.diskPruneFleetRunbooks.map((r) => r.runbook),
      ...this.certificateRenewalRunbooks.map((r) => r.runbook),
    ];
  }

  private commonProps(rb: RunbookConfig): RunbookCommonProps {
    const minutes = (m: number | undefined) => (m === undefined ? undefined : Duration.minutes(m));
    const seconds = (s: number | undefined) => (s === undefined ? undefined : Duration.seconds(s));
    return {
      platform: this.platform,
      name: rb.name,
      mode: rb.mode,
      alarms: rb.alarmArns.map((arn, i) => cloudwatch.Alarm.fromAlarmArn(this, `Alarm-${rb.name}-${i}`, arn)),
      policy: rb.policy && {
        maxAttempts: rb.policy.maxAttempts, window: minutes(rb.policy.windowMinutes), maxConcurrent: rb.policy.maxConcurrent,
        maxEventAge: minutes(rb.policy.maxEventAgeMinutes), denialDigestWindow: minutes(rb.policy.denialDigestMinutes),
      },
      verification: rb.verification && {
        initialDelay: seconds(rb.verification.initialDelaySeconds),
        interval: seconds(rb.verification.intervalSeconds),
        maxChecks: rb.verification.maxChecks,
        requiredConsecutiveSuccesses: rb.verification.requiredConsecutiveSuccesses,
      },
      changeCalendar: rb.changeCalendar,
      timeout: minutes(rb.timeoutMinutes),
    };
  }
}

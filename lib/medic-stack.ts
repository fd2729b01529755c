import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { AnyRunbookKind, MedicConfig } from './config';
import type { CommonRunbookEntry } from './platform/config-schema';
import { MedicDashboard } from './platform/dashboard';
import { LedgerExport } from './platform/ledger-export';
import { MedicPlatform } from './platform/platform';
import type { Runbook } from './platform/runbook';
import { runbookConstructId, type RunbookConstruct, type RunbookKind } from './platform/runbook-kind';
import { RUNBOOK_KINDS } from './runbooks';

export interface MedicStackProps extends StackProps {
  readonly config: MedicConfig;
  /**
   * The runbook kinds the config may list: the built-in ones, plus your own
   * (`[...RUNBOOK_KINDS, myKind]`; parse the file with the same kinds, `loadConfig(file, { kinds })`).
   * @default RUNBOOK_KINDS
   */
  readonly kinds?: readonly AnyRunbookKind[];
}

/** The reference app's stack: the platform plus the runbooks a {@link MedicConfig} lists. */
export class MedicStack extends Stack {
  public readonly platform: MedicPlatform;
  /** The runbook constructs the config lists, by config key. */
  private readonly runbookConstructs = new Map<string, RunbookConstruct[]>();
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

    // Every registered kind (lib/runbooks/index.ts): each entry of its list is one runbook.
    for (const kind of props.kinds ?? RUNBOOK_KINDS) {
      const entries = ((config.runbooks as Record<string, unknown>)[kind.configKey] ?? []) as Array<CommonRunbookEntry>;
      const built = entries.map((entry) => (kind.build as RunbookKind['build'])(this, runbookConstructId(kind, entry.name ?? kind.defaultName ?? ''), entry, this.platform));
      this.runbookConstructs.set(kind.configKey, built);
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
    new CfnOutput(this, 'ApprovalUrl', {
      value: this.platform.approvalUrl, description: 'Approval endpoint of mode approve (IAM auth; medic approve/reject; approvers need lambda:InvokeFunctionUrl on it)',
    });
    new CfnOutput(this, 'GlobalKillSwitchParameter', { value: this.platform.globalKillSwitch.parameterName, description: 'Set to "on" to stop every runbook' });
    new CfnOutput(this, 'LedgerVerifyFunctionName', { value: this.platform.ledgerVerifyFunction.functionName, description: 'Verifies the ledger hash chain' });
    new CfnOutput(this, 'LedgerExportBucketName', { value: this.ledgerExport.bucket.bucketName, description: 'Daily ledger exports (exports/day=YYYY-MM-DD/ledger.jsonl)' });
    new CfnOutput(this, 'LedgerExportFunctionName', { value: this.ledgerExport.exportFunction.functionName, description: 'Exports a UTC day of the ledger (payload {"day":"YYYY-MM-DD"}, default yesterday)' });
    new CfnOutput(this, 'LedgerAthenaTable', { value: this.ledgerExport.tableRef, description: 'Athena table over the ledger exports (docs/audit.md)' });
    for (const runbook of this.runbooks()) {
      new CfnOutput(this, `StateMachine-${runbook.name}`, { value: runbook.stateMachine.stateMachineArn, description: `Workflow of runbook ${runbook.name}` });
    }
  }

  /** Every runbook of the stack, whatever its kind, in the registry's order. */
  public runbooks(): Runbook[] {
    return [...this.runbookConstructs.values()].flat().map((r) => r.runbook);
  }

  /** The runbook constructs of one kind, e.g. `stack.runbooksOf(ecsTaskRestartKind)`. */
  public runbooksOf<Built extends RunbookConstruct>(kind: Pick<RunbookKind, 'configKey'> & { build(...args: never[]): Built }): Built[] {
    return (this.runbookConstructs.get(kind.configKey) ?? []) as Built[];
  }
}

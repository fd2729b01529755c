/** Contracts shared by every handler and by the CDK constructs that configure them. */

export type Mode = 'observe' | 'approve' | 'auto';
export const MODES: readonly Mode[] = ['observe', 'approve', 'auto'];

/** How a runbook finds its single target in an alarm event (declarative, set at synth time). */
export interface TargetSpec {
  /** Target type recorded on the incident, e.g. `ecs-service`. */
  readonly type: string;
  /** Alarm metric dimensions that identify the target, each with the pattern its value must match. */
  readonly dimensions: Record<string, string>;
  /** Target id, with `{Dimension}` placeholders. */
  readonly idTemplate: string;
  /** Target ARN, with `{region}`, `{account}`, `{partition}` and `{Dimension}` placeholders. */
  readonly arnTemplate: string;
  /** Dimension sets this runbook may act on; a target outside this list is rejected. */
  readonly allowed: Array<Record<string, string>>;
  /**
   * Alarms that name the target indirectly, e.g. a target group's alarm for the Auto Scaling
   * group behind it: when an alarm carries all of `dimensions` with exactly these values, the
   * target is `target` (which must still be in `allowed`).
   */
  readonly aliases?: Array<{ readonly dimensions: Record<string, string>; readonly target: Record<string, string> }>;
  /**
   * Also accept any target whose resource carries this tag. Validation cannot see tags, so the
   * runbook's plan must check it, and its IAM must be conditioned on it.
   */
  readonly allowedByTag?: { readonly key: string; readonly value: string };
  /**
   * The runbook verifies by reading the alarm's one metric (disk pruning): metric-math, anomaly
   * detection, Metrics Insights and composite alarms are rejected at Validate.
   */
  readonly singleMetricAlarms?: boolean;
}

export interface AdmissionPolicy {
  /** At most this many admissions per (runbook, target) in any sliding window. */
  readonly maxAttempts: number;
  readonly windowSeconds: number;
  /** At most this many incidents of this runbook in flight at once. */
  readonly maxConcurrent: number;
  /** A lease not released by then is reclaimed (longer than the workflow's timeout). */
  readonly leaseSeconds: number;
  /**
   * An alarm or service event older than this when validated is stale evidence and refused.
   * Optional for specs synthesized before it existed. @default 900
   */
  readonly maxEventAgeSeconds?: number;
  /**
   * Denials of this runbook within this long of the first one are collected into one digest
   * page instead of a page each. @default 600
   */
  readonly denialDigestSeconds?: number;
}

export interface VerificationPolicy {
  readonly initialDelaySeconds: number;
  readonly intervalSeconds: number;
  readonly maxChecks: number;
  readonly requiredConsecutiveSuccesses: number;
}

/** One input field of a manually started runbook that names its target (e.g. `dbInstanceIdentifier`). */
export interface ManualTargetField {
  /** Target type recorded on the incident, e.g. `rds-instance`. */
  readonly type: string;
  /** Pattern the identifier must match. */
  readonly pattern: string;
  /** Target ARN with `{id}`, `{region}`, `{account}` and `{partition}` placeholders. */
  readonly arnTemplate: string;
  /** Identifiers this runbook may act on. */
  readonly allowed: string[];
  /**
   * Also accept any identifier whose resource carries this tag. Validation cannot see tags, so
   * the runbook's plan must check it, and its IAM must be conditioned on it.
   */
  readonly allowedByTag?: { readonly key: string; readonly value: string };
}

/** An AWS service event that names its target in `resources`, e.g. ACM's `ACM Certificate Approaching Expiration`. */
export interface EventTargetSpec {
  readonly source: string;
  /** The detail types of `source` that start the runbook (one rule matches them all). */
  readonly detailTypes: string[];
  /** Target type recorded on the incident, e.g. `acm-certificate`. */
  readonly type: string;
  /** Pattern the resource ARN must match. */
  readonly arnPattern: string;
  /** ARNs this runbook may act on. */
  readonly allowed: string[];
  /** Also accept resources carrying this tag (the runbook's plan checks it; IAM is conditioned on it). */
  readonly allowedByTag?: { readonly key: string; readonly value: string };
}

/** Everything a runbook's workflow tells the shared handlers; injected by the state machine, never taken from the event. */
export interface RunbookSpec {
  readonly name: string;
  readonly kind: string;
  readonly mode: Mode;
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  /** `alarm`: started by an EventBridge alarm event; `manual`: started by hand or by a schedule with a typed input. */
  readonly trigger: 'alarm' | 'manual';
  readonly alarmArns: string[];
  /** How an alarm names the target (alarm runbooks). */
  readonly target?: TargetSpec;
  /** An AWS service event that starts this runbook and names its target. */
  readonly eventTarget?: EventTargetSpec;
  /** Input fields that name the target (manual runbooks); exactly one must be given. */
  readonly manualTargets?: Record<string, ManualTargetField>;
  readonly policy: AdmissionPolicy;
  readonly verification: VerificationPolicy;
  readonly killSwitch: { readonly global: string; readonly runbook: string };
  readonly changeCalendar?: string;
  /** Runbook-specific settings (strategy, caps). */
  readonly options: Record<string, unknown>;
  /**
   * The state machine's timeout: an execution has ended by its start plus this. Validate records
   * the deadline in `received`; the ledger's completeness check reads it. Optional for specs
   * synthesized before it existed.
   */
  readonly timeoutSeconds?: number;
  /**
   * The approval gate of mode `approve` (injected by the CDK into the definition): after Plan the
   * workflow waits for `minApprovals` distinct `approvers` to approve the plan's hash, for at most
   * `timeoutSeconds`. Without it, mode `approve` is denied at Admit.
   */
  readonly approval?: ApprovalSpec;
}

/** Who must approve a runbook's plan before it acts, and how long medic waits for them. */
export interface ApprovalSpec {
  /**
   * IAM role or user ARNs (a session of an approver role approves as that role) and email
   * addresses (lowercase; each answers through its own single-use link).
   */
  readonly approvers: string[];
  /** Approvals by distinct principals needed (2 for a two-person rule). */
  readonly minApprovals: number;
  /** How long the request waits; then `onTimeout` decides. */
  readonly timeoutSeconds: number;
  /**
   * No answer by the deadline: `escalate` does nothing (`approval-expired`) and escalates; `act`
   * (a veto window, only for runbooks declared low-risk) records `approval-expired` and goes on to
   * the recheck and Act as if approved. A rejection escalates either way. Absent (specs
   * synthesized before it existed) is `escalate`.
   */
  readonly onTimeout?: ApprovalOnTimeout;
  /** Topics the request goes to besides the escalation topic, as Amazon Q Developer custom notifications. */
  readonly topicArns?: string[];
}

/** What the approval gate does when nobody answers in time. */
export type ApprovalOnTimeout = 'escalate' | 'act';
export const APPROVAL_ON_TIMEOUT: readonly ApprovalOnTimeout[] = ['escalate', 'act'];

export interface Trigger {
  readonly kind: 'alarm' | 'event' | 'schedule' | 'manual';
  readonly source: string;
  readonly name: string;
  readonly at: string;
  readonly reason?: string;
  /** Who started a manual run: `schedule`, or the principal where known. */
  readonly startedBy?: string;
}

export interface Target {
  readonly type: string;
  readonly id: string;
  readonly arn: string;
  readonly region: string;
  readonly account: string;
  readonly dimensions: Record<string, string>;
}

/**
 * `rejected`: an event that cannot be acted on (escalated); `refused`: a hand-typed input that is
 * not valid (the execution fails with a usage message, nobody is paged); `suppressed`: CloudWatch
 * suppressed or muted the alarm's actions (recorded, nothing else).
 */
export type IncidentStatus = 'received' | 'rejected' | 'refused' | 'duplicate' | 'suppressed';

export interface Incident {
  readonly incidentId: string;
  readonly status: IncidentStatus;
  readonly runbook: string;
  readonly mode: Mode;
  readonly trigger?: Trigger;
  readonly target?: Target;
  /** A manual run asked to only rehearse: the incident runs in `observe` mode. */
  readonly dryRun?: boolean;
  /** Why the event was rejected, or which execution owns the incident for a duplicate. */
  readonly reason?: string;
}

export interface Admission {
  readonly admitted: boolean;
  readonly reason?: string;
  /** Lease keys held by this incident, released by Finish/Escalate. */
  readonly leases: string[];
  /** Fencing epoch of each lease held: checked before every mutating call. */
  readonly epochs?: Record<string, number>;
  /** The denial's category (a metric dimension), when not admitted. */
  readonly category?: string;
}

/** One mutating call the plan intends: what the page lists as "not made" if the action stops early. */
export interface PlannedCall {
  readonly batch: number;
  readonly service: string;
  readonly operation: string;
  /** What the call changes, in a few words: a task id, a group name, a zone. */
  readonly target: string;
}

/**
 * How one mutating call ended. `refused`: the service rejected it (4xx, throttling), so it did
 * not take effect. `unknown`: no answer or a 5xx: it may have taken effect. `not-made`: a guard
 * stopped it before it was sent.
 */
export type CallOutcome = 'succeeded' | 'refused' | 'unknown' | 'not-made';

/** A mutating call as made, recorded by the framework around every runbook call. */
export interface CallRecord {
  readonly service: string;
  readonly operation: string;
  readonly target: string;
  readonly parameters: Record<string, unknown>;
  readonly outcome: CallOutcome;
  /** When the call was sent. */
  readonly at: string;
  /** The AWS request id of the answer, when there was one. */
  readonly requestId?: string;
  readonly result?: unknown;
  readonly error?: string;
}

/** A runbook's report of what it measured, recorded with the outcome and sent to the escalation topic. */
export interface Report {
  readonly title: string;
  /** e.g. `PASSED`, `FAILED`, `DRY RUN`. */
  readonly verdict: string;
  readonly figures: Record<string, unknown>;
  /** Human-readable lines, one fact each. */
  readonly lines: string[];
}

export type PlanDecision = 'act' | 'defer' | 'noop' | 'escalate';

/** What a human needs if the incident escalates: facts about the target and the one thing to do. */
export interface Briefing {
  /** One fact a line, e.g. `days left: 12 (expires 2026-12-07T00:00:00.000Z)`. */
  readonly facts: string[];
  /** The one action a human must take. */
  readonly action: string;
}

export interface Plan {
  readonly decision: PlanDecision;
  /** Every mutating call an `act` decision will make, batch by batch. */
  readonly plannedCalls?: PlannedCall[];
  /**
   * Resources the action changes besides the incident's target (the instances of a fleet): each
   * is admitted like the target (lease, attempt budget) before acting.
   */
  readonly resources?: string[];
  /** Leases taken on `resources` (with their fencing epochs), released with the incident's others. */
  readonly leases?: string[];
  readonly epochs?: Record<string, number>;
  readonly reason: string;
  /** What the action would do, in words a human reads in the ledger and the escalation. */
  readonly summary: string;
  readonly details: Record<string, unknown>;
  /** What a dry run would report. */
  readonly report?: Report;
  /** Told to the human if this incident escalates. */
  readonly briefing?: Briefing;
}

export interface ActResult {
  readonly summary: string;
  /** The mutating calls made, with their parameters, outcome and request id (recorded by the framework). */
  readonly calls: CallRecord[];
  /** Batched actions: index of the batch just done, and whether more remain. */
  readonly batch: number;
  readonly moreBatches: boolean;
  readonly details: Record<string, unknown>;
}

export type CheckVerdict = 'success' | 'pending' | 'failure' | 'inconclusive';

export interface VerifyState {
  readonly status: 'succeeded' | 'pending' | 'failed';
  /** The act batch this verification belongs to; counters restart with each batch. */
  readonly batch: number;
  readonly checks: number;
  readonly consecutiveSuccesses: number;
  readonly lastVerdict: CheckVerdict;
  readonly lastReadings: Record<string, unknown>;
  readonly reason: string;
  readonly report?: Report;
  /** The last reading's briefing, which supersedes the plan's in an escalation. */
  readonly briefing?: Briefing;
}

export interface RollbackResult {
  readonly status: 'rolled-back' | 'not-reversible' | 'not-needed';
  readonly summary: string;
  readonly calls: CallRecord[];
  /** What a human should know about how it was done, e.g. that it ran during a change freeze. */
  readonly notes?: string[];
}

export interface StepError {
  readonly Error: string;
  readonly Cause?: string;
}

export interface ExecutionInfo {
  readonly id: string;
  readonly name: string;
  readonly startedAt: string;
}

/** The state a runbook workflow carries from step to step (JSONPath `$`). */
export interface WorkflowState {
  readonly event: unknown;
  readonly runbook: RunbookSpec;
  readonly execution: ExecutionInfo;
  readonly incident?: Incident;
  readonly admission?: Admission;
  readonly plan?: Plan;
  readonly act?: ActResult;
  readonly verify?: VerifyState;
  readonly rollback?: RollbackResult;
  /**
   * The approval request task's output (`$.approval`, from SendTaskSuccess) in mode `approve`:
   * Act runs only with one whose `planHash` is the hash of the plan in this state.
   */
  readonly approval?: ApprovalGranted;
  /** The recheck before Act in mode `approve` (`$.recheck`). */
  readonly recheck?: RecheckResult;
  readonly error?: StepError;
}

/** One principal's approval of a plan. */
export interface ApprovalVote {
  /** The caller's ARN as IAM authenticated it (an assumed-role session ARN, or a user ARN). */
  readonly principal: string;
  readonly at: string;
  readonly comment?: string;
}

/**
 * What the approval task returns once enough approvers approved (the SendTaskSuccess output), or
 * what the expiry returns when a veto window (`onTimeout: 'act'`) passed without a rejection.
 */
export interface ApprovalGranted {
  readonly approved: true;
  /** The hash of the plan they approved (lambdas/shared/plan-hash.ts). */
  readonly planHash: string;
  readonly approvals: ApprovalVote[];
  /**
   * `veto-window`: nobody rejected the plan before the deadline of a runbook whose approval is
   * `onTimeout: 'act'` (the approvals may be fewer than needed). Absent: the approvers approved.
   */
  readonly by?: 'veto-window';
  /** The deadline that passed, on a veto-window grant. */
  readonly deadline?: string;
}

/** The plan made again right before Act, compared with the approved one. */
export type RecheckResult =
  | { readonly status: 'unchanged'; readonly planHash: string }
  | { readonly status: 'drifted'; readonly planHash: string; readonly reason: string };

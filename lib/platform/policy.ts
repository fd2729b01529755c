import { Duration, Token } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { APPROVER_ARN, APPROVER_EMAIL, isEmailApprover } from './approver-id';
import { APPROVAL_ON_TIMEOUT, MODES, type AdmissionPolicy, type ApprovalOnTimeout, type Mode, type RunbookSpec, type VerificationPolicy } from '../../lambdas/shared/types';

/** Admission limits of a runbook. Every guard stays on: a value that would disable one is a synth error. */
export interface RunbookPolicyProps {
  /**
   * At most this many admissions per (runbook, target) in any sliding `window`; the next alarm
   * is denied and escalated. This is the circuit breaker against remediation loops.
   * @default 3
   */
  readonly maxAttempts?: number;
  /** @default Duration.hours(1) */
  readonly window?: Duration;
  /**
   * At most this many incidents of the runbook in flight at once (blast radius across targets).
   * @default 2
   */
  readonly maxConcurrent?: number;
  /**
   * An alarm or service event older than this when medic reads it is stale evidence: it is
   * refused (and paged) instead of acted on. Events dated more than 2 minutes in the future are
   * refused too.
   * @default Duration.minutes(15)
   */
  readonly maxEventAge?: Duration;
  /**
   * A storm of denials pages once: the first denial pages at once, and the denials of this
   * runbook in the following window are sent together in one digest page at its end.
   * @default Duration.minutes(10)
   */
  readonly denialDigestWindow?: Duration;
  /**
   * Declares that this runbook's actions are bounded and undoable; required for approval
   * `onTimeout: 'act'` (a veto window). It changes nothing else.
   * @default false
   */
  readonly lowRisk?: boolean;
}

/** How a runbook proves its action worked. Success needs positive evidence in consecutive checks. */
export interface VerificationProps {
  /** @default Duration.seconds(60) */
  readonly initialDelay?: Duration;
  /** @default Duration.seconds(30) */
  readonly interval?: Duration;
  /** @default 20 */
  readonly maxChecks?: number;
  /** @default 2 */
  readonly requiredConsecutiveSuccesses?: number;
}

/**
 * Who must approve a runbook's plan before it acts (mode `approve`), and how long medic waits.
 * After Plan, the workflow pauses on a Step Functions task token and publishes the approval
 * request (the exact planned calls and their hash) to the escalation topic; approvers answer
 * through the platform's approval endpoint (`MedicPlatform.approvalUrl`, IAM auth: grant them with
 * `MedicPlatform.grantApprove`). An approved plan is checked again before Act; no answer in time
 * means no action, recorded and escalated.
 */
export interface RunbookApprovalProps {
  /**
   * Who may approve or reject this runbook's plans:
   * - IAM principals: role or user ARNs (`arn:aws:iam::<account>:role/<name>`,
   *   `arn:aws:iam::<account>:user/<name>`), or the roles and users themselves. An IAM Identity
   *   Center group approves through its permission set's role. Each answers with `medic approve`
   *   / `medic reject` and needs `lambda:InvokeFunctionUrl` on the approval endpoint (`grantApprove`).
   * - Email addresses: each gets its own single-use link to the approval page with every request
   *   (the stack subscribes the address to the approval links topic; the owner confirms the
   *   subscription once). Whoever holds the link answers as that address, so list addresses of
   *   mailboxes only their owner reads.
   * Each approver counts once toward `minApprovals`: list each person once.
   *
   * There is no default: list at least one approver.
   */
  readonly approvers: Array<string | iam.IRole | iam.IUser>;
  /**
   * Approvals by distinct approvers needed before the runbook acts (2 for a two-person rule).
   * At most the number of approvers, and at most 5.
   * @default 1
   */
  readonly minApprovals?: number;
  /**
   * How long the workflow waits for the approvals; then it does not act, records
   * `approval-expired` and escalates. From 1 minute to 24 hours, and at least 5 minutes shorter
   * than the runbook's workflow `timeout`.
   * @default Duration.minutes(30)
   */
  readonly timeout?: Duration;
  /**
   * What happens when nobody answers before `timeout`. `escalate`: medic does not act, records
   * `approval-expired` and escalates. `act`: a veto window: medic records `approval-expired`,
   * checks the plan again (guards and drift, as after an approval) and acts; a rejection within
   * the window still escalates. `act` needs `policy.lowRisk: true`, and the RDS failover drill
   * refuses it.
   * @default 'escalate'
   */
  readonly onTimeout?: ApprovalOnTimeout;
  /**
   * More topics the approval request goes to besides the escalation topic, e.g. the topic of an
   * Amazon Q Developer chat channel. Each gets the request as an Amazon Q Developer custom
   * notification (JSON: title, description with the plan and its hash, next steps), and email
   * subscribers a plain-text copy. A KMS-encrypted topic's key must let the approval function
   * encrypt (the grant is added for topics of this app).
   * @default - the escalation topic only
   */
  readonly topics?: sns.ITopic[];
}

/** The ARN of an approver given as an ARN, a role or a user. */
function approverArn(approver: string | iam.IRole | iam.IUser): string {
  // Addresses compare case-insensitively: one mailbox is one approver.
  if (typeof approver === 'string') return isEmailApprover(approver) ? approver.toLowerCase() : approver;
  return 'roleArn' in approver ? approver.roleArn : approver.userArn;
}

/**
 * The approval settings of a runbook's spec, or undefined for a runbook without approval. Mode
 * `approve` needs them and no other mode takes them: a runbook either waits for a human or does
 * not, and the configuration says which.
 */
export function resolveApproval(
  runbook: string, mode: Mode, props: RunbookApprovalProps | undefined, workflowTimeout: Duration, lowRisk?: boolean,
): RunbookSpec['approval'] {
  if (!props) {
    if (mode === 'approve') {
      throw new Error(`runbook ${runbook}: mode "approve" needs "approval" (at least one approver; optionally minApprovals and timeout)`);
    }
    return undefined;
  }
  if (mode !== 'approve') {
    throw new Error(`runbook ${runbook}: "approval" is set but mode is "${mode}"; approval applies only to mode "approve" (set mode "approve", or remove "approval")`);
  }
  const approvers = [...new Set((props.approvers ?? []).map(approverArn))];
  if (approvers.length === 0) throw new Error(`runbook ${runbook}: approval.approvers must list at least one IAM role or user, or an email address`);
  for (const approver of approvers) {
    const valid = isEmailApprover(approver) ? approver.length <= 254 && APPROVER_EMAIL.test(approver) : matchesUnlessToken(approver, APPROVER_ARN);
    if (!valid) {
      throw new Error(`runbook ${runbook}: approval.approvers: "${approver}" is neither an IAM role or user ARN (arn:aws:iam::<account>:role/<name> or :user/<name>) nor an email address`);
    }
  }
  const minApprovals = wholeNumberIn(`runbook ${runbook}: approval.minApprovals`, props.minApprovals ?? 1, 1, Math.min(5, approvers.length),
    `at least one approval, at most the ${approvers.length} distinct approver(s) listed and at most 5`);
  const timeoutSeconds = wholeNumberIn(`runbook ${runbook}: approval.timeout (seconds)`, (props.timeout ?? Duration.minutes(30)).toSeconds(), 60, 86400,
    'from 1 minute to 24 hours');
  if (timeoutSeconds + 300 > workflowTimeout.toSeconds()) {
    throw new Error(`runbook ${runbook}: approval.timeout (${timeoutSeconds}s) must be at least 5 minutes shorter than the workflow timeout (${workflowTimeout.toSeconds()}s); shorten it or raise the timeout`);
  }
  const topicArns = (props.topics ?? []).map((topic) => topic.topicArn);
  const onTimeout = resolveOnTimeout(runbook, props.onTimeout, lowRisk);
  // `escalate` is left out of the spec (absent means escalate): the definitions of existing runbooks stay as they were.
  return { approvers, minApprovals, timeoutSeconds, ...(topicArns.length ? { topicArns } : {}), ...(onTimeout === 'act' ? { onTimeout } : {}) };
}

/**
 * `approval.onTimeout`: `act` (a veto window: silence is consent) only for a runbook whose
 * `policy.lowRisk` is true, declared where the runbook is defined.
 */
function resolveOnTimeout(runbook: string, onTimeout: ApprovalOnTimeout | undefined, lowRisk: boolean | undefined): ApprovalOnTimeout {
  const resolved = onTimeout ?? 'escalate';
  if (!APPROVAL_ON_TIMEOUT.includes(resolved)) {
    throw new Error(`runbook ${runbook}: approval.onTimeout must be one of ${APPROVAL_ON_TIMEOUT.join(', ')} (got "${String(onTimeout)}")`);
  }
  if (lowRisk !== undefined && typeof lowRisk !== 'boolean') throw new Error(`runbook ${runbook}: policy.lowRisk must be true or false (got "${String(lowRisk)}")`);
  if (resolved === 'act' && lowRisk !== true) {
    throw new Error(`runbook ${runbook}: approval.onTimeout "act" (act when nobody answers in time) needs policy.lowRisk true, declaring the runbook's actions bounded and undoable; set it, or use onTimeout "escalate"`);
  }
  return resolved;
}

/**
 * A runbook's own defaults with the settings a user gave; a setting given as `undefined` keeps
 * the runbook's default (a plain spread would replace it with the generic one).
 */
export function withDefaults<T extends object>(defaults: T, given: Partial<T> | undefined): T {
  const set = Object.entries(given ?? {}).filter(([, value]) => value !== undefined);
  return { ...defaults, ...Object.fromEntries(set) } as T;
}

function wholeNumberIn(name: string, value: number, min: number, max: number, why: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max} (got ${value}): ${why}`);
  }
  return value;
}

export function resolveMode(runbook: string, mode: Mode | undefined): Mode {
  const resolved = mode ?? 'observe';
  if (!MODES.includes(resolved)) throw new Error(`runbook ${runbook}: mode must be one of ${MODES.join(', ')} (got "${String(mode)}")`);
  return resolved;
}

export function resolveAdmissionPolicy(runbook: string, props: RunbookPolicyProps = {}, workflowTimeout: Duration): AdmissionPolicy {
  const windowSeconds = (props.window ?? Duration.hours(1)).toSeconds();
  return {
    maxAttempts: wholeNumberIn(`runbook ${runbook}: policy.maxAttempts`, props.maxAttempts ?? 3, 1, 10,
      'zero would disable the runbook (use its kill switch) and more than 10 defeats the loop breaker'),
    windowSeconds: wholeNumberIn(`runbook ${runbook}: policy.window (seconds)`, windowSeconds, 60, 7 * 86400,
      'a window shorter than a minute does not break remediation loops'),
    maxConcurrent: wholeNumberIn(`runbook ${runbook}: policy.maxConcurrent`, props.maxConcurrent ?? 2, 1, 20,
      'the blast-radius cap cannot be switched off'),
    // A lease outlives the longest execution, so a crashed execution's lease is reclaimed, never a live one's.
    leaseSeconds: workflowTimeout.toSeconds() + 15 * 60,
    maxEventAgeSeconds: wholeNumberIn(`runbook ${runbook}: policy.maxEventAge (seconds)`, (props.maxEventAge ?? Duration.minutes(15)).toSeconds(), 60, 7200,
      'older evidence describes a state that may be long gone; EventBridge stops retrying a delivery after 2 hours'),
    denialDigestSeconds: wholeNumberIn(`runbook ${runbook}: policy.denialDigestWindow (seconds)`, (props.denialDigestWindow ?? Duration.minutes(10)).toSeconds(), 60, 3600,
      'a storm digest is sent at the end of its window: at least a minute, at most an hour'),
  };
}

export function resolveVerification(runbook: string, props: VerificationProps = {}): VerificationPolicy {
  const maxChecks = wholeNumberIn(`runbook ${runbook}: verification.maxChecks`, props.maxChecks ?? 20, 1, 200,
    'each check is a few state transitions; keep the execution history readable');
  return {
    initialDelaySeconds: wholeNumberIn(`runbook ${runbook}: verification.initialDelay (seconds)`, (props.initialDelay ?? Duration.seconds(60)).toSeconds(), 0, 3600, 'at most an hour'),
    intervalSeconds: wholeNumberIn(`runbook ${runbook}: verification.interval (seconds)`, (props.interval ?? Duration.seconds(30)).toSeconds(), 5, 3600,
      'shorter intervals only burn API calls'),
    maxChecks,
    requiredConsecutiveSuccesses: wholeNumberIn(`runbook ${runbook}: verification.requiredConsecutiveSuccesses`, props.requiredConsecutiveSuccesses ?? 2, 1, maxChecks,
      'success needs at least one positive reading, and no more than maxChecks can be taken'),
  };
}

/**
 * Whether `value` matches `pattern`, or is not known until deploy time: a name or ARN that is a
 * token (an attribute of a resource in the app, a parameter) cannot be checked at synth time, and
 * IAM and the allow-list carry it as it resolves.
 */
export function matchesUnlessToken(value: string, pattern: RegExp): boolean {
  return Token.isUnresolved(value) || pattern.test(value);
}

/** Runbook names become parts of ledger keys, SSM parameter names and execution names. */
export function validateRunbookName(name: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$/.test(name)) {
    throw new Error(`runbook name "${name}" must be 2-40 characters of lowercase letters, digits and hyphens`);
  }
  return name;
}

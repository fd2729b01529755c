/**
 * Errors whose `name` the state machines branch on. Lambda reports `name` as the error type,
 * which Step Functions matches in Retry/Catch.
 */
export class MedicError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** The kill switch is on (or could not be read) when a mutating call was about to be made. */
export class KillSwitchEngagedError extends MedicError {
  constructor(message: string) {
    super('Medic.KillSwitchEngaged', message);
  }
}

/** A guard (ledger, limiter, kill switch, calendar) could not be evaluated: fail closed. */
export class GuardUnavailableError extends MedicError {
  constructor(message: string, readonly cause?: unknown) {
    super('Medic.GuardUnavailable', message);
  }
}

/** A step got a state it cannot work with (a bug or a hand-crafted execution input). */
export class InvalidStateError extends MedicError {
  constructor(message: string) {
    super('Medic.InvalidState', message);
  }
}

/** A previous attempt of an action may have mutated without a record of its result: a human must look. */
export class ActOutcomeUnknownError extends MedicError {
  constructor(message: string) {
    super('Medic.ActOutcomeUnknown', message);
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** A change calendar closed (or unreadable) right before a forward mutation. */
export class ChangeFrozenError extends MedicError {
  constructor(message: string) {
    super('Medic.ChangeFrozen', message);
  }
}

/** The incident no longer holds a lease it needs to act (expired, or taken over by another incident). */
export class LeaseLostError extends MedicError {
  constructor(message: string) {
    super('Medic.LeaseLost', message);
  }
}

/** Some calls of a batch took effect (or may have) and a later one failed: the batch is not retried. */
export class ActIncompleteError extends MedicError {
  constructor(message: string) {
    super('Medic.ActIncomplete', message);
  }
}

/** A rollback failed with an error worth retrying (throttling, contention, 5xx, timeout); the state machine retries it. */
export class RollbackRetryableError extends MedicError {
  constructor(message: string) {
    super('Medic.RollbackRetryable', message);
  }
}

/** A step's output would not fit the Step Functions state (256 KB). */
export class StateTooLargeError extends MedicError {
  constructor(message: string) {
    super('Medic.StateTooLarge', message);
  }
}

/** Errors a guard raises right before a mutation: the mutation was not made. */
export const GUARD_DENIALS = new Set(['Medic.KillSwitchEngaged', 'Medic.ChangeFrozen', 'Medic.LeaseLost']);

/** The denial category (the `reason` of the Denials metric and of the ledger's `denied` entries) of each guard refusal at act time. */
export const GUARD_DENIAL_CATEGORIES: Readonly<Record<string, 'kill-switch' | 'change-freeze' | 'target-busy'>> = {
  'Medic.KillSwitchEngaged': 'kill-switch',
  'Medic.ChangeFrozen': 'change-freeze',
  // The lease was lost: another incident holds the target now.
  'Medic.LeaseLost': 'target-busy',
};

/** Throttling: the service refused the request before doing anything. */
export const THROTTLING_ERRORS = new Set([
  'ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded', 'ProvisionedThroughputExceededException',
  'ThrottledException', 'SlowDown', 'PriorRequestNotComplete',
]);

interface SdkErrorShape {
  readonly name?: string;
  readonly code?: string;
  readonly $fault?: 'client' | 'server';
  readonly $metadata?: { readonly httpStatusCode?: number; readonly requestId?: string };
}

const statusOf = (error: unknown): number | undefined => (error as SdkErrorShape)?.$metadata?.httpStatusCode;

/**
 * Did the service refuse the call, so it certainly did not take effect? Throttling and other 4xx
 * answers (except 408, a timeout) are refusals. A 5xx, a timeout or a lost connection is not: the
 * request may have been carried out, so its outcome is unknown.
 */
export function isRefusal(error: unknown): boolean {
  const e = (error ?? {}) as SdkErrorShape;
  if (THROTTLING_ERRORS.has(e.name ?? '')) return true;
  const status = statusOf(error);
  if (status !== undefined) return status >= 400 && status < 500 && status !== 408;
  return e.$fault === 'client';
}

const NETWORK_ERRORS = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNREFUSED', 'EAI_AGAIN', 'NetworkingError']);

/**
 * Worth retrying an idempotent call (a rollback restoring exact values): throttling, contention
 * (`ResourceContentionFault`), any 5xx or 429, a timeout or a lost connection.
 */
export function isTransient(error: unknown): boolean {
  const e = (error ?? {}) as SdkErrorShape;
  const name = e.name ?? '';
  if (THROTTLING_ERRORS.has(name) || name === 'ResourceContentionFault' || name === 'ResourceContention') return true;
  if (NETWORK_ERRORS.has(name) || NETWORK_ERRORS.has(e.code ?? '')) return true;
  const status = statusOf(error);
  return status !== undefined && (status >= 500 || status === 429);
}

/**
 * The approval gate's endings (mode `approve`). Each is raised before Act, so an incident that
 * ends with one was not acted on: the page must say nothing was done.
 * - `ApprovalExpired`: no decision before the deadline (returned by the approval function's `expired` entry).
 * - `ApprovalRejected`: an approver rejected the plan (SendTaskFailure; the cause is JSON `{ principal, reason }`).
 * - `PlanDrifted`: the plan made again before Act is not the one approved (the recheck said `drifted`).
 */
export const APPROVAL_ERRORS = {
  expired: 'Medic.ApprovalExpired',
  rejected: 'Medic.ApprovalRejected',
  drifted: 'Medic.PlanDrifted',
} as const;

/** Error names that prove the workflow stopped before Act. */
export const NOT_ACTED_ERRORS: ReadonlySet<string> = new Set(Object.values(APPROVAL_ERRORS));

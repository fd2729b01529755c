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

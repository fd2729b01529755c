import type { ParsedAlarm } from '../../lambdas/validate/alarm-event';

/** The accepted parse, or a failure that shows the rejection reason. */
export function accepted(result: ParsedAlarm): Extract<ParsedAlarm, { ok: true }> {
  if (!result.ok) throw new Error(`expected the event to be accepted, got: ${result.reason}`);
  return result;
}

/** The rejection reason, or a failure that names the incident that was accepted instead. */
export function rejection(result: ParsedAlarm): string {
  if (result.ok) throw new Error(`expected a rejection, got incident ${result.incidentId}`);
  return result.reason;
}

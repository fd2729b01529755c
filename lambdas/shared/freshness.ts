import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { cloudWatch } from './clients';
import { describeError } from './errors';
import type { Plan, WorkflowState } from './types';

/** The event's state timestamp and CloudWatch's transition time of the same change agree to the millisecond; allow for rounding. */
const SAME_TRANSITION_MS = 1000;

const noAction = (decision: 'noop' | 'escalate', reason: string, details: Record<string, unknown>): Plan =>
  ({ decision, reason, summary: 'nothing was done', details: { ...details, recoveredBeforeAction: decision === 'noop' } });

/**
 * An alarm event is evidence of a past state. Before planning, the alarm is read again: only an
 * alarm still in ALARM since exactly the transition the event reports is acted on.
 * - back to OK, or in another state, or in ALARM again since a later transition: recovered (or
 *   superseded) before action, recorded, nothing mutates (`noop`);
 * - in ALARM since an earlier time than the event says: the event does not describe this alarm's
 *   transition (a hand-started execution with an alarm-shaped body and a made-up time, which
 *   would otherwise be a new incident that dodges dedupe): escalated, nothing mutates;
 * - unreadable, gone, or without a reported transition time: the guard cannot be evaluated, so
 *   it fails closed (escalated).
 * Returns undefined when the trigger is current (or is not an alarm).
 */
export async function supersededTrigger(state: WorkflowState): Promise<Plan | undefined> {
  const trigger = state.incident?.trigger;
  if (trigger?.kind !== 'alarm') return undefined;
  const eventAt = Date.parse(trigger.at);
  let alarm;
  try {
    const out = await cloudWatch().send(new DescribeAlarmsCommand({ AlarmNames: [trigger.name], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }));
    alarm = [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])].find((a) => a.AlarmName === trigger.name);
  } catch (error) {
    return noAction('escalate', `alarm ${trigger.name} could not be read again before acting (failing closed): ${describeError(error)}`, {});
  }
  if (!alarm?.StateValue) return noAction('escalate', `alarm ${trigger.name} no longer exists, so the event cannot be confirmed; not acting`, {});
  const since = alarm.StateTransitionedTimestamp ?? alarm.StateUpdatedTimestamp;
  const details = { alarm: trigger.name, state: alarm.StateValue, since: since?.toISOString(), eventSays: trigger.at };
  if (alarm.StateValue !== 'ALARM') {
    const when = since ? ` since ${since.toISOString()}` : '';
    const what = alarm.StateValue === 'OK' ? `is back to OK${when}` : `is ${alarm.StateValue}${when}`;
    return noAction('noop', `recovered before action: alarm ${trigger.name} ${what} (the event reported ALARM at ${trigger.at})`, details);
  }
  if (!since) return noAction('escalate', `CloudWatch did not say when alarm ${trigger.name} went to ALARM, so the event cannot be matched to it (failing closed)`, details);
  const drift = since.getTime() - eventAt;
  if (drift > SAME_TRANSITION_MS) {
    return noAction('noop', `recovered before action: alarm ${trigger.name} changed state after this event (in ALARM again since ${since.toISOString()}, `
      + `a later transition and its own incident; the event reported ${trigger.at})`, details);
  }
  if (drift < -SAME_TRANSITION_MS) {
    return noAction('escalate', `the event says alarm ${trigger.name} went to ALARM at ${trigger.at}, but CloudWatch says it has been in ALARM since `
      + `${since.toISOString()}: the event does not describe this alarm's transition, so medic does not act on it`, details);
  }
  return undefined;
}

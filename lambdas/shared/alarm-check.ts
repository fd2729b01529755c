import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { cloudWatch } from './clients';
import { describeError } from './errors';
import type { CheckVerdict, WorkflowState } from './types';

export interface AlarmReading {
  readonly verdict: CheckVerdict;
  readonly state: string;
  readonly reason: string;
}

/** The triggering alarm back to OK is evidence; ALARM is not yet; anything unreadable is inconclusive. */
export async function readTriggerAlarm(state: WorkflowState): Promise<AlarmReading> {
  const alarmName = state.incident?.trigger?.name;
  if (!alarmName) return { verdict: 'inconclusive', state: 'unknown', reason: 'the incident has no triggering alarm' };
  try {
    // Without AlarmTypes, DescribeAlarms returns metric alarms only (SDK doc: "If you omit this parameter, only metric alarms are returned").
    const out = await cloudWatch().send(new DescribeAlarmsCommand({ AlarmNames: [alarmName], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }));
    const alarm = [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])].find((a) => a.AlarmName === alarmName);
    if (!alarm?.StateValue) return { verdict: 'inconclusive', state: 'missing', reason: `alarm ${alarmName} not found` };
    if (alarm.StateValue === 'OK') return { verdict: 'success', state: 'OK', reason: `alarm ${alarmName} is OK` };
    if (alarm.StateValue === 'ALARM') return { verdict: 'pending', state: 'ALARM', reason: `alarm ${alarmName} is still in ALARM` };
    return { verdict: 'inconclusive', state: alarm.StateValue, reason: `alarm ${alarmName} is ${alarm.StateValue}` };
  } catch (error) {
    return { verdict: 'inconclusive', state: 'error', reason: `alarm ${alarmName} could not be read: ${describeError(error)}` };
  }
}

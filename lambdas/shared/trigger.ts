import type { Trigger } from './types';

/** What started the run, in words. */
export function describeTrigger(trigger: Trigger | undefined): string {
  if (!trigger) return 'an event that could not be read as an incident';
  if (trigger.kind === 'alarm') return `alarm ${trigger.name} went to ALARM at ${trigger.at}${trigger.reason ? `: ${trigger.reason}` : ''}`;
  if (trigger.kind === 'event') return `${trigger.source} event "${trigger.name}" at ${trigger.at}${trigger.reason ? `: ${trigger.reason}` : ''}`;
  return `${trigger.kind === 'schedule' ? 'its schedule' : `a manual start by ${trigger.startedBy ?? 'an operator'}`} at ${trigger.at}`
    + `${trigger.reason ? ` (reason: ${trigger.reason})` : ''}`;
}

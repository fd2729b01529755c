import { GetCalendarStateCommand, GetParametersCommand } from '@aws-sdk/client-ssm';
import { ssm } from './clients';
import { describeError, GuardUnavailableError } from './errors';
import type { RunbookSpec } from './types';

export interface KillSwitchState {
  readonly engaged: boolean;
  readonly reason: string;
}

/** The one value that lets medic act. Compared exactly: `Off`, ` off` or `off\n` stop it like `on` does. */
export const KILL_SWITCH_OFF = 'off';

/** Why a kill-switch value stops medic, or undefined for exactly `off`. */
export function killSwitchBlocks(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return `kill switch ${name} is missing (treated as on)`;
  if (value === KILL_SWITCH_OFF) return undefined;
  const lookalike = value.trim().toLowerCase() === KILL_SWITCH_OFF ? ', which is not exactly "off"' : '';
  return `kill switch ${name} is ${JSON.stringify(value)}${lookalike} (only exactly "off" lets medic act)`;
}

/**
 * Reads the stack-wide and the runbook's kill switch (SSM parameters). Only the exact value
 * `off` lets work proceed: a missing parameter or any other value counts as on.
 * Throws GuardUnavailableError when SSM cannot be read, so callers fail closed.
 */
export async function readKillSwitch(runbook: Pick<RunbookSpec, 'killSwitch'>): Promise<KillSwitchState> {
  const names = [runbook.killSwitch.global, runbook.killSwitch.runbook];
  let out;
  try {
    out = await ssm().send(new GetParametersCommand({ Names: names }));
  } catch (error) {
    throw new GuardUnavailableError(`kill switch could not be read: ${describeError(error)}`, error);
  }
  // Stryker disable next-line ArrayDeclaration: equivalent; a made-up element has no Name, so both switches still read as missing.
  const values = new Map((out.Parameters ?? []).map((p) => [p.Name, p.Value ?? '']));
  for (const name of names) {
    const blocks = killSwitchBlocks(name, values.get(name));
    if (blocks) return { engaged: true, reason: blocks };
  }
  return { engaged: false, reason: 'kill switches off' };
}

export interface CalendarState {
  readonly open: boolean;
  readonly reason: string;
}

/** SSM Change Calendar: CLOSED means a change freeze. An unreadable calendar counts as closed. */
export async function readChangeCalendar(calendar: string | undefined): Promise<CalendarState> {
  if (!calendar) return { open: true, reason: 'no change calendar configured' };
  try {
    const out = await ssm().send(new GetCalendarStateCommand({ CalendarNames: [calendar] }));
    if (out.State === 'OPEN') return { open: true, reason: `change calendar ${calendar} is OPEN` };
    return { open: false, reason: `change calendar ${calendar} is ${out.State ?? 'in an unknown state'} (change freeze)` };
  } catch (error) {
    throw new GuardUnavailableError(`change calendar ${calendar} could not be read: ${describeError(error)}`, error);
  }
}

import {
  ChangeFrozenError, describeError, isRefusal, KillSwitchEngagedError, LeaseLostError,
} from './errors';
import { readChangeCalendar, readKillSwitch } from './guards';
import { checkLease } from './limiter';
import { platformSettings } from './settings';
import type { CallRecord, WorkflowState } from './types';

/** A mutating call a runbook asks the gate to make. */
export interface MutatingCall {
  readonly service: string;
  readonly operation: string;
  /** What the call changes, in a few words (matches the plan's planned call). */
  readonly target: string;
  readonly parameters: Record<string, unknown>;
}

type Answer = { readonly $metadata?: { readonly requestId?: string } };

/** `act` is a forward change; `rollback` undoes medic's own change. */
export type MutationStage = 'act' | 'rollback';

/** Every lease the incident holds, with the epoch it was granted (admission's and the plan's). */
export function heldLeases(state: WorkflowState): Array<[string, number]> {
  const epochs = { ...(state.admission?.epochs ?? {}), ...(state.plan?.epochs ?? {}) };
  const keys = [...(state.admission?.leases ?? []), ...(state.plan?.leases ?? [])];
  return [...new Set(keys)].map((key) => [key, epochs[key] ?? 0]);
}

/**
 * The only way a runbook mutates anything. Right before every call it re-checks every guard:
 * the kill switches (exactly `off`), the change calendar (a closed calendar stops a forward
 * change; a rollback of medic's own change proceeds and says so), and that the incident still
 * holds each of its leases with the epoch it was granted (fencing). Then it makes the call and
 * records how it ended, with the request id: that record, not the runbook's word, is what the
 * ledger and the page say was done.
 */
export class MutationGate {
  readonly calls: CallRecord[] = [];
  readonly notes: string[] = [];

  /** `guards` is the check before each call: every live guard; unit tests of a runbook's calls may pass their own. */
  constructor(private readonly state: WorkflowState, readonly stage: MutationStage, private readonly guards: GuardCheck = checkGuards) {}

  /** Makes one mutating call after every guard passed; `resultOf` picks what to record of the answer. */
  async call<T extends Answer>(call: MutatingCall, send: () => Promise<T>, resultOf?: (answer: T) => unknown): Promise<T> {
    try {
      await this.guards(this.state, this.stage, this.notes);
    } catch (error) {
      this.calls.push({ ...call, at: new Date().toISOString(), outcome: 'not-made', error: describeError(error) });
      throw error;
    }
    const at = new Date().toISOString();
    let answer: T;
    try {
      answer = await send();
    } catch (error) {
      const requestId = (error as Answer)?.$metadata?.requestId;
      this.calls.push({ ...call, at, outcome: isRefusal(error) ? 'refused' : 'unknown', error: describeError(error), ...(requestId ? { requestId } : {}) });
      throw error;
    }
    const requestId = answer?.$metadata?.requestId;
    const result = resultOf?.(answer);
    this.calls.push({ ...call, at, outcome: 'succeeded', ...(requestId ? { requestId } : {}), ...(result === undefined ? {} : { result }) });
    return answer;
  }

  /** Whether any call so far took effect or may have (so the batch cannot simply be tried again). */
  get anyMayHaveTakenEffect(): boolean {
    return this.calls.some((c) => c.outcome === 'succeeded' || c.outcome === 'unknown');
  }
}

/** The check made right before every mutating call; throws (a guard denial) to stop it. `notes` collects what the page should say. */
export type GuardCheck = (state: WorkflowState, stage: MutationStage, notes: string[]) => Promise<void>;

/** Every guard, read live: kill switches, change calendar, lease ownership. */
export const checkGuards: GuardCheck = async (state, stage, notes) => {
  const { runbook, incident } = state;
  let killSwitch;
  try {
    killSwitch = await readKillSwitch(runbook);
  } catch (error) {
    throw new KillSwitchEngagedError(`${stage} not performed: kill switch could not be read (failing closed): ${describeError(error)}`);
  }
  if (killSwitch.engaged) throw new KillSwitchEngagedError(`${stage} not performed: ${killSwitch.reason}`);

  if (runbook.changeCalendar) {
    let why: string | undefined;
    try {
      const calendar = await readChangeCalendar(runbook.changeCalendar);
      if (!calendar.open) why = calendar.reason;
    } catch (error) {
      why = `${describeError(error)} (failing closed)`;
    }
    if (why && stage === 'act') throw new ChangeFrozenError(`act not performed: ${why}`);
    const note = why && `rolled back during a change freeze (${why}): undoing medic's own change is allowed`;
    if (note && !notes.includes(note)) notes.push(note);
  }

  const table = platformSettings().limiterTable;
  for (const [key, epoch] of heldLeases(state)) {
    let check;
    try {
      check = await checkLease(table, key, incident!.incidentId, epoch);
    } catch (error) {
      throw new LeaseLostError(`${stage} not performed: lease ${key} could not be read (failing closed): ${describeError(error)}`);
    }
    if (!check.held) throw new LeaseLostError(`${stage} not performed: ${check.reason}`);
  }
};

import { actingRunbook } from './world';
import { invokedFunction, lambdaInvocation } from '../local/invocation';
import type { SimClock } from './clock';
import type { Trigger } from './scenario';

/**
 * Timeline events that wait for a trigger (`when:`): an incident reaching a ledger phase, or a
 * runbook's mutating call succeeding. A trigger fires inside the handler's call, before the
 * handler goes on, so "between Admit and Act" and "right after the mutation" are reachable; the
 * event itself runs outside the handler's context (it is the world changing, not the handler acting).
 */
export class Triggers {
  private readonly waiting: Array<{ readonly trigger: Trigger; seen: number; readonly fire: () => void }> = [];

  constructor(private readonly clock: SimClock) {}

  /** `fire` runs when `trigger` happens for the n-th time (its `occurrence`), after its `delay`. */
  add(trigger: Trigger, fire: () => void): void {
    this.waiting.push({ trigger, seen: 0, fire });
  }

  /** An entry was written to the ledger. */
  entryWritten(phase: string, runbook: string | undefined): void {
    this.happened((t) => t.phase === phase && (t.runbook === undefined || t.runbook === runbook));
  }

  /** A mutating call succeeded. */
  callMade(call: string, runbook: string | undefined): void {
    this.happened((t) => t.call === call && (t.runbook === undefined || t.runbook === runbook));
  }

  /** Triggers that never fired, for the report: a scenario whose trigger never came did not test what it says. */
  unfired(): Trigger[] {
    return this.waiting.filter((w) => w.seen < w.trigger.occurrence).map((w) => w.trigger);
  }

  private happened(matches: (trigger: Trigger) => boolean): void {
    for (const w of this.waiting) {
      if (!matches(w.trigger) || ++w.seen !== w.trigger.occurrence) continue;
      const outside = () => actingRunbook.exit(() => invokedFunction.exit(() => lambdaInvocation.exit(w.fire)));
      if (w.trigger.delay > 0) this.clock.schedule(this.clock.now() + w.trigger.delay * 1000, outside);
      else outside();
    }
  }
}

import type { ModelClock } from '../../lib/gameday/models/clock';

/**
 * Model time for workflow tests: the service models' scheduled changes (a failover completing, a
 * deployment settling) fire when the workflow's Wait states pass their seconds
 * (`LocalWorkflow`'s `simulatedWait`), so a test sees a database rebooting for as long as the
 * runbook waits, not for a number of describes. Timestamps stay the real clock the handlers read.
 */
export class StepClock implements ModelClock {
  private elapsed = 0;
  private seq = 0;
  private timers: Array<{ at: number; seq: number; change: () => void }> = [];

  now(): number {
    return Date.now();
  }

  later(seconds: number, change: () => void): void {
    this.timers.push({ at: this.elapsed + seconds, seq: this.seq++, change });
  }

  /** Moves model time `seconds` ahead, firing what falls due on the way, in order. */
  advance(seconds: number): void {
    const target = this.elapsed + seconds;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > target) break;
      this.timers.shift();
      this.elapsed = Math.max(this.elapsed, next.at);
      next.change();
    }
    this.elapsed = target;
  }

  /** Drops every scheduled change (a fresh world). */
  reset(): void {
    this.timers = [];
    this.elapsed = 0;
  }
}

/** The account and region of the test stack (test/support/synth.ts). */
export const TEST_ENV = { account: '111111111111', region: 'eu-west-1' };

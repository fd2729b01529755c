/**
 * Simulated time for the game day. `Date` is replaced so every handler, the ledger and the
 * limiter see simulated time; executions wait on simulated timers; a driver advances the clock
 * to the next timer only when every running execution is waiting, so concurrent executions see
 * a consistent time and a scenario of hours runs in seconds. Real timers (SDK retries, limiter
 * backoff) stay real: they are short, and an execution using one counts as running.
 */
export class SimClock {
  private nowMs: number;
  private readonly timers: Array<{ at: number; seq: number; fire: () => void }> = [];
  private seq = 0;
  private running = 0;
  private sleeping = 0;
  private realDate?: DateConstructor;

  constructor(start: Date) {
    this.nowMs = start.getTime();
  }

  now(): number {
    return this.nowMs;
  }

  /** Replaces the global `Date` with one that reads this clock (`new Date(x)` still means x). */
  install(): void {
    if (this.realDate) return;
    const RealDate = Date;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the Date subclass below reads this clock, and its own `this` is the date
    const clock = this;
    class SimulatedDate extends RealDate {
      constructor(...args: unknown[]) {
        if (args.length === 0) super(clock.nowMs);
        else super(...(args as [string]));
      }

      static now(): number {
        return clock.nowMs;
      }
    }
    this.realDate = RealDate;
    globalThis.Date = SimulatedDate as DateConstructor;
  }

  uninstall(): void {
    if (this.realDate) globalThis.Date = this.realDate;
    this.realDate = undefined;
  }

  /** Runs `work` as a participant: the clock does not move while it is busy (only while it sleeps). */
  async participate<T>(work: () => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
    }
  }

  /** A participant waits `seconds` of simulated time. */
  sleep(seconds: number): Promise<void> {
    return new Promise((resolve) => {
      this.sleeping++;
      this.timers.push({ at: this.nowMs + seconds * 1000, seq: this.seq++, fire: () => { this.sleeping--; resolve(); } });
    });
  }

  /**
   * A participant starts waiting for something another participant or a timer will give it (a
   * task token's answer): it counts as asleep until the returned `wake` is called, which the giver
   * must call synchronously, before it settles the wait, so the clock never moves on while the
   * woken participant is about to run (as `sleep`'s timer does).
   */
  asleep(): () => void {
    this.sleeping++;
    let awake = false;
    return () => {
      if (awake) return;
      awake = true;
      this.sleeping--;
    };
  }

  /** Something to happen at simulated time `at` (ms), not held by any participant (timeline events); returns what cancels it. */
  schedule(at: number, fire: () => void): () => void {
    const timer = { at: Math.max(at, this.nowMs), seq: this.seq++, fire };
    this.timers.push(timer);
    return () => {
      const index = this.timers.indexOf(timer);
      if (index >= 0) this.timers.splice(index, 1);
    };
  }

  /**
   * Drives the simulation until no participant runs and no timer is left: waits (in real
   * time) until every running participant sleeps, then moves the clock to the earliest timer
   * and fires every timer due then. `limitMs` of simulated time bounds a runaway scenario.
   */
  async run(limitMs: number): Promise<void> {
    const deadline = this.nowMs + limitMs;
    for (;;) {
      await this.untilAllAsleep();
      if (this.timers.length === 0) {
        if (this.running === 0) return;
        // Everyone waits and nothing is due: only a task token nobody will answer does that.
        if (this.running <= this.sleeping) throw new Error('every execution is waiting for an answer (a task token) and nothing is scheduled to give it');
        continue;
      }
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0].at;
      if (next > deadline) throw new Error(`the scenario was still running after ${limitMs / 1000}s of simulated time`);
      this.nowMs = Math.max(this.nowMs, next);
      const due = this.timers.filter((t) => t.at <= this.nowMs);
      this.timers.splice(0, due.length);
      for (const timer of due) timer.fire();
    }
  }

  /** Moves the clock `seconds` ahead with no participant running, firing what falls due on the way (for tests of the world alone). */
  advanceBy(seconds: number): void {
    const target = this.nowMs + seconds * 1000;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > target) break;
      this.timers.shift();
      this.nowMs = Math.max(this.nowMs, next.at);
      next.fire();
    }
    this.nowMs = target;
  }

  private async untilAllAsleep(): Promise<void> {
    // Real time passes here: handlers do real I/O against the local DynamoDB.
    while (this.running > this.sleeping) await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/**
 * The time a service model lives on. The game day gives it the simulated clock (lib/gameday/clock.ts,
 * through World.later); workflow tests give it a clock their Wait states advance
 * (test/support/step-clock.ts). A model never reads timers of its own, so one behaviour runs the
 * same on either.
 */
export interface ModelClock {
  /** Milliseconds since the epoch, as the handlers see it (`Date.now()`). */
  now(): number;
  /** Runs `change` once `seconds` of model time have passed. */
  later(seconds: number, change: () => void): void;
}

/** The account and region resources are named in (ARNs, default Availability Zones). */
export interface ModelEnv {
  readonly account: string;
  readonly region: string;
}

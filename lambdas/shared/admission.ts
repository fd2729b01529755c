import { acquireLease, admitWithinRate, peekLease, releaseLease } from './limiter';
import type { DenialReason } from './observability';
import type { WorkflowState } from './types';

/** One incident at a time per resource, across every runbook that can touch it. */
export const resourceLeaseKey = (resourceArn: string): string => `target#${resourceArn}`;
/** The blast-radius cap: at most `maxConcurrent` incidents of a runbook in flight. */
export const runbookLeaseKey = (runbook: string): string => `runbook#${runbook}`;

export interface Denial {
  readonly category: DenialReason;
  readonly reason: string;
}

/**
 * Takes an incident's leases and attempt budgets one guard at a time, and gives back what it
 * took if a later guard denies. Budgets are per resource (`RATE#<arn>`), counted across every
 * runbook that acts on it, each runbook applying its own maximum. In observe mode nothing is
 * taken or counted: the decision is read as it would be made (an observation must not block or
 * use up a real remediation).
 */
export class Admitter {
  readonly leases: string[] = [];
  readonly epochs: Record<string, number> = {};
  readonly readings: Record<string, unknown> = {};

  constructor(private readonly state: WorkflowState, private readonly table: string, private readonly readOnly: boolean) {}

  private get incidentId(): string {
    return this.state.incident!.incidentId;
  }

  /** The one-incident-at-a-time lease on a resource. */
  async resourceLease(resourceArn: string): Promise<Denial | undefined> {
    const key = resourceLeaseKey(resourceArn);
    const holders = await this.lease(key, 1);
    if (holders) return { category: 'target-busy', reason: `another incident is in flight on ${resourceArn}: ${holders.join(', ')}` };
    return undefined;
  }

  /** The runbook's blast-radius lease. */
  async runbookLease(): Promise<Denial | undefined> {
    const { name, policy } = this.state.runbook;
    const holders = await this.lease(runbookLeaseKey(name), policy.maxConcurrent);
    if (holders) {
      return { category: 'blast-radius', reason: `blast-radius cap: ${holders.length} incident(s) of ${name} already in flight, the most allowed at once is ${policy.maxConcurrent} (${holders.join(', ')})` };
    }
    return undefined;
  }

  /** The resource's attempt budget: at most `maxAttempts` admissions in any window, whichever runbook asked. */
  async budget(resourceArn: string): Promise<Denial | undefined> {
    const { maxAttempts, windowSeconds } = this.state.runbook.policy;
    // A dry run or an observation is told whether a real run would be admitted, without using up an attempt.
    const counted = !this.readOnly;
    const rate = await admitWithinRate(this.table, resourceArn, this.incidentId, maxAttempts, windowSeconds, Date.now(), counted);
    this.readings[`budget ${resourceArn}`] = { ...rate, counted };
    if (rate.admitted) return undefined;
    return {
      category: 'rate-limit',
      reason: `rate limit: ${rate.inWindow} admission(s) for ${resourceArn} in the last ${windowSeconds}s, by any runbook (max ${maxAttempts}); `
        + 'automatic remediation is not fixing this, a human needs to look',
    };
  }

  /** Releases every lease taken so far (a denied or failed incident must not keep them). */
  async releaseAll(): Promise<void> {
    await Promise.all(this.leases.map((key) => releaseLease(this.table, key, this.incidentId)));
    this.leases.length = 0;
  }

  /** Takes (or, read-only, peeks at) one of `max` leases on `key`; returns the holders when denied. */
  private async lease(key: string, max: number): Promise<string[] | undefined> {
    if (this.readOnly) {
      const peek = await peekLease(this.table, key, this.incidentId, max);
      this.readings[`lease ${key}`] = { wouldAcquire: peek.acquired, holders: peek.holders, taken: false };
      return peek.acquired ? undefined : peek.holders;
    }
    const decision = await acquireLease(this.table, key, this.incidentId, max, this.state.runbook.policy.leaseSeconds);
    this.readings[`lease ${key}`] = decision;
    if (!decision.acquired) return decision.holders;
    this.leases.push(key);
    this.epochs[key] = decision.epoch ?? 0;
    return undefined;
  }
}

import { InvalidArgumentError } from 'commander';
import { UsageError } from './usage-error';

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/**
 * Parses a point in time for `--since` / `--until`: an ISO-8601 date or date-time
 * (`2026-11-22`, `2026-11-22T03:00:00Z`; a date alone is midnight UTC, as the ledger's days are)
 * or a duration ago (`30m`, `24h`, `7d`, `2w`). Throws commander's InvalidArgumentError, so a bad
 * value is a usage error (exit 2) naming the option.
 */
export function parseInstant(value: string, now: Date = new Date()): Date {
  const duration = /^(\d+)([mhdw])$/.exec(value.trim());
  if (duration) return new Date(now.getTime() - Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS]);
  // Only ISO shapes: Date.parse alone would also take "March 3" in the local time zone.
  const instant = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim()) ? Date.parse(value.trim()) : NaN;
  if (Number.isNaN(instant)) {
    throw new InvalidArgumentError('expected an ISO date (2026-11-22, 2026-11-22T03:00:00Z) or a duration ago (30m, 24h, 7d, 2w)');
  }
  return new Date(instant);
}

export interface TimeRange {
  readonly from: Date;
  readonly to: Date;
}

/** The window of `--since` (default: the last 24 hours) and `--until` (default: now). */
export function timeRange(options: { since?: Date; until?: Date }, now: Date = new Date()): TimeRange {
  const to = options.until ?? now;
  const from = options.since ?? new Date(to.getTime() - UNIT_MS.d);
  if (from > to) throw new UsageError(`--since (${from.toISOString()}) is after --until (${to.toISOString()})`);
  return { from, to };
}

/** `YYYY-MM-DD` of every UTC day the range touches: the partition keys of the ledger's byDay index. */
export function daysOf(range: TimeRange, maxDays: number): string[] {
  const days: string[] = [];
  const cursor = new Date(Date.UTC(range.from.getUTCFullYear(), range.from.getUTCMonth(), range.from.getUTCDate()));
  while (cursor <= range.to) {
    if (days.length >= maxDays) throw new UsageError(`the range covers more than ${maxDays} days; narrow --since/--until`);
    days.push(cursor.toISOString().slice(0, 10));
    cursor.setUTCDate(cursor.getUTCDate() + 1);
  }
  return days;
}

/** An ISO time without milliseconds, for tables. */
export const shortTime = (iso: string | undefined): string => (iso ? iso.replace(/\.\d+Z$/, 'Z') : '');

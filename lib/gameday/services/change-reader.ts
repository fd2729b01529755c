import { showValue, withClosestKey } from '../../config-issues';
import { parseDuration } from '../duration';

/**
 * One service's timeline change (`change: { <world key>: {...} }`) as its service reads it: the
 * keys it knows, its target and its values. Every error names the key's path
 * (`timeline[3].change.ecs.tasks: ...`), so a bad change is a scenario error before anything
 * runs, like any other key of a scenario.
 */
export class ChangeReader {
  constructor(readonly change: Record<string, unknown>, readonly where: string, known: readonly string[]) {
    for (const key of Object.keys(change)) {
      if (!known.includes(key)) throw this.error(key, withClosestKey(key, `unknown key (known: ${known.join(', ')})`));
    }
  }

  /** An error at `<where>.<key>`. */
  error(key: string, message: string): Error {
    return new Error(`${this.where}.${key}: ${message}`);
  }

  /** Whether the change gives `key`. */
  has(key: string): boolean {
    return this.change[key] !== undefined;
  }

  /** A non-empty string, or undefined when the change does not give it. */
  text(key: string): string | undefined {
    const value = this.change[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.length === 0) throw this.error(key, `must be a non-empty string (got ${showValue(value)})`);
    return value;
  }

  /** The string that names the change's target. */
  target(key: string, what: string): string {
    const value = this.text(key);
    if (value === undefined) throw this.error(key, `is required: the ${what} to change`);
    return value;
  }

  /** One of `values`, or undefined. */
  oneOf<T extends string>(key: string, values: readonly T[]): T | undefined {
    const value = this.change[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !values.includes(value as T)) throw this.error(key, `must be one of ${values.join(', ')} (got ${showValue(value)})`);
    return value as T;
  }

  /** A whole number from 0 to `max`, or undefined. */
  wholeNumber(key: string, max: number): number | undefined {
    const value = this.change[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
      throw this.error(key, `must be a whole number from 0 to ${max} (got ${showValue(value)})`);
    }
    return value;
  }

  /** A number from 0 to 100, or undefined. */
  percent(key: string): number | undefined {
    const value = this.change[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) throw this.error(key, `must be a percentage from 0 to 100 (got ${showValue(value)})`);
    return value;
  }

  /** A duration (`90s`, `2m`, or seconds) in seconds. */
  duration(key: string, value: unknown): number {
    return parseDuration(value, `${this.where}.${key}`);
  }

  /** `key: true`, or false when not given (a flag is only ever set). */
  flag(key: string): boolean {
    const value = this.change[key];
    if (value === undefined) return false;
    if (value !== true) throw this.error(key, `must be true (got ${showValue(value)})`);
    return true;
  }

  /**
   * The change changes something (`changes` are its keys other than the target's), and `delete`
   * comes alone: a deleted resource has nothing left to change.
   */
  requireChange(changes: readonly string[]): void {
    const given = changes.filter((key) => this.has(key));
    if (given.length === 0) throw new Error(`${this.where}: nothing to change: give one of ${changes.join(', ')}`);
    if (given.includes('delete') && given.length > 1) throw this.error('delete', `comes alone (got also ${given.filter((k) => k !== 'delete').join(', ')})`);
  }
}

/** One change applied after another, in the order given. */
export const inOrder = (steps: Array<(() => void) | undefined>): (() => void) => () => {
  for (const step of steps) step?.();
};

import { z } from 'zod';

/**
 * zod issues as one-line messages that name the setting: `runbooks.ecsTaskRestart[0].mode: must
 * be one of observe, approve, auto, got "yolo"`. Shared by the configuration file (lib/config.ts)
 * and game-day scenarios (lib/gameday/scenario.ts), whose schemas give each check its wording;
 * this module adds the path, the value that was refused, and picks the one branch of a union the
 * value was meant for.
 */

type Issue = z.core.$ZodIssue;

/** `runbooks.ecsTaskRestart[1].services[0]`, `calls["ecs:UpdateService"]`, `world.alarms.api-5xx`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

/** A refused value, short: strings quoted (JSON-escaped, so control characters stay inert), lists and objects by kind. */
export function showValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

const SHOWS_VALUE = new Set(['invalid_type', 'invalid_value', 'invalid_format', 'too_small', 'too_big', 'invalid_union']);

function withValue(issue: Issue): string {
  const input = (issue as { input?: unknown }).input;
  if (!SHOWS_VALUE.has(issue.code) || input === undefined) return issue.message;
  // "must list at least one event, got a list" says nothing: sizes of lists and objects are in the message.
  if ((issue.code === 'too_small' || issue.code === 'too_big') && typeof input === 'object') return issue.message;
  const shown = showValue(input);
  return issue.message.includes(shown) ? issue.message : `${issue.message}, got ${shown}`;
}

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`, case-insensitively. */
function editDistance(a: string, b: string): number {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()];
  const d = Array.from({ length: x.length + 1 }, (_, i) => Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[x.length][y.length];
}

/**
 * An unknown key's message with the known key it was most likely meant to be (`timelime` ->
 * `timeline`): the closest of the `(known: ...)` list {@link strictObject} writes, within a third of
 * its length (at least 2 edits), if exactly one is closest.
 */
export function withClosestKey(key: string, message: string): string {
  const known = /\(known: ([^;)]*)/.exec(message)?.[1].split(', ').filter(Boolean) ?? [];
  const scored = known.map((k) => ({ k, distance: editDistance(key, k) })).filter((c) => c.distance <= Math.max(2, Math.floor(c.k.length / 3)));
  const best = Math.min(...scored.map((c) => c.distance));
  const closest = scored.filter((c) => c.distance === best);
  return closest.length === 1 ? message.replace(/^(unknown \w+)/, `$1; did you mean "${closest[0].k}"?`) : message;
}

/** A branch of a union failed on its type at its root (a string where an object was expected): the value was not meant for it. */
const wrongBranch = (issues: readonly Issue[]) => issues.some((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value'));

/** One line per problem, `<path>: <message>` (just the message at the root). Parse with `reportInput: true` to show refused values. */
export function issueLines(issues: readonly Issue[], prefix: readonly PropertyKey[] = []): string[] {
  const lines: string[] = [];
  const line = (path: readonly PropertyKey[], message: string) => {
    const where = formatPath([...prefix, ...path]);
    lines.push(where === '' ? message : `${where}: ${message}`);
  };
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) line([...issue.path, key], withClosestKey(key, issue.message));
    } else if (issue.code === 'invalid_union') {
      // Report the problems of the one branch the value's type fits (an object for `{ when, after } | never`), else the union's own message.
      const fitting = issue.errors.filter((branch) => !wrongBranch(branch));
      if (fitting.length === 1 && fitting[0].length > 0) lines.push(...issueLines(fitting[0], [...prefix, ...issue.path]));
      else line(issue.path, withValue(issue));
    } else {
      line(issue.path, withValue(issue));
    }
  }
  return lines;
}

/** The lines as one line after the file's name: the first few problems, then how many more. */
export function oneLine(source: string, lines: readonly string[], shown = 3): string {
  const head = `${source}: ${lines.slice(0, shown).join('; ')}`;
  return lines.length > shown ? `${head}; and ${lines.length - shown} more` : head;
}

/** zod's `error` parameter for a value that is missing or of the wrong kind: `is required` or `message`. */
export const requiredOr = (message: string) => (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : message);

/**
 * A strict object: a key it does not know is an error naming the ones it knows (`unknown
 * setting (known: ...)`, `unknown key (...)`: `word` is what the file calls its keys).
 */
export function strictObject<T extends z.ZodRawShape>(shape: T, word: 'setting' | 'key', expected = 'must be an object') {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown ${word} (known: ${known})` : requiredOr(expected)(issue)),
  });
}

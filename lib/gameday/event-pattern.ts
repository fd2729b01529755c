/** The content filters the game day matches: those a medic template uses, and the common ones of users' own rules. */
const CONTENT_FILTERS = ['prefix', 'anything-but', 'exists'];

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function unsupported(key: string, form: string): Error {
  return new Error(`event pattern field ${key} uses the content filter ${JSON.stringify(form)}, which the game day does not support `
    + `(it matches values, ${CONTENT_FILTERS.join(', ')} and $or)`);
}

/** Whether one content filter (`{ prefix: 'a' }`, `{ 'anything-but': [...] }`, `{ exists: true }`) matches a field. */
function matchesFilter(key: string, filter: Record<string, unknown>, present: boolean, values: unknown[]): boolean {
  const forms = Object.keys(filter);
  const form = forms.length === 1 ? forms[0] : forms.join('+');
  const argument = filter[form];
  switch (form) {
    case 'exists':
      if (typeof argument !== 'boolean') throw unsupported(key, `exists: ${JSON.stringify(argument)}`);
      return argument === present;
    case 'prefix':
      if (typeof argument !== 'string') throw unsupported(key, `prefix: ${JSON.stringify(argument)}`);
      return values.some((v) => typeof v === 'string' && v.startsWith(argument));
    case 'anything-but': {
      const excluded = Array.isArray(argument) ? argument : [argument];
      // `anything-but: { prefix }` and the like are other forms; a value or a list of values is what medic writes.
      if (excluded.some((e) => typeof e === 'object' && e !== null)) throw unsupported(key, `anything-but: ${JSON.stringify(argument)}`);
      // Like every filter but `exists: false`, it needs the field: a missing field is not "anything but".
      return present && values.some((v) => !excluded.includes(v));
    }
    default:
      throw unsupported(key, form);
  }
}

/** Whether a pattern's list for one field matches the event's value (any element of an event list will do). */
function matchesField(key: string, wanted: unknown[], value: unknown): boolean {
  const present = value !== undefined;
  const values = Array.isArray(value) ? value : present ? [value] : [];
  return wanted.some((w) => (typeof w === 'object' && w !== null
    ? matchesFilter(key, w as Record<string, unknown>, present, values)
    : values.some((v) => v === w)));
}

/**
 * EventBridge matching for the patterns of a synthesized template: every field of the pattern
 * must match; a list matches a value in it (or, for a list in the event, any element in it) or a
 * content filter (`prefix`, `anything-but` with a value or a list, `exists`); an object matches
 * field by field; `$or` lists sub-patterns of which one must match, besides the other fields.
 * Any other form (numeric, suffix, wildcard, ...) throws an error naming it, never a silent
 * match or miss.
 */
export function matchesPattern(pattern: Record<string, unknown>, event: unknown): boolean {
  if (!isObject(event)) return false;
  return matchesObject(pattern, event);
}

function matchesObject(pattern: Record<string, unknown>, fields: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, wanted]) => {
    if (key === '$or') {
      if (!Array.isArray(wanted) || wanted.length === 0 || !wanted.every(isObject)) throw new Error('event pattern $or is not a list of patterns');
      return wanted.some((alternative) => matchesObject(alternative, fields));
    }
    const value = fields[key];
    if (Array.isArray(wanted)) return matchesField(key, wanted, value);
    // A nested pattern on a missing or scalar field: only `exists: false` below it can match.
    if (isObject(wanted)) return matchesObject(wanted, isObject(value) ? value : {});
    throw new Error(`event pattern field ${key} is not a list or an object`);
  });
}

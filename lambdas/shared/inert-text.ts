/**
 * Untrusted text made inert before a human sees it.
 *
 * Alarm names, state reasons, dimensions, resource ARNs from events, error messages and any other
 * event text are chosen by whoever can create an alarm or put an event. Shown as they are, they
 * could drive the reader's terminal (ANSI/VT sequences recolour or clear it, move the cursor, set
 * the window title; a carriage return overwrites what came before), forge lines (a name holding
 * "\nWHAT MEDIC DID: nothing" in a page or a timeline), or reorder what is read (Unicode
 * bidirectional overrides). These helpers show every such character as a visible escape instead,
 * so the reader also sees that something odd was there:
 *
 * - C0 controls, DEL and C1 controls: `\n`, `\r`, `\t`, else `\xHH` (`\x1b` for ESC, `\x9b` for
 *   the 8-bit CSI). Escaping ESC alone defuses every CSI and OSC sequence: what follows it is
 *   plain printable text.
 * - Bidirectional controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C), the line and
 *   paragraph separators U+2028/U+2029, and unpaired surrogates: `\uHHHH` (`\u202e`).
 * - The backslash itself: `\\`, so a literal `\n` typed into a name reads `\\n` and cannot pass
 *   for an escaped newline (the escaping is reversible: two different texts never look the same).
 *
 * Everything else, including printable Unicode (accents, CJK, emoji and their joiners), is kept.
 * Dependency-free and without Node-only APIs, so the Lambda handlers and the CLI share it.
 */

/** Whether a code point (one character of a string iterated by code points) must be escaped. */
const UNSAFE = /^(?:[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udfff])$/;
/** Any character that must never reach a reader as itself (for {@link isInert}). */
const ANY_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

const hex = (ch: string, width: number) => ch.charCodeAt(0).toString(16).padStart(width, '0');

/** The visible escape of one unsafe character: `\n`, `\x1b`, `\u202e`. */
function escapeOf(ch: string): string {
  return NAMED[ch] ?? (ch.charCodeAt(0) <= 0xff ? `\\x${hex(ch, 2)}` : `\\u${hex(ch, 4)}`);
}

/** The text as tokens, one per code point of the original: the code point itself or its escape. */
function tokensOf(text: unknown, keepNewlines: boolean): string[] {
  return Array.from(asString(text), (ch) => {
    if (ch === '\\') return '\\\\';
    if (ch === '\n' && keepNewlines) return ch;
    return UNSAFE.test(ch) ? escapeOf(ch) : ch;
  });
}

function asString(text: unknown): string {
  if (typeof text === 'string') return text;
  try {
    return String(text);
  } catch {
    return Object.prototype.toString.call(text); // e.g. an object without a prototype
  }
}

/**
 * Joins tokens, keeping the result within `maxChars` (UTF-16 units, as `String.length` counts)
 * including the `…(N more characters)` marker, N counting the original characters left out.
 * Cuts only between tokens, so an escape or a surrogate pair is never split. A `maxChars` too small
 * for the marker still gets the marker.
 */
function fit(tokens: string[], maxChars: number | undefined): string {
  const whole = tokens.join('');
  if (maxChars === undefined || whole.length <= maxChars) return whole;
  let kept = 0;
  for (let used = 0; kept < tokens.length && used + tokens[kept].length + marker(tokens.length - kept - 1).length <= maxChars; kept++) used += tokens[kept].length;
  return `${tokens.slice(0, kept).join('')}${marker(tokens.length - kept)}`;
}

const marker = (omitted: number) => `…(${omitted} more characters)`;

/**
 * `String(text)` made inert for a one-line field: every control character (newline included),
 * escape sequence introducer, bidirectional control, line/paragraph separator and backslash is
 * shown as a visible escape. With `maxChars`, the result is at most that long (UTF-16 units),
 * ending in `…(N more characters)` when cut; the cut is made after escaping, between escapes.
 */
export function inert(text: unknown, maxChars?: number): string {
  return fit(tokensOf(text, false), maxChars);
}

/**
 * {@link inert} for a multi-line block (a command's output tail, a stack trace): `\n` stays a real
 * line break, `\r` and everything else unsafe are escaped. Every line it yields is one of the
 * text's own lines: a `\r` cannot overwrite one, a U+2028 cannot start one.
 */
export function inertLines(text: unknown, maxChars?: number): string {
  return fit(tokensOf(text, true), maxChars);
}

/**
 * A copy of a JSON value (a ledger entry's parsed `detail`) with every string, keys included,
 * made {@link inert}; numbers, booleans and null are kept. Escaping is reversible, so distinct keys
 * stay distinct. For showing the value to a human (e.g. as YAML-like lines); to show it as JSON,
 * use {@link inertJson}, which does not escape twice.
 */
export function inertDeep(value: unknown): unknown {
  if (typeof value === 'string') return inert(value);
  if (Array.isArray(value)) return value.map(inertDeep);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [inert(key), inertDeep(v)]));
  }
  return value;
}

/**
 * `JSON.stringify(value)` that is safe to print and still parses to exactly `value`.
 * JSON.stringify escapes C0 controls, `"` and `\`, but leaves DEL, C1 controls, bidirectional
 * controls and U+2028/U+2029 raw: those become `\uHHHH` JSON escapes here. With `maxChars`, cut as
 * {@link inert} cuts (never inside an escape); a cut result is for reading, not parsing.
 */
export function inertJson(value: unknown, maxChars?: number): string {
  const json = JSON.stringify(value) ?? 'null';
  // One token per JSON escape or code point; an unsafe code point becomes a JSON escape.
  const tokens = json.match(/\\u[0-9a-fA-F]{4}|\\["\\/bfnrt]|[\s\S]/gu) ?? [];
  return fit(tokens.map((t) => (UNSAFE.test(t) ? `\\u${hex(t, 4)}` : t)), maxChars);
}

/**
 * Whether text holds nothing a terminal or a reader could mistake: no control (newline included),
 * bidi or separator character, no unpaired surrogate. True of anything {@link inert} returns; check
 * an {@link inertLines} block line by line.
 */
export function isInert(text: string): boolean {
  return !ANY_UNSAFE.test(text);
}

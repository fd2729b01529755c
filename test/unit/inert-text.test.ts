import { inert, inertDeep, inertJson, inertLines, isInert } from '../../lambdas/shared/inert-text';

/** Untrusted text (alarm names, reasons, dimensions, event fields) as medic shows it to a human. */

const ESC = '\u001b';

describe('inert: every class of hostile character becomes a visible escape', () => {
  test.each<[string, string, string]>([
    ['ESC/CSI colour', `api-5xx${ESC}[31mRED${ESC}[0m`, 'api-5xx\\x1b[31mRED\\x1b[0m'],
    ['CSI clear screen and cursor home', `${ESC}[2J${ESC}[H`, '\\x1b[2J\\x1b[H'],
    ['CSI cursor movement', `a${ESC}[1A${ESC}[2K${ESC}[10Cb`, 'a\\x1b[1A\\x1b[2K\\x1b[10Cb'],
    ['OSC window title, BEL-terminated', `${ESC}]0;pwned\u0007x`, '\\x1b]0;pwned\\x07x'],
    ['OSC hyperlink, ST-terminated', `${ESC}]8;;https://evil.example${ESC}\\click${ESC}]8;;${ESC}\\`, '\\x1b]8;;https://evil.example\\x1b\\\\click\\x1b]8;;\\x1b\\\\'],
    ['lone ESC', `${ESC}`, '\\x1b'],
    ['carriage return overwriting the line', 'api-5xx\rOK     ', 'api-5xx\\rOK     '],
    ['newline forging a line', 'api-5xx\nWHAT MEDIC DID: nothing', 'api-5xx\\nWHAT MEDIC DID: nothing'],
    ['tab, vertical tab, form feed, backspace', 'a\tb\u000bc\u000cd\be', 'a\\tb\\x0bc\\x0cd\\x08e'],
    ['NUL', 'a\u0000b', 'a\\x00b'],
    ['DEL', 'a\u007fb', 'a\\x7fb'],
    ['C1 8-bit CSI and NEL', 'a\u009b31mb\u0085c', 'a\\x9b31mb\\x85c'],
    ['bidi right-to-left override', 'safe\u202eexe.txt', 'safe\\u202eexe.txt'],
    ['every bidi control', '\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u200e\u200f\u061c', '\\u202a\\u202b\\u202c\\u202d\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c'],
    ['line and paragraph separators', 'a\u2028b\u2029c', 'a\\u2028b\\u2029c'],
    ['unpaired surrogates', 'a\ud800b\udc00', 'a\\ud800b\\udc00'],
    ['backslash (a typed "\\n" is not an escaped newline)', 'a\\nb\\', 'a\\\\nb\\\\'],
  ])('%s', (_case, hostile, shown) => {
    expect(inert(hostile)).toBe(shown);
    expect(isInert(inert(hostile))).toBe(true);
    expect(isInert(hostile)).toBe(_case.startsWith('backslash'));
  });

  test('printable Unicode stays as it is', () => {
    const printable = 'café Ünïcødé 東京 데이터베이스 مرحبا 👩‍💻 🇪🇺 ✓ — “quotes” …';
    expect(inert(printable)).toBe(printable);
    expect(isInert(printable)).toBe(true);
  });

  test('anything is shown as String() shows it', () => {
    expect(inert(42)).toBe('42');
    expect(inert(undefined)).toBe('undefined');
    expect(inert(null)).toBe('null');
    expect(inert(new Error(`boom${ESC}[2J`))).toBe('Error: boom\\x1b[2J');
    expect(inert(Object.create(null))).toBe('[object Object]');
  });

  test('escaping is reversible: different texts never look the same', () => {
    const texts = ['a\nb', 'a\\nb', 'a\\\nb', 'a\u001bb', 'a\\x1bb', 'a\u202eb', 'a\\u202eb'];
    expect(new Set(texts.map((t) => inert(t))).size).toBe(texts.length);
  });
});

describe('inert truncation: after escaping, never inside an escape', () => {
  test('short text is untouched; long text ends in a marker and fits maxChars', () => {
    expect(inert('api-5xx', 7)).toBe('api-5xx');
    const cut = inert('x'.repeat(100), 40);
    expect(cut).toBe(`${'x'.repeat(19)}…(81 more characters)`);
    expect(cut.length).toBe(40);
  });

  test('a cut never splits an escape, whatever the limit', () => {
    const hostile = `${ESC}[31m\u202e\\\n`.repeat(20);
    const escapes = /\\x[0-9a-f]{2}|\\u[0-9a-f]{4}|\\[nrt\\]/g;
    for (let max = 24; max < 140; max++) {
      const cut = inert(hostile, max);
      expect(cut.length).toBeLessThanOrEqual(max);
      const [shown, omitted] = /^([\s\S]*)…\((\d+) more characters\)$/.exec(cut)!.slice(1);
      // What is shown is a whole prefix of the escaped text, and the count is of the original characters left out.
      expect(inert(hostile).startsWith(shown)).toBe(true);
      expect(shown.replace(escapes, '')).not.toContain('\\');
      expect(inert([...hostile].slice(0, [...hostile].length - Number(omitted)).join(''))).toBe(shown);
    }
  });

  test('a cut never splits a surrogate pair (emoji)', () => {
    const cut = inert('😀'.repeat(30), 30);
    expect(cut).toBe(`${'😀'.repeat(4)}…(26 more characters)`);
    expect(isInert(cut)).toBe(true);
  });
});

describe('inertLines: real line breaks, everything else escaped', () => {
  test('keeps \\n, escapes \\r, ESC, bidi and separators', () => {
    const tail = `removed 3 files\r\nfreed 2 GiB${ESC}[2K\nWHAT MEDIC DID: nothing\u2028forged\u202e`;
    expect(inertLines(tail)).toBe('removed 3 files\\r\nfreed 2 GiB\\x1b[2K\nWHAT MEDIC DID: nothing\\u2028forged\\u202e');
    for (const line of inertLines(tail).split('\n')) expect(isInert(line)).toBe(true);
  });

  test('truncates after escaping', () => {
    expect(inertLines('line 1\r\nline 2\nline 3\nline 4\nline 5', 30)).toBe('line 1\\r\n…(27 more characters)');
    expect(inertLines('line 1\r\nline 2\nline 3\nline 4\nline 5', 28)).toBe('line 1…(29 more characters)');
  });
});

describe('inertDeep: a JSON value with every string made inert', () => {
  test('nested objects and arrays, hostile keys and values; other values kept', () => {
    const detail = {
      trigger: { kind: 'alarm', name: `api${ESC}[2J\nWHAT MEDIC DID: nothing`, dimensions: { [`Service${ESC}]0;x\u0007`]: 'api\u202e' } },
      calls: [{ n: 1, ok: true, none: null, args: ['a\rb', ['\u2028']] }],
      [`key\nforged`]: 'value',
    };
    const original = JSON.parse(JSON.stringify(detail));
    expect(inertDeep(detail)).toEqual({
      trigger: { kind: 'alarm', name: 'api\\x1b[2J\\nWHAT MEDIC DID: nothing', dimensions: { 'Service\\x1b]0;x\\x07': 'api\\u202e' } },
      calls: [{ n: 1, ok: true, none: null, args: ['a\\rb', ['\\u2028']] }],
      'key\\nforged': 'value',
    });
    expect(detail).toEqual(original); // a copy: the value itself is left alone
  });

  test('a __proto__ key stays a key, not a prototype', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": "\\u001b"}}') as unknown;
    const copy = inertDeep(parsed) as Record<string, unknown>;
    expect(Object.keys(copy)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
  });
});

describe('inertJson: JSON that is safe to print and parses back exactly', () => {
  test('escapes what JSON.stringify leaves raw, and nothing twice', () => {
    const value = { name: `a${ESC}[31m\nb`, bidi: 'x\u202ey', sep: '\u2028\u2029', del: '\u007f\u009b', quote: 'say "hi" \\o/', ok: 'café 👩‍💻' };
    const json = inertJson(value);
    expect(json).toBe('{"name":"a\\u001b[31m\\nb","bidi":"x\\u202ey","sep":"\\u2028\\u2029","del":"\\u007f\\u009b","quote":"say \\"hi\\" \\\\o/","ok":"café 👩‍💻"}');
    expect(isInert(json)).toBe(true);
    expect(JSON.parse(json)).toEqual(value);
    expect(JSON.stringify(value)).toContain('\u202e'); // what it fixes
  });

  test('a cut for reading never splits an escape', () => {
    const json = inertJson({ reason: '\u202e'.repeat(50) });
    for (let max = 24; max < 80; max++) {
      const cut = inertJson({ reason: '\u202e'.repeat(50) }, max);
      const shown = cut.slice(0, cut.indexOf('…'));
      expect(json.startsWith(shown)).toBe(true);
      expect(shown.replace(/\\u202e/g, '')).not.toContain('\\');
    }
  });
});

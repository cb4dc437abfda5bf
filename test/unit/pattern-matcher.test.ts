import { describe, expect, it } from 'vitest';
import {
  matchesPattern,
  UnsupportedPatternError,
  validatePattern,
} from '../../shared/bus/pattern-matcher.ts';

type Pattern = Record<string, unknown>;
type Event = Record<string, unknown>;

/** Every fixture is [name, pattern, event, expected]; events only carry the fields under test. */
type Fixture = [string, Pattern, Event, boolean];

const literals: Fixture[] = [
  ['string equal', { s: ['running'] }, { s: 'running' }, true],
  ['string differs', { s: ['running'] }, { s: 'Running' }, false],
  ['empty string', { s: [''] }, { s: '' }, true],
  ['empty string is not null', { s: [''] }, { s: null }, false],
  ['number equal', { n: [5] }, { n: 5 }, true],
  ['number compares numerically (5 vs 5.0)', { n: [5] }, JSON.parse('{ "n": 5.0 }'), true],
  ['number in exponent form', { n: [301.8] }, JSON.parse('{ "n": 3.018e2 }'), true],
  ['number is not its string form', { n: [5] }, { n: '5' }, false],
  ['boolean', { b: [true] }, { b: true }, true],
  ['boolean is not its string form', { b: [true] }, { b: 'true' }, false],
  ['null matches a present null', { v: [null] }, { v: null }, true],
  ['null does not match a missing field', { v: [null] }, {}, false],
  ['null is not the empty string', { v: [null] }, { v: '' }, false],
  ['a literal does not match a missing field', { s: ['x'] }, {}, false],
  ['a literal does not match an object value', { s: ['x'] }, { s: { x: 1 } }, false],
];

const operators: Fixture[] = [
  ['prefix', { t: [{ prefix: '2017-10-02' }] }, { t: '2017-10-02T18:43:48Z' }, true],
  ['prefix mismatch', { t: [{ prefix: '2017-10-02' }] }, { t: '2017-10-03T00:00:00Z' }, false],
  ['prefix is case-sensitive', { t: [{ prefix: 'Ship' }] }, { t: 'shipment' }, false],
  ['prefix ignores numbers', { t: [{ prefix: '12' }] }, { t: 123 }, false],
  ['prefix ignore-case', { s: [{ prefix: { 'equals-ignore-case': 'EventB' } }] }, { s: 'eventbridge' }, true],
  [
    'prefix ignore-case mismatch',
    { s: [{ prefix: { 'equals-ignore-case': 'EventB' } }] },
    { s: 'sns' },
    false,
  ],
  ['suffix', { f: [{ suffix: '.png' }] }, { f: 'photo.png' }, true],
  ['suffix mismatch', { f: [{ suffix: '.png' }] }, { f: 'photo.PNG' }, false],
  ['suffix ignore-case', { f: [{ suffix: { 'equals-ignore-case': '.png' } }] }, { f: 'photo.PNG' }, true],
  [
    'suffix ignore-case mismatch',
    { f: [{ suffix: { 'equals-ignore-case': '.png' } }] },
    { f: 'a.jpg' },
    false,
  ],
  ['equals-ignore-case', { n: [{ 'equals-ignore-case': 'alice' }] }, { n: 'ALICE' }, true],
  ['equals-ignore-case mismatch', { n: [{ 'equals-ignore-case': 'alice' }] }, { n: 'alicia' }, false],
  ['equals-ignore-case ignores non-strings', { n: [{ 'equals-ignore-case': 'true' }] }, { n: true }, false],
  ['wildcard', { k: [{ wildcard: 'dir/*.png' }] }, { k: 'dir/a/b.png' }, true],
  ['wildcard mismatch', { k: [{ wildcard: 'dir/*.png' }] }, { k: 'dir/a/b.jpg' }, false],
  ['wildcard star matches an empty run', { k: [{ wildcard: 'a*b' }] }, { k: 'ab' }, true],
  [
    'wildcard with several stars',
    { k: [{ wildcard: '*:event-bus/*' }] },
    { k: 'arn:x:event-bus/main' },
    true,
  ],
  ['wildcard escaped star is literal', { k: [{ wildcard: 'a\\*b' }] }, { k: 'a*b' }, true],
  ['wildcard escaped star is not a wildcard', { k: [{ wildcard: 'a\\*b' }] }, { k: 'axb' }, false],
  ['wildcard escaped backslash', { k: [{ wildcard: 'a\\\\b' }] }, { k: 'a\\b' }, true],
  ['wildcard regex characters are literal', { k: [{ wildcard: 'a.b' }] }, { k: 'axb' }, false],
  ['wildcard ignores numbers', { k: [{ wildcard: '1*' }] }, { k: 12 }, false],
  ['anything-but string', { s: [{ 'anything-but': 'initializing' }] }, { s: 'running' }, true],
  ['anything-but string excluded', { s: [{ 'anything-but': 'initializing' }] }, { s: 'initializing' }, false],
  ['anything-but needs the field present', { s: [{ 'anything-but': 'initializing' }] }, {}, false],
  ['anything-but accepts a present null', { s: [{ 'anything-but': 'initializing' }] }, { s: null }, true],
  ['anything-but number', { x: [{ 'anything-but': 123 }] }, { x: 124 }, true],
  ['anything-but number excluded', { x: [{ 'anything-but': 123 }] }, { x: 123 }, false],
  ['anything-but number vs its string form', { x: [{ 'anything-but': 123 }] }, { x: '123' }, true],
  [
    'anything-but string list',
    { s: [{ 'anything-but': ['stopped', 'overloaded'] }] },
    { s: 'running' },
    true,
  ],
  [
    'anything-but string list excluded',
    { s: [{ 'anything-but': ['stopped', 'overloaded'] }] },
    { s: 'stopped' },
    false,
  ],
  ['anything-but number list', { x: [{ 'anything-but': [100, 200, 300] }] }, { x: 301.8 }, true],
  ['anything-but number list excluded', { x: [{ 'anything-but': [100, 200, 300] }] }, { x: 200 }, false],
  ['anything-but prefix', { r: [{ 'anything-but': { prefix: 'us-' } }] }, { r: 'eu-west-1' }, true],
  ['anything-but prefix excluded', { r: [{ 'anything-but': { prefix: 'us-' } }] }, { r: 'us-east-1' }, false],
  [
    'anything-but prefix passes non-strings',
    { r: [{ 'anything-but': { prefix: 'init' } }] },
    { r: 12 },
    true,
  ],
  [
    'anything-but prefix list',
    { r: [{ 'anything-but': { prefix: ['us-', 'ca-'] } }] },
    { r: 'ca-central-1' },
    false,
  ],
  ['anything-but suffix', { f: [{ 'anything-but': { suffix: '.png' } }] }, { f: 'a.jpg' }, true],
  ['anything-but suffix excluded', { f: [{ 'anything-but': { suffix: '.png' } }] }, { f: 'a.png' }, false],
  [
    'anything-but equals-ignore-case',
    { s: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] },
    { s: 'running' },
    true,
  ],
  [
    'anything-but equals-ignore-case excluded',
    { s: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] },
    { s: 'INITIALIZING' },
    false,
  ],
  [
    'anything-but equals-ignore-case list excluded',
    { s: [{ 'anything-but': { 'equals-ignore-case': ['initializing', 'stopped'] } }] },
    { s: 'Stopped' },
    false,
  ],
  ['anything-but wildcard', { p: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, { p: '/usr/bin/x' }, true],
  [
    'anything-but wildcard excluded',
    { p: [{ 'anything-but': { wildcard: '*/lib/*' } }] },
    { p: '/usr/lib/x' },
    false,
  ],
  ['exists true', { s: [{ exists: true }] }, { s: 'pending' }, true],
  ['exists true on a missing field', { s: [{ exists: true }] }, {}, false],
  ['exists true on a present null', { s: [{ exists: true }] }, { s: null }, true],
  ['exists true on an intermediate object', { s: [{ exists: true }] }, { s: { S: 'x' } }, false],
  ['exists true on an empty array', { s: [{ exists: true }] }, { s: [] }, false],
  ['exists false on a missing field', { s: [{ exists: false }] }, { other: 1 }, true],
  ['exists false on a present field', { s: [{ exists: false }] }, { s: 'pending' }, false],
  ['exists false when the parent is missing', { d: { s: [{ exists: false }] } }, {}, true],
  ['exists false on an intermediate object', { s: [{ exists: false }] }, { s: { c1: 100 } }, true],
  ['numeric range', { c: [{ numeric: ['>', 0, '<=', 5] }] }, { c: 5 }, true],
  ['numeric range, open bottom', { c: [{ numeric: ['>', 0, '<=', 5] }] }, { c: 0 }, false],
  ['numeric range, above top', { c: [{ numeric: ['>', 0, '<=', 5] }] }, { c: 5.000001 }, false],
  ['numeric closed bottom', { c: [{ numeric: ['>=', 0, '<', 5] }] }, { c: 0 }, true],
  ['numeric open top', { c: [{ numeric: ['>=', 0, '<', 5] }] }, { c: 5 }, false],
  ['numeric <', { d: [{ numeric: ['<', 10] }] }, { d: 9.5 }, true],
  ['numeric < mismatch', { d: [{ numeric: ['<', 10] }] }, { d: 10 }, false],
  ['numeric <=', { d: [{ numeric: ['<=', 10] }] }, { d: 10 }, true],
  ['numeric >', { d: [{ numeric: ['>', 10] }] }, { d: 11 }, true],
  ['numeric >=', { d: [{ numeric: ['>=', 10] }] }, { d: 9 }, false],
  ['numeric =', { x: [{ numeric: ['=', 3.018e2] }] }, { x: 301.8 }, true],
  ['numeric = mismatch', { x: [{ numeric: ['=', 3.018e2] }] }, { x: 301.9 }, false],
  ['numeric ignores numeric strings', { c: [{ numeric: ['>', 0] }] }, { c: '3' }, false],
  ['numeric ignores null', { c: [{ numeric: ['>', 100] }] }, { c: null }, false],
];

const arrays: Fixture[] = [
  ['any element matches a literal', { r: ['arn:2'] }, { r: ['arn:1', 'arn:2'] }, true],
  ['no element matches', { r: ['arn:3'] }, { r: ['arn:1', 'arn:2'] }, false],
  ['any pattern value meets any element', { r: ['arn:9', 'arn:1'] }, { r: ['arn:1', 'arn:2'] }, true],
  ['nested arrays are flattened', { r: ['b'] }, { r: [['a'], ['b']] }, true],
  ['an empty array holds no null', { r: [null] }, { r: [] }, false],
  ['prefix on an array', { r: [{ prefix: 'arn:' }] }, { r: [1, 'arn:x'] }, true],
  ['numeric on an array', { c: [{ numeric: ['>', 10] }] }, { c: [1, 2, 30] }, true],
  [
    'anything-but on an array matches if some element is not excluded',
    { s: [{ 'anything-but': 'a' }] },
    { s: ['a', 'b'] },
    true,
  ],
  [
    'anything-but on an array of only excluded values',
    { s: [{ 'anything-but': 'a' }] },
    { s: ['a', 'a'] },
    false,
  ],
  ['anything-but on an empty array', { s: [{ 'anything-but': 'a' }] }, { s: [] }, false],
  [
    'a nested pattern descends into an array of objects',
    { employees: { firstName: ['Anna'] } },
    { employees: [{ firstName: 'John' }, { firstName: 'Anna' }] },
    true,
  ],
  [
    'nested fields must match within the same array element',
    { employees: { firstName: ['Anna'], lastName: ['Jones'] } },
    {
      employees: [
        { firstName: 'Anna', lastName: 'Smith' },
        { firstName: 'Peter', lastName: 'Jones' },
      ],
    },
    false,
  ],
  [
    'nested fields matching in one element',
    { employees: { firstName: ['Anna'], lastName: ['Smith'] } },
    {
      employees: [
        { firstName: 'John', lastName: 'Doe' },
        { firstName: 'Anna', lastName: 'Smith' },
      ],
    },
    true,
  ],
];

const structure: Fixture[] = [
  ['nested path', { detail: { state: ['running'] } }, { detail: { state: 'running' } }, true],
  ['nested path mismatch', { detail: { state: ['running'] } }, { detail: { state: 'stopped' } }, false],
  ['nested path missing', { detail: { state: ['running'] } }, { state: 'running' }, false],
  ['deep path', { a: { b: { c: { d: [1] } } } }, { a: { b: { c: { d: 1 } } } }, true],
  ['AND: every field matches', { a: ['1'], b: ['2'] }, { a: '1', b: '2', c: '3' }, true],
  ['AND: one field fails', { a: ['1'], b: ['2'] }, { a: '1', b: '3' }, false],
  ['AND: one field missing', { a: ['1'], b: ['2'] }, { a: '1' }, false],
  ['OR: first value', { s: ['a', 'b'] }, { s: 'a' }, true],
  ['OR: second value', { s: ['a', 'b'] }, { s: 'b' }, true],
  ['OR: neither value', { s: ['a', 'b'] }, { s: 'c' }, false],
  ['OR across operators', { s: [{ prefix: 'x' }, { suffix: 'y' }, 5] }, { s: 'ay' }, true],
  ['OR with exists false', { s: ['a', { exists: false }] }, {}, true],
  ['own keys only', { toString: [{ exists: true }] }, {}, false],
];

describe('matchesPattern', () => {
  it.each(literals)('literal: %s', (_name, pattern, event, expected) => {
    expect(matchesPattern(pattern, event)).toBe(expected);
  });

  it.each(operators)('operator: %s', (_name, pattern, event, expected) => {
    expect(matchesPattern(pattern, event)).toBe(expected);
  });

  it.each(arrays)('array: %s', (_name, pattern, event, expected) => {
    expect(matchesPattern(pattern, event)).toBe(expected);
  });

  it.each(structure)('structure: %s', (_name, pattern, event, expected) => {
    expect(matchesPattern(pattern, event)).toBe(expected);
  });

  describe('the record-events route pattern', () => {
    const pattern = {
      source: ['h20-tracker.api'],
      'detail-type': [{ prefix: 'shipment.' }, { prefix: 'licence.' }],
    };
    const event = {
      source: 'h20-tracker.api',
      'detail-type': 'shipment.held',
      detail: { shipmentId: 'S-1', reason: 'licence pending' },
    };

    it('matches an API shipment event', () => {
      expect(matchesPattern(pattern, event)).toBe(true);
    });

    it('matches an API licence event', () => {
      expect(matchesPattern(pattern, { ...event, 'detail-type': 'licence.granted' })).toBe(true);
    });

    it('rejects another source', () => {
      expect(matchesPattern(pattern, { ...event, source: 'other' })).toBe(false);
    });

    it('rejects a detail-type outside the prefixes', () => {
      expect(matchesPattern(pattern, { ...event, 'detail-type': 'inventory.counted' })).toBe(false);
    });
  });

  it('gives the same answers when a compiled pattern is reused', () => {
    const pattern = { s: [{ prefix: 'a' }] };
    expect([matchesPattern(pattern, { s: 'ab' }), matchesPattern(pattern, { s: 'b' })]).toEqual([
      true,
      false,
    ]);
    expect(matchesPattern(pattern, { s: 'ac' })).toBe(true);
  });
});

/** Operators AWS accepts but the local matcher refuses, and operator forms AWS itself rejects. */
const refused: [string, Pattern][] = [
  ['cidr', { detail: { ip: [{ cidr: '10.0.0.0/24' }] } }],
  ['$or at the top', { $or: [{ a: ['1'] }, { b: ['2'] }] }],
  ['$or nested', { detail: { $or: [{ a: ['1'] }, { b: ['2'] }] } }],
  ['a dotted key, which AWS conflates with a nested path', { detail: { 'state.status': ['running'] } }],
  ['unknown operator', { s: [{ contains: 'x' }] }],
  ['operator names are case-sensitive', { s: [{ Prefix: 'x' }] }],
  ['operator object with two keys', { s: [{ prefix: 'a', suffix: 'b' }] }],
  ['empty operator object', { s: [{}] }],
  ['prefix with a number', { s: [{ prefix: 1 }] }],
  ['prefix with a list', { s: [{ prefix: ['a', 'b'] }] }],
  ['prefix with another nested operator', { s: [{ prefix: { wildcard: 'a*' } }] }],
  ['prefix ignore-case with an extra key', { s: [{ prefix: { 'equals-ignore-case': 'a', x: 'b' } }] }],
  ['suffix with a number', { s: [{ suffix: 1 }] }],
  ['equals-ignore-case with a list', { s: [{ 'equals-ignore-case': ['a'] }] }],
  ['wildcard with consecutive stars', { s: [{ wildcard: 'a**b' }] }],
  ['wildcard with a bad escape', { s: [{ wildcard: 'a\\b' }] }],
  ['wildcard with a trailing backslash', { s: [{ wildcard: 'a\\' }] }],
  ['wildcard with a number', { s: [{ wildcard: 1 }] }],
  ['exists with a string', { s: [{ exists: 'yes' }] }],
  ['numeric not an array', { n: [{ numeric: 5 }] }],
  ['numeric with one term', { n: [{ numeric: ['>'] }] }],
  ['numeric with three terms', { n: [{ numeric: ['>', 0, '<'] }] }],
  ['numeric with a string operand', { n: [{ numeric: ['>', '5'] }] }],
  ['numeric with an unknown comparator', { n: [{ numeric: ['!=', 1] }] }],
  ['numeric with two lower bounds', { n: [{ numeric: ['>', 0, '>', 10] }] }],
  ['numeric with the upper bound first', { n: [{ numeric: ['<', 5, '>', 0] }] }],
  ['numeric with = in a range', { n: [{ numeric: ['=', 1, '<', 3] }] }],
  ['numeric with an empty range', { n: [{ numeric: ['>', 5, '<', 5] }] }],
  ['numeric with five terms', { n: [{ numeric: ['>', 0, '<', 5, 6] }] }],
  ['anything-but boolean', { s: [{ 'anything-but': true }] }],
  ['anything-but null', { s: [{ 'anything-but': null }] }],
  ['anything-but empty list', { s: [{ 'anything-but': [] }] }],
  ['anything-but mixed list', { s: [{ 'anything-but': ['a', 1] }] }],
  ['anything-but unknown operator', { s: [{ 'anything-but': { regex: 'a' } }] }],
  ['anything-but numeric', { s: [{ 'anything-but': { numeric: ['>', 5] } }] }],
  ['anything-but with two operators', { s: [{ 'anything-but': { prefix: 'a', suffix: 'b' } }] }],
  ['anything-but empty prefix', { s: [{ 'anything-but': { prefix: '' } }] }],
  ['anything-but prefix ignore-case', { s: [{ 'anything-but': { prefix: { 'equals-ignore-case': 'a' } } }] }],
  ['anything-but prefix with a number', { s: [{ 'anything-but': { prefix: [1] } }] }],
];

/** Structurally malformed patterns: plain errors, not "unsupported". */
const malformed: [string, Pattern][] = [
  ['a string leaf', { s: 'x' }],
  ['a number leaf', { n: 5 }],
  ['a null leaf', { n: null }],
  ['an empty array', { s: [] }],
  ['an empty nested object', { detail: {} }],
  ['an empty pattern', {}],
  ['a nested array in a leaf', { s: [['x']] }],
];

describe('validatePattern', () => {
  it.each([
    { source: ['h20-tracker.api'], 'detail-type': [{ prefix: 'shipment.' }, { prefix: 'licence.' }] },
    { detail: { n: [{ numeric: ['>=', 0, '<', 1] }], s: [{ 'anything-but': { wildcard: ['a*', 'b*'] } }] } },
  ])('accepts supported pattern %#', (pattern) => {
    expect(() => validatePattern(pattern)).not.toThrow();
  });

  it.each(refused)('refuses %s', (_name, pattern) => {
    expect(() => validatePattern(pattern)).toThrow(UnsupportedPatternError);
    expect(() => matchesPattern(pattern, { s: 'x', n: 1 })).toThrow(UnsupportedPatternError);
  });

  it.each(malformed)('rejects %s as malformed', (_name, pattern) => {
    let caught: unknown;
    try {
      validatePattern(pattern);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(Error);
    expect(caught).not.toBeInstanceOf(UnsupportedPatternError);
  });

  it('names the refused operator and its path', () => {
    expect(() => validatePattern({ detail: { ip: [{ cidr: '10.0.0.0/24' }] } })).toThrow(
      /"cidr" at detail\.ip/,
    );
    expect(() => validatePattern({ detail: { $or: [] } })).toThrow(/"\$or" at detail\.\$or/);
  });
});

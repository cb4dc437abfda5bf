/**
 * EventBridge event-pattern matching for the local bus, following AWS Event Ruler (the engine behind
 * EventBridge) for the operators handled in `compileElement`. Patterns are compiled into predicates, so
 * anything this module cannot evaluate exactly is refused up front rather than routed differently from AWS.
 */

type Scalar = string | number | boolean | null;
/** Tests the leaf values found at one path (event arrays flattened; an empty list means "absent"). */
type FieldTest = (values: readonly Scalar[]) => boolean;
type ScalarTest = (value: Scalar) => boolean;
type ObjectTest = (node: Record<string, unknown> | undefined) => boolean;

/** A pattern uses an operator, or an operator form, that this matcher deliberately does not implement. */
export class UnsupportedPatternError extends Error {
  override name = 'UnsupportedPatternError';
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isScalar = (value: unknown): value is Scalar =>
  value === null || ['string', 'number', 'boolean'].includes(typeof value);
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isString = (value: unknown): value is string => typeof value === 'string';
const some =
  (test: ScalarTest): FieldTest =>
  (values) =>
    values.some(test);

/** Objects are intermediate nodes, not values: `exists` and literals only ever see scalars. */
const leafValues = (value: unknown): Scalar[] =>
  Array.isArray(value) ? value.flatMap(leafValues) : isScalar(value) ? [value] : [];
const objectsIn = (node: unknown): Record<string, unknown>[] =>
  Array.isArray(node) ? node.flatMap(objectsIn) : isRecord(node) ? [node] : [];

const COMPARATORS = new Map<string, (value: number, operand: number) => boolean>([
  ['=', (value, operand) => value === operand],
  ['<', (value, operand) => value < operand],
  ['<=', (value, operand) => value <= operand],
  ['>', (value, operand) => value > operand],
  ['>=', (value, operand) => value >= operand],
]);

/** Ruler's grammar: `[op, n]`, or a lower bound followed by an upper bound with low < high. */
function compileNumeric(arg: unknown, at: string): (value: number) => boolean {
  const terms: unknown[] = Array.isArray(arg) ? arg : [];
  const [op1, n1, op2, n2] = terms;
  const first = typeof op1 === 'string' ? COMPARATORS.get(op1) : undefined;
  if (first && isNumber(n1)) {
    if (terms.length === 2) return (value) => first(value, n1);
    const second = op2 === '<' || op2 === '<=' ? COMPARATORS.get(op2) : undefined;
    if (terms.length === 4 && (op1 === '>' || op1 === '>=') && second && isNumber(n2) && n1 < n2) {
      return (value) => first(value, n1) && second(value, n2);
    }
  }
  throw new UnsupportedPatternError(
    `"numeric" at ${at} must be [op, number] or [">"|">=", low, "<"|"<=", high]; got ${JSON.stringify(arg)}`,
  );
}

/** `*` matches any run of characters; `\*` and `\\` are the only escapes AWS accepts. */
function compileWildcard(source: string, at: string): RegExp {
  let body = '';
  for (let i = 0; i < source.length; i++) {
    let char = source.charAt(i);
    if (char === '*') {
      if (source.charAt(i + 1) === '*') throw new UnsupportedPatternError(`"wildcard" at ${at} has '**'`);
      body += '.*';
      continue;
    }
    if (char === '\\') {
      char = source.charAt(++i);
      if (char !== '*' && char !== '\\') {
        throw new UnsupportedPatternError(`"wildcard" at ${at} has a bad escape`);
      }
    }
    body += char.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
  }
  return new RegExp(`^${body}$`, 's');
}

const STRING_OPERATORS = new Set(['prefix', 'suffix', 'equals-ignore-case', 'wildcard']);

/** The string operators shared by plain leaves and `anything-but`; values that are not strings never match. */
function compileStringTest(op: string, needles: readonly string[], fold: boolean, at: string): ScalarTest {
  const cased = (text: string) => (fold ? text.toLowerCase() : text);
  const wanted = needles.map(cased);
  switch (op) {
    case 'prefix':
      return (value) => isString(value) && wanted.some((needle) => cased(value).startsWith(needle));
    case 'suffix':
      return (value) => isString(value) && wanted.some((needle) => cased(value).endsWith(needle));
    case 'equals-ignore-case':
      return (value) => isString(value) && wanted.includes(value.toLowerCase());
    case 'wildcard': {
      const regexps = needles.map((needle) => compileWildcard(needle, at));
      return (value) => isString(value) && regexps.some((regexp) => regexp.test(value));
    }
    default:
      throw new UnsupportedPatternError(`Operator "${op}" at ${at} is not supported by the local matcher`);
  }
}

/** Returns the test for "the value is excluded"; a value of another type is never excluded (as in AWS). */
function compileAnythingBut(arg: unknown, at: string): ScalarTest {
  const where = `"anything-but" at ${at}`;
  if (isString(arg) || isNumber(arg)) return (value) => value === arg;
  if (Array.isArray(arg)) {
    if (arg.length === 0 || !(arg.every(isString) || arg.every(isNumber))) {
      throw new UnsupportedPatternError(`${where} needs a non-empty list of only strings or only numbers`);
    }
    const excluded = new Set<unknown>(arg);
    return (value) => excluded.has(value);
  }
  const [op, ...extra] = isRecord(arg) ? Object.keys(arg) : [];
  const operand = isRecord(arg) && op !== undefined ? arg[op] : undefined;
  const needles: unknown[] = isString(operand) ? [operand] : Array.isArray(operand) ? operand : [];
  if (op === undefined || extra.length > 0 || needles.length === 0 || !needles.every(isString)) {
    throw new UnsupportedPatternError(`${where} must be a literal, a list, or one operator on strings`);
  }
  if ((op === 'prefix' || op === 'suffix') && needles.includes('')) {
    throw new UnsupportedPatternError(`${where} does not allow an empty ${op}`);
  }
  return compileStringTest(op, needles, op === 'equals-ignore-case', `${at} (in anything-but)`);
}

function compileElement(element: unknown, at: string): FieldTest {
  // JSON numbers are JS numbers, so === already gives AWS's numeric equality (5 matches 5.0).
  if (isScalar(element)) return some((value) => value === element);
  if (!isRecord(element)) throw new Error(`Pattern field ${at} holds ${JSON.stringify(element)}`);
  const [op, ...extra] = Object.keys(element);
  if (op === undefined || extra.length > 0) {
    throw new UnsupportedPatternError(`Operator object at ${at} must have exactly one key`);
  }
  const arg = element[op];
  switch (op) {
    case 'exists':
      if (typeof arg !== 'boolean') {
        throw new UnsupportedPatternError(`"exists" at ${at} takes true or false`);
      }
      return (values) => values.length > 0 === arg;
    case 'numeric': {
      const inRange = compileNumeric(arg, at);
      return some((value) => isNumber(value) && inRange(value));
    }
    case 'anything-but': {
      // A missing field has no values, so `some` gives AWS's rule that anything-but needs the field present.
      const excluded = compileAnythingBut(arg, at);
      return some((value) => !excluded(value));
    }
  }
  if (!STRING_OPERATORS.has(op)) {
    throw new UnsupportedPatternError(`Operator "${op}" at ${at} is not supported by the local matcher`);
  }
  const affix = op === 'prefix' || op === 'suffix';
  const folded =
    affix && isRecord(arg) && Object.keys(arg).length === 1 ? arg['equals-ignore-case'] : undefined;
  const needle = isString(folded) ? folded : arg;
  if (!isString(needle)) {
    const extraForm = affix ? ' or { "equals-ignore-case": string }' : '';
    throw new UnsupportedPatternError(`"${op}" at ${at} takes a string${extraForm}`);
  }
  return some(compileStringTest(op, [needle], isString(folded) || op === 'equals-ignore-case', at));
}

function compileObject(pattern: Record<string, unknown>, path: string): ObjectTest {
  const entries = Object.entries(pattern);
  if (entries.length === 0) throw new Error(`Pattern ${path || '(root)'} is an empty object`);
  const tests = entries.map(([key, sub]): ObjectTest => {
    const at = path ? `${path}.${key}` : key;
    if (key === '$or') throw new UnsupportedPatternError(`"$or" at ${at} is not supported`);
    // AWS joins paths with dots, so "a.b" would also match { a: { b } }: ambiguous, hence refused.
    if (key.includes('.')) throw new UnsupportedPatternError(`Dotted key at ${at} is not supported`);
    const child = (node: Record<string, unknown> | undefined) =>
      node && Object.hasOwn(node, key) ? node[key] : undefined;
    if (isRecord(sub)) {
      const inner = compileObject(sub, at);
      // A nested pattern must hold within one element of an event array, as EventBridge requires.
      return (node) => {
        const candidates = objectsIn(child(node));
        return candidates.length === 0 ? inner(undefined) : candidates.some(inner);
      };
    }
    if (!Array.isArray(sub) || sub.length === 0) {
      throw new Error(`Pattern field ${at} must be a non-empty array or an object`);
    }
    const elements = sub.map((element) => compileElement(element, at));
    return (node) => {
      const values = leafValues(child(node));
      return elements.some((test) => test(values));
    };
  });
  return (node) => tests.every((test) => test(node));
}

function compile(pattern: Record<string, unknown>): ObjectTest {
  if (!isRecord(pattern)) throw new Error('An event pattern must be a JSON object');
  return compileObject(pattern, '');
}

const compiled = new WeakMap<object, ObjectTest>();

/**
 * Throws unless the matcher can evaluate `pattern` exactly as EventBridge would: an
 * {@link UnsupportedPatternError} for refused operators or operator forms (`cidr`, `$or`, unknown keys,
 * malformed operands), a plain `Error` for malformed structure (a leaf that is not an array, `[]`, `{}`).
 *
 * @example
 * validatePattern({ source: ['h20-tracker.api'] }); // ok
 * validatePattern({ detail: { ip: [{ cidr: '10.0.0.0/24' }] } }); // throws UnsupportedPatternError
 */
export function validatePattern(pattern: Record<string, unknown>): void {
  compile(pattern);
}

/**
 * Whether `event` matches `pattern` under EventBridge semantics. The pattern is validated and compiled on
 * first use and cached by identity, so treat a pattern as immutable once it has been matched.
 *
 * @example
 * matchesPattern(
 *   { source: ['h20-tracker.api'], 'detail-type': [{ prefix: 'shipment.' }] },
 *   { source: 'h20-tracker.api', 'detail-type': 'shipment.held', detail: {} },
 * ); // true
 */
export function matchesPattern(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  let test = compiled.get(pattern);
  if (!test) {
    test = compile(pattern);
    compiled.set(pattern, test);
  }
  return test(event);
}

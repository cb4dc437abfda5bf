import type * as z from 'zod';
import type { ProblemIssue } from './problem.ts';

/** zod's issues as the contract's `errors`: dotted paths, messages a partner can act on. */
export function issuesOf(
  error: z.ZodError,
  index?: number,
  prefix: readonly PropertyKey[] = [],
): ProblemIssue[] {
  const issues: ProblemIssue[] = [];
  // A value of the wrong type fails its schema's other checks too (an empty string "must have at least 1
  // character" where an array was due): the type is the one issue worth saying.
  const mistyped = new Set(error.issues.filter((i) => i.code === 'invalid_type').map((i) => pathOf(i.path)));
  for (const issue of error.issues) {
    if (issue.code !== 'invalid_type' && mistyped.has(pathOf(issue.path))) continue;
    const at = [...prefix, ...issue.path];
    const base = index === undefined ? {} : { index };
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        issues.push({ ...base, path: pathOf([...at, key]), message: 'is not a known field' });
      continue;
    }
    issues.push({ ...base, path: pathOf(at), message: messageOf(issue) });
  }
  return issues;
}

export const pathOf = (path: readonly PropertyKey[]): string => path.map(String).join('.');

function messageOf(issue: z.core.$ZodIssue): string {
  // Parsed with `reportInput`, a field that is absent says so, whatever message its schema carries.
  if (
    (issue.code === 'invalid_type' || issue.code === 'invalid_value') &&
    'input' in issue &&
    issue.input === undefined
  )
    return 'is required';
  if (issue.code === 'invalid_union' && 'options' in issue && Array.isArray(issue.options)) {
    return `must be one of: ${issue.options.join(', ')}`;
  }
  if (issue.code === 'invalid_value' && issue.values.length > 1)
    return `must be one of: ${issue.values.join(', ')}`;
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) return 'is required';
  if (issue.code === 'invalid_type')
    return issue.message.startsWith('Invalid input') ? `must be ${article(issue.expected)}` : issue.message;
  if (issue.code === 'too_small' || issue.code === 'too_big') return boundOf(issue);
  return issue.message;
}

/** A bound in words: `must be at most 1000000`, `must have at least 1 item`, `must have at most 500 characters`. */
function boundOf(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const small = issue.code === 'too_small';
  const limit = Number(small ? issue.minimum : issue.maximum);
  const side =
    issue.inclusive === false ? (small ? 'more than' : 'less than') : small ? 'at least' : 'at most';
  const unit =
    issue.origin === 'string'
      ? 'character'
      : issue.origin === 'array' || issue.origin === 'set'
        ? 'item'
        : undefined;
  if (!unit) return `must be ${side} ${limit}`;
  return `must have ${side} ${limit} ${unit}${limit === 1 ? '' : 's'}`;
}

const article = (expected: string): string =>
  /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;

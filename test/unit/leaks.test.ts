import { describe, expect, it } from 'vitest';
import { issuesOf } from '../../shared/api/validation.ts';
import { RegulationIssued } from '../../shared/events/regulation.ts';
import { STACK_FRAME } from '../support/leaks.ts';

describe('STACK_FRAME, the tests’ check that no trace leaks', () => {
  it('finds the frames of a real stack trace', () => {
    const stack = new Error('x').stack ?? '';
    expect(stack).toMatch(STACK_FRAME);
    expect('at file:///var/task/index.mjs:1:2345').toMatch(STACK_FRAME);
    expect('at async run (node:internal/process/task_queues:95:5)').toMatch(STACK_FRAME);
  });

  it('does not take a problem’s prose for a frame', () => {
    // A counterexample fast-check found: a bound, then a time in a later message.
    const text =
      '{"message":"must have at least 1 item"},{"message":"must be an RFC 3339 time with a zone, e.g. 2025-04-09T00:00:00Z"}';
    expect(text).not.toMatch(STACK_FRAME);
  });
});

describe('issuesOf', () => {
  it('says only the type of a value of the wrong type, not the checks it then fails', () => {
    const parsed = RegulationIssued.safeParse({ destinations: '' });
    const destinations = issuesOf(parsed.error as never).filter((i) => i.path === 'destinations');
    expect(destinations).toEqual([{ path: 'destinations', message: 'must be an array' }]);
  });
});

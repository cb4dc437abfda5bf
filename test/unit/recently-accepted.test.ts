import { describe, expect, it } from 'vitest';
import { RecentlyAccepted } from '../../shared/api/ingest.ts';

const at = (seconds: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, seconds));

describe('RecentlyAccepted', () => {
  it('keeps the first content accepted for an id, while it counts', () => {
    const recent = new RecentlyAccepted(10, 60_000);
    recent.claim([['E1', 'first']], at(0));
    recent.claim([['E1', 'second']], at(1));

    expect(recent.hashesOf(['E1', 'E2'], at(2))).toEqual(new Map([['E1', 'first']]));
  });

  it('forgets an acceptance after its time, so the id may be accepted again', () => {
    const recent = new RecentlyAccepted(10, 60_000);
    recent.claim([['E1', 'first']], at(0));

    expect(recent.hashesOf(['E1'], at(59)).get('E1')).toBe('first');
    expect(recent.hashesOf(['E1'], at(60)).size).toBe(0);
    recent.claim([['E1', 'second']], at(60));
    expect(recent.hashesOf(['E1'], at(61)).get('E1')).toBe('second');
  });

  it('claims only the ids no live entry holds, and gives claims back', () => {
    const recent = new RecentlyAccepted(10, 60_000);
    expect(recent.claim([['E1', 'a']], at(0))).toEqual(['E1']);
    expect(
      recent.claim(
        [
          ['E1', 'b'],
          ['E2', 'c'],
        ],
        at(1),
      ),
    ).toEqual(['E2']);
    recent.release(['E2']);

    expect(recent.hashesOf(['E1', 'E2'], at(2))).toEqual(new Map([['E1', 'a']]));
  });

  it('holds at most its capacity, dropping the oldest first', () => {
    const recent = new RecentlyAccepted(2, 60_000);
    recent.claim(
      [
        ['E1', 'a'],
        ['E2', 'b'],
        ['E3', 'c'],
      ],
      at(0),
    );

    expect([...recent.hashesOf(['E1', 'E2', 'E3'], at(1)).keys()]).toEqual(['E2', 'E3']);
  });
});

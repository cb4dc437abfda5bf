import { describe, expect, it } from 'vitest';
import { ReadCoalescer } from '../../shared/store/read-coalescer.ts';

/** A read that records the keys of each call and finds the keys present in `stored`. */
function reader(stored: Record<string, number>) {
  const calls: string[][] = [];
  const read = async (keys: readonly string[]) => {
    calls.push([...keys]);
    return new Map(keys.filter((k) => k in stored).map((k) => [k, stored[k] as number]));
  };
  return { calls, read };
}

describe('ReadCoalescer', () => {
  it('reads the keys of calls made in the same tick once, and answers each caller for its own keys', async () => {
    const { calls, read } = reader({ a: 1, b: 2, c: 3 });
    const loader = new ReadCoalescer(read);

    const [first, second, third] = await Promise.all([
      loader.load(['a', 'x']),
      loader.load(['b', 'a']),
      loader.load(['y']),
    ]);

    expect(calls).toEqual([['a', 'x', 'b', 'y']]);
    expect(first).toEqual(new Map([['a', 1]]));
    expect(second).toEqual(
      new Map([
        ['b', 2],
        ['a', 1],
      ]),
    );
    expect(third).toEqual(new Map());
  });

  it('starts a new read for calls made after a read went out', async () => {
    const { calls, read } = reader({ a: 1 });
    const loader = new ReadCoalescer(read);

    await loader.load(['a']);
    await loader.load(['a']);

    expect(calls).toEqual([['a'], ['a']]);
  });

  it('fails every caller of a read that fails, and recovers for the next one', async () => {
    let fail = true;
    const loader = new ReadCoalescer(async (keys: readonly string[]) => {
      if (fail) throw new Error('throttled');
      return new Map(keys.map((k) => [k, k.length]));
    });

    const results = await Promise.allSettled([loader.load(['a']), loader.load(['bb'])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);

    fail = false;
    expect(await loader.load(['bb'])).toEqual(new Map([['bb', 2]]));
  });

  it('answers an empty call at once, without reading', async () => {
    const { calls, read } = reader({});
    expect(await new ReadCoalescer(read).load([])).toEqual(new Map());
    expect(calls).toEqual([]);
  });
});

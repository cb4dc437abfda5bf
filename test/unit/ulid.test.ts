import { describe, expect, it } from 'vitest';
import { ulidGenerator } from '../../shared/util/clock.ts';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** A source that hands out the given bytes over and over. */
const bytesOf =
  (...values: number[]) =>
  (bytes: Uint8Array) => {
    for (let i = 0; i < bytes.length; i++) bytes[i] = values[i % values.length] as number;
  };

describe('ulidGenerator', () => {
  it('encodes the time as the spec does', () => {
    // The spec's example: ulid(1469918176385) starts with 01ARYZ6S41.
    const id = ulidGenerator({ now: () => 1469918176385 })();
    expect(id).toMatch(ULID);
    expect(id.slice(0, 10)).toBe('01ARYZ6S41');
  });

  it('encodes the 80 random bits big-endian, five bits per character', () => {
    expect(ulidGenerator({ now: () => 0, fillRandom: bytesOf(0) })()).toBe('0'.repeat(26));
    expect(ulidGenerator({ now: () => 0, fillRandom: bytesOf(255) })()).toBe(
      `${'0'.repeat(10)}${'Z'.repeat(16)}`,
    );
    // 0x00...01 in the first half, 0x80 00 00 00 00 in the second: 1, then 2^39 = 16 * 32^7.
    const halves = bytesOf(0, 0, 0, 0, 1, 0x80, 0, 0, 0, 0);
    expect(ulidGenerator({ now: () => 0, fillRandom: halves })().slice(10)).toBe('00000001G0000000');
  });

  it('increments the random part within a millisecond, carrying across bytes, and stays sorted', () => {
    let ms = 1_700_000_000_000;
    const next = ulidGenerator({ now: () => ms, fillRandom: bytesOf(0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff) });
    const first = next();
    const second = next();
    expect(first.slice(10)).toBe('000000000000007Z');
    expect(second.slice(10)).toBe('0000000000000080');
    ms -= 5; // a clock that steps back keeps the last time and counts on
    const third = next();
    expect(third.slice(0, 10)).toBe(first.slice(0, 10));
    expect(third.slice(10)).toBe('0000000000000081');
    ms += 10;
    const fourth = next();
    expect([fourth, third, second, first].sort()).toEqual([first, second, third, fourth]);
  });

  it('fails rather than wrap when one millisecond exhausts the randomness', () => {
    const next = ulidGenerator({ now: () => 1, fillRandom: bytesOf(255) });
    next();
    expect(() => next()).toThrow(RangeError);
  });

  it('makes distinct, sorted, well-formed ids from the system randomness', () => {
    const next = ulidGenerator();
    const ids = Array.from({ length: 20_000 }, () => next());
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => ULID.test(id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
  });

  it('draws ten fresh bytes from its pool for each new millisecond, refilling the pool when it runs out', () => {
    let refills = 0;
    const counting = (bytes: Uint8Array) => {
      refills += 1;
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i + refills) % 256;
    };
    let ms = 0;
    const next = ulidGenerator({ now: () => ms++, fillRandom: counting });
    const ids = Array.from({ length: 410 }, () => next());
    // The first id takes pool bytes 0-9 (1, 2, ..., 10), the second bytes 10-19 (11, ..., 20).
    const expected = (first: number) => {
      const fill = (bytes: Uint8Array) => {
        for (let i = 0; i < bytes.length; i++) bytes[i] = first + i;
      };
      return ulidGenerator({ now: () => 0, fillRandom: fill })().slice(10);
    };
    expect(ids[0]?.slice(10)).toBe(expected(1));
    expect(ids[1]?.slice(10)).toBe(expected(11));
    // 409 ids use 4,090 of the pool's 4,096 bytes; the 410th needs a refill.
    expect(refills).toBe(2);
  });
});

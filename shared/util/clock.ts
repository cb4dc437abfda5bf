import { randomFillSync } from 'node:crypto';

/** Injected into everything that reads the time or makes ids, so tests can pin both. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export type IdGenerator = () => string;

/** Crockford's base32, as the ULID spec encodes. */
const BASE32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const RANDOM_BYTES = 10;
/** Random bytes drawn from the system per refill: one call per 409 ids. */
const POOL_BYTES = 4096;

export interface UlidSources {
  /** Milliseconds since the epoch. */
  now?: () => number;
  /** Fills its argument with random bytes. */
  fillRandom?: (bytes: Uint8Array) => void;
}

/**
 * ULIDs (https://github.com/ulid/spec): 10 characters of millisecond time, then 16 of randomness, so that ids
 * sort by creation time, which keeps server-made event ids and bus message ids roughly in arrival order.
 * Monotonic, as the spec's monotonic factory: an id made in the same millisecond as the last (or after the
 * clock stepped back) is the last one's random part plus one. The randomness comes from a pool refilled
 * 4 KiB at a time; the `ulid` package asked the system for one random byte per character, 16 calls per id,
 * which was 8% of the API's CPU while it accepted batches.
 */
export function ulidGenerator(sources: UlidSources = {}): IdGenerator {
  const now = sources.now ?? Date.now;
  const fillRandom = sources.fillRandom ?? ((bytes: Uint8Array) => randomFillSync(bytes));
  const pool = new Uint8Array(POOL_BYTES);
  let drawn = POOL_BYTES;
  const random = new Uint8Array(RANDOM_BYTES);
  let lastTime = -1;
  let timePart = '';
  return () => {
    const time = now();
    if (time > lastTime) {
      if (drawn + RANDOM_BYTES > POOL_BYTES) {
        fillRandom(pool);
        drawn = 0;
      }
      random.set(pool.subarray(drawn, drawn + RANDOM_BYTES));
      drawn += RANDOM_BYTES;
      lastTime = time;
      timePart = encodeTime(time);
    } else {
      increment(random);
    }
    return timePart + encodeRandom(random);
  };
}

function encodeTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms >= 2 ** 48) throw new RangeError(`cannot encode time ${ms}`);
  let out = '';
  let rest = ms;
  for (let i = 0; i < 10; i++) {
    out = BASE32[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

/** 80 bits as 16 characters, in two 40-bit halves (exact in a double). */
function encodeRandom(bytes: Uint8Array): string {
  let out = '';
  for (let half = 0; half < 2; half++) {
    let value = 0;
    for (let i = 0; i < 5; i++) value = value * 256 + (bytes[half * 5 + i] as number);
    let chars = '';
    for (let i = 0; i < 8; i++) {
      chars = BASE32[value % 32] + chars;
      value = Math.floor(value / 32);
    }
    out += chars;
  }
  return out;
}

/** Adds one to the big-endian number; the spec has a generator fail rather than wrap in one millisecond. */
function increment(bytes: Uint8Array): void {
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i] !== 255) {
      bytes[i] = (bytes[i] as number) + 1;
      return;
    }
    bytes[i] = 0;
  }
  throw new RangeError('ULID randomness exhausted within one millisecond');
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

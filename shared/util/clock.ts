import { monotonicFactory } from 'ulid';

/** Injected into everything that reads the time or makes ids, so tests can pin both. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export type IdGenerator = () => string;

/** ULIDs sort by creation time, which keeps server-made event ids roughly in arrival order. */
export function ulidGenerator(): IdGenerator {
  const next = monotonicFactory();
  return () => next();
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

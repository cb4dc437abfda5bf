import { fileURLToPath } from 'node:url';
import { runChild } from './child.ts';

/** What the load generator is asked to do: POST bench events to `url + path`. */
export interface LoadJob {
  url: string;
  path: string;
  headers: Record<string, string>;
  connections: number;
  /** Run for this long, or until `amount` requests are answered. */
  durationS: number;
  amount?: number;
  eventsPerRequest: number;
  /** Names the event sequence; unique per run, so event ids never repeat. */
  prefix: string;
}

export interface LoadResult {
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationS: number;
  latencyP50: number;
  latencyP99: number;
  statuses: Record<string, number>;
}

const CHILD = fileURLToPath(new URL('./load-child.ts', import.meta.url));

/**
 * Runs autocannon in a child process: on a two-core machine a load generator on the server's own event loop
 * would take its time from the very code being measured. `onStart` is called as the load begins, once the
 * child has started up.
 */
export function runLoad(job: LoadJob, onStart?: () => void): Promise<LoadResult> {
  return runChild<LoadJob, LoadResult>(CHILD, job, 'load generator', onStart);
}

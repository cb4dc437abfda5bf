import autocannon, { type RequestSpec } from 'autocannon';
import { serveChild } from './child.ts';
import { eventAt } from './events.ts';
import type { LoadJob, LoadResult } from './load.ts';

/*
 * The load generator's process: autocannon runs here, off the event loop of the server it measures, and
 * makes every request's body from the event sequence, so that each request carries new event ids.
 */

function bodyMaker(job: LoadJob): () => string {
  let k = 0;
  if (job.eventsPerRequest === 1) return () => JSON.stringify(eventAt(k++, job.prefix));
  return () => {
    const events = Array.from({ length: job.eventsPerRequest }, () => eventAt(k++, job.prefix));
    return JSON.stringify({ events });
  };
}

async function run(job: LoadJob): Promise<LoadResult> {
  const nextBody = bodyMaker(job);
  const request: RequestSpec = {
    method: 'POST',
    path: job.path,
    headers: { 'content-type': 'application/json', ...job.headers },
    setupRequest: (req) => ({ ...req, body: nextBody() }),
  };
  process.send?.({ started: true });
  const out = await autocannon({
    url: job.url,
    connections: job.connections,
    ...(job.amount ? { amount: job.amount } : { duration: job.durationS }),
    timeout: 30,
    requests: [request],
  });
  const statuses = Object.fromEntries(
    Object.entries(out.statusCodeStats).map(([code, s]) => [code, s.count]),
  );
  return {
    ok: out['2xx'],
    non2xx: out.non2xx,
    errors: out.errors,
    timeouts: out.timeouts,
    durationS: out.duration,
    latencyP50: out.latency.p50,
    latencyP99: out.latency.p99,
    statuses,
  };
}

serveChild(run);

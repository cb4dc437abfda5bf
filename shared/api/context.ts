import type { Context } from 'hono';
import type { Authenticator } from '../auth/authenticator.ts';
import type { Principal, Role } from '../auth/keys.ts';
import type { BusEntry } from '../bus/envelope.ts';
import type { PublishResult } from '../bus/publisher.ts';
import type { StoredUnit } from '../projections/plan.ts';
import type { AvailabilityReader } from '../queries/availability.ts';
import type { ComplianceReader } from '../queries/compliance.ts';
import type { Rejection, StoredEvent } from '../store/event-item.ts';
import type { EventPage, RecorderStats } from '../store/event-store.ts';
import type { ProjectorStats } from '../store/projection-store.ts';
import type { Clock, IdGenerator } from '../util/clock.ts';
import type { Logger } from '../util/logger.ts';
import { ProblemError } from './problem.ts';

/** Everything the API needs, injected: the Lambda entry and the local runtime wire the same app. */
export interface AppDeps {
  events: {
    hashesOf(eventIds: readonly string[]): Promise<Map<string, string>>;
    find(eventId: string): Promise<{ event?: StoredEvent; rejections: Rejection[] }>;
    listByTime(options: {
      from?: string;
      to?: string;
      type?: string;
      limit: number;
      cursor?: string;
    }): Promise<EventPage>;
    stats(): Promise<RecorderStats>;
  };
  projections: AvailabilityReader &
    ComplianceReader & {
      getUnit(stream: string): Promise<StoredUnit | undefined>;
      futureUntil(): Promise<string | undefined>;
      stats(): Promise<ProjectorStats>;
    };
  publisher: { publish(entries: BusEntry[]): Promise<PublishResult> };
  authenticator: Authenticator;
  clock: Clock;
  newId: IdGenerator;
  logger: Logger;
  busName?: string;
  /**
   * What the pipeline holds that is accepted but not yet projected, where the runtime can see it (the local
   * bus and stream poller can; in AWS the queue and stream ages are CloudWatch metrics). Its fields are
   * also shown by `GET /v1/status`.
   */
  backlog?: () => Promise<Backlog>;
  /**
   * How long a request may take before it is answered with a 503 of ours; none when absent. The Lambda
   * entry gives what its invocation has left, less a margin, so that its timeout never answers instead.
   */
  requestBudgetMs?: number | ((c: AppContext) => number | undefined);
}

export interface Backlog {
  /** Accepted events not yet handed to the recorder. */
  pending: number;
  /** When the oldest of them was accepted. */
  oldestAcceptedAt?: string;
  /** False while recorded events wait in the stream for the projector. */
  streamCaughtUp: boolean;
  [detail: string]: unknown;
}

export type AppEnv = {
  Variables: {
    principal: Principal;
    requestId: string;
    /** The route's answer should the request run past its budget: set once it knows what to say. */
    atDeadline?: () => ProblemError;
    /** Set when the request was answered at its budget: what still runs of it must not act any more. */
    pastBudget?: true;
  };
};
export type AppContext = Context<AppEnv>;

export function requireRole(c: AppContext, ...roles: Role[]): Principal {
  const principal = c.get('principal');
  if (!roles.includes(principal.role)) {
    throw new ProblemError('forbidden', 403, `This route needs a key with the role ${roles.join(' or ')}.`);
  }
  return principal;
}

/** The contract's media type, charset included. */
export function json(c: AppContext, body: unknown, status: 200 | 202 = 200): Response {
  return c.body(JSON.stringify(body), status, { 'Content-Type': 'application/json; charset=utf-8' });
}

/**
 * A page's answer: `{ items, nextCursor }`, with the next page's address in a `Link: <...>; rel="next"`
 * header (RFC 8288) as well, so that a client reading CSV, which has no room for the cursor, can page too.
 */
export function pageOf<T>(
  c: AppContext,
  items: T[],
  nextCursor: string | null,
): { items: T[]; nextCursor: string | null } {
  if (nextCursor !== null) {
    const next = new URL(c.req.url);
    next.searchParams.set('cursor', nextCursor);
    c.header('Link', `<${next.pathname}${next.search}>; rel="next"`);
  }
  return { items, nextCursor };
}

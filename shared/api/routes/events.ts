import type { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { compareEvents } from '../../events/catalogue.ts';
import type { StoredEvent } from '../../store/event-item.ts';
import { type AppDeps, type AppEnv, json, pageOf, requireRole } from '../context.ts';
import { eventsOf, ingest, PastBudget, RecentlyAccepted, validateAll } from '../ingest.ts';
import {
  decodeCursor,
  EventListQuery,
  encodeCursor,
  IdParam,
  NoQuery,
  parsePathParam,
  parseQuery,
} from '../params.ts';
import { isServiceError, ProblemError, serviceUnavailable } from '../problem.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

const view = ({ hash: _hash, ...event }: StoredEvent) => ({
  eventId: event.eventId,
  type: event.type,
  occurredAt: event.occurredAt,
  recordedAt: event.recordedAt,
  source: event.source,
  stream: event.stream,
  status: 'recorded' as const,
  data: event.data,
});

/** JSON is UTF-8 (RFC 8259): bytes that are not are refused, never replaced by U+FFFD and stored. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export function eventRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const recent = new RecentlyAccepted();
  app.post(
    '/v1/events',
    (c, next) => {
      requireRole(c, 'partner');
      const type = c.req.header('content-type') ?? '';
      if (!/^application\/json\s*(;|$)/i.test(type)) {
        throw new ProblemError('unsupported-media-type', 415, 'Send the events as application/json.');
      }
      const charset = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(type)?.[1];
      if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
        throw new ProblemError('unsupported-media-type', 415, 'Send the events as JSON in UTF-8.');
      }
      const coding = c.req.header('content-encoding')?.trim();
      if (coding && coding.toLowerCase() !== 'identity') {
        throw new ProblemError('unsupported-media-type', 415, 'Send the body without a content coding.', {
          headers: { 'Accept-Encoding': 'identity' },
        });
      }
      // Out of time while the body is still arriving (here, or in the limit's read of a body of unknown
      // length): the client's upload is what is slow, not a backing service.
      c.set('atDeadline', () => new ProblemError('request-timeout', 408, 'The body did not arrive in time.'));
      return next();
    },
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new ProblemError('payload-too-large', 413, `The body may be at most ${MAX_BODY_BYTES} bytes.`);
      },
    }),
    async (c) => {
      const principal = c.get('principal');
      parseQuery(NoQuery, c.req.queries());
      // A failed read (the client hung up) goes to the app's error handler; only a decoding error is a 400 here.
      const bytes = await c.req.arrayBuffer();
      let text: string;
      try {
        text = UTF8.decode(bytes);
      } catch {
        throw new ProblemError('malformed-json', 400, 'The body is not valid UTF-8.');
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new ProblemError('malformed-json', 400, 'The body could not be parsed as JSON.');
      }
      const { raw, batch, envelopeIssues } = eventsOf(body, text);
      const events = validateAll(raw, batch, envelopeIssues);
      // Ids are made here, not in ingest, so that an answer given before ingest ends can name them.
      const eventIds = events.map((event) => event.eventId ?? deps.newId());
      // With the store or the bus out, or out of time, every event is listed to be sent again, under the id it
      // has now: one that did get through is then acknowledged, not recorded twice.
      const unreached = () =>
        serviceUnavailable(
          'The event store or bus could not be reached in time; no event is confirmed. Send those listed in failed again, with their eventId.',
          {
            accepted: [],
            failed: events.map((event, index) => ({
              index,
              eventId: eventIds[index] as string,
              type: event.type,
              code: 'ServiceUnavailable',
              message: 'the event store or bus could not be reached in time; send it again with this eventId',
            })),
          },
        );
      c.set('atDeadline', unreached);
      const result = await ingest(
        {
          hashesOf: (ids) => deps.events.hashesOf(ids),
          recent,
          getUnit: (stream) => deps.projections.getUnit(stream),
          publish: (entries) => deps.publisher.publish(entries),
          busName: deps.busName,
          // Answered already: nothing more goes to the bus, so the answer's "no event is confirmed" holds.
          inTime: () => !c.get('pastBudget'),
        },
        principal,
        events,
        eventIds,
        batch,
        deps.clock.now(),
      ).catch((error: unknown) => {
        throw isServiceError(error) || error instanceof PastBudget ? unreached() : error;
      });
      if (result.status === 503) {
        throw new ProblemError(
          'bus-unavailable',
          503,
          'The event bus did not take some events; resend only those listed in failed.',
          {
            extensions: { accepted: result.receipts, failed: result.failed },
            headers: { 'Retry-After': '1' },
          },
        );
      }
      return json(c, { accepted: result.receipts }, 202);
    },
  );

  app.get('/v1/events/:eventId', async (c) => {
    const principal = requireRole(c, 'partner', 'analyst', 'admin');
    const eventId = parsePathParam(IdParam, 'eventId', c.req.param('eventId'));
    parseQuery(NoQuery, c.req.queries());
    const { event, rejections } = await deps.events.find(eventId);
    // Partners see only their own events; anything else is reported as absent, not as forbidden.
    const mine = (source: string | undefined) =>
      principal.role !== 'partner' || source === principal.partnerId;
    if (event && mine(event.source)) {
      const rejected = rejections.filter((r) => mine(r.source));
      return json(c, {
        ...view(event),
        ...(rejected.length > 0
          ? { rejections: rejected.map((r) => ({ reason: r.reason, receivedAt: r.receivedAt })) }
          : {}),
      });
    }
    const rejection = rejections.find((r) => mine(r.source));
    if (rejection) {
      return json(c, {
        eventId,
        type: rejection.type ?? null,
        occurredAt: rejection.occurredAt ?? null,
        source: rejection.source ?? null,
        status: 'rejected',
        reason: rejection.reason,
        receivedAt: rejection.receivedAt,
      });
    }
    throw new ProblemError('not-found', 404, `No event ${eventId} is recorded (yet).`);
  });

  app.get('/v1/events', async (c) => {
    requireRole(c, 'analyst', 'admin');
    const query = parseQuery(EventListQuery, c.req.queries());
    const after = decodeCursor(query.cursor);
    if (!query.stream) {
      const page = await deps.events.listByTime({ ...query, cursor: after });
      return json(c, pageOf(c, page.items.map(view), page.nextCursor ? encodeCursor(page.nextCursor) : null));
    }
    // A stream's events are all held by its projection unit: one read, already in the fold's order.
    const unit = await deps.projections.getUnit(query.stream);
    const key = (e: { occurredAt: string; eventId: string }) => `${e.occurredAt}#${e.eventId}`;
    const matching = (unit?.events ?? [])
      .filter(
        (e) =>
          (!query.type || e.type === query.type) &&
          (!query.from || e.occurredAt >= query.from) &&
          (!query.to || e.occurredAt <= query.to),
      )
      .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : compareEvents(a, b)))
      .filter((e) => !after || key(e) > after);
    const items = matching.slice(0, query.limit);
    const last = items.at(-1);
    return json(
      c,
      pageOf(
        c,
        items.map((e) => view({ ...e, stream: query.stream as string, hash: '' } as StoredEvent)),
        matching.length > query.limit && last ? encodeCursor(key(last)) : null,
      ),
    );
  });
}

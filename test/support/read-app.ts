import type { Hono } from 'hono';
import { expect } from 'vitest';
import { createApp } from '../../shared/api/app.ts';
import type { AppEnv } from '../../shared/api/context.ts';
import type { ProblemBody } from '../../shared/api/problem.ts';
import { Problem } from '../../shared/api/schemas.ts';
import { Authenticator } from '../../shared/auth/authenticator.ts';
import { DynamoDBKeyStore } from '../../shared/auth/key-store.ts';
import { newKeyRecord } from '../../shared/auth/keys.ts';
import { type DomainEvent, EventInput, type RecordedEvent, streamOf } from '../../shared/events/catalogue.ts';
import { projectEvents } from '../../shared/projector/projector.ts';
import { DynamoDBEventStore } from '../../shared/store/event-store.ts';
import { DynamoDBProjectionStore } from '../../shared/store/projection-store.ts';
import { ulidGenerator } from '../../shared/util/clock.ts';
import { createLogger } from '../../shared/util/logger.ts';
import { createTestTables, type TestTables } from './dynamo.ts';

export const ANALYST = 'key-analyst-reads';
export const PARTNER = 'key-partner-reads';

/** An event as the store holds it, recorded by `acme` at `recordedAt`. */
export function recorded(
  type: string,
  occurredAt: string,
  data: Record<string, unknown>,
  recordedAt = occurredAt,
): RecordedEvent {
  const eventId = `${type}-${occurredAt}-${JSON.stringify(data).length}-${Object.values(data)[0]}`;
  const parsed = EventInput.parse({ eventId, type, occurredAt, data }) as DomainEvent;
  return {
    ...parsed,
    recordedAt: new Date(recordedAt).toISOString(),
    source: 'acme',
    stream: streamOf(parsed),
  } as RecordedEvent;
}

export interface ReadApp {
  app: Hono<AppEnv>;
  tables: TestTables;
  get(path: string, headers?: Record<string, string>, key?: string | null): Promise<Response>;
  /** GETs with the analyst key, expects 200 JSON and parses the body with `schema`. */
  ok<T>(path: string, schema: { parse(value: unknown): T }): Promise<T>;
}

/**
 * The API over real projections of `history` (projected, not sent through the bus), at a fixed `now`, with
 * an analyst key and a shipments-only partner key: for the read routes' tests.
 */
export async function readApp(label: string, history: readonly RecordedEvent[], now: Date): Promise<ReadApp> {
  const tables = await createTestTables(label);
  const keys = new DynamoDBKeyStore(tables.client, tables.names.keys);
  await keys.put(newKeyRecord(ANALYST, { role: 'analyst' }, now));
  await keys.put(newKeyRecord(PARTNER, { role: 'partner', partnerId: 'acme', families: ['shipment'] }, now));
  const projections = new DynamoDBProjectionStore(tables.client, tables.names.projections);
  await projectEvents(projections, history, { clock: { now: () => now } });
  const app = createApp({
    events: new DynamoDBEventStore(tables.client, tables.names.events),
    projections,
    publisher: { publish: async () => ({ accepted: [], failed: [] }) },
    authenticator: new Authenticator(keys),
    clock: { now: () => now },
    newId: ulidGenerator(),
    logger: createLogger({ level: 'silent' }),
  });
  const get = (path: string, headers: Record<string, string> = {}, key: string | null = ANALYST) =>
    Promise.resolve(
      app.request(path, { headers: { ...(key ? { Authorization: `Bearer ${key}` } : {}), ...headers } }),
    );
  return {
    app,
    tables,
    get,
    async ok(path, schema) {
      const res = await get(path);
      expect(res.status, await res.clone().text()).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      return schema.parse(await res.json());
    },
  };
}

/** Asserts an RFC 9457 answer of this status and type, shaped as documented. */
export async function expectProblem(res: Response, status: number, slug: string): Promise<ProblemBody> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = Problem.parse(await res.json()) as ProblemBody;
  expect(body.type).toBe(`/problems/${slug}`);
  return body;
}

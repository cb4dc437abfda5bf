import fc from 'fast-check';
import type { Hono } from 'hono';
import { beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../shared/api/app.ts';
import type { AppDeps, AppEnv } from '../../shared/api/context.ts';
import type { ProblemBody } from '../../shared/api/problem.ts';
import { Authenticator } from '../../shared/auth/authenticator.ts';
import { type ApiKeyRecord, newKeyRecord } from '../../shared/auth/keys.ts';
import type { BusEntry } from '../../shared/bus/envelope.ts';
import type { PublishResult } from '../../shared/bus/publisher.ts';
import { FAMILIES } from '../../shared/events/catalogue.ts';
import { contentHash } from '../../shared/events/fingerprint.ts';
import { ulidGenerator } from '../../shared/util/clock.ts';
import { createLogger } from '../../shared/util/logger.ts';
import { h20Rule } from '../support/fixtures.ts';
import { STACK_FRAME } from '../support/leaks.ts';

type JsonValue = fc.JsonValue;
type JsonObject = { [key: string]: JsonValue };

const KEY = 'fuzz-partner-key';
const NOW = new Date('2026-01-15T10:00:00.000Z');
const ALLOWED = new Set([202, 400, 409, 413, 415]);

/**
 * The API over in-memory fakes. The event store "records" whatever the bus takes at once, so that resent ids
 * meet the idempotency and conflict checks within one run.
 */
function fakeRuntime(): { app: Hono<AppEnv>; published: BusEntry[] } {
  const published: BusEntry[] = [];
  const recorded = new Map<string, string>();
  const partner = newKeyRecord(KEY, { role: 'partner', partnerId: 'fuzzer', families: [...FAMILIES] }, NOW);
  const keys = new Map<string, ApiKeyRecord>([[partner.keyId, partner]]);
  const deps: AppDeps = {
    events: {
      hashesOf: async (ids) =>
        new Map(ids.flatMap((id) => (recorded.has(id) ? [[id, recorded.get(id) as string] as const] : []))),
      find: async () => ({ rejections: [] }),
      listByTime: async () => ({ items: [], nextCursor: null }),
      stats: async () => ({ eventsRecorded: recorded.size, months: [] }),
    },
    projections: {
      countersForSku: async () => [],
      countersForRows: async () => [],
      membersOf: async () => [],
      getUnits: async () => [],
      skusOf: async () => [],
      idsOf: async () => [],
      onTheWay: async () => [],
      listShipments: async () => ({ items: [], more: false }),
      getUnit: async () => undefined,
      futureUntil: async () => undefined,
      stats: async () => ({ eventsProjected: 0 }),
    },
    publisher: {
      publish: async (entries): Promise<PublishResult> => {
        for (const entry of entries) {
          published.push(entry);
          const detail = JSON.parse(entry.Detail) as Parameters<typeof contentHash>[0] & { eventId: string };
          if (!recorded.has(detail.eventId)) recorded.set(detail.eventId, contentHash(detail));
        }
        return { accepted: entries.map((_, index) => index), failed: [] };
      },
    },
    authenticator: new Authenticator({ get: async (keyId) => keys.get(keyId) }),
    clock: { now: () => NOW },
    newId: ulidGenerator(),
    logger: createLogger({ level: 'silent' }),
  };
  return { app: createApp(deps), published };
}

const postRaw = (app: Hono<AppEnv>, raw: string): Promise<Response> =>
  Promise.resolve(
    app.request('/v1/events', {
      method: 'POST',
      headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
      body: new TextEncoder().encode(raw),
    }),
  );

/**
 * The contract's promise for any body: a 202 with a receipt per event, or a problem with a 4xx the contract
 * names, and the bus touched only on a 202.
 */
async function checkResponse(
  runtime: { app: Hono<AppEnv>; published: BusEntry[] },
  raw: string,
): Promise<number> {
  const before = runtime.published.length;
  const res = await postRaw(runtime.app, raw);
  const text = await res.text();
  expect(ALLOWED, `status ${res.status}: ${text}`).toContain(res.status);
  expect(text).not.toMatch(STACK_FRAME);
  const sent = runtime.published.slice(before);
  if (res.status !== 202) {
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = JSON.parse(text) as ProblemBody;
    expect(problem.type).toMatch(/^\/problems\/[a-z-]+$/);
    expect(problem.status).toBe(res.status);
    for (const issue of problem.errors ?? []) {
      expect(typeof issue.path).toBe('string');
      expect(typeof issue.message).toBe('string');
    }
    if (res.status === 400 && problem.type === '/problems/validation') {
      expect(problem.errors?.length).toBeGreaterThan(0);
    }
    expect(sent).toEqual([]);
    return res.status;
  }
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const { accepted } = JSON.parse(text) as { accepted: { eventId: string; href: string }[] };
  const body = JSON.parse(raw) as { events?: unknown[] };
  const count = 'events' in body && Array.isArray(body.events) ? body.events.length : 1;
  expect(accepted).toHaveLength(count);
  const receipts = new Set(accepted.map((r) => r.eventId));
  expect(sent.length).toBeLessThanOrEqual(count);
  for (const entry of sent)
    expect(receipts).toContain((JSON.parse(entry.Detail) as { eventId: string }).eventId);
  return res.status;
}

// A small pool of ids, so that batches and successive requests reuse them: duplicates and conflicts.
const eventId = fc.option(fc.constantFrom('EV-1', 'EV-2', 'EV-3', 'ev.4:x'), { nil: undefined });
const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,12}$/);
const slug = fc.constantFrom('alibaba-cloud', 'tencent-cloud', 'bytedance', 'a', 'x9');
const sku = fc.constantFrom('H20', 'H800', 'RTX-PRO-6000D');
const country = fc.constantFrom('CN', 'HK', 'US', 'TW', 'SG');
const time = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
const quantity = fc.integer({ min: 1, max: 1_000_000 });

const withId = (event: Omit<JsonObject, 'eventId'>, maybeId: string | undefined): JsonObject =>
  maybeId === undefined ? { ...event } : { eventId: maybeId, ...event };

/** Valid events of several types, from which the mutations start. */
const validEvent: fc.Arbitrary<JsonObject> = fc.oneof(
  fc
    .record({
      eventId,
      occurredAt: time,
      shipmentId: id,
      sku,
      quantity,
      from: country,
      to: country,
      provider: slug,
    })
    .map((e) =>
      withId(
        {
          type: 'shipment.dispatched',
          occurredAt: e.occurredAt,
          data: {
            shipmentId: e.shipmentId,
            sku: e.sku,
            quantity: e.quantity,
            exporter: 'nvidia',
            origin: { country: e.from },
            destination: { country: e.to, providerId: e.provider },
          },
        },
        e.eventId,
      ),
    ),
  fc.record({ eventId, occurredAt: time, shipmentId: id }).map((e) =>
    withId(
      {
        type: 'shipment.held',
        occurredAt: e.occurredAt,
        data: { shipmentId: e.shipmentId, authority: 'CN-GACC', reason: 'inspection' },
      },
      e.eventId,
    ),
  ),
  fc.record({ eventId, occurredAt: time, provider: slug, sku, quantity }).map((e) =>
    withId(
      {
        type: 'allocation.created',
        occurredAt: e.occurredAt,
        data: {
          allocationId: 'AL-1',
          providerId: e.provider,
          sku: e.sku,
          quantity: e.quantity,
          tenant: 'kimi',
        },
      },
      e.eventId,
    ),
  ),
  fc
    .record({ eventId, occurredAt: time, provider: slug, sku, delta: fc.integer({ min: 1, max: 1000 }) })
    .map((e) =>
      withId(
        {
          type: 'inventory.adjusted',
          occurredAt: e.occurredAt,
          data: { providerId: e.provider, sku: e.sku, delta: e.delta, reason: 'audit' },
        },
        e.eventId,
      ),
    ),
  fc.record({ eventId, occurredAt: time, to: country }).map((e) =>
    withId(
      {
        type: 'regulation.issued',
        occurredAt: e.occurredAt,
        data: h20Rule({ regulationId: 'REG-1', destinations: [e.to], effectiveFrom: e.occurredAt }),
      },
      e.eventId,
    ),
  ),
);

/** Places worth breaking: envelope fields and the ids, times and countries inside data. */
const FIELD_PATHS = [
  ['eventId'],
  ['type'],
  ['occurredAt'],
  ['data'],
  ['data', 'shipmentId'],
  ['data', 'providerId'],
  ['data', 'sku'],
  ['data', 'quantity'],
  ['data', 'effectiveFrom'],
  ['data', 'destinations'],
  ['data', 'origin', 'country'],
  ['data', 'destination', 'country'],
  ['data', 'destination', 'providerId'],
] as const;

const anyString = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }));
type Mutation =
  | { kind: 'drop'; path: readonly string[] }
  | { kind: 'set'; path: readonly string[]; value: JsonValue };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), path: fc.constantFrom(...FIELD_PATHS) }),
  fc.record({
    kind: fc.constant('set' as const),
    path: fc.constantFrom(...FIELD_PATHS),
    value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), anyString),
  }),
  // An extra field, beside the envelope's or inside data.
  fc.record({
    kind: fc.constant('set' as const),
    path: fc.tuple(fc.constantFrom('', 'data'), anyString).map(([at, key]) => (at ? [at, key] : [key])),
    value: fc.jsonValue({ maxDepth: 1 }),
  }),
);

function mutate(event: JsonObject, mutations: readonly Mutation[]): JsonObject {
  const copy = structuredClone(event);
  for (const m of mutations) {
    let parent: JsonValue = copy;
    for (const key of m.path.slice(0, -1)) {
      parent =
        typeof parent === 'object' && parent !== null && !Array.isArray(parent)
          ? (parent[key] ?? null)
          : null;
    }
    if (typeof parent !== 'object' || parent === null || Array.isArray(parent)) continue;
    const last = m.path.at(-1) as string;
    if (m.kind === 'drop') delete parent[last];
    else parent[last] = m.value;
  }
  return copy;
}

const mutatedEvent = fc
  .tuple(validEvent, fc.array(mutation, { maxLength: 3 }))
  .map(([event, mutations]) => mutate(event, mutations));

const body: fc.Arbitrary<JsonValue> = fc.oneof(
  mutatedEvent,
  fc.array(mutatedEvent, { minLength: 1, maxLength: 6 }).map((events) => ({ events })),
  fc.array(validEvent, { minLength: 1, maxLength: 6 }).map((events) => ({ events })),
  validEvent,
);

describe('POST /v1/events under arbitrary input', () => {
  let runtime: ReturnType<typeof fakeRuntime>;
  beforeEach(() => {
    runtime = fakeRuntime();
  });

  it('answers any JSON value with a 202 or a contract 4xx problem, and publishes only on 202', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        await checkResponse(fakeRuntime(), JSON.stringify(value));
      }),
      { numRuns: 200 },
    );
  });

  it('answers any text with a 202 or a contract 4xx problem', async () => {
    await fc.assert(
      fc.asyncProperty(anyString, async (raw) => {
        await checkResponse(fakeRuntime(), raw);
      }),
      { numRuns: 150 },
    );
  });

  it('answers mutated events and batches, sent one after another, without a 5xx', async () => {
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(fc.array(body, { minLength: 1, maxLength: 3 }), async (bodies) => {
        // A fresh store per run, so that a failing sequence replays the same way when shrunk.
        const run = fakeRuntime();
        for (const value of bodies) seen.add(await checkResponse(run, JSON.stringify(value)));
      }),
      { numRuns: 300 },
    );
    // The generators must reach every branch, or the property proves little.
    expect([...seen].sort()).toEqual([202, 400, 409]);
  });

  it('accepts every valid event, and publishes nothing again when the same body is resent', async () => {
    const identifiedOrNot = fc.array(fc.tuple(validEvent, fc.boolean()), { minLength: 1, maxLength: 5 });
    await fc.assert(
      fc.asyncProperty(identifiedOrNot, async (pairs) => {
        const run = fakeRuntime();
        // Distinct ids, or none: a shared id with other content would rightly be a conflict.
        const events = pairs.map(([{ eventId: _, ...event }, identified], n) =>
          identified ? { eventId: `VALID-${n}`, ...event } : event,
        );
        const raw = JSON.stringify({ events });

        expect(await checkResponse(run, raw)).toBe(202);
        const sent = run.published.length;
        expect(sent).toBe(events.length);
        expect(await checkResponse(run, raw)).toBe(202);

        // Events without an id get a new one each time, so only the identified ones are true resends.
        const anonymous = events.filter((e) => !('eventId' in e)).length;
        expect(run.published.length).toBe(sent + anonymous);
      }),
      { numRuns: 100 },
    );
  });

  it('has a fake store that turns a resent id with other content into a conflict', async () => {
    // Without this the properties above could pass on a fake that never reaches the 409 branch.
    const event = {
      eventId: 'EV-1',
      type: 'shipment.released',
      occurredAt: '2025-03-02T00:00:00Z',
      data: { shipmentId: 'SH-1' },
    };

    expect(await checkResponse(runtime, JSON.stringify(event))).toBe(202);
    expect(await checkResponse(runtime, JSON.stringify(event))).toBe(202);
    expect(
      await checkResponse(runtime, JSON.stringify({ ...event, occurredAt: '2025-03-03T00:00:00Z' })),
    ).toBe(409);
    expect(runtime.published).toHaveLength(1);
  });
});

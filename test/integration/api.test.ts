import { type AddressInfo, createServer, type Socket } from 'node:net';
import type { Hono } from 'hono';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../shared/api/app.ts';
import type { AppDeps, AppEnv } from '../../shared/api/context.ts';
import type { ProblemBody } from '../../shared/api/problem.ts';
import { Authenticator } from '../../shared/auth/authenticator.ts';
import { DynamoDBKeyStore } from '../../shared/auth/key-store.ts';
import { newKeyRecord } from '../../shared/auth/keys.ts';
import type { BusEntry } from '../../shared/bus/envelope.ts';
import type { PublishResult } from '../../shared/bus/publisher.ts';
import { type DomainEvent, EventInput, FAMILIES, streamOf } from '../../shared/events/catalogue.ts';
import { contentHash } from '../../shared/events/fingerprint.ts';
import { projectEvents } from '../../shared/projector/projector.ts';
import { createDynamoClient } from '../../shared/store/dynamo.ts';
import { DynamoDBEventStore } from '../../shared/store/event-store.ts';
import { type CountersRow, DynamoDBProjectionStore } from '../../shared/store/projection-store.ts';
import { ulidGenerator } from '../../shared/util/clock.ts';
import { createLogger } from '../../shared/util/logger.ts';
import { createTestTables, type TestTables } from '../support/dynamo.ts';
import { h20Rule } from '../support/fixtures.ts';
import { STACK_FRAME } from '../support/leaks.ts';

const NOW = new Date('2026-01-15T10:00:00.000Z');
const BUS_NAME = 'h20-tracker-test';

/** One key per role and scope the contract distinguishes. */
const KEY = {
  partner: 'key-partner-every-family',
  shipper: 'key-partner-shipments-only',
  alibaba: 'key-partner-alibaba-only',
  globex: 'key-partner-globex',
  analyst: 'key-analyst',
  revoked: 'key-partner-revoked',
} as const;

/** A stand-in for the bus: it keeps what it was given and can be told to refuse some entries. */
class FakePublisher {
  calls: BusEntry[][] = [];
  failing = new Set<number>();

  async publish(entries: BusEntry[]): Promise<PublishResult> {
    this.calls.push(entries);
    const indices = entries.map((_, index) => index);
    return {
      accepted: indices.filter((i) => !this.failing.has(i)),
      failed: indices
        .filter((i) => this.failing.has(i))
        .map((index) => ({ index, code: 'ThrottlingException', message: 'Rate exceeded' })),
    };
  }

  get published(): { eventId: string; source: string; acceptedAt: string }[] {
    return this.calls.flat().map((e) => JSON.parse(e.Detail));
  }
}

let tables: TestTables;
let events: DynamoDBEventStore;
let projections: DynamoDBProjectionStore;
let deps: AppDeps;
let app: Hono<AppEnv>;
const bus = new FakePublisher();

beforeAll(async () => {
  tables = await createTestTables('api');
  events = new DynamoDBEventStore(tables.client, tables.names.events);
  projections = new DynamoDBProjectionStore(tables.client, tables.names.projections);
  const keys = new DynamoDBKeyStore(tables.client, tables.names.keys);
  const families = [...FAMILIES];
  await Promise.all([
    keys.put(newKeyRecord(KEY.partner, { role: 'partner', partnerId: 'acme', families }, NOW)),
    keys.put(
      newKeyRecord(KEY.shipper, { role: 'partner', partnerId: 'shipco', families: ['shipment'] }, NOW),
    ),
    keys.put(
      newKeyRecord(
        KEY.alibaba,
        { role: 'partner', partnerId: 'ali-agent', families, providers: ['alibaba-cloud'] },
        NOW,
      ),
    ),
    keys.put(newKeyRecord(KEY.globex, { role: 'partner', partnerId: 'globex', families }, NOW)),
    keys.put(newKeyRecord(KEY.analyst, { role: 'analyst' }, NOW)),
    keys.put({
      ...newKeyRecord(KEY.revoked, { role: 'partner', partnerId: 'gone', families }, NOW),
      revokedAt: NOW.toISOString(),
    }),
  ]);
  deps = {
    events,
    projections,
    publisher: bus,
    authenticator: new Authenticator(keys),
    clock: { now: () => NOW },
    newId: ulidGenerator(),
    logger: createLogger({ level: 'silent' }),
    busName: BUS_NAME,
  };
  app = createApp(deps);
});
afterAll(() => tables.drop());

beforeEach(() => {
  bus.calls = [];
  bus.failing = new Set();
});

// Tests share tables, so every test names its own shipments and events.
let sequence = 0;
const unique = (prefix: string): string => `${prefix}-${++sequence}`;

type EventBody = { eventId?: string; type: string; occurredAt: string; data: Record<string, unknown> };

function dispatched(
  options: { eventId?: string; shipmentId?: string; provider?: string; quantity?: unknown } = {},
): EventBody {
  return {
    ...(options.eventId ? { eventId: options.eventId } : {}),
    type: 'shipment.dispatched',
    occurredAt: '2025-03-02T08:00:00+08:00',
    data: {
      shipmentId: options.shipmentId ?? unique('SH'),
      sku: 'H20',
      quantity: 'quantity' in options ? options.quantity : 512,
      exporter: 'nvidia',
      origin: { country: 'TW' },
      destination: { country: 'CN', providerId: options.provider ?? 'alibaba-cloud' },
    },
  };
}

const held = (shipmentId: string, eventId?: string): EventBody => ({
  ...(eventId ? { eventId } : {}),
  type: 'shipment.held',
  occurredAt: '2025-03-05T00:00:00Z',
  data: { shipmentId, authority: 'CN-GACC', reason: 'customs inspection' },
});

const allocated = (): EventBody => ({
  type: 'allocation.created',
  occurredAt: '2025-03-06T00:00:00Z',
  data: {
    allocationId: unique('AL'),
    providerId: 'alibaba-cloud',
    sku: 'H20',
    quantity: 64,
    tenant: 'deepseek',
  },
});

function post(
  body: unknown,
  options: {
    key?: string | null;
    contentType?: string | null;
    raw?: string | Uint8Array;
    /** Another app than the suite's, for the tests that break one of its parts. */
    to?: Hono<AppEnv>;
  } = {},
): Promise<Response> {
  const headers: Record<string, string> = {};
  const key = options.key === undefined ? KEY.partner : options.key;
  if (key !== null) headers.Authorization = `Bearer ${key}`;
  const contentType = options.contentType === undefined ? 'application/json' : options.contentType;
  if (contentType !== null) headers['Content-Type'] = contentType;
  // A string body would make fetch add text/plain itself; bytes carry no content type of their own.
  const payload = options.raw ?? new TextEncoder().encode(JSON.stringify(body));
  return Promise.resolve(
    (options.to ?? app).request('/v1/events', { method: 'POST', headers, body: payload }),
  );
}

const get = (path: string, key: string | null = KEY.analyst): Promise<Response> =>
  Promise.resolve(app.request(path, { headers: key === null ? {} : { Authorization: `Bearer ${key}` } }));

/** Asserts the RFC 9457 shape every error shares, and that nothing internal leaks into it. */
async function problem(res: Response, status: number, slug: string): Promise<ProblemBody> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const text = await res.text();
  expect(text).not.toMatch(STACK_FRAME);
  expect(text).not.toMatch(/node_modules|\.ts\b|Error:/);
  const body = JSON.parse(text) as ProblemBody;
  expect(body).toMatchObject({
    type: `/problems/${slug}`,
    status,
    title: expect.any(String),
    detail: expect.any(String),
  });
  return body;
}

const paths = (body: ProblemBody) => (body.errors ?? []).map((e) => [e.index, e.path]);

/** Writes an event straight into the store, as the recorder would after the bus delivered it. */
async function record(body: EventBody, source: string): Promise<DomainEvent> {
  const event = EventInput.parse(body) as DomainEvent;
  const stored = {
    ...event,
    source,
    stream: streamOf(event),
    recordedAt: NOW.toISOString(),
    hash: contentHash({ ...event, source }),
  };
  const [outcome] = await events.recordAll([stored]);
  expect(outcome?.kind).toBe('recorded');
  return event;
}

describe('authentication', () => {
  it('answers 401 with WWW-Authenticate when there is no Authorization header', async () => {
    const res = await post(dispatched(), { key: null });

    const body = await problem(res, 401, 'unauthorized');
    // RFC 6750, 3.1: no error code when the request carried no credentials.
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="h20-tracker"');
    expect(body.errors).toBeUndefined();
    expect(bus.calls).toEqual([]);
  });

  it.each([
    ['another scheme', `Basic ${Buffer.from('acme:secret').toString('base64')}`],
    ['no key after Bearer', 'Bearer'],
    ['two tokens', `Bearer ${KEY.partner} extra`],
    ['no scheme', KEY.partner],
  ])('answers 401 to a malformed Authorization header (%s)', async (_, header) => {
    const res = await app.request('/v1/status', { headers: { Authorization: header } });

    await problem(res, 401, 'unauthorized');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('answers 401 to an unknown key', async () => {
    const res = await get('/v1/status', 'not-a-key-anyone-made');

    await problem(res, 401, 'unauthorized');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="h20-tracker", error="invalid_token"');
  });

  it('answers 401 to a revoked key', async () => {
    const res = await post(dispatched(), { key: KEY.revoked });

    await problem(res, 401, 'unauthorized');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="h20-tracker", error="invalid_token"');
    expect(bus.calls).toEqual([]);
  });

  it('asks for a key before looking at the content type', async () => {
    await problem(await post(dispatched(), { key: null, contentType: 'text/plain' }), 401, 'unauthorized');
  });

  it('accepts the scheme in any case, as RFC 9110 has it', async () => {
    const res = await app.request('/v1/status', { headers: { Authorization: `bearer ${KEY.analyst}` } });

    expect(res.status).toBe(200);
  });

  it('serves /v1/health without a key', async () => {
    const res = await get('/v1/health', null);

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ status: 'ok' });
  });
});

describe('roles and scopes', () => {
  it('forbids an analyst to post events', async () => {
    const res = await post(dispatched(), { key: KEY.analyst });

    const body = await problem(res, 403, 'forbidden');
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="h20-tracker", error="insufficient_scope"',
    );
    expect(body.errors).toBeUndefined();
    expect(bus.calls).toEqual([]);
  });

  it.each([
    '/v1/availability?sku=H20',
    '/v1/providers/alibaba-cloud/availability',
    '/v1/shipments/SH-1',
    '/v1/events',
    '/v1/status',
  ])('forbids a partner to read %s', async (path) => {
    await problem(await get(path, KEY.partner), 403, 'forbidden');
  });

  it('forbids a partner to send a family outside its scope, naming the type', async () => {
    const res = await post(allocated(), { key: KEY.shipper });

    const body = await problem(res, 403, 'forbidden');
    expect(body.errors).toEqual([{ path: 'type', message: expect.stringMatching(/allocation/) }]);
    expect(res.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"$/);
    expect(bus.calls).toEqual([]);
  });

  it('treats licences as the regulation family', async () => {
    const licence = {
      type: 'licence.granted',
      occurredAt: '2025-01-01T00:00:00Z',
      data: {
        licenceId: unique('LIC'),
        regulationId: 'REG-1',
        exporter: 'nvidia',
        skus: ['H20'],
        validFrom: '2025-01-01T00:00:00Z',
      },
    };

    await problem(await post(licence, { key: KEY.shipper }), 403, 'forbidden');
  });

  it('refuses a whole batch when one event is outside the family scope, reporting it by index', async () => {
    const res = await post({ events: [dispatched(), allocated()] }, { key: KEY.shipper });

    const body = await problem(res, 403, 'forbidden');
    expect(paths(body)).toEqual([[1, 'type']]);
    expect(bus.calls).toEqual([]);
  });

  it('forbids a provider-limited partner to speak for another provider', async () => {
    const res = await post(dispatched({ provider: 'tencent-cloud' }), { key: KEY.alibaba });

    const body = await problem(res, 403, 'forbidden');
    expect(body.errors).toEqual([{ path: 'data', message: expect.stringMatching(/tencent-cloud/) }]);
    expect(bus.calls).toEqual([]);
  });

  it('lets a provider-limited partner speak for its provider', async () => {
    const res = await post(dispatched({ provider: 'alibaba-cloud' }), { key: KEY.alibaba });

    expect(res.status).toBe(202);
    expect(bus.calls).toHaveLength(1);
  });

  it('allows a follow-up event in the same batch as the dispatch that names its provider', async () => {
    const shipmentId = unique('SH');
    const res = await post({ events: [held(shipmentId), dispatched({ shipmentId })] }, { key: KEY.alibaba });

    expect(res.status).toBe(202);
    expect(bus.calls.flat()).toHaveLength(2);
  });

  it('forbids a follow-up event alone for a shipment whose provider is not known yet', async () => {
    const res = await post(held(unique('SH')), { key: KEY.alibaba });

    const body = await problem(res, 403, 'forbidden');
    expect(paths(body)).toEqual([[undefined, 'data']]);
    expect(bus.calls).toEqual([]);
  });

  it('judges a follow-up event by the provider of its already projected dispatch', async () => {
    const ours = dispatched({ eventId: unique('EV'), provider: 'alibaba-cloud' });
    const theirs = dispatched({ eventId: unique('EV'), provider: 'tencent-cloud' });
    const recorded = [ours, theirs].map((body) => {
      const event = EventInput.parse(body) as DomainEvent;
      return { ...event, source: 'acme', stream: streamOf(event), recordedAt: NOW.toISOString() };
    });
    await projectEvents(projections, recorded, { clock: { now: () => NOW } });

    const allowed = await post(held(ours.data.shipmentId as string), { key: KEY.alibaba });
    const refused = await post(held(theirs.data.shipmentId as string), { key: KEY.alibaba });

    expect(allowed.status).toBe(202);
    const body = await problem(refused, 403, 'forbidden');
    expect(body.errors?.[0]?.message).toMatch(/tencent-cloud/);
  });

  it('needs no family scope for a partner with every family', async () => {
    const res = await post({ events: [dispatched(), allocated()] });

    expect(res.status).toBe(202);
  });
});

describe('content type and size', () => {
  it('answers 415 to text/plain', async () => {
    const res = await post(dispatched(), { contentType: 'text/plain' });

    await problem(res, 415, 'unsupported-media-type');
    expect(bus.calls).toEqual([]);
  });

  it('answers 415 when there is no Content-Type', async () => {
    await problem(await post(dispatched(), { contentType: null }), 415, 'unsupported-media-type');
  });

  it.each(['application/jsonp', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])(
    'answers 415 to %s',
    async (contentType) => {
      await problem(await post(dispatched(), { contentType }), 415, 'unsupported-media-type');
    },
  );

  it.each(['application/json; charset=utf-8', 'Application/JSON', 'application/json;charset="UTF-8"'])(
    'accepts %s',
    async (contentType) => {
      expect((await post(dispatched(), { contentType })).status).toBe(202);
    },
  );

  it.each(['application/json; charset=iso-8859-1', 'application/json; charset=utf-16'])(
    'answers 415 to %s, and publishes nothing',
    async (contentType) => {
      await problem(await post(dispatched(), { contentType }), 415, 'unsupported-media-type');
      expect(bus.calls).toEqual([]);
    },
  );

  it.each(['gzip', 'br'])(
    'answers 415 to Content-Encoding: %s, naming the coding it takes',
    async (coding) => {
      const res = await app.request('/v1/events', {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${KEY.partner}`,
          'Content-Type': 'application/json',
          'Content-Encoding': coding,
        },
        body: JSON.stringify(dispatched()),
      });
      await problem(res, 415, 'unsupported-media-type');
      expect(res.headers.get('accept-encoding')).toBe('identity');
      expect(bus.calls).toEqual([]);
    },
  );

  it('answers 400 to a body that is not UTF-8, rather than storing U+FFFD', async () => {
    const json = JSON.stringify(dispatched({ eventId: unique('EV') }));
    const at = json.indexOf('"destination":{') + '"destination":{'.length;
    const bytes = Buffer.concat([
      Buffer.from(json.slice(0, at), 'utf8'),
      Buffer.from('"site":"caf\xe9\xff",', 'latin1'),
      Buffer.from(json.slice(at), 'utf8'),
    ]);
    const res = await app.request('/v1/events', {
      method: 'POST',
      headers: { Authorization: `Bearer ${KEY.partner}`, 'Content-Type': 'application/json' },
      body: bytes,
    });
    const body = await problem(res, 400, 'malformed-json');
    expect(body.detail).toMatch(/UTF-8/);
    expect(bus.calls).toEqual([]);
  });

  it('answers 413 to a body over 1 MiB, before parsing it', async () => {
    const raw = `{"events":[${'0'.repeat(1024 * 1024)}]}`;

    const body = await problem(await post(null, { raw }), 413, 'payload-too-large');
    expect(body.errors).toBeUndefined();
    expect(bus.calls).toEqual([]);
  });

  it('takes a body of exactly 1 MiB', async () => {
    const json = JSON.stringify({ events: [dispatched()] });
    const raw = json + ' '.repeat(1024 * 1024 - Buffer.byteLength(json));

    expect(Buffer.byteLength(raw)).toBe(1024 * 1024);
    expect((await post(null, { raw })).status).toBe(202);
  });

  it('answers 413 to a single event over 64 KiB serialized, without an index', async () => {
    const event = dispatched();
    event.data.note = 'x'.repeat(64 * 1024);

    const body = await problem(await post(event), 413, 'payload-too-large');
    expect(paths(body)).toEqual([[undefined, '']]);
    expect(bus.calls).toEqual([]);
  });

  it('answers 413 to a batch with an event over 64 KiB, naming its index', async () => {
    const big = dispatched();
    big.data.note = 'x'.repeat(70 * 1024);

    const body = await problem(await post({ events: [dispatched(), big] }), 413, 'payload-too-large');
    expect(paths(body)).toEqual([[1, '']]);
  });

  it('measures an event in UTF-8 bytes, not characters', async () => {
    const event = dispatched();
    // 22,000 characters, 66,000 bytes.
    event.data.note = '中'.repeat(22_000);

    await problem(await post(event), 413, 'payload-too-large');
  });

  it('lets an event of exactly 64 KiB through to validation', async () => {
    const event = dispatched();
    event.data.note = '';
    event.data.note = 'x'.repeat(64 * 1024 - Buffer.byteLength(JSON.stringify(event)));
    expect(Buffer.byteLength(JSON.stringify(event))).toBe(64 * 1024);

    // Not too large, only invalid: the unknown field is what is reported.
    const body = await problem(await post(event), 400, 'validation');
    expect(paths(body)).toEqual([[undefined, 'data.note']]);
  });
});

describe('malformed bodies', () => {
  it.each(['{"type":', '', 'undefined', "{'type': 'x'}", '{"a":1}{"b":2}'])(
    'answers 400 malformed-json to %j',
    async (raw) => {
      await problem(await post(null, { raw }), 400, 'malformed-json');
      expect(bus.calls).toEqual([]);
    },
  );

  it.each(['[]', '42', 'null', '"event"', '[{"type":"shipment.released"}]'])(
    'answers 400 to a JSON body that is not an event object (%s)',
    async (raw) => {
      const body = await problem(await post(null, { raw }), 400, 'validation');
      expect(body.errors?.length).toBeGreaterThan(0);
    },
  );

  // 5,000 levels overflow the stack of JSON.stringify (the size check) and of any recursive walk.
  const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
  it.each([
    [
      'inside data',
      `{"type":"shipment.released","occurredAt":"2025-01-01T00:00:00Z","data":{"shipmentId":"D","x":${deep(5000)}}}`,
    ],
    ['as a batch', `{"events":${deep(5000)}}`],
    [
      'just past the limit',
      `{"type":"shipment.released","occurredAt":"2025-01-01T00:00:00Z","data":{"shipmentId":"D","x":${deep(31)}}}`,
    ],
  ])('answers 400, not 500, to a body nested too deep (%s), and publishes nothing', async (_, raw) => {
    const body = await problem(await post(null, { raw }), 400, 'validation');
    expect(body.errors).toEqual([{ path: '', message: 'must not nest more than 32 levels deep' }]);
    expect(bus.calls).toEqual([]);
  });

  it.each([
    [
      'a value',
      '{"type":"shipment.held","occurredAt":"2025-03-01T00:00:00Z","data":{"shipmentId":"S","authority":"US-CBP","reason":"lone \\ud800 x"}}',
      'data.reason',
    ],
    [
      'a low half alone',
      '{"events":[{"type":"shipment.released","occurredAt":"2025-03-01T00:00:00Z","data":{"shipmentId":"\\udc00"}}]}',
      'events.0.data.shipmentId',
    ],
    [
      'a key',
      '{"type":"shipment.released","occurredAt":"2025-03-01T00:00:00Z","data":{"shipmentId":"S","\\ud83d":1}}',
      'data.\ud83d',
    ],
  ])('answers 400 to an unpaired surrogate escape in %s, naming where', async (_, raw, path) => {
    const body = await problem(await post(null, { raw }), 400, 'validation');
    expect(body.errors).toEqual([{ path, message: expect.stringContaining('surrogate') }]);
    expect(bus.calls).toEqual([]);
  });

  it('takes a surrogate pair written as escapes, as any other character', async () => {
    const raw =
      '{"type":"shipment.held","occurredAt":"2025-03-01T00:00:00Z","data":{"shipmentId":"S-PAIR","authority":"US-CBP","reason":"\\ud83d\\ude80 launch"}}';
    expect((await post(null, { raw })).status).toBe(202);
  });

  it('judges a body nested exactly to the limit on its fields, as any other', async () => {
    const raw = `{"type":"shipment.released","occurredAt":"2025-01-01T00:00:00Z","data":{"shipmentId":"D","x":${deep(30)}}}`;
    const body = await problem(await post(null, { raw }), 400, 'validation');
    expect(paths(body)).toEqual([[undefined, 'data.x']]);
  });
});

describe('validation', () => {
  it('lists every issue of every event of a batch and publishes nothing', async () => {
    const zero = dispatched({ quantity: 0 });
    const noZone = { ...dispatched(), occurredAt: '2025-03-02T08:00:00' };
    const extra = dispatched();
    extra.data.extra = true;

    const res = await post({ events: [zero, dispatched(), noZone, extra] });

    const body = await problem(res, 400, 'validation');
    expect(paths(body)).toEqual([
      [0, 'data.quantity'],
      [2, 'occurredAt'],
      [3, 'data.extra'],
    ]);
    expect(body.detail).toMatch(/3 events/);
    expect(bus.calls).toEqual([]);
  });

  it('refuses a key written twice in one object, which JSON.parse would quietly resolve to the last', async () => {
    const event = JSON.stringify(dispatched({ eventId: unique('EV') }));
    const twice = event
      .replace('"type":"shipment.dispatched"', '"type":"shipment.held","type":"shipment.dispatched"')
      .replace('"quantity":', '"quantity":1,"quantity":');
    expect(twice).not.toBe(event);

    const single = await problem(await post(null, { raw: twice }), 400, 'validation');
    expect(single.errors).toEqual([
      { path: 'type', message: 'is written twice' },
      { path: 'data.quantity', message: 'is written twice' },
    ]);
    const batch = await problem(
      await post(null, {
        raw: `{"events":[${JSON.stringify(dispatched({ eventId: unique('EV') }))},${twice}]}`,
      }),
      400,
      'validation',
    );
    expect(batch.errors).toEqual([
      { index: 1, path: 'type', message: 'is written twice' },
      { index: 1, path: 'data.quantity', message: 'is written twice' },
    ]);
    expect(bus.calls).toEqual([]);
  });

  it('lists every issue within one event, without an index', async () => {
    const event = dispatched({ quantity: 1.5 });
    event.data.origin = { country: 'XX' };
    delete event.data.exporter;

    const body = await problem(await post(event), 400, 'validation');
    expect(body.errors).toEqual(
      expect.arrayContaining([
        { path: 'data.quantity', message: expect.any(String) },
        { path: 'data.origin.country', message: expect.any(String) },
        { path: 'data.exporter', message: 'is required' },
      ]),
    );
    expect(body.errors).toHaveLength(3);
    for (const issue of body.errors ?? []) expect(issue).not.toHaveProperty('index');
  });

  it.each([
    ['an unknown field in data', (e: EventBody) => Object.assign(e.data, { extra: 1 }), 'data.extra'],
    ['an unknown field beside data', (e: EventBody) => Object.assign(e, { extra: 1 }), 'extra'],
    [
      'an unknown field in a nested object',
      (e: EventBody) => Object.assign(e.data, { destination: { country: 'CN', providerId: 'x', gate: 4 } }),
      'data.destination.gate',
    ],
  ])('rejects %s (strict objects)', async (_, mutate, path) => {
    const event = dispatched();
    mutate(event);

    const body = await problem(await post(event), 400, 'validation');
    expect(body.errors).toEqual([{ path, message: 'is not a known field' }]);
  });

  it('rejects an unknown field beside events in a batch', async () => {
    const body = await problem(await post({ events: [dispatched()], meta: 1 }), 400, 'validation');

    expect(paths(body)).toEqual([[undefined, 'meta']]);
  });

  it('lists a stray field beside events together with the issues of the events', async () => {
    const body = await problem(
      await post({ events: [dispatched(), dispatched({ quantity: 0 })], meta: 1 }),
      400,
      'validation',
    );

    expect(paths(body)).toEqual([
      [undefined, 'meta'],
      [1, 'data.quantity'],
    ]);
    expect(bus.calls).toEqual([]);
  });

  it('lists blank text together with the schema issues of the same event, each once', async () => {
    const body = await problem(
      await post({
        type: 'provider.registered',
        occurredAt: '2025-01-01T00:00:00Z',
        data: { providerId: '   ', name: '   ', country: 'cn', kind: 'cloud' },
      }),
      400,
      'validation',
    );

    // The id's blank is its pattern's issue; the name's is found though the event fails its schema.
    expect(body.errors).toEqual([
      { path: 'data.providerId', message: expect.any(String) },
      { path: 'data.country', message: expect.any(String) },
      { path: 'data.name', message: 'must not be blank' },
    ]);
  });

  it.each([
    ['no zone', '2025-03-02T08:00:00'],
    ['a date only', '2025-03-02'],
    ['a day that does not exist', '2025-02-30T00:00:00Z'],
    ['not a time', 'yesterday'],
    ['a number', 1_741_000_000],
  ])('rejects an occurredAt with %s', async (_, occurredAt) => {
    const body = await problem(await post({ ...dispatched(), occurredAt }), 400, 'validation');

    expect(paths(body)).toEqual([[undefined, 'occurredAt']]);
  });

  it.each([
    ['year 10000', '9999-12-31T23:59:59-00:01'],
    ['year -1', '0000-01-01T00:00:00+00:01'],
  ])('rejects a time that is in %s in UTC, which RFC 3339 cannot write', async (_, occurredAt) => {
    // Normalised, these become `+010000-...` and `-000001-...`: not RFC 3339, and they sort out of order.
    const body = await problem(await post({ ...dispatched(), occurredAt }), 400, 'validation');

    expect(paths(body)).toEqual([[undefined, 'occurredAt']]);
    expect(bus.calls).toEqual([]);
  });

  it.each(['2025-03-02t08:00:00z', '2025-03-02T08:00:00-00:00'])(
    'accepts %s, which RFC 3339 allows',
    async (occurredAt) => {
      const res = await post({ ...dispatched(), occurredAt });

      expect(res.status).toBe(202);
      expect(bus.published[0]).toMatchObject({ occurredAt: '2025-03-02T08:00:00.000Z' });
    },
  );

  it('rejects an unknown country', async () => {
    const event = dispatched();
    event.data.destination = { country: 'XX', providerId: 'alibaba-cloud' };

    const body = await problem(await post(event), 400, 'validation');
    expect(paths(body)).toEqual([[undefined, 'data.destination.country']]);
  });

  it('rejects a lower-case country', async () => {
    const event = dispatched();
    event.data.origin = { country: 'tw' };

    expect(paths(await problem(await post(event), 400, 'validation'))).toEqual([
      [undefined, 'data.origin.country'],
    ]);
  });

  it.each([0, 1.5, 1_000_001, -1, '5', null])('rejects quantity %j', async (quantity) => {
    const body = await problem(await post(dispatched({ quantity })), 400, 'validation');

    expect(paths(body)).toEqual([[undefined, 'data.quantity']]);
  });

  it.each([
    [0, 'must be at least 1'],
    [1_000_001, 'must be at most 1000000'],
    [1.5, 'must be an integer'],
    // Out of range and a fraction, or past 2^53: the range alone is what the partner needs to hear.
    [-0.5, 'must be at least 1'],
    [2 ** 53 + 2, 'must be at most 1000000'],
  ])('says what is wrong with quantity %j in words: %s', async (quantity, message) => {
    const body = await problem(await post(dispatched({ quantity })), 400, 'validation');

    expect(body.errors).toEqual([{ path: 'data.quantity', message }]);
  });

  it('says how many characters and items a field may have', async () => {
    const regulation = {
      type: 'regulation.issued',
      occurredAt: '2025-04-09T00:00:00Z',
      data: {
        regulationId: 'R-1',
        authority: 'US-BIS',
        jurisdiction: 'US',
        direction: 'export',
        title: 'x'.repeat(501),
        policy: 'licence-required',
        skus: [],
        destinations: ['CN'],
        effectiveFrom: '2025-04-09T00:00:00Z',
      },
    };
    const body = await problem(await post(regulation), 400, 'validation');

    expect(body.errors).toEqual([
      { path: 'data.title', message: 'must have at most 500 characters' },
      { path: 'data.skus', message: 'must have at least 1 item' },
    ]);
  });

  // The limits the README lists where the contract leaves them open: each at its bound, then one past it.
  const regulationWith = (data: Record<string, unknown>): EventBody => ({
    type: 'regulation.issued',
    occurredAt: '2025-04-09T00:00:00Z',
    data: h20Rule({ regulationId: unique('R'), ...data }),
  });
  const withDestination = (extra: Record<string, unknown>): EventBody => {
    const event = dispatched();
    Object.assign(event.data, extra);
    return event;
  };
  it.each([
    ['title', (n: number) => regulationWith({ title: 'x'.repeat(n) }), 500, 'data.title'],
    [
      'skus',
      (n: number) => regulationWith({ skus: Array.from({ length: n }, (_, i) => `SKU-${i}`) }),
      100,
      'data.skus',
    ],
    [
      'destinations',
      (n: number) => regulationWith({ destinations: Array(n).fill('CN') }),
      250,
      'data.destinations',
    ],
    [
      'site',
      (n: number) =>
        withDestination({ destination: { country: 'CN', providerId: 'baidu-ai', site: 'x'.repeat(n) } }),
      200,
      'data.destination.site',
    ],
    [
      'authority',
      (n: number) => ({
        ...held('SH-1'),
        data: { shipmentId: 'SH-1', authority: 'A'.repeat(n), reason: 'x' },
      }),
      100,
      'data.authority',
    ],
    [
      'note',
      (n: number) => ({
        type: 'inventory.adjusted',
        occurredAt: '2025-04-09T00:00:00Z',
        data: { providerId: 'baidu-ai', sku: 'H20', delta: 8, reason: 'audit', note: 'x'.repeat(n) },
      }),
      500,
      'data.note',
    ],
  ])('takes %s at its README limit and refuses one more', async (_, make, limit, path) => {
    expect((await post(make(limit))).status).toBe(202);
    const body = await problem(await post(make(limit + 1)), 400, 'validation');
    expect(paths(body)).toEqual([[undefined, path]]);
  });

  it.each([
    ['hsCode', '8473.30'],
    ['hsCode', '847330'],
    ['hsCode', '8471.80.1000'],
    ['eccn', '3A090'],
    ['eccn', '3A090.a'],
    ['eccn', 'EAR99'],
  ])('accepts the README example %s %s', async (field, value) => {
    expect((await post(withDestination({ [field]: value }))).status).toBe(202);
  });

  it.each(['CN-GACC', 'GACC', 'MOFCOM', 'China Customs', 'HK-C&ED'])(
    'accepts authority %j',
    async (authority) => {
      expect(
        (await post({ ...held('SH-1'), data: { shipmentId: 'SH-1', authority, reason: 'x' } })).status,
      ).toBe(202);
    },
  );

  it.each(['', ' US-BIS', 'US\nBIS', 'x'.repeat(101)])('rejects authority %j', async (authority) => {
    const body = await problem(
      await post({ ...held('SH-1'), data: { shipmentId: 'SH-1', authority, reason: 'x' } }),
      400,
      'validation',
    );
    expect(paths(body)).toEqual([[undefined, 'data.authority']]);
  });

  it.each([
    ['a NUL', 'Alibaba\u0000Cloud', 'must not hold control characters (tab and line breaks aside)'],
    ['an escape', '\u001b[31mred', 'must not hold control characters (tab and line breaks aside)'],
    ['a DEL', 'Baidu\u007f', 'must not hold control characters (tab and line breaks aside)'],
    ['only spaces', '   ', 'must not be blank'],
  ])('refuses a provider name with %s', async (_, name, message) => {
    const body = await problem(
      await post({
        type: 'provider.registered',
        occurredAt: '2025-01-01T00:00:00Z',
        data: { providerId: 'baidu-ai', name, country: 'CN', kind: 'cloud' },
      }),
      400,
      'validation',
    );
    expect(body.errors).toEqual([{ path: 'data.name', message }]);
  });

  it('takes tabs and line breaks in a reason', async () => {
    const reason = 'inspection:\n\tdeclared value\r\n\tlot count';
    expect(
      (await post({ ...held('SH-1'), data: { shipmentId: 'SH-1', authority: 'CN-GACC', reason } })).status,
    ).toBe(202);
  });

  it.each([1, 1_000_000])('accepts quantity %d', async (quantity) => {
    expect((await post(dispatched({ quantity }))).status).toBe(202);
  });

  it.each([0, 101])('rejects a batch of %d events', async (count) => {
    const batch = { events: Array.from({ length: count }, () => dispatched()) };

    const body = await problem(await post(batch), 400, 'validation');
    expect(paths(body)).toEqual([[undefined, 'events']]);
    expect(bus.calls).toEqual([]);
  });

  it('accepts a batch of 100 events', async () => {
    const res = await post({ events: Array.from({ length: 100 }, () => dispatched()) });

    expect(res.status).toBe(202);
    expect(((await res.json()) as { accepted: unknown[] }).accepted).toHaveLength(100);
    expect(bus.calls.flat()).toHaveLength(100);
  });

  it('rejects events that is not an array', async () => {
    expect(paths(await problem(await post({ events: dispatched() }), 400, 'validation'))).toEqual([
      [undefined, 'events'],
    ]);
  });

  it.each([
    ['an unknown type', 'shipment.teleported'],
    ['a type in the wrong case', 'Shipment.Dispatched'],
  ])('rejects %s, naming the known types', async (_, type) => {
    const body = await problem(await post({ ...dispatched(), type }), 400, 'validation');

    expect(body.errors).toEqual([{ path: 'type', message: expect.stringContaining('shipment.dispatched') }]);
  });

  it('rejects a missing type', async () => {
    const { type: _type, ...event } = dispatched();

    expect(paths(await problem(await post(event), 400, 'validation'))).toEqual([[undefined, 'type']]);
  });

  it('still lists every issue of the envelope when the type is unknown or missing', async () => {
    expect((await problem(await post({}), 400, 'validation')).errors).toEqual([
      { path: 'type', message: 'is required' },
      { path: 'occurredAt', message: 'is required' },
      { path: 'data', message: 'is required' },
    ]);
    const batch = {
      events: [dispatched(), { eventId: 'has space', type: 'nope', occurredAt: '2025-03-02' }],
    };
    const body = await problem(await post(batch), 400, 'validation');
    expect(paths(body)).toEqual([
      [1, 'eventId'],
      [1, 'type'],
      [1, 'occurredAt'],
      [1, 'data'],
    ]);
    expect(body.errors?.[1]?.message).toContain('shipment.dispatched');
    expect(bus.calls).toEqual([]);
  });

  it.each(['has space', '-leading-dash', 'x'.repeat(129), 'é'])('rejects eventId %j', async (eventId) => {
    const body = await problem(await post(dispatched({ eventId })), 400, 'validation');

    expect(paths(body)).toEqual([[undefined, 'eventId']]);
  });
});

describe('conflicts and idempotency', () => {
  it('answers 409 to the same eventId twice in one batch with different content', async () => {
    const eventId = unique('EV');
    const batch = { events: [dispatched({ eventId }), dispatched({ eventId, quantity: 7 })] };

    const body = await problem(await post(batch), 409, 'conflict');
    expect(paths(body)).toEqual([[1, 'eventId']]);
    expect(bus.calls).toEqual([]);
  });

  it('answers 409 to an eventId already recorded with different content', async () => {
    const original = dispatched({ eventId: unique('EV') });
    await record(original, 'acme');

    const body = await problem(
      await post({ ...original, data: { ...original.data, quantity: 1 } }),
      409,
      'conflict',
    );
    expect(body.errors).toEqual([{ path: 'eventId', message: expect.any(String) }]);
    expect(bus.calls).toEqual([]);
  });

  it('answers 409 when another partner reuses an eventId recorded for the same content', async () => {
    const original = dispatched({ eventId: unique('EV') });
    await record(original, 'globex');

    const body = await problem(await post(original), 409, 'conflict');
    // The content is the same: the message must not claim otherwise.
    expect(body.errors).toEqual([
      { path: 'eventId', message: 'was already recorded with other content, or from another partner' },
    ]);
    expect(bus.calls).toEqual([]);
  });

  it('acknowledges an event recorded with the same content, without publishing it again', async () => {
    const original = dispatched({ eventId: unique('EV') });
    await record(original, 'acme');

    // The same instant written in another zone is the same content.
    const res = await post({ ...original, occurredAt: '2025-03-02T00:00:00.000Z' });

    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({
      accepted: [
        {
          eventId: original.eventId,
          type: 'shipment.dispatched',
          status: 'accepted',
          href: `/v1/events/${original.eventId}`,
        },
      ],
    });
    expect(bus.calls).toEqual([]);
  });

  it('answers 409 to an eventId accepted moments ago with other content, before the store has it', async () => {
    const original = dispatched({ eventId: unique('EV') });
    expect((await post(original)).status).toBe(202);

    const body = await problem(
      await post({ ...original, data: { ...original.data, quantity: 1 } }),
      409,
      'conflict',
    );
    expect(body.errors).toEqual([
      { path: 'eventId', message: 'was already accepted with other content, or from another partner' },
    ]);
    // Another partner's copy of the same content is other content too.
    await problem(await post(original, { key: KEY.shipper }), 409, 'conflict');
    expect(bus.published.map((e) => e.eventId)).toEqual([original.eventId]);
  });

  it('accepts one of two copies of an eventId with other content raced in at once, refusing the other', async () => {
    const original = dispatched({ eventId: unique('EV') });
    const statuses = await Promise.all([
      post(original).then((r) => r.status),
      post({ ...original, data: { ...original.data, quantity: 1 } }).then((r) => r.status),
    ]);

    expect(statuses.sort()).toEqual([202, 409]);
    expect(bus.published.map((e) => e.eventId)).toEqual([original.eventId]);
  });

  it('sends a resend again while the first copy is still being handed over: that handover may fail', async () => {
    let openGate = () => {};
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    const calls: string[][] = [];
    const slowThenFailing = {
      async publish(entries: BusEntry[]): Promise<PublishResult> {
        calls.push(entries.map((e) => JSON.parse(e.Detail).eventId));
        if (calls.length > 1) return { accepted: entries.map((_, i) => i), failed: [] };
        await gate;
        return {
          accepted: [],
          failed: [{ index: 0, code: 'ThrottlingException', message: 'Rate exceeded' }],
        };
      },
    };
    const flaky = createApp({ ...deps, publisher: slowThenFailing });
    const send = (body: EventBody) =>
      flaky.request('/v1/events', {
        method: 'POST',
        headers: { Authorization: `Bearer ${KEY.partner}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    const original = dispatched({ eventId: unique('EV') });

    const first = send(original);
    while (calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    const second = await send(original);
    openGate();

    expect(second.status).toBe(202);
    expect((await first).status).toBe(503);
    expect(calls).toEqual([[original.eventId], [original.eventId]]);
  });

  it('acknowledges a resend of an event accepted moments ago, without publishing it again', async () => {
    const original = dispatched({ eventId: unique('EV') });
    expect((await post(original)).status).toBe(202);

    const again = await post(original);

    expect(again.status).toBe(202);
    expect(bus.published.map((e) => e.eventId)).toEqual([original.eventId]);
  });

  it('gives a receipt for each copy of an event repeated in a batch, and publishes it once', async () => {
    const event = dispatched({ eventId: unique('EV') });

    const res = await post({ events: [event, event] });

    expect(res.status).toBe(202);
    const { accepted } = (await res.json()) as { accepted: { eventId: string }[] };
    expect(accepted.map((r) => r.eventId)).toEqual([event.eventId, event.eventId]);
    expect(bus.published.map((e) => e.eventId)).toEqual([event.eventId]);
  });
});

describe('accepting events', () => {
  it('answers 202 with receipts in request order, each with its href', async () => {
    const ids = [unique('EV'), unique('EV'), unique('EV')];
    const batch = { events: [dispatched({ eventId: ids[0] }), allocated(), held('SH-X', ids[2])] };
    batch.events[1]!.eventId = ids[1];

    const res = await post(batch);

    expect(res.status).toBe(202);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await res.json()).toEqual({
      accepted: [
        { eventId: ids[0], type: 'shipment.dispatched', status: 'accepted', href: `/v1/events/${ids[0]}` },
        { eventId: ids[1], type: 'allocation.created', status: 'accepted', href: `/v1/events/${ids[1]}` },
        { eventId: ids[2], type: 'shipment.held', status: 'accepted', href: `/v1/events/${ids[2]}` },
      ],
    });
    expect(bus.published.map((e) => e.eventId)).toEqual(ids);
  });

  it('makes a ULID for each event without an eventId and publishes it under that id', async () => {
    const res = await post({ events: [dispatched(), dispatched()] });

    const { accepted } = (await res.json()) as { accepted: { eventId: string; href: string }[] };
    const ids = accepted.map((r) => r.eventId);
    for (const id of ids) expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(new Set(ids).size).toBe(2);
    expect(accepted.map((r) => r.href)).toEqual(ids.map((id) => `/v1/events/${id}`));
    expect(bus.published.map((e) => e.eventId)).toEqual(ids);
  });

  it('publishes the event with the partner as source, to the configured bus, in UTC', async () => {
    const eventId = unique('EV');

    await post(dispatched({ eventId }));

    const [entry] = bus.calls.flat();
    expect(entry).toMatchObject({
      Source: 'h20-tracker.api',
      DetailType: 'shipment.dispatched',
      EventBusName: BUS_NAME,
    });
    expect(JSON.parse(entry?.Detail ?? '{}')).toMatchObject({
      eventId,
      source: 'acme',
      occurredAt: '2025-03-02T00:00:00.000Z',
      acceptedAt: NOW.toISOString(),
    });
  });

  it('answers 503 with accepted and failed lists when the bus refuses some events', async () => {
    const ids = [unique('EV'), unique('EV'), unique('EV')];
    const batch = { events: ids.map((eventId) => dispatched({ eventId })) };
    bus.failing = new Set([1]);

    const res = await post(batch);

    const body = await problem(res, 503, 'bus-unavailable');
    expect(res.headers.get('retry-after')).not.toBeNull();
    expect(body.accepted).toEqual([
      expect.objectContaining({ eventId: ids[0], status: 'accepted', href: `/v1/events/${ids[0]}` }),
      expect.objectContaining({ eventId: ids[2], status: 'accepted' }),
    ]);
    expect(body.failed).toEqual([expect.objectContaining({ index: 1, eventId: ids[1] })]);
    expect(JSON.stringify(body)).not.toContain('Rate exceeded');

    // Resent whole, only the refused event goes to the bus again: the others are on their way.
    bus.failing = new Set();
    expect((await post(batch)).status).toBe(202);
    expect(bus.calls.at(-1)?.map((e) => JSON.parse(e.Detail).eventId)).toEqual([ids[1]]);
  });

  it('reports failures by their index in the request, not in what was published', async () => {
    const recorded = dispatched({ eventId: unique('EV') });
    await record(recorded, 'acme');
    const fresh = [unique('EV'), unique('EV')];
    // The recorded event is not sent, so the bus's entry 0 is the request's event 1.
    bus.failing = new Set([0]);

    const res = await post({ events: [recorded, ...fresh.map((eventId) => dispatched({ eventId }))] });

    const body = await problem(res, 503, 'bus-unavailable');
    expect(body.failed).toEqual([expect.objectContaining({ index: 1, eventId: fresh[0] })]);
    expect((body.accepted as { eventId: string }[]).map((r) => r.eventId)).toEqual([
      recorded.eventId,
      fresh[1],
    ]);
  });

  it('answers 503 with the server-made id of a single event the bus refused, so it can be resent as is', async () => {
    bus.failing = new Set([0]);

    const body = await problem(await post(dispatched()), 503, 'bus-unavailable');

    expect(body.accepted).toEqual([]);
    expect(body.failed).toEqual([
      expect.objectContaining({ eventId: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/) }),
    ]);
  });
});

describe('routes and methods', () => {
  it.each([
    ['DELETE', '/v1/events', ['GET', 'POST']],
    ['PUT', '/v1/events/EV-1', ['GET']],
    ['POST', '/v1/availability', ['GET']],
    ['PATCH', '/v1/shipments/SH-1', ['GET']],
  ])('answers 405 with Allow to %s %s', async (method, path, allowed) => {
    const res = await app.request(path, { method, headers: { Authorization: `Bearer ${KEY.analyst}` } });

    await problem(res, 405, 'method-not-allowed');
    const allow = (res.headers.get('allow') ?? '').split(/,\s*/);
    expect(allow).toEqual(expect.arrayContaining([...allowed, 'OPTIONS']));
  });

  it.each([
    ['/v1/events', 'GET, HEAD, OPTIONS, POST'],
    ['/v1/events/EV-1', 'GET, HEAD, OPTIONS'],
    ['/v1/availability', 'GET, HEAD, OPTIONS'],
    ['/openapi.json', 'GET, HEAD, OPTIONS'],
  ])('answers OPTIONS %s with what it allows, before any key is asked for', async (path, allow) => {
    const res = await app.request(path, { method: 'OPTIONS' });

    expect(res.status).toBe(204);
    expect(res.headers.get('allow')).toBe(allow);
    expect(await res.text()).toBe('');
  });

  it('answers HEAD where GET is allowed, without a body but with the length GET would send', async () => {
    const headers = { Authorization: `Bearer ${KEY.analyst}` };
    const res = await app.request('/v1/availability?sku=H20', { method: 'HEAD', headers });
    const body = await (await app.request('/v1/availability?sku=H20', { headers })).arrayBuffer();

    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    expect(body.byteLength).toBeGreaterThan(0);
    expect(res.headers.get('content-length')).toBe(String(body.byteLength));
  });

  it.each([
    ['an answer', '/v1/availability?sku=H20', KEY.analyst, 200],
    ['an error', '/v1/availability?sku=H20', null, 401],
    ['the health check', '/v1/health', null, 200],
  ])('marks %s of the API as not to be stored by any cache', async (_, path, key, status) => {
    const res = await get(path, key);

    expect(res.status).toBe(status);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it.each(['application/xml', 'text/csv', 'text/html, application/xhtml+xml'])(
    'answers 406 to a JSON-only read asked for %s',
    async (accept) => {
      const res = await app.request('/v1/events', {
        headers: { Authorization: `Bearer ${KEY.analyst}`, Accept: accept },
      });

      await problem(res, 406, 'not-acceptable');
      expect(res.headers.get('vary')).toBe('Accept');
    },
  );

  it('answers 406 to a POST that accepts no JSON, before taking its events', async () => {
    const res = await app.request('/v1/events', {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${KEY.partner}`,
        'Content-Type': 'application/json',
        Accept: 'text/csv',
      },
      body: JSON.stringify(dispatched()),
    });

    await problem(res, 406, 'not-acceptable');
    expect(bus.calls).toEqual([]);
  });

  it('answers the health check whatever the prober accepts', async () => {
    const res = await app.request('/v1/health', { headers: { Accept: 'text/plain' } });

    expect(res.status).toBe(200);
  });

  it.each([
    'application/json',
    'application/*',
    '*/*',
    'text/html, */*;q=0.8',
    'application/json;q=0.1',
    // Nothing in it parses as a media range: ignored, as RFC 9110 allows.
    'json',
  ])('answers JSON to a read that accepts %s', async (accept) => {
    const res = await app.request('/v1/status', {
      headers: { Authorization: `Bearer ${KEY.analyst}`, Accept: accept },
    });

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('leaves the documentation cacheable', async () => {
    const res = await get('/openapi.json', null);

    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBeNull();
  });

  it('answers OPTIONS on no route with 404', async () => {
    await problem(await app.request('/v1/nothing-here', { method: 'OPTIONS' }), 404, 'not-found');
  });

  it.each(['/v1/nothing-here', '/v1/events/EV-1/extra', '/nowhere'])(
    'answers 404 problem to %s',
    async (path) => {
      await problem(await get(path), 404, 'not-found');
    },
  );
});

describe('query parameters', () => {
  it('answers 400 to availability without sku', async () => {
    const body = await problem(await get('/v1/availability'), 400, 'validation');

    expect(paths(body)).toEqual([[undefined, 'sku']]);
  });

  it.each([
    ['sku=h20', 'sku'],
    ['sku=H20&asOf=yesterday', 'asOf'],
    ['sku=H20&asOf=2025-04-09T08:00:00', 'asOf'],
    ['sku=H20&provider=Alibaba', 'provider'],
    ['sku=H20&knownAt=soon', 'knownAt'],
  ])('answers 400 to availability?%s, naming %s', async (query, path) => {
    const body = await problem(await get(`/v1/availability?${query}`), 400, 'validation');

    expect(paths(body)).toEqual([[undefined, path]]);
  });

  it.each([
    ['an unencoded +', '2025-04-09T08:00:00+08:00'],
    ['a space', '2025-04-09T08:00:00%2008:00'],
    ['an encoded +', '2025-04-09T08:00:00%2B08:00'],
  ])('reads an asOf offset sent with %s', async (_, asOf) => {
    const res = await get(`/v1/availability?sku=H20&asOf=${asOf}`);

    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ sku: 'H20', asOf: '2025-04-09T00:00:00.000Z' });
  });

  it.each([
    ['/v1/availability?sku=A800&sku=H20', ['sku']],
    ['/v1/events?limit=5&type=shipment.held&limit=6&type=shipment.held', ['limit', 'type']],
  ])('answers 400 to %s, naming each parameter given twice', async (url, names) => {
    const body = await problem(await get(url), 400, 'validation');

    expect(paths(body)).toEqual(names.map((name) => [undefined, name]));
  });

  it.each([
    ['/v1/shipments/-bad', 'shipmentId'],
    ['/v1/events/has%20space', 'eventId'],
    ['/v1/providers/Not_A_Slug/availability', 'providerId'],
    ['/v1/regulations/-bad', 'regulationId'],
  ])('answers 400 to %s, naming the path parameter %s', async (url, name) => {
    const body = await problem(await get(url), 400, 'validation');

    expect(paths(body)).toEqual([[undefined, name]]);
  });

  it.each(['0', '501', '-1', '1.5', 'ten'])('answers 400 to events?limit=%s', async (limit) => {
    const body = await problem(await get(`/v1/events?limit=${limit}`), 400, 'validation');

    expect(paths(body)).toEqual([[undefined, 'limit']]);
  });

  it.each(['not-a-cursor', Buffer.from('2025-01-01').toString('base64url'), '%00'])(
    'answers 400 to events?cursor=%s',
    async (cursor) => {
      const body = await problem(await get(`/v1/events?cursor=${cursor}`), 400, 'validation');

      expect(paths(body)).toEqual([[undefined, 'cursor']]);
    },
  );

  it.each([
    ['type=shipment.teleported', 'type'],
    ['stream=nowhere', 'stream'],
    ['stream=shipment:-x', 'stream'],
    ['stream=provider:Alibaba', 'stream'],
    ['stream=inventory:bulk:h20', 'stream'],
    ['stream=inventory:alibaba-cloud', 'stream'],
    ['from=2025-01-01', 'from'],
  ])('answers 400 to events?%s', async (query, path) => {
    expect(paths(await problem(await get(`/v1/events?${query}`), 400, 'validation'))).toEqual([
      [undefined, path],
    ]);
  });

  it.each([
    ['/v1/availability/history?sku=H20&from=2025-01-01T00:00:00Z&step=week', ['step']],
    ['/v1/availability?sku=H20&knowAt=2025-02-01T00:00:00Z', ['knowAt']],
    ['/v1/shipments/SH-1?asOf=2025-02-01T00:00:00Z', ['asOf']],
    ['/v1/events/EV-1?verbose=1&x=', ['verbose', 'x']],
    ['/v1/status?since=1', ['since']],
  ])('answers 400 naming what %s does not take', async (path, names) => {
    const body = await problem(await get(path), 400, 'validation');

    expect(paths(body)).toEqual(names.map((name) => [undefined, name]));
    expect(body.errors).toEqual(
      names.map((name) => ({ path: name, message: 'is not a parameter of this route' })),
    );
  });

  it('refuses a parameter on POST /v1/events, and publishes nothing: dryRun=1 is not a dry run', async () => {
    const res = await app.request('/v1/events?dryRun=1', {
      method: 'POST',
      headers: { Authorization: `Bearer ${KEY.partner}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(dispatched()),
    });

    const body = await problem(res, 400, 'validation');
    expect(body.errors).toEqual([{ path: 'dryRun', message: 'is not a parameter of this route' }]);
    expect(bus.calls).toEqual([]);
  });

  it.each(['/v1/health?probe=1', '/openapi.json?v=2', '/docs?theme=dark'])(
    'leaves the query of %s alone: probes and documentation take any',
    async (path) => {
      expect((await app.request(path)).status).toBe(200);
    },
  );

  it('says which parameters a route takes when it refuses one', async () => {
    const body = await problem(await get('/v1/regulations?active=2025-01-01T00:00:00Z'), 400, 'validation');

    expect(body.detail).toBe('Some query parameters are not taken by this route (it takes activeAt).');
  });

  it.each(['provider:alibaba-cloud', 'inventory:alibaba-cloud:RTX-PRO-6000D', 'licence:LIC.2025:7'])(
    'takes events?stream=%s, a stream as events name it',
    async (stream) => {
      const res = await get(`/v1/events?stream=${stream}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ items: [], nextCursor: null });
    },
  );

  it('pages through events by occurredAt with a cursor', async () => {
    const shipmentId = unique('SH');
    const bodies = ['2019-06-03T00:00:00Z', '2019-06-01T00:00:00Z', '2019-06-02T00:00:00Z'].map(
      (occurredAt) => ({
        ...dispatched({ eventId: unique('EV'), shipmentId }),
        occurredAt,
      }),
    );
    for (const body of bodies) await record(body, 'acme');
    await events.noteMonths(['2019-06-01T00:00:00.000Z']);
    const window = 'from=2019-06-01T00:00:00Z&to=2019-06-30T00:00:00Z';

    const firstRes = await get(`/v1/events?${window}&limit=2`);
    const first = (await firstRes.json()) as {
      items: { eventId: string; occurredAt: string }[];
      nextCursor: string | null;
    };
    expect(firstRes.headers.get('link')).toBe(
      `</v1/events?from=2019-06-01T00%3A00%3A00Z&to=2019-06-30T00%3A00%3A00Z&limit=2&cursor=${first.nextCursor}>; rel="next"`,
    );
    const second = (await (await get(`/v1/events?${window}&limit=2&cursor=${first.nextCursor}`)).json()) as {
      items: { eventId: string }[];
      nextCursor: string | null;
    };

    expect(first.items.map((e) => e.occurredAt)).toEqual([
      '2019-06-01T00:00:00.000Z',
      '2019-06-02T00:00:00.000Z',
    ]);
    expect(second.items.map((e) => e.eventId)).toEqual([bodies[0]?.eventId]);
    expect(second.nextCursor).toBeNull();

    // Both bounds are inclusive, as asOf is: an event at from or at to is listed.
    const bounded = (await (
      await get('/v1/events?from=2019-06-02T00:00:00Z&to=2019-06-03T00:00:00Z')
    ).json()) as { items: { eventId: string }[] };
    expect(bounded.items.map((e) => e.eventId)).toEqual([bodies[2]?.eventId, bodies[0]?.eventId]);
  });
});

describe('reading an event', () => {
  it('shows a partner its own recorded event', async () => {
    const body = dispatched({ eventId: unique('EV') });
    await record(body, 'acme');

    const res = await get(`/v1/events/${body.eventId}`, KEY.partner);

    expect(res.status).toBe(200);
    const event = await res.json();
    expect(event).toMatchObject({
      eventId: body.eventId,
      type: 'shipment.dispatched',
      occurredAt: '2025-03-02T00:00:00.000Z',
      recordedAt: NOW.toISOString(),
      source: 'acme',
      stream: `shipment:${body.data.shipmentId}`,
      status: 'recorded',
      data: body.data,
    });
    expect(event).not.toHaveProperty('hash');
  });

  it("answers 404 to a partner asking for another partner's event, as if it were absent", async () => {
    const body = dispatched({ eventId: unique('EV') });
    await record(body, 'globex');

    await problem(await get(`/v1/events/${body.eventId}`, KEY.partner), 404, 'not-found');
    expect((await get(`/v1/events/${body.eventId}`, KEY.globex)).status).toBe(200);
    expect((await get(`/v1/events/${body.eventId}`, KEY.analyst)).status).toBe(200);
  });

  it('answers 404 to an event not recorded yet', async () => {
    await problem(await get(`/v1/events/${unique('EV')}`, KEY.partner), 404, 'not-found');
  });

  it('shows a partner its rejected event even when another partner recorded that eventId first', async () => {
    // The recorder's case "where the server cannot tell at once": globex's event was recorded while acme's
    // copy was on the bus, so acme's was filed as a rejection beside it.
    const body = dispatched({ eventId: unique('EV') });
    await record(body, 'globex');
    await events.reject({
      eventId: body.eventId as string,
      reason: 'eventId was already recorded with other content, or from another partner',
      receivedAt: NOW.toISOString(),
      hash: 'acme-copy',
      type: 'shipment.dispatched',
      occurredAt: '2025-03-02T00:00:00.000Z',
      source: 'acme',
      data: body.data,
    });

    const res = await get(`/v1/events/${body.eventId}`, KEY.partner);

    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      eventId: body.eventId,
      status: 'rejected',
      reason: expect.stringMatching(/other content, or from another partner/),
    });
  });

  it('shows a rejected event as rejected, with the reason', async () => {
    const eventId = unique('EV');
    await events.reject({
      eventId,
      reason: 'invalid event: data.quantity: too small',
      receivedAt: NOW.toISOString(),
      hash: 'h',
      type: 'shipment.dispatched',
      source: 'acme',
    });

    const res = await get(`/v1/events/${eventId}`, KEY.partner);

    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      eventId,
      status: 'rejected',
      reason: expect.stringMatching(/quantity/),
    });
  });
});

describe('internal errors', () => {
  /** The projections store with one method broken, over the same tables. */
  function appWithBrokenProjections(error: Error): Hono<AppEnv> {
    class BrokenProjections extends DynamoDBProjectionStore {
      override async countersForSku(): Promise<CountersRow[]> {
        throw error;
      }
    }
    return createApp({
      ...deps,
      projections: new BrokenProjections(tables.client, tables.names.projections),
    });
  }
  const analyst = { headers: { Authorization: `Bearer ${KEY.analyst}` } };

  const sdkError = (name: string, message: string) =>
    Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
  it.each([
    ['a plain Error', new Error('secret internal detail'), 500, 'internal', /secret/],
    // Throttling is the backend's passing trouble: 503, with a time to come back.
    [
      'an AWS SDK throttling error',
      sdkError('ProvisionedThroughputExceededException', 'secret internal detail'),
      503,
      'service-unavailable',
      /secret|Provisioned/,
    ],
    // A request of ours the service refuses as invalid is a bug, not an outage: 500.
    [
      'a ValidationException',
      sdkError('ValidationException', 'Invalid KeyConditionExpression: secret'),
      500,
      'internal',
      /secret|KeyCondition/,
    ],
  ])(
    'answers a store throwing %s with %i and %s, without its message',
    async (_, error, status, slug, hidden) => {
      const res = await appWithBrokenProjections(error).request('/v1/availability?sku=H20', analyst);

      const body = await problem(res, status, slug);
      expect(JSON.stringify(body)).not.toMatch(hidden);
      expect(res.headers.get('retry-after') !== null).toBe(status === 503);
    },
  );

  /** A store that takes connections and never answers, as a stalled DynamoDB does; closed by `close`. */
  async function silentStore({ maxAttempts = 1, requestTimeoutMs = 60_000 } = {}) {
    const held = new Set<Socket>();
    const silent = createServer((socket) => {
      held.add(socket.on('error', () => {}));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    // By default one long attempt: only the app's own budget can answer in time.
    const client = createDynamoClient({
      endpoint: `http://127.0.0.1:${port}`,
      maxAttempts,
      requestTimeoutMs,
    });
    const close = async () => {
      client.destroy();
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    };
    return { client, close };
  }

  it('answers a POST with 503 and every event in failed when the store is out, and publishes nothing', async () => {
    // A closed port: the store refuses at once.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const client = createDynamoClient({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 });
    try {
      const out = createApp({ ...deps, events: new DynamoDBEventStore(client, 'any') });
      const [named, unnamed] = namedAndUnnamed();

      const res = await post({ events: [named, unnamed] }, { to: out });

      const body = await problem(res, 503, 'service-unavailable');
      expect(res.headers.get('retry-after')).toBe('1');
      expect(body.accepted).toEqual([]);
      expect(body.failed).toEqual([
        {
          index: 0,
          eventId: named.eventId,
          type: named.type,
          code: 'ServiceUnavailable',
          message: expect.any(String),
        },
        // The id the server made for it: resent under it, the event counts once even if it got through.
        {
          index: 1,
          eventId: expect.stringMatching(/^[0-9A-Z]{26}$/),
          type: unnamed.type,
          code: 'ServiceUnavailable',
          message: expect.any(String),
        },
      ]);
      expect(bus.calls).toEqual([]);
    } finally {
      client.destroy();
    }
  });

  it('answers within its request budget when the store stalls: a POST with its lists, a GET with a 503', async () => {
    const { client, close } = await silentStore();
    const logs: { level: string; message: string }[] = [];
    try {
      const stalled = createApp({
        ...deps,
        events: new DynamoDBEventStore(client, 'any'),
        projections: new DynamoDBProjectionStore(client, 'any'),
        logger: createLogger({ level: 'warn', write: (line) => logs.push(JSON.parse(line)) }),
        requestBudgetMs: () => 1_000,
      });
      const event = dispatched({ eventId: unique('EV') });
      await warmKeys(stalled);

      const posted = await post(event, { to: stalled });
      const read = await stalled.request('/v1/availability?sku=H20', analyst);

      const body = await problem(posted, 503, 'service-unavailable');
      expect(posted.headers.get('retry-after')).toBe('1');
      expect(posted.headers.get('x-request-id')).toBeTruthy();
      expect(body).toMatchObject({ accepted: [], failed: [{ index: 0, eventId: event.eventId }] });
      const readBody = await problem(read, 503, 'service-unavailable');
      expect(readBody).not.toHaveProperty('failed');
      expect(bus.calls).toEqual([]);
      expect(logs.map((l) => l.message)).toEqual([
        'request ran past its budget',
        'request ran past its budget',
      ]);
    } finally {
      await close();
    }
  });

  /** Makes the app know the partner and analyst keys, so that a budget is spent past the key check. */
  async function warmKeys(target: Hono<AppEnv>) {
    const asPartner = await target.request('/v1/status', {
      headers: { Authorization: `Bearer ${KEY.partner}` },
    });
    expect(asPartner.status).toBe(403);
    expect((await target.request('/v1/nothing-here', analyst)).status).toBe(404);
  }

  it('answers 503 with Retry-After when the store stops answering, instead of waiting for ever', async () => {
    const { client, close } = await silentStore({ maxAttempts: 2, requestTimeoutMs: 200 });
    try {
      const stalled = createApp({ ...deps, projections: new DynamoDBProjectionStore(client, 'any') });

      const res = await stalled.request('/v1/availability?sku=H20', analyst);

      await problem(res, 503, 'service-unavailable');
      expect(res.headers.get('retry-after')).toBe('1');
    } finally {
      await close();
    }
  });

  /** Two dispatches: one with the partner's eventId, one without, for which the server makes an id. */
  function namedAndUnnamed(): [EventBody, EventBody] {
    const unnamed = dispatched();
    delete unnamed.eventId;
    return [dispatched({ eventId: unique('EV') }), unnamed];
  }

  it('logs the late failure of a request answered at its budget as information, not as an unhandled error', async () => {
    const { client, close } = await silentStore({ requestTimeoutMs: 600 });
    const logs: { level: string; message: string }[] = [];
    try {
      const stalled = createApp({
        ...deps,
        projections: new DynamoDBProjectionStore(client, 'any'),
        logger: createLogger({ level: 'info', write: (line) => logs.push(JSON.parse(line)) }),
        requestBudgetMs: () => 200,
      });
      await warmKeys(stalled);

      await problem(await stalled.request('/v1/availability?sku=H20', analyst), 503, 'service-unavailable');
      const late = 'a request answered at its budget has failed since';
      for (let waited = 0; !logs.some((l) => l.message === late) && waited < 10_000; waited += 50)
        await new Promise((resolve) => setTimeout(resolve, 50));

      expect(logs.filter((l) => l.level === 'error')).toEqual([]);
      expect(logs.filter((l) => l.level === 'warn' || l.message === late).map((l) => l.message)).toEqual([
        'request ran past its budget',
        late,
      ]);
    } finally {
      await close();
    }
  });

  it('sends nothing to the bus once it has answered at its budget, though the store answers later', async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let answered: Promise<unknown> = Promise.resolve();
    class LateEvents extends DynamoDBEventStore {
      override hashesOf(ids: readonly string[]): Promise<Map<string, string>> {
        const late = gate.then(() => super.hashesOf(ids));
        answered = late;
        return late;
      }
    }
    const slow = createApp({
      ...deps,
      events: new LateEvents(tables.client, tables.names.events),
      requestBudgetMs: () => 300,
    });
    await warmKeys(slow);
    const [named, unnamed] = namedAndUnnamed();

    const res = await post({ events: [named, unnamed] }, { to: slow });
    const body = await problem(res, 503, 'service-unavailable');
    release();
    await answered;
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(body.failed).toEqual([
      expect.objectContaining({ index: 0, eventId: named.eventId }),
      expect.objectContaining({ index: 1, eventId: expect.stringMatching(/^[0-9A-Z]{26}$/) }),
    ]);
    // The answer said no event is confirmed: none went to the bus after it.
    expect(bus.calls).toEqual([]);
  });

  it('answers 408, not 503, when the budget runs out while the body is still arriving', async () => {
    const slow = createApp({ ...deps, requestBudgetMs: () => 300 });
    await warmKeys(slow);
    // Half an event, and then nothing: the client never finishes its upload.
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"type":"shipment.dispatched",'));
      },
    });

    const res = await slow.request('/v1/events', {
      method: 'POST',
      headers: { Authorization: `Bearer ${KEY.partner}`, 'Content-Type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);

    await problem(res, 408, 'request-timeout');
    expect(bus.calls).toEqual([]);
  });

  it('publishes nothing and leaks nothing when the event store cannot be read during ingest', async () => {
    class BrokenEvents extends DynamoDBEventStore {
      override async hashesOf(): Promise<Map<string, string>> {
        throw new Error('secret internal detail');
      }
    }
    const broken = createApp({ ...deps, events: new BrokenEvents(tables.client, tables.names.events) });

    const res = await broken.request('/v1/events', {
      method: 'POST',
      headers: { Authorization: `Bearer ${KEY.partner}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(dispatched({ eventId: unique('EV') })),
    });

    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(await res.text()).not.toContain('secret');
    expect(bus.calls).toEqual([]);
  });
});

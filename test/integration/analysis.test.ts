import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as S from '../../shared/api/schemas.ts';
import type { RecordedEvent } from '../../shared/events/catalogue.ts';
import { PARTNER, expectProblem as problem, type ReadApp, readApp, recorded } from '../support/read-app.ts';

/*
 * The analysis routes over real projections: availability history and CSV answers. A history point must
 * say what `GET /v1/availability?asOf=<its time>` says, so the tests ask both through the API.
 */

const NOW = new Date('2025-03-20T12:00:00.000Z');
const EARLY = '2025-03-01T00:00:00.000Z';
const LATE = '2025-03-12T00:00:00.000Z';

let api: ReadApp;
/** Known from the start, unless said otherwise. */
const event = (type: string, occurredAt: string, data: Record<string, unknown>, recordedAt = EARLY) =>
  recorded(type, occurredAt, data, recordedAt);

const shipment = (id: string, provider: string, quantity: number) => ({
  shipmentId: id,
  sku: 'H20',
  quantity,
  exporter: 'nvidia',
  origin: { country: 'TW' },
  destination: { country: 'CN', providerId: provider },
});

/** Two providers over two weeks of March 2025; the last lot was only learned of on the 12th. */
const HISTORY: RecordedEvent[] = [
  event('inventory.adjusted', '2025-03-01T00:00:00Z', {
    providerId: 'alibaba-cloud',
    sku: 'H20',
    delta: 100,
    reason: 'opening-balance',
  }),
  event('shipment.dispatched', '2025-03-02T08:00:00Z', shipment('SH-A', 'alibaba-cloud', 512)),
  event('shipment.held', '2025-03-04T00:00:00Z', {
    shipmentId: 'SH-A',
    authority: 'CN-GACC',
    reason: 'inspection',
  }),
  event('shipment.released', '2025-03-06T00:00:00Z', { shipmentId: 'SH-A' }),
  event('shipment.delivered', '2025-03-08T00:00:00Z', { shipmentId: 'SH-A' }),
  event('shipment.installed', '2025-03-10T00:00:00Z', { shipmentId: 'SH-A' }),
  event('allocation.created', '2025-03-11T00:00:00Z', {
    allocationId: 'AL-1',
    providerId: 'alibaba-cloud',
    sku: 'H20',
    quantity: 700,
    tenant: 'deepseek',
  }),
  event('shipment.dispatched', '2025-03-03T00:00:00Z', shipment('SH-B', 'baidu-ai', 64)),
  event('shipment.cancelled', '2025-03-09T00:00:00Z', { shipmentId: 'SH-B', disposition: 'seized' }),
  event('shipment.dispatched', '2025-03-05T00:00:00Z', shipment('SH-C', 'baidu-ai', 128), LATE),
  // A provider renamed twice; the last name was only learned of on the 12th.
  ...(
    [
      ['2025-03-01T00:00:00Z', 'Alpha Old', EARLY],
      ['2025-03-05T00:00:00Z', 'Alpha Cloud', EARLY],
      ['2025-03-09T00:00:00Z', 'Alpha New', LATE],
    ] as const
  ).map(([at, name, known]) =>
    event(
      'provider.registered',
      at,
      { providerId: 'alpha-cloud', name, country: 'CN', kind: 'cloud' },
      known,
    ),
  ),
  // Another SKU, which no H20 figure may include.
  event('inventory.adjusted', '2025-03-02T00:00:00Z', {
    providerId: 'baidu-ai',
    sku: 'H800',
    delta: 40,
    reason: 'audit',
  }),
];

beforeAll(async () => {
  api = await readApp('analysis', HISTORY, NOW);
});
afterAll(() => api.tables.drop());

const get = (...args: Parameters<ReadApp['get']>) => api.get(...args);
const ok = <T>(path: string, schema: { parse(value: unknown): T }) => api.ok(path, schema);

describe('GET /v1/availability/history', () => {
  it('gives, at the end of each day (the next midnight), the totals that availability as of that time gives', async () => {
    const history = await ok(
      '/v1/availability/history?sku=H20&from=2025-03-01T00:00:00Z&to=2025-03-12T00:00:00Z',
      S.AvailabilityHistory,
    );
    expect(history).toMatchObject({
      sku: 'H20',
      interval: 'day',
      from: '2025-03-01T00:00:00.000Z',
      to: '2025-03-12T00:00:00.000Z',
    });
    // Eleven whole days, each ending at the next midnight: a to at midnight ends the 11th, it does not open
    // the 12th.
    const midnight = (day: number) => `2025-03-${String(day).padStart(2, '0')}T00:00:00.000Z`;
    expect(history.points.map((p) => p.at)).toEqual(Array.from({ length: 11 }, (_, i) => midnight(i + 2)));
    for (const { at, ...counters } of history.points) {
      const then = await ok(`/v1/availability?sku=H20&asOf=${at}`, S.SkuAvailability);
      expect(counters, at).toEqual(then.totals);
    }
    // The story the numbers tell: held at midnight on the 4th, installed on the 10th, over-allocated from the
    // 11th. An event at a midnight counts in the point of the day it closes.
    const at = (day: number) => history.points.find((p) => p.at === midnight(day));
    expect(at(3)).toMatchObject({ held: 0, inTransit: 512 + 64, installed: 100 });
    expect(at(4)).toMatchObject({ held: 512, inTransit: 64, installed: 100 });
    expect(at(10)).toMatchObject({ held: 0, inTransit: 128, installed: 612, available: 612 });
    expect(at(11)).toMatchObject({ allocated: 700, available: 0, overAllocated: 88 });
  });

  it('filters to one provider, and replays what was known at knownAt', async () => {
    const baidu = await ok(
      '/v1/availability/history?sku=H20&provider=baidu-ai&from=2025-03-03T00:00:00Z&to=2025-03-10T00:00:00Z&interval=day',
      S.AvailabilityHistory,
    );
    expect(baidu.providerId).toBe('baidu-ai');
    // At the midnights of the 4th to the 10th: SH-C (128) from the 5th, SH-B (64) cancelled on the 9th.
    expect(baidu.points.map((p) => p.inTransit)).toEqual([64, 192, 192, 192, 192, 128, 128]);
    const known = await ok(
      `/v1/availability/history?sku=H20&provider=baidu-ai&from=2025-03-03T00:00:00Z&to=2025-03-10T00:00:00Z&knownAt=${EARLY}`,
      S.AvailabilityHistory,
    );
    expect(known.knownAt).toBe(EARLY);
    expect(known.points.map((p) => p.inTransit)).toEqual([64, 64, 64, 64, 64, 0, 0]);
  });

  it('ends at asOf when to is absent, the horizon every availability route takes; an explicit to wins', async () => {
    const asOf = '2025-03-05T12:00:00.000Z';
    const history = await ok(
      `/v1/availability/history?sku=H20&from=2025-03-03T00:00:00Z&asOf=${asOf}`,
      S.AvailabilityHistory,
    );
    expect(history.to).toBe(asOf);
    expect(history.points.map((p) => p.at)).toEqual([
      '2025-03-04T00:00:00.000Z',
      '2025-03-05T00:00:00.000Z',
      asOf,
    ]);
    const then = await ok(`/v1/availability?sku=H20&asOf=${asOf}`, S.SkuAvailability);
    expect(history.points.at(-1)).toEqual({ at: asOf, ...then.totals });
    const explicit = await ok(
      `/v1/availability/history?sku=H20&from=2025-03-03T00:00:00Z&to=2025-03-04T00:00:00Z&asOf=${asOf}`,
      S.AvailabilityHistory,
    );
    expect(explicit.points.map((p) => p.at)).toEqual(['2025-03-04T00:00:00.000Z']);
  });

  it('ends ISO weeks at Monday midnight and months at the first of the next, to defaulting to now', async () => {
    const weeks = await ok(
      '/v1/availability/history?sku=H20&from=2025-03-01T00:00:00Z&interval=week',
      S.AvailabilityHistory,
    );
    expect(weeks.to).toBe(NOW.toISOString());
    expect(weeks.points.map((p) => p.at)).toEqual([
      '2025-03-03T00:00:00.000Z',
      '2025-03-10T00:00:00.000Z',
      '2025-03-17T00:00:00.000Z',
      NOW.toISOString(),
    ]);
    const months = await ok(
      '/v1/availability/history?sku=H20&from=2025-01-15T00:00:00Z&to=2025-03-20T00:00:00Z&interval=month',
      S.AvailabilityHistory,
    );
    // The opening balance at midnight on 1 March counts in February's point, which ends at that instant.
    expect(months.points.map((p) => [p.at, p.installed])).toEqual([
      ['2025-02-01T00:00:00.000Z', 0],
      ['2025-03-01T00:00:00.000Z', 100],
      ['2025-03-20T00:00:00.000Z', 612],
    ]);
  });

  it.each([
    ['from=2025-03-01T00:00:00Z', 'sku'],
    ['sku=H20', 'from'],
    ['sku=H20&from=2025-03-01', 'from'],
    ['sku=H20&from=2025-03-01T00:00:00Z&interval=year', 'interval'],
    ['sku=H20&from=2025-03-10T00:00:00Z&to=2025-03-01T00:00:00Z', 'from'],
    ['sku=H20&from=2020-01-01T00:00:00Z&to=2025-01-01T00:00:00Z', 'interval'],
    ['sku=h20&from=2025-03-01T00:00:00Z&provider=Not_A_Slug', 'provider'],
  ])('answers 400 for %s, naming %s', async (query, path) => {
    const body = await problem(await get(`/v1/availability/history?${query}`), 400, 'validation');
    expect(body.errors?.map((e) => e.path)).toContain(path);
  });

  it('allows 1,000 points and no more', async () => {
    const days = (n: number) => new Date(Date.UTC(2022, 0, 1) + (n - 1) * 86_400_000).toISOString();
    // From the first midnight to the 1,001st: exactly 1,000 whole days.
    const at1000 = await ok(
      `/v1/availability/history?sku=H20&from=${days(1)}&to=${days(1001)}`,
      S.AvailabilityHistory,
    );
    expect(at1000.points).toHaveLength(1000);
    await problem(
      await get(`/v1/availability/history?sku=H20&from=${days(1)}&to=${days(1001).replace('T00', 'T12')}`),
      400,
      'validation',
    );
  });

  it('needs an analyst key', async () => {
    await problem(
      await get('/v1/availability/history?sku=H20&from=2025-03-01T00:00:00Z', {}, null),
      401,
      'unauthorized',
    );
    await problem(
      await get('/v1/availability/history?sku=H20&from=2025-03-01T00:00:00Z', {}, PARTNER),
      403,
      'forbidden',
    );
  });
});

describe('Accept: text/csv', () => {
  const csvOf = async (path: string, accept = 'text/csv') => {
    const res = await get(path, { Accept: accept });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('vary')).toMatch(/Accept/i);
    return (await res.text()).split('\r\n');
  };

  it('lists availability rows under a header of the JSON field names', async () => {
    const json = await ok('/v1/availability?sku=H20', S.SkuAvailability);
    const lines = await csvOf('/v1/availability?sku=H20');
    const header =
      'providerId,sku,installed,allocated,available,overAllocated,delivered,inTransit,held,blocked,expectedInbound';
    expect(lines).toEqual([header, ...json.providers.map((row) => Object.values(row).join(',')), '']);
    expect(lines[1]).toBe('alibaba-cloud,H20,612,700,0,88,0,0,0,0,0');
    expect(Object.keys(json.providers[0] ?? {}).join(',')).toBe(header);
  });

  it('lists history points, as of a time and for one provider too', async () => {
    const lines = await csvOf(
      '/v1/availability/history?sku=H20&provider=baidu-ai&from=2025-03-07T00:00:00Z&to=2025-03-09T06:00:00Z',
    );
    expect(lines).toEqual([
      'at,installed,allocated,available,overAllocated,delivered,inTransit,held,blocked,expectedInbound',
      '2025-03-08T00:00:00.000Z,0,0,0,0,0,192,0,0,192',
      '2025-03-09T00:00:00.000Z,0,0,0,0,0,128,0,0,128',
      '2025-03-09T06:00:00.000Z,0,0,0,0,0,128,0,0,128',
      '',
    ]);
  });

  it('follows the preference of a weighted Accept header, and answers 406 for neither type', async () => {
    expect(await csvOf('/v1/availability?sku=H20', 'application/json;q=0.5, text/csv')).toHaveLength(4);
    const json = await get('/v1/availability?sku=H20', { Accept: 'text/csv;q=0.5, application/json' });
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(json.headers.get('vary')).toMatch(/Accept/i);
    const refused = await get('/v1/availability?sku=H20', { Accept: 'image/png' });
    // A cache must not serve this 406 to a client that accepts JSON.
    expect(refused.headers.get('vary')).toMatch(/Accept/i);
    await problem(refused, 406, 'not-acceptable');
  });
});

describe('a provider profile', () => {
  it.each([
    ['', 'Alpha New'],
    ['?asOf=2025-03-03T00:00:00Z', 'Alpha Old'],
    ['?asOf=2025-03-06T00:00:00Z', 'Alpha Cloud'],
    ['?knownAt=2025-03-10T00:00:00Z', 'Alpha Cloud'],
    ['?asOf=2025-03-10T00:00:00Z&knownAt=2025-03-12T00:00:00Z', 'Alpha New'],
  ])('is named as it stood then%s: %s', async (query, name) => {
    const profile = await ok(`/v1/providers/alpha-cloud/availability${query}`, S.ProviderAvailability);
    expect(profile).toMatchObject({
      providerId: 'alpha-cloud',
      name,
      country: 'CN',
      kind: 'cloud',
      skus: [],
    });
  });

  it('has no name before it was registered', async () => {
    const profile = await ok(
      '/v1/providers/alpha-cloud/availability?asOf=2025-02-01T00:00:00Z',
      S.ProviderAvailability,
    );
    expect(profile).not.toHaveProperty('name');
  });
});

describe('the answers /openapi.json documents', () => {
  it('fit what the read routes answer', async () => {
    const shipment = await ok('/v1/shipments/SH-A', S.Shipment);
    expect(shipment).toMatchObject({ status: 'installed', quantity: 512 });
    const provider = await ok(
      '/v1/providers/baidu-ai/availability?asOf=2025-03-06T00:00:00Z',
      S.ProviderAvailability,
    );
    expect(provider.skus.map((row) => row.sku)).toEqual(['H20', 'H800']);
    const page = await ok('/v1/events?stream=shipment:SH-A', S.EventPage);
    expect(page.items).toHaveLength(5);
    // Projected straight from the history, with no recorder count yet: what was projected was recorded.
    const status = await ok('/v1/status', S.Status);
    expect(status).toMatchObject({
      eventsRecorded: HISTORY.length,
      eventsProjected: HISTORY.length,
      projectionLagMs: 0,
    });
    expect(await ok('/v1/health', S.Health)).toEqual({ status: 'ok' });
  });
});

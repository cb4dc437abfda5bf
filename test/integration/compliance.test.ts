import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as S from '../../shared/api/schemas.ts';
import { expectProblem, type ReadApp, readApp, recorded } from '../support/read-app.ts';

/*
 * Regulations, licences and shipment compliance through the API, over real projections: the contract's
 * "Analysis" rules on a small export-control story, each shipment chosen to exercise one rule.
 */

const NOW = new Date('2025-09-15T00:00:00.000Z');

const regulation = (id: string, at: string, data: Record<string, unknown>) =>
  recorded('regulation.issued', at, {
    regulationId: id,
    authority: 'US-BIS',
    jurisdiction: 'US',
    direction: 'export',
    title: `Rule ${id}`,
    policy: 'licence-required',
    skus: ['H20'],
    destinations: ['CN', 'MO'],
    ...data,
  });

const dispatch = (
  id: string,
  at: string,
  sku: string,
  quantity: number,
  country: string,
  providerId: string,
  licenceId?: string,
) =>
  recorded('shipment.dispatched', at, {
    shipmentId: id,
    sku,
    quantity,
    exporter: 'nvidia',
    origin: { country: 'TW' },
    destination: { country, providerId },
    ...(licenceId ? { licenceId } : {}),
  });

const HISTORY = [
  // Issued on the 15th, in force from the 9th; Hong Kong added from June.
  regulation('BIS-H20', '2025-04-15T00:00:00Z', { effectiveFrom: '2025-04-09T00:00:00Z' }),
  recorded('regulation.amended', '2025-06-01T00:00:00Z', {
    regulationId: 'BIS-H20',
    destinations: ['CN', 'MO', 'HK'],
  }),
  regulation('CAC-H20', '2025-08-20T00:00:00Z', {
    authority: 'CN-CAC',
    jurisdiction: 'CN',
    direction: 'import',
    policy: 'prohibited',
    destinations: ['CN'],
    effectiveFrom: '2025-09-01T00:00:00Z',
  }),
  regulation('OLD-H800', '2023-12-01T00:00:00Z', {
    policy: 'prohibited',
    skus: ['H800'],
    effectiveFrom: '2024-01-01T00:00:00Z',
  }),
  recorded('regulation.rescinded', '2025-01-01T00:00:00Z', { regulationId: 'OLD-H800' }),
  regulation('FUT-1', '2025-09-01T00:00:00Z', { effectiveFrom: '2026-06-01T00:00:00Z' }),
  recorded('licence.granted', '2025-04-01T00:00:00Z', {
    licenceId: 'L-ALI',
    regulationId: 'BIS-H20',
    exporter: 'nvidia',
    skus: ['H20'],
    providerId: 'alibaba-cloud',
    quantity: 1000,
    validFrom: '2025-04-01T00:00:00Z',
  }),
  recorded('licence.granted', '2025-04-01T00:00:00Z', {
    licenceId: 'L-ANY',
    regulationId: 'BIS-H20',
    exporter: 'nvidia',
    skus: ['H20'],
    validFrom: '2025-04-01T00:00:00Z',
    validUntil: '2025-08-01T00:00:00Z',
  }),
  dispatch('SH-1', '2025-04-01T00:00:00Z', 'H20', 512, 'CN', 'alibaba-cloud'),
  recorded('shipment.installed', '2025-04-20T00:00:00Z', { shipmentId: 'SH-1' }),
  // Recorded a week late: a read as known on 5 May does not see L-ALI's 600 units spent on it.
  {
    ...dispatch('SH-2', '2025-05-01T00:00:00Z', 'H20', 600, 'CN', 'alibaba-cloud'),
    recordedAt: '2025-05-08T00:00:00.000Z',
  },
  recorded('shipment.delivered', '2025-05-20T00:00:00Z', { shipmentId: 'SH-2' }),
  dispatch('SH-3', '2025-05-02T00:00:00Z', 'H20', 500, 'CN', 'alibaba-cloud', 'L-ALI'),
  dispatch('SH-4', '2025-05-03T00:00:00Z', 'H20', 64, 'CN', 'tencent-cloud'),
  recorded('shipment.delivered', '2025-06-01T00:00:00Z', { shipmentId: 'SH-4' }),
  dispatch('SH-5', '2025-05-15T00:00:00Z', 'H20', 32, 'HK', 'hk-colo'),
  dispatch('SH-6', '2025-08-15T00:00:00Z', 'H20', 32, 'HK', 'hk-colo'),
  dispatch('SH-7', '2025-09-05T00:00:00Z', 'H20', 100, 'CN', 'baidu-ai'),
  dispatch('SH-8', '2024-06-01T00:00:00Z', 'H800', 10, 'CN', 'baidu-ai'),
  recorded('shipment.held', '2024-06-05T00:00:00Z', {
    shipmentId: 'SH-8',
    authority: 'CN-GACC',
    reason: 'inspection',
  }),
];

let api: ReadApp;
beforeAll(async () => {
  api = await readApp('compliance', HISTORY, NOW);
});
afterAll(() => api.tables.drop());

const licensed = (licenceId: string) => ({
  status: 'licensed',
  regulations: [{ regulationId: 'BIS-H20', outcome: 'licensed', licenceId }],
});
const violation = { status: 'violation', regulations: [{ regulationId: 'BIS-H20', outcome: 'violation' }] };

/** Each shipment's compliance, and why. */
const EXPECTED: Record<string, unknown> = {
  'SH-1': { status: 'clear', regulations: [] }, // dispatched before the rule took effect
  'SH-2': licensed('L-ALI'), // 600 of the licence's 1,000
  // Names L-ALI, which has 400 left; and still in transit to China under its import ban.
  'SH-3': {
    status: 'violation',
    regulations: [
      { regulationId: 'BIS-H20', outcome: 'violation' },
      { regulationId: 'CAC-H20', outcome: 'blocked' },
    ],
  },
  'SH-4': licensed('L-ANY'), // L-ALI is for alibaba-cloud only; delivered before the import ban
  'SH-5': { status: 'clear', regulations: [] }, // Hong Kong was added in June
  'SH-6': violation, // Hong Kong by then, and L-ANY expired in August
  'SH-7': {
    status: 'violation',
    regulations: [
      { regulationId: 'BIS-H20', outcome: 'violation' },
      { regulationId: 'CAC-H20', outcome: 'blocked' }, // in transit to China under its import ban
    ],
  },
  'SH-8': { status: 'violation', regulations: [{ regulationId: 'OLD-H800', outcome: 'violation' }] }, // prohibited then
};

describe('GET /v1/shipments/{id}: compliance', () => {
  it.each(Object.entries(EXPECTED))('judges %s', async (id, compliance) => {
    const shipment = await api.ok(`/v1/shipments/${id}`, S.Shipment);
    expect(shipment.compliance).toEqual(compliance);
  });
});

describe('GET /v1/shipments', () => {
  const ids = async (query: string) =>
    (await api.ok(`/v1/shipments?${query}`, S.ShipmentList)).items.map((s) => s.shipmentId);

  it('lists every shipment by id, each with its compliance and status', async () => {
    const list = await api.ok('/v1/shipments', S.ShipmentList);
    expect(list.nextCursor).toBeNull();
    expect(list.items.map((s) => s.shipmentId)).toEqual(Object.keys(EXPECTED));
    for (const item of list.items)
      expect(item.compliance, item.shipmentId).toEqual(EXPECTED[item.shipmentId]);
    expect(list.items[0]).toMatchObject({
      status: 'installed',
      quantity: 512,
      dispatchedAt: '2025-04-01T00:00:00.000Z',
    });
  });

  it.each([
    ['provider=alibaba-cloud', ['SH-1', 'SH-2', 'SH-3']],
    ['sku=H800', ['SH-8']],
    ['status=held', ['SH-8']],
    ['status=dispatched&sku=H20', ['SH-3', 'SH-5', 'SH-6', 'SH-7']],
    ['compliance=violation', ['SH-3', 'SH-6', 'SH-7', 'SH-8']],
    ['compliance=licensed&provider=alibaba-cloud', ['SH-2']],
    ['compliance=clear', ['SH-1', 'SH-5']],
    ['compliance=blocked', ['SH-3', 'SH-7']],
    ['provider=nobody', []],
  ])('filters by %s', async (query, expected) => {
    expect(await ids(query)).toEqual(expected);
  });

  it('pages with an opaque cursor, filters and all, to the same list', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { items: { shipmentId: string }[]; nextCursor: string | null } = await api.ok(
        `/v1/shipments?limit=2&compliance=violation${cursor ? `&cursor=${cursor}` : ''}`,
        S.ShipmentList,
      );
      seen.push(...page.items.map((s) => s.shipmentId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual(['SH-3', 'SH-6', 'SH-7', 'SH-8']);
    expect(pages).toBeLessThanOrEqual(3);
  });

  it('answers CSV with the fields by their dotted paths', async () => {
    const res = await api.get('/v1/shipments?provider=alibaba-cloud', { Accept: 'text/csv' });
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const lines = (await res.text()).split('\r\n');
    expect(lines[0]).toBe(
      'shipmentId,sku,quantity,exporter,origin.country,destination.country,destination.providerId,destination.site,licenceId,status,statusAt,dispatchedAt,compliance.status,compliance.regulations',
    );
    expect(lines[3]).toBe(
      'SH-3,H20,500,nvidia,TW,CN,alibaba-cloud,,L-ALI,dispatched,2025-05-02T00:00:00.000Z,2025-05-02T00:00:00.000Z,violation,BIS-H20=violation;CAC-H20=blocked',
    );
    // Each regulation in one cell, with the licence that covers the shipment: SH-1 has none, SH-2 one.
    expect(lines.slice(1, 3).map((line) => line.split(',').slice(-2))).toEqual([
      ['clear', ''],
      ['licensed', 'BIS-H20=licensed@L-ALI'],
    ]);
    expect(lines).toHaveLength(5);
  });

  it('pages CSV through the Link header, which JSON answers carry too', async () => {
    const rows: string[] = [];
    let next: string | null = '/v1/shipments?compliance=violation&limit=2';
    let pages = 0;
    while (next && pages < 10) {
      const res = await api.get(next, { Accept: 'text/csv' });
      expect(res.status).toBe(200);
      rows.push(...(await res.text()).split('\r\n').slice(1, -1));
      next = /^<([^>]+)>; rel="next"$/.exec(res.headers.get('link') ?? '')?.[1] ?? null;
      pages++;
    }
    expect(rows.map((row) => row.split(',')[0])).toEqual(['SH-3', 'SH-6', 'SH-7', 'SH-8']);
    expect(pages).toBe(2);

    const json = await api.get('/v1/shipments?compliance=violation&limit=2');
    const { nextCursor } = (await json.json()) as { nextCursor: string };
    expect(json.headers.get('link')).toBe(
      `</v1/shipments?compliance=violation&limit=2&cursor=${nextCursor}>; rel="next"`,
    );
    const last = await api.get(`/v1/shipments?compliance=violation&limit=2&cursor=${nextCursor}`);
    expect(last.headers.get('link')).toBeNull();
  });

  it.each([
    ['status=lost', 'status'],
    ['compliance=maybe', 'compliance'],
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['cursor=%%%', 'cursor'],
    ['provider=Alibaba', 'provider'],
  ])('answers 400 for %s', async (query, path) => {
    const body = await expectProblem(await api.get(`/v1/shipments?${query}`), 400, 'validation');
    expect(body.errors?.map((e) => e.path)).toContain(path);
  });
});

describe('GET /v1/regulations', () => {
  it('lists every regulation as it stands now, with its licences counted', async () => {
    const list = await api.ok('/v1/regulations', S.RegulationList);
    expect(list.items.map((r) => [r.regulationId, r.status, r.licences])).toEqual([
      ['BIS-H20', 'in-force', 2],
      ['CAC-H20', 'in-force', 0],
      ['FUT-1', 'scheduled', 0],
      ['OLD-H800', 'rescinded', 0],
    ]);
    expect(list.items[0]).toMatchObject({
      authority: 'US-BIS',
      jurisdiction: 'US',
      direction: 'export',
      policy: 'licence-required',
      skus: ['H20'],
      destinations: ['CN', 'MO', 'HK'],
      effectiveFrom: '2025-04-09T00:00:00.000Z',
    });
    expect(list.items[3]?.rescindedAt).toBe('2025-01-01T00:00:00.000Z');
  });

  it('lists only those in force at activeAt, as they stood then', async () => {
    const may = await api.ok('/v1/regulations?activeAt=2025-05-01T00:00:00Z', S.RegulationList);
    expect(may.activeAt).toBe('2025-05-01T00:00:00.000Z');
    expect(may.items.map((r) => [r.regulationId, r.destinations])).toEqual([['BIS-H20', ['CN', 'MO']]]);
    const earlier = await api.ok('/v1/regulations?activeAt=2024-06-01T00:00:00Z', S.RegulationList);
    expect(earlier.items.map((r) => r.regulationId)).toEqual(['OLD-H800']);
  });

  it('shows one regulation with its events and licences', async () => {
    const bis = await api.ok('/v1/regulations/BIS-H20', S.RegulationDetail);
    expect(bis.events.map((e) => e.type)).toEqual(['regulation.issued', 'regulation.amended']);
    expect(bis.licences.map((l) => [l.licenceId, l.status])).toEqual([
      ['L-ALI', 'valid'],
      ['L-ANY', 'expired'],
    ]);
    expect(bis.licences[0]).toMatchObject({
      providerId: 'alibaba-cloud',
      quantity: 1000,
      exporter: 'nvidia',
    });
    const then = await api.ok('/v1/regulations/BIS-H20?activeAt=2025-05-01T00:00:00Z', S.RegulationDetail);
    expect(then.destinations).toEqual(['CN', 'MO']);
    expect(then.licences.map((l) => l.status)).toEqual(['valid', 'valid']);
  });

  it('answers 404 for a regulation never issued, and 400 for a bad id or time', async () => {
    await expectProblem(await api.get('/v1/regulations/NOPE'), 404, 'not-found');
    await expectProblem(await api.get('/v1/regulations/bad%20id'), 400, 'validation');
    await expectProblem(await api.get('/v1/regulations?activeAt=soon'), 400, 'validation');
  });
});

describe('blocked and expectedInbound on availability rows', () => {
  const rowsOf = async (query: string) =>
    Object.fromEntries(
      (await api.ok(`/v1/availability?${query}`, S.SkuAvailability)).providers.map((row) => [
        row.providerId,
        [row.inTransit + row.held, row.blocked, row.expectedInbound],
      ]),
    );

  it('counts, now, the goods on their way that are in violation or banned from import', async () => {
    // [inTransit + held, blocked, expectedInbound] per provider.
    expect(await rowsOf('sku=H20')).toEqual({
      'alibaba-cloud': [500, 500, 0], // SH-3 is in violation
      'baidu-ai': [100, 100, 0], // SH-7 is in violation (and banned from import)
      'hk-colo': [64, 32, 32], // SH-6 is in violation, SH-5 is clear
      'tencent-cloud': [0, 0, 0], // SH-4 was delivered
    });
    expect(await rowsOf('sku=H800')).toEqual({ 'baidu-ai': [10, 10, 0] }); // held, prohibited when it left
    const totals = (await api.ok('/v1/availability?sku=H20', S.SkuAvailability)).totals;
    expect([totals.blocked, totals.expectedInbound]).toEqual([632, 32]);
    const provider = await api.ok('/v1/providers/hk-colo/availability', S.ProviderAvailability);
    expect(provider.skus[0]).toMatchObject({ sku: 'H20', inTransit: 64, blocked: 32, expectedInbound: 32 });
  });

  it('counts them as of a time, and only by the regulations known at knownAt', async () => {
    expect(await rowsOf('sku=H20&asOf=2025-06-15T00:00:00Z')).toEqual({
      'alibaba-cloud': [500, 500, 0],
      'hk-colo': [32, 0, 32],
      'tencent-cloud': [0, 0, 0],
    });
    // On 5 May SH-3 had spent L-ALI with SH-2's 600 units; as known on 5 May, SH-2 was not dispatched yet.
    expect(await rowsOf('sku=H20&provider=alibaba-cloud&asOf=2025-05-05T00:00:00Z')).toEqual({
      'alibaba-cloud': [1100, 500, 600],
    });
    expect(
      await rowsOf('sku=H20&provider=alibaba-cloud&asOf=2025-05-05T00:00:00Z&knownAt=2025-05-05T00:00:00Z'),
    ).toEqual({
      'alibaba-cloud': [500, 0, 500],
    });
    // Known on 10 April: SH-1 on its way (its installation was recorded later), and no rule recorded yet.
    expect(await rowsOf('sku=H20&asOf=2025-06-15T00:00:00Z&knownAt=2025-04-10T00:00:00Z')).toEqual({
      'alibaba-cloud': [512, 0, 512],
    });
  });

  it('gives, at every history point, what availability as of that point gives', async () => {
    const history = await api.ok(
      '/v1/availability/history?sku=H20&from=2025-04-01T00:00:00Z&to=2025-09-15T00:00:00Z&interval=week',
      S.AvailabilityHistory,
    );
    expect(history.points.some((p) => p.blocked > 0 && p.blocked < p.inTransit + p.held)).toBe(true);
    for (const { at, ...counters } of history.points) {
      const then = await api.ok(`/v1/availability?sku=H20&asOf=${at}`, S.SkuAvailability);
      expect(counters, at).toEqual(then.totals);
    }
  });
});

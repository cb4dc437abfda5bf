import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../shared/events/catalogue.ts';
import { planUnit, type UnitPlan } from '../../shared/projections/plan.ts';
import { rowKey } from '../../shared/projections/rows.ts';
import type { UnitEvent } from '../../shared/projections/unit.ts';
import { projectEvents, type UnitStore } from '../../shared/projector/projector.ts';
import { AvailabilityQueries, type AvailabilityReader } from '../../shared/queries/availability.ts';
import type { ComplianceReader } from '../../shared/queries/compliance.ts';

/** When the reads below ask about "now": their histories hold no regulations, so nothing hinges on it. */
const NOW_ISO = '2030-01-01T00:00:00.000Z';

import { DynamoDBProjectionStore } from '../../shared/store/projection-store.ts';
import {
  allocationCreatedEvent,
  allocationReleasedEvent,
  arrivalsArb,
  day,
  dispatchedEvent,
  eventSetArb,
  horizonArb,
  inventoryAdjustedEvent,
  PROVIDERS,
  SKUS,
  shipmentEvent,
} from '../support/arbitraries.ts';
import { createTestTables, type TestTables } from '../support/dynamo.ts';
import { MemoryUnitStore } from '../support/memory-unit-store.ts';
import { referenceAvailability } from '../support/reference-model.ts';

/*
 * The projector on the real store: DynamoDB Local's transactions, conditions and consistent reads, which the
 * property tests on the in-memory store only imitate. Fewer runs here, since each gets its own tables.
 */

// After every event time, so the projector never takes the events for future ones.
const clock = { now: () => new Date('2026-01-01T00:00:00.000Z') };

let opened: TestTables[] = [];

async function freshStore(): Promise<DynamoDBProjectionStore> {
  const tables = await createTestTables('projector');
  opened.push(tables);
  return new DynamoDBProjectionStore(tables.client, tables.names.projections);
}

async function dropAll(): Promise<void> {
  const closing = opened;
  opened = [];
  await Promise.all(closing.map((tables) => tables.drop()));
}

afterEach(dropAll);
afterAll(dropAll);

async function projectAll(store: UnitStore, arrivals: readonly RecordedEvent[][]): Promise<number> {
  let added = 0;
  for (const batch of arrivals) {
    const result = await projectEvents(store, batch, { clock });
    expect([...result.failedStreams]).toEqual([]);
    added += result.added;
  }
  return added;
}

/** Every row of every SKU, as the API reads them now (from the counters, not by replay). */
async function currentRows(store: AvailabilityReader & ComplianceReader) {
  const queries = new AvailabilityQueries(store);
  return Promise.all(SKUS.map((sku) => queries.forSku(sku, { now: NOW_ISO })));
}

/** A history that touches every counter, with a re-dispatch, a late release and an over-allocation. */
function history(): RecordedEvent[] {
  const [ali, baidu, tencent] = PROVIDERS;
  const h20 = (providerId: string, quantity: number) => ({ providerId, sku: 'H20', quantity });
  return [
    dispatchedEvent({ eventId: 'd1', occurredAt: day(1) }, 'SH-1', h20(ali, 8)),
    shipmentEvent({ eventId: 'd2', occurredAt: day(2) }, 'SH-1', 'delivered'),
    shipmentEvent({ eventId: 'd3', occurredAt: day(3) }, 'SH-1', 'installed'),
    dispatchedEvent({ eventId: 'd4', occurredAt: day(1) }, 'SH-2', h20(baidu, 16)),
    shipmentEvent({ eventId: 'd5', occurredAt: day(2) }, 'SH-2', 'held'),
    dispatchedEvent({ eventId: 'd6', occurredAt: day(3) }, 'SH-2', h20(tencent, 16)),
    dispatchedEvent({ eventId: 'd7', occurredAt: day(2) }, 'SH-3', {
      providerId: ali,
      sku: 'H800',
      quantity: 4,
    }),
    shipmentEvent({ eventId: 'd8', occurredAt: day(2) }, 'SH-3', 'cancelled'),
    shipmentEvent({ eventId: 'd9', occurredAt: day(4) }, 'SH-4', 'delivered'),
    inventoryAdjustedEvent({ eventId: 'i1', occurredAt: day(1) }, { providerId: ali, sku: 'H20' }, 100),
    inventoryAdjustedEvent({ eventId: 'i2', occurredAt: day(3) }, { providerId: ali, sku: 'H20' }, -20),
    inventoryAdjustedEvent({ eventId: 'i3', occurredAt: day(1) }, { providerId: baidu, sku: 'H800' }, 10),
    allocationCreatedEvent({ eventId: 'a1', occurredAt: day(2) }, 'AL-1', h20(ali, 64)),
    allocationCreatedEvent({ eventId: 'a2', occurredAt: day(2) }, 'AL-2', h20(tencent, 32)),
    allocationCreatedEvent({ eventId: 'a3', occurredAt: day(3) }, 'AL-3', {
      providerId: baidu,
      sku: 'H800',
      quantity: 4,
    }),
    allocationReleasedEvent({ eventId: 'a4', occurredAt: day(1) }, 'AL-3'),
  ];
}

describe('the provider-to-SKU index on DynamoDB', () => {
  it('is written once per row by a store, and again by a new one, which is harmless', async () => {
    const tables = await createTestTables('projector');
    opened.push(tables);
    const skuEntriesWritten: string[] = [];
    tables.client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as {
          RequestItems?: Record<string, { PutRequest?: { Item?: Record<string, { S?: string }> } }[]>;
        };
        for (const requests of Object.values(input.RequestItems ?? {}))
          for (const request of requests) {
            const pk = request.PutRequest?.Item?.pk?.S ?? '';
            if (pk.startsWith('provider#'))
              skuEntriesWritten.push(`${pk} ${request.PutRequest?.Item?.sk?.S}`);
          }
        return next(args);
      },
      { step: 'initialize', name: 'countSkuEntries' },
    );
    const ali = PROVIDERS[0];
    const dispatch = (n: number, sku: string) =>
      planUnit(
        `shipment:SH-${n}`,
        undefined,
        unitEvents([
          dispatchedEvent({ eventId: `e${n}`, occurredAt: day(n) }, `SH-${n}`, {
            providerId: ali,
            sku,
            quantity: n,
          }),
        ]),
      ) as UnitPlan;

    const store = new DynamoDBProjectionStore(tables.client, tables.names.projections);
    await store.applyAll([dispatch(1, 'H20'), dispatch(2, 'H20')]);
    await store.applyAll([dispatch(3, 'H20'), dispatch(4, 'H800')]);
    await store.applyAll([dispatch(5, 'H800')]);
    expect(skuEntriesWritten).toEqual([`provider#${ali} sku#H20`, `provider#${ali} sku#H800`]);

    const restarted = new DynamoDBProjectionStore(tables.client, tables.names.projections);
    await restarted.applyAll([dispatch(6, 'H20')]);
    expect(skuEntriesWritten).toHaveLength(3);
    expect(await restarted.skusOf(ali)).toEqual(['H20', 'H800']);
    expect(await restarted.membersOf(rowKey(ali, 'H20'))).toHaveLength(4);
  });
});

describe('the projector on DynamoDB', () => {
  it('holds the counters of the reference model for any arrival order, now and replayed at any horizon', async () => {
    const scenario = eventSetArb({ maxEvents: 12 }).chain((events) =>
      fc.record({
        events: fc.constant(events),
        arrivals: arrivalsArb(events),
        horizons: fc.array(horizonArb, { minLength: 1, maxLength: 2 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(scenario, async ({ events, arrivals, horizons }) => {
        try {
          const store = await freshStore();
          await projectAll(store, arrivals);
          const queries = new AvailabilityQueries(store);
          for (const sku of SKUS) {
            expect(await queries.forSku(sku, { now: NOW_ISO })).toEqual(referenceAvailability(events, sku));
            for (const horizon of horizons) {
              expect(await queries.forSku(sku, { horizon, now: NOW_ISO }), JSON.stringify(horizon)).toEqual(
                referenceAvailability(events, sku, horizon),
              );
            }
          }
          expect((await store.stats()).eventsProjected).toBe(events.length);
        } finally {
          await dropAll();
        }
      }),
      { numRuns: 8 },
    );
  });

  it('comes out the same after two different arrival orders', async () => {
    const twoArrivals = eventSetArb({ maxEvents: 14 }).chain((events) =>
      fc.tuple(arrivalsArb(events), arrivalsArb(events)),
    );
    await fc.assert(
      fc.asyncProperty(twoArrivals, async ([first, second]) => {
        try {
          const [a, b] = await Promise.all([freshStore(), freshStore()]);
          await Promise.all([projectAll(a, first), projectAll(b, second)]);
          expect(await currentRows(b)).toEqual(await currentRows(a));
          const aQueries = new AvailabilityQueries(a);
          const bQueries = new AvailabilityQueries(b);
          for (const providerId of PROVIDERS) {
            expect(await bQueries.forProvider(providerId, { now: NOW_ISO })).toEqual(
              await aQueries.forProvider(providerId, { now: NOW_ISO }),
            );
          }
        } finally {
          await dropAll();
        }
      }),
      { numRuns: 3 },
    );
  });

  it('counts nothing twice when two projectors run at once on overlapping batches', async () => {
    const events = history();
    const [store, single] = await Promise.all([freshStore(), freshStore()]);
    // Both calls hold d4-a1, so they race on the same units and rows: one loses on a unit's version and re-plans.
    const results = await Promise.all([
      projectEvents(store, events.slice(0, 13), { clock }),
      projectEvents(store, [...events.slice(3)].reverse(), { clock }),
    ]);
    await projectEvents(single, events, { clock });

    for (const result of results) expect([...result.failedStreams]).toEqual([]);
    expect(results.reduce((sum, r) => sum + r.added, 0)).toBe(events.length);
    expect(await currentRows(store)).toEqual(await currentRows(single));
    expect(await currentRows(store)).toEqual(SKUS.map((sku) => referenceAvailability(events, sku)));
    expect((await store.stats()).eventsProjected).toBe(events.length);
  });

  it('counts nothing twice when many projectors race on overlapping batches', async () => {
    const events = history();
    const store = await freshStore();
    const windows = [
      events.slice(0, 8),
      events.slice(4, 12),
      events.slice(8),
      [...events].reverse(),
      events.slice(2, 10),
      [events[0], events[0], events[15]].flatMap((event) => (event ? [event] : [])),
    ];
    const results = await Promise.all(
      windows.map((batch) =>
        projectEvents(store, batch, { clock, unitsPerGroup: 4, itemsPerTransaction: 5, maxAttempts: 12 }),
      ),
    );
    for (const result of results) expect([...result.failedStreams]).toEqual([]);
    expect(results.reduce((sum, r) => sum + r.added, 0)).toBe(events.length);
    expect(await currentRows(store)).toEqual(SKUS.map((sku) => referenceAvailability(events, sku)));
    expect((await store.stats()).eventsProjected).toBe(events.length);
  });

  it('changes nothing when a batch is delivered again, and reports that it added nothing', async () => {
    const events = history();
    const store = await freshStore();
    const first = await projectEvents(store, events, { clock });
    const rows = await currentRows(store);
    const stats = await store.stats();

    const again = await projectEvents(store, [...events].reverse(), { clock });
    expect(first.added).toBe(events.length);
    expect(again).toEqual({ added: 0, failedStreams: new Set() });
    expect(await currentRows(store)).toEqual(rows);
    expect(await store.stats()).toEqual(stats);
  });

  it('keeps a long inventory stream whose events outgrow a 400 KB item, gzipped, and replays it', async () => {
    // Eight months of audits every three hours of one provider's H20: over 400 KB of events as JSON.
    const place = { providerId: 'alibaba-cloud', sku: 'H20' };
    const at = (i: number) => new Date(Date.UTC(2025, 0, 1) + i * 3 * 3_600_000).toISOString();
    const events = Array.from({ length: 2_000 }, (_, i) =>
      inventoryAdjustedEvent(
        { eventId: `INV-${String(i).padStart(5, '0')}`, occurredAt: at(i) },
        place,
        i % 3 === 0 ? -2 : 5,
      ),
    );
    const stream = 'inventory:alibaba-cloud:H20';
    const sum = (list: RecordedEvent[]) =>
      list.reduce((total, e) => total + (e.type === 'inventory.adjusted' ? e.data.delta : 0), 0);
    expect(JSON.stringify(unitEvents(events)).length).toBeGreaterThan(400 * 1024);
    const store = await freshStore();

    // In batches, as the stream hands them over, with the first batch again at the end.
    await projectAll(store, [
      events.slice(0, 700),
      events.slice(700, 1400),
      events.slice(1400),
      events.slice(0, 700),
    ]);

    const [unit] = await store.getUnits([stream]);
    expect(unit?.events.map((e) => e.eventId).sort()).toEqual(events.map((e) => e.eventId));
    const queries = new AvailabilityQueries(store);
    const now = await queries.forSku('H20', { provider: 'alibaba-cloud', now: NOW_ISO });
    expect(now[0]?.installed).toBe(sum(events));
    const asOf = at(999);
    const then = await queries.forSku('H20', { provider: 'alibaba-cloud', horizon: { asOf }, now: NOW_ISO });
    expect(then[0]?.installed).toBe(sum(events.slice(0, 1000)));
  });

  it('counts each distinct event once in its stats, however often and however batched it arrived', async () => {
    const events = history();
    const store = await freshStore();
    const added = await projectAll(store, [
      events.slice(0, 5),
      events.slice(3, 9),
      [...events.slice(0, 5), ...events.slice(0, 5)],
      events.slice(8),
      events,
    ]);
    expect(added).toBe(events.length);
    expect((await store.stats()).eventsProjected).toBe(events.length);
  });
});

const unitEvents = (events: RecordedEvent[]): UnitEvent[] =>
  events.map(({ stream: _, ...event }) => event as UnitEvent);

function planOf(stream: string, events: RecordedEvent[]): UnitPlan {
  const plan = planUnit(stream, undefined, unitEvents(events));
  if (!plan) throw new Error('a new unit always has a plan');
  return plan;
}

type StoreUnderTest = UnitStore & AvailabilityReader & ComplianceReader;

// The property tests trust the in-memory store to behave like DynamoDB's; these hold both to the same rules.
describe.each<[string, () => Promise<StoreUnderTest>]>([
  ['in memory', async () => new MemoryUnitStore()],
  ['on DynamoDB', freshStore],
])('the projections store %s', (_, makeStore) => {
  const ali = PROVIDERS[0];
  const first = dispatchedEvent({ eventId: 'e1', occurredAt: day(1) }, 'SH-1', {
    providerId: ali,
    sku: 'H20',
    quantity: 8,
  });
  const second = dispatchedEvent({ eventId: 'e2', occurredAt: day(1) }, 'SH-2', {
    providerId: ali,
    sku: 'H800',
    quantity: 3,
  });
  const third = dispatchedEvent({ eventId: 'e3', occurredAt: day(2) }, 'SH-3', {
    providerId: ali,
    sku: 'H20',
    quantity: 5,
  });

  it('refuses a plan whose unit moved since it was read, and then applies no plan of the write', async () => {
    const store = await makeStore();
    await store.applyAll([planOf('shipment:SH-1', [first])]);

    const stalePlan = planOf('shipment:SH-1', [first]);
    const freshPlan = planOf('shipment:SH-2', [second]);
    await expect(store.applyAll([freshPlan, stalePlan])).rejects.toMatchObject({ name: 'StaleUnitError' });

    expect(await store.getUnits(['shipment:SH-2'])).toEqual([]);
    expect(await store.countersForSku('H800')).toEqual([]);
    expect(await store.countersForSku('H20')).toEqual([
      { providerId: ali, sku: 'H20', installed: 0, allocated: 0, delivered: 0, inTransit: 8, held: 0 },
    ]);
  });

  it('moves a row by the sum of the deltas of every plan in one write', async () => {
    const store = await makeStore();
    await store.applyAll([planOf('shipment:SH-1', [first]), planOf('shipment:SH-3', [third])]);

    expect(await store.countersForRows([rowKey(ali, 'H20')])).toEqual([
      { providerId: ali, sku: 'H20', installed: 0, allocated: 0, delivered: 0, inTransit: 13, held: 0 },
    ]);
    expect(await store.membersOf(rowKey(ali, 'H20'))).toEqual(['shipment:SH-1', 'shipment:SH-3']);
    expect(await store.skusOf(ali)).toEqual(['H20']);
  });

  it('lists each SKU of a provider once, whichever of its units brought it', async () => {
    const store = await makeStore();
    await store.applyAll([planOf('shipment:SH-1', [first])]);
    await store.applyAll([planOf('shipment:SH-3', [third]), planOf('shipment:SH-2', [second])]);
    expect(await store.skusOf(ali)).toEqual(['H20', 'H800']);
    expect(await store.membersOf(rowKey(ali, 'H20'))).toEqual(['shipment:SH-1', 'shipment:SH-3']);
  });

  it('returns each unit asked for once, however often it is asked for', async () => {
    const store = await makeStore();
    await store.applyAll([planOf('shipment:SH-1', [first])]);
    const units = await store.getUnits(['shipment:SH-1', 'shipment:SH-1', 'shipment:SH-9']);
    expect(units.map((unit) => [unit.stream, unit.version])).toEqual([['shipment:SH-1', 1]]);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DATA_SCHEMAS, EventInput, type RecordedEvent, streamOf } from '../../shared/events/catalogue.ts';
import { toRow } from '../../shared/projections/counters.ts';
import { parseRowKey } from '../../shared/projections/rows.ts';
import { foldAvailability } from '../../shared/projections/unit.ts';
import { projectEvents } from '../../shared/projector/projector.ts';
import { AvailabilityQueries } from '../../shared/queries/availability.ts';
import {
  arrivalsArb,
  eventSetArb,
  type Horizon,
  horizonArb,
  PROVIDERS,
  SKUS,
} from '../support/arbitraries.ts';
import { MemoryUnitStore } from '../support/memory-unit-store.ts';
import { referenceAvailability } from '../support/reference-model.ts';

/*
 * Invariant 3: for any permutation of a set of events, with any duplicates and redeliveries, in any batches,
 * every projection equals the fold of the set in the contract's order, here an independent reference model.
 */

// After every event time, so the projector never takes the events for future ones.
const clock = { now: () => new Date('2026-01-01T00:00:00.000Z') };

/** How the projector cuts a batch: units read together, and items per transaction (small, to cut often). */
const limitsArb = fc.record({
  unitsPerGroup: fc.integer({ min: 1, max: 8 }),
  itemsPerTransaction: fc.integer({ min: 2, max: 10 }),
});

/** The projector's own limits. */
const DEFAULTS = { unitsPerGroup: 100, itemsPerTransaction: 100 };

const scenarioArb = eventSetArb().chain((events) =>
  fc.record({
    events: fc.constant(events),
    arrivals: arrivalsArb(events),
    horizons: fc.array(horizonArb, { minLength: 1, maxLength: 3 }),
    limits: limitsArb,
  }),
);

async function project(
  arrivals: readonly RecordedEvent[][],
  limits: { unitsPerGroup: number; itemsPerTransaction: number },
  store = new MemoryUnitStore(),
): Promise<MemoryUnitStore> {
  for (const batch of arrivals) {
    const result = await projectEvents(store, batch, { clock, ...limits });
    expect([...result.failedStreams]).toEqual([]);
  }
  return store;
}

/** "Now" for the reads below: the histories hold no regulations, so no answer hinges on it. */
const NOW_ISO = '2030-01-01T00:00:00.000Z';

describe('the arbitraries', () => {
  it('make only events the API accepts, each in its own stream and with a distinct eventId', () => {
    fc.assert(
      fc.property(eventSetArb(), (events) => {
        for (const { recordedAt: _r, source: _s, stream, ...input } of events) {
          expect(EventInput.safeParse(input).error).toBeUndefined();
          expect(DATA_SCHEMAS[input.type].safeParse(input.data).success).toBe(true);
          expect(stream).toBe(streamOf(input));
        }
        expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
      }),
      { numRuns: 100 },
    );
  });

  it('deliver every event of the set, and nothing else', () => {
    fc.assert(
      fc.property(
        eventSetArb().chain((events) => fc.tuple(fc.constant(events), arrivalsArb(events))),
        ([events, arrivals]) => {
          const delivered = new Set(arrivals.flat().map((e) => e.eventId));
          expect(delivered).toEqual(new Set(events.map((e) => e.eventId)));
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('the in-memory fold of any permutation of an event set', () => {
  it('gives the counters of the reference model, now and at any asOf and knownAt', () => {
    fc.assert(
      fc.property(scenarioArb, ({ events, arrivals, horizons }) => {
        // The fold takes a set (as the store holds it): the first arrival of each event, in arrival order.
        const permutation = [...new Map(arrivals.flat().map((e) => [e.eventId, e])).values()];
        for (const horizon of [{}, ...horizons]) {
          const rows = [...foldAvailability(permutation, horizon)]
            .map(([row, counters]) => {
              const { providerId, sku } = parseRowKey(row);
              return toRow(providerId, sku, counters);
            })
            .sort((a, b) => (a.providerId < b.providerId ? -1 : 1));
          for (const sku of SKUS) {
            expect(
              rows.filter((row) => row.sku === sku),
              JSON.stringify(horizon),
            ).toEqual(referenceAvailability(events, sku, horizon));
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('the projection of any arrival order of an event set', () => {
  it('holds the counters of the reference model, now and replayed at any asOf and knownAt', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ events, arrivals, horizons, limits }) => {
        const queries = new AvailabilityQueries(await project(arrivals, limits));
        for (const sku of SKUS) {
          expect(await queries.forSku(sku, { now: NOW_ISO })).toEqual(referenceAvailability(events, sku));
          // An empty horizon replays every event: it must agree with the projected counters.
          for (const horizon of [{}, ...horizons]) {
            expect(await queries.forSku(sku, { horizon, now: NOW_ISO }), JSON.stringify(horizon)).toEqual(
              referenceAvailability(events, sku, horizon),
            );
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("holds the reference model's row for one provider, and a provider's rows across SKUs", async () => {
    const referenceOfProvider = (events: RecordedEvent[], providerId: string, horizon?: Horizon) =>
      SKUS.flatMap((sku) =>
        referenceAvailability(events, sku, horizon ?? {}).filter((row) => row.providerId === providerId),
      );
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ events, arrivals, horizons, limits }) => {
        const queries = new AvailabilityQueries(await project(arrivals, limits));
        for (const providerId of PROVIDERS) {
          for (const horizon of [undefined, ...horizons]) {
            const expected = referenceOfProvider(events, providerId, horizon);
            expect((await queries.forProvider(providerId, { horizon, now: NOW_ISO })).rows).toEqual(expected);
            for (const sku of SKUS) {
              expect(await queries.forSku(sku, { provider: providerId, horizon, now: NOW_ISO })).toEqual(
                expected.filter((row) => row.sku === sku),
              );
            }
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('is the same after one arrival order as after another, down to every unit and membership', async () => {
    const twoArrivals = eventSetArb().chain((events) =>
      fc.tuple(arrivalsArb(events), arrivalsArb(events), limitsArb),
    );
    await fc.assert(
      fc.asyncProperty(twoArrivals, async ([first, second, limits]) => {
        const a = await project(first, limits);
        const b = await project(second, DEFAULTS);
        expect(b.snapshot()).toEqual(a.snapshot());
      }),
      { numRuns: 200 },
    );
  });

  it('counts each distinct event once in the projector stats, however often it arrived', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ events, arrivals, limits }) => {
        const store = await project(arrivals, limits);
        expect((await store.stats()).eventsProjected).toBe(events.length);
      }),
      { numRuns: 100 },
    );
  });

  it('comes out the same when two projectors run at once on overlapping deliveries', async () => {
    const race = eventSetArb({ maxEvents: 20 }).chain((events) =>
      fc.tuple(fc.constant(events), arrivalsArb(events), arrivalsArb(events)),
    );
    await fc.assert(
      fc.asyncProperty(race, async ([events, first, second]) => {
        const store = new MemoryUnitStore();
        // Both read every unit before either writes, so one loses on the unit's version and must re-plan.
        await Promise.all([project(first, DEFAULTS, store), project(second, DEFAULTS, store)]);
        const queries = new AvailabilityQueries(store);
        for (const sku of SKUS) {
          expect(await queries.forSku(sku, { now: NOW_ISO })).toEqual(referenceAvailability(events, sku));
        }
        expect((await store.stats()).eventsProjected).toBe(events.length);
        expect(store.snapshot()).toEqual((await project(first, DEFAULTS)).snapshot());
      }),
      { numRuns: 60 },
    );
  });
});

import { PutItemCommand, ScanCommand, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { recordedHistory } from '../../scripts/bench/events.ts';
import { parseRebuildArgs, UsageError } from '../../scripts/rebuild.ts';
import type { RecordedEvent } from '../../shared/events/catalogue.ts';
import { contentHash } from '../../shared/events/fingerprint.ts';
import { projectEvents } from '../../shared/projector/projector.ts';
import { ProjectionsNotEmptyError, planRebuild, rebuildProjections } from '../../shared/projector/rebuild.ts';
import { DynamoDBEventStore } from '../../shared/store/event-store.ts';
import { DynamoDBProjectionStore, decodeUnit } from '../../shared/store/projection-store.ts';
import type { Clock } from '../../shared/util/clock.ts';
import { createLogger } from '../../shared/util/logger.ts';
import {
  allocationCreatedEvent,
  allocationReleasedEvent,
  arrivalsArb,
  day,
  dispatchedEvent,
  eventSetArb,
  inventoryAdjustedEvent,
  PROVIDERS,
  providerRegisteredEvent,
  shipmentEvent,
} from '../support/arbitraries.ts';
import { createTestTables, type TestTables } from '../support/dynamo.ts';

/**
 * The rows the scan names memberships by, skewed on demand: the rebuild must still write exactly the
 * memberships the fold gives, whatever `rowsNamed` says while it scans.
 */
const naming = vi.hoisted(() => ({ skewed: false }));
vi.mock('../../shared/projections/unit.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../shared/projections/unit.ts')>();
  return {
    ...actual,
    rowsNamed: (events: Parameters<typeof actual.rowsNamed>[0]) => {
      const rows = actual.rowsNamed(events);
      if (!naming.skewed) return rows;
      // Allocations name nothing, and shipments name a row no unit has as well as their own.
      if (events.some((e) => e.type === 'allocation.created')) return new Set<string>();
      if (events.some((e) => e.type === 'shipment.dispatched')) rows.add('H20#nobody');
      return rows;
    },
  };
});

/*
 * A rebuild must give exactly the projections the projector built from the same events, item for item, so that
 * reads, `asOf` replays and the projector's next increments cannot tell a rebuilt table from a projected one.
 */

// Between the event times: events of later days are future facts, which both must note alike.
const clock: Clock = { now: () => new Date(day(3, 12)) };

let opened: TestTables[] = [];

async function tables(label: string): Promise<TestTables> {
  const t = await createTestTables(label);
  opened.push(t);
  return t;
}

async function dropAll(): Promise<void> {
  const closing = opened;
  opened = [];
  await Promise.all(closing.map((t) => t.drop()));
}

afterEach(dropAll);
afterAll(dropAll);

/** Records the events as the recorder does: conditional puts, months and counts, and a rejection beside them. */
async function record(source: TestTables, events: readonly RecordedEvent[]): Promise<void> {
  const store = new DynamoDBEventStore(source.client, source.names.events);
  await store.noteMonths(events.map((e) => e.occurredAt));
  for (const event of events) {
    const [outcome] = await store.recordAll([{ ...event, hash: contentHash(event) }]);
    expect(['recorded', 'duplicate']).toContain(outcome?.kind);
  }
  await store.countRecorded(events.length, day(9));
  await store.reject({ eventId: 'rejected-1', reason: 'not an event', receivedAt: day(9), hash: 'h' });
}

async function scanAll(t: TestTables, table: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: ScanCommandOutput['LastEvaluatedKey'];
  do {
    const out: ScanCommandOutput = await t.client.send(
      new ScanCommand({ TableName: table, ExclusiveStartKey: startKey }),
    );
    items.push(...(out.Items ?? []).map((item) => unmarshall(item)));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/**
 * The projections table as a comparable value: units with their events in id order (arrival order is not
 * part of a unit's meaning), and the projector's stats without the times of its last run.
 */
async function projectionsOf(t: TestTables): Promise<Record<string, unknown>> {
  const items = await scanAll(t, t.names.projections);
  const entries = items.map((item) => {
    const key = `${item.pk} ${item.sk}`;
    if (item.sk === 'unit') {
      const { events: _json, eventsGzip, ...rest } = item;
      const { events, applied } = decodeUnit(item);
      events.sort((a, b) => (a.eventId < b.eventId ? -1 : 1));
      return [key, { ...rest, gzipped: eventsGzip !== undefined, events, applied }];
    }
    if (item.pk === 'stats' && item.sk === 'projected') return [key, { count: item.count }];
    return [key, item];
  });
  return Object.fromEntries(entries.sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1)));
}

async function projectAll(target: TestTables, arrivals: readonly RecordedEvent[][]): Promise<void> {
  const store = new DynamoDBProjectionStore(target.client, target.names.projections);
  for (const batch of arrivals) {
    const result = await projectEvents(store, batch, { clock });
    expect([...result.failedStreams]).toEqual([]);
  }
}

/** Shipments moved, held, re-dispatched elsewhere and cancelled; allocations released early; future facts. */
function history(): RecordedEvent[] {
  const [ali, baidu, tencent] = PROVIDERS;
  const h20 = (providerId: string, quantity: number) => ({ providerId, sku: 'H20', quantity });
  return [
    providerRegisteredEvent({ eventId: 'p1', occurredAt: day(1) }, ali),
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
    dispatchedEvent({ eventId: 'd10', occurredAt: day(5), recordedAt: day(2) }, 'SH-5', h20(tencent, 2)),
    inventoryAdjustedEvent({ eventId: 'i1', occurredAt: day(1) }, { providerId: ali, sku: 'H20' }, 100),
    inventoryAdjustedEvent({ eventId: 'i2', occurredAt: day(3) }, { providerId: ali, sku: 'H20' }, -20),
    allocationCreatedEvent({ eventId: 'a1', occurredAt: day(2) }, 'AL-1', h20(ali, 64)),
    allocationCreatedEvent({ eventId: 'a3', occurredAt: day(3) }, 'AL-3', {
      providerId: baidu,
      sku: 'H800',
      quantity: 4,
    }),
    allocationReleasedEvent({ eventId: 'a4', occurredAt: day(1) }, 'AL-3'),
  ];
}

describe('rebuildProjections', () => {
  it('writes exactly the items the projector wrote for the same events, and says what it did', async () => {
    const events = history();
    const source = await tables('rebuild-src');
    const target = await tables('rebuild-dst');
    await record(source, events);
    // Out of order, in several batches, one of them delivered twice: how the stream may hand them over.
    await projectAll(source, [events.slice(8), events.slice(0, 5), events.slice(5, 8), events.slice(0, 5)]);

    const stats = await rebuildProjections(
      source.client,
      { events: source.names.events, projections: target.names.projections },
      { clock, segments: 3, writeConcurrency: 2 },
    );

    expect(await projectionsOf(target)).toEqual(await projectionsOf(source));
    const streams = new Set(events.map((e) => e.stream));
    expect(stats).toMatchObject({ events: events.length, units: streams.size, rows: 5 });
    const items = await scanAll(target, target.names.projections);
    // Every item but the projector's two stats items (count, future) is written by the batch writes.
    expect(stats.items).toBe(items.length - 2);
  });

  it('writes a long stream’s events gzipped, as the projector does', async () => {
    const place = { providerId: 'alibaba-cloud', sku: 'H20' };
    // About 24 KB of JSON: over the size past which a unit's events are gzipped.
    const events = Array.from({ length: 100 }, (_, i) =>
      inventoryAdjustedEvent(
        { eventId: `INV-${i}`, occurredAt: new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString() },
        place,
        i % 4 === 0 ? -1 : 3,
      ),
    );
    const source = await tables('rebuild-src');
    const target = await tables('rebuild-dst');
    await record(source, events);
    await projectAll(source, [events.slice(0, 50), events.slice(50)]);

    await rebuildProjections(
      source.client,
      { events: source.names.events, projections: target.names.projections },
      { clock },
    );

    const rebuilt = await projectionsOf(target);
    expect(rebuilt).toEqual(await projectionsOf(source));
    expect(rebuilt['unit#inventory:alibaba-cloud:H20 unit']).toMatchObject({ gzipped: true });
  });

  it('gives the projector’s projections for any set of events in any arrival order', async () => {
    const scenario = eventSetArb({ maxEvents: 25 }).chain((events) =>
      fc.record({ events: fc.constant(events), arrivals: arrivalsArb(events) }),
    );
    await fc.assert(
      fc.asyncProperty(scenario, async ({ events, arrivals }) => {
        const source = await tables('rebuild-src');
        const target = await tables('rebuild-dst');
        await record(source, events);
        await projectAll(source, arrivals);
        await rebuildProjections(
          source.client,
          { events: source.names.events, projections: target.names.projections },
          { clock },
        );
        expect(await projectionsOf(target)).toEqual(await projectionsOf(source));
        await dropAll();
      }),
      { numRuns: 6 },
    );
  }, 180_000);

  it('gives the projector’s projections for a history of over a hundred units, written in many batches', async () => {
    const events = recordedHistory(300, 'RB');
    const source = await tables('rebuild-src');
    const target = await tables('rebuild-dst');
    await record(source, events);
    await projectAll(source, [events.slice(0, 150), events.slice(150)]);

    const stats = await rebuildProjections(
      source.client,
      { events: source.names.events, projections: target.names.projections },
      { clock, segments: 4, writeConcurrency: 3 },
    );

    expect(await projectionsOf(target)).toEqual(await projectionsOf(source));
    expect(stats).toMatchObject({ events: 300, units: new Set(events.map((e) => e.stream)).size });
    // Units and memberships of over a hundred streams: more than two rounds of three batches of 25.
    expect(stats.items).toBeGreaterThan(25 * 3 * 2);
  }, 120_000);

  it('writes the fold’s memberships even where the scan named other rows', async () => {
    const events = history();
    const source = await tables('rebuild-src');
    const target = await tables('rebuild-dst');
    await record(source, events);
    await projectAll(source, [events]);

    const logged: { message: string; count?: number }[] = [];
    const logger = createLogger({ level: 'warn', write: (line) => logged.push(JSON.parse(line)) });
    naming.skewed = true;
    let stats: Awaited<ReturnType<typeof rebuildProjections>>;
    try {
      stats = await rebuildProjections(
        source.client,
        { events: source.names.events, projections: target.names.projections },
        { clock, logger },
      );
    } finally {
      naming.skewed = false;
    }

    expect(await projectionsOf(target)).toEqual(await projectionsOf(source));
    // The four dispatched shipments' memberships of the row nobody has, and that row's provider SKU item.
    expect(logged).toMatchObject([{ message: 'rebuild removes memberships that no unit has', count: 4 }]);
    const items = await scanAll(target, target.names.projections);
    expect(stats.items).toBe(items.length - 2);
  });

  it('refuses a projections table that holds anything, and leaves it as it was', async () => {
    const source = await tables('rebuild-src');
    await record(source, history());
    await source.client.send(
      new PutItemCommand({
        TableName: source.names.projections,
        Item: marshall({ pk: 'unit#x', sk: 'unit' }),
      }),
    );
    await expect(
      rebuildProjections(source.client, {
        events: source.names.events,
        projections: source.names.projections,
      }),
    ).rejects.toBeInstanceOf(ProjectionsNotEmptyError);
    expect(await scanAll(source, source.names.projections)).toHaveLength(1);
  });

  it('rebuilds an empty history into an empty table, without stats', async () => {
    const source = await tables('rebuild-src');
    const stats = await rebuildProjections(source.client, {
      events: source.names.events,
      projections: source.names.projections,
    });
    expect(stats).toMatchObject({ events: 0, units: 0, rows: 0, items: 0 });
    expect(await scanAll(source, source.names.projections)).toEqual([]);
  });
});

describe('planRebuild', () => {
  it('keeps each unit’s events in the fold’s order and counts each event once', () => {
    const events = history();
    const plan = planRebuild([...events].reverse());
    const sh2 = plan.units.find((u) => u.stream === 'shipment:SH-2');
    expect(sh2?.events.map((e) => e.eventId)).toEqual(['d4', 'd5', 'd6']);
    expect(sh2?.version).toBe(3);
    expect(plan.events).toBe(events.length);
    expect(plan.latestOccurredAt).toBe(day(5));
  });
});

describe('npm run rebuild arguments', () => {
  it('names the tables by prefix or one by one, with defaults for the rest', () => {
    expect(parseRebuildArgs(['--endpoint', 'http://127.0.0.1:8000', '--prefix', 'h20-tracker'])).toEqual({
      endpoint: 'http://127.0.0.1:8000',
      region: undefined,
      events: 'h20-tracker-events',
      projections: 'h20-tracker-projections',
      segments: 4,
      concurrency: 8,
      createTable: false,
      listingOnly: false,
    });
    expect(parseRebuildArgs(['--projections-table', 'p', '--listing-only'])).toMatchObject({
      projections: 'p',
      listingOnly: true,
    });
    expect(
      parseRebuildArgs([
        '--events-table=e',
        '--projections-table=p',
        '--segments',
        '8',
        '--region',
        'eu-west-1',
      ]),
    ).toMatchObject({ events: 'e', projections: 'p', segments: 8, region: 'eu-west-1' });
  });

  it('refuses what it cannot do', () => {
    for (const argv of [
      [],
      ['--prefix'],
      ['--prefix', 'x', '--segments', '0'],
      ['--nope', 'x'],
      ['--prefix', 'x', '--create-table'],
      ['--projections-table', 'p'],
      ['--events-table', 'e', '--listing-only'],
    ]) {
      expect(() => parseRebuildArgs(argv), argv.join(' ')).toThrow(UsageError);
    }
  });
});

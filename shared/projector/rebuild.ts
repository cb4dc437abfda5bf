import {
  type AttributeValue,
  type DynamoDBClient,
  ScanCommand,
  type ScanCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { compareEvents, type RecordedEvent } from '../events/catalogue.ts';
import { addCounters, type Counters, zeroCounters } from '../projections/counters.ts';
import { planUnit, type StoredUnit } from '../projections/plan.ts';
import { parseRowKey, type RowKey } from '../projections/rows.ts';
import type { UnitEvent } from '../projections/unit.ts';
import { batchPut } from '../store/batch-io.ts';
import { fromEventItem } from '../store/event-item.ts';
import {
  DynamoDBProjectionStore,
  encodeCounters,
  encodeUnit,
  projectionKeys,
} from '../store/projection-store.ts';
import { TABLES } from '../store/tables.ts';
import { type Clock, systemClock } from '../util/clock.ts';
import type { Logger } from '../util/logger.ts';

const { partitionKey: PK, sortKey: SK } = TABLES.projections;

/** Everything a rebuild writes, computed in memory from the events alone. */
export interface RebuildPlan {
  units: StoredUnit[];
  /** Per row, the sum of every unit's contribution: what the projector's deltas add up to. */
  counters: Map<RowKey, Counters>;
  /** Each row with the streams that name it: the membership that `asOf` and `knownAt` replay from. */
  members: [RowKey, string][];
  events: number;
  lastRecordedAt: string;
  latestOccurredAt: string;
}

/**
 * Folds every stream from scratch, as the projector would if it saw all of a unit's events in one batch
 * (`planUnit` with nothing stored), and sums the counters per row in memory. Each unit's events are kept in
 * the fold's order, so that the same events always give the same items.
 */
export function planRebuild(events: readonly RecordedEvent[]): RebuildPlan {
  const byStream = new Map<string, UnitEvent[]>();
  let lastRecordedAt = '';
  let latestOccurredAt = '';
  for (const { stream, ...event } of events) {
    let list = byStream.get(stream);
    if (!list) {
      list = [];
      byStream.set(stream, list);
    }
    list.push(event as UnitEvent);
    if (event.recordedAt > lastRecordedAt) lastRecordedAt = event.recordedAt;
    if (event.occurredAt > latestOccurredAt) latestOccurredAt = event.occurredAt;
  }
  const plan: RebuildPlan = {
    units: [],
    counters: new Map(),
    members: [],
    events: 0,
    lastRecordedAt,
    latestOccurredAt,
  };
  for (const [stream, list] of byStream) {
    const unit = planUnit(stream, undefined, list.sort(compareEvents));
    if (!unit) continue;
    plan.units.push(unit.next);
    plan.events += unit.added;
    for (const [row, delta] of unit.deltas) {
      plan.counters.set(row, addCounters(plan.counters.get(row) ?? zeroCounters(), delta));
    }
    for (const row of unit.newRows) plan.members.push([row, stream]);
  }
  return plan;
}

/** The items of a plan, in the projections table's formats (counters aside: they go last). */
export function planItems(plan: RebuildPlan): {
  units: Record<string, unknown>[];
  members: Record<string, unknown>[];
  counters: Record<string, unknown>[];
} {
  const members = new Map<string, Record<string, unknown>>();
  for (const [row, stream] of plan.members) {
    const { sku, providerId } = parseRowKey(row);
    for (const key of [projectionKeys.member(row, stream), projectionKeys.providerSku(providerId, sku)]) {
      members.set(`${key[PK]}\u0000${key[SK]}`, key);
    }
  }
  return {
    units: plan.units.map(encodeUnit),
    members: [...members.values()],
    counters: [...plan.counters].map(([row, counters]) => encodeCounters(row, counters)),
  };
}

export interface RebuildTables {
  events: string;
  projections: string;
}

export interface RebuildOptions {
  /** Parallel `Scan` segments over the events table. */
  segments?: number;
  /** `BatchWriteItem` calls in flight at once. */
  writeConcurrency?: number;
  clock?: Clock;
  logger?: Logger;
}

export interface RebuildStats {
  events: number;
  units: number;
  rows: number;
  /** Items written to the projections table, the stats items aside. */
  items: number;
  scanMs: number;
  foldMs: number;
  writeMs: number;
}

export class ProjectionsNotEmptyError extends Error {
  constructor(table: string) {
    super(
      `the projections table ${table} is not empty: a rebuild writes whole items and sums no deltas, so it ` +
        'needs an empty table (create a new one, or delete and re-create this one)',
    );
    this.name = 'ProjectionsNotEmptyError';
  }
}

/**
 * Rebuilds the projections from the events table into an EMPTY projections table: a parallel scan, a fold
 * of every stream in memory, then units, memberships and counters written with `BatchWriteItem`, and the
 * projector's stats last, so that a table with stats is a finished one. The projector must be paused
 * meanwhile; once resumed it may replay events the rebuild already holds, which it absorbs.
 *
 * @debt every event is held in memory at once: fine for a few million events, not for a billion.
 *
 * @example
 * const stats = await rebuildProjections(client, { events: 'h20-events', projections: 'h20-projections-v2' });
 */
export async function rebuildProjections(
  client: DynamoDBClient,
  tables: RebuildTables,
  options: RebuildOptions = {},
): Promise<RebuildStats> {
  const clock = options.clock ?? systemClock;
  if (!(await isEmpty(client, tables.projections))) throw new ProjectionsNotEmptyError(tables.projections);

  let started = performance.now();
  const events: RecordedEvent[] = [];
  await scanEventItems(client, tables.events, options.segments ?? 4, (items) => {
    for (const item of items) {
      const { hash: _hash, ...event } = fromEventItem(unmarshall(item));
      events.push(event as RecordedEvent);
    }
  });
  const scanMs = performance.now() - started;
  options.logger?.info('rebuild scanned the events', { events: events.length, ms: Math.round(scanMs) });

  started = performance.now();
  const plan = planRebuild(events);
  const items = planItems(plan);
  const foldMs = performance.now() - started;

  started = performance.now();
  const concurrency = options.writeConcurrency ?? 8;
  await writeItems(client, tables.projections, [...items.units, ...items.members], concurrency);
  await writeItems(client, tables.projections, items.counters, concurrency);
  const store = new DynamoDBProjectionStore(client, tables.projections);
  const now = clock.now().toISOString();
  if (plan.latestOccurredAt > now) await store.noteFuture(plan.latestOccurredAt);
  if (plan.events > 0) await store.countProjected(plan.events, plan.lastRecordedAt, now);
  const writeMs = performance.now() - started;

  const stats: RebuildStats = {
    events: plan.events,
    units: plan.units.length,
    rows: plan.counters.size,
    items: items.units.length + items.members.length + items.counters.length,
    scanMs,
    foldMs,
    writeMs,
  };
  options.logger?.info('rebuild wrote the projections', { ...stats });
  return stats;
}

/**
 * Every event item of the events table (rejections and stats left out by the filter), read by `segments`
 * parallel scans; `onItems` sees each page as it arrives.
 */
export async function scanEventItems(
  client: DynamoDBClient,
  table: string,
  segments: number,
  onItems: (items: Record<string, AttributeValue>[]) => void,
): Promise<void> {
  const segment = async (index: number) => {
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const out: ScanCommandOutput = await client.send(
        new ScanCommand({
          TableName: table,
          Segment: index,
          TotalSegments: segments,
          FilterExpression: '#kind = :event',
          ExpressionAttributeNames: { '#kind': 'kind' },
          ExpressionAttributeValues: { ':event': { S: 'event' } },
          ExclusiveStartKey: startKey,
        }),
      );
      onItems(out.Items ?? []);
      startKey = out.LastEvaluatedKey;
    } while (startKey);
  };
  await Promise.all(Array.from({ length: segments }, (_, index) => segment(index)));
}

async function isEmpty(client: DynamoDBClient, table: string): Promise<boolean> {
  const out = await client.send(
    new ScanCommand({
      TableName: table,
      Limit: 1,
      ProjectionExpression: '#pk',
      ExpressionAttributeNames: { '#pk': PK },
    }),
  );
  return (out.Items ?? []).length === 0 && !out.LastEvaluatedKey;
}

/** `BatchWriteItem` in chunks of 25, `concurrency` chunks in flight, unprocessed items retried by `batchPut`. */
async function writeItems(
  client: DynamoDBClient,
  table: string,
  items: readonly Record<string, unknown>[],
  concurrency: number,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (;;) {
      const start = next;
      next += 25;
      if (start >= items.length) return;
      await batchPut(client, table, items.slice(start, start + 25));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
}

import {
  type AttributeValue,
  type DynamoDBClient,
  ScanCommand,
  type ScanCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { convertToAttr, convertToNative } from '@aws-sdk/util-dynamodb';
import { compareEvents, type RecordedEvent } from '../events/catalogue.ts';
import { addCounters, type Counters, zeroCounters } from '../projections/counters.ts';
import { planUnit, type StoredUnit, type UnitPlan } from '../projections/plan.ts';
import { parseRowKey, type RowKey } from '../projections/rows.ts';
import { rowsNamed, type UnitEvent } from '../projections/unit.ts';
import { BatchWriter } from '../store/batch-io.ts';
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

const { partitionKey: PK } = TABLES.projections;

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
 * the fold's order, so that the same events always give the same items. (The rebuild itself does the same
 * stream by stream, writing as it goes.)
 */
export function planRebuild(events: readonly RecordedEvent[]): RebuildPlan {
  const history = new History();
  for (const { stream, ...event } of events) history.add(stream, event as UnitEvent);
  const plan: RebuildPlan = {
    units: [],
    counters: new Map(),
    members: [],
    events: 0,
    lastRecordedAt: history.lastRecordedAt,
    latestOccurredAt: history.latestOccurredAt,
  };
  for (const [stream, list] of history.streams) {
    const unit = foldStream(stream, list, plan.counters);
    if (!unit) continue;
    plan.units.push(unit.next);
    plan.events += unit.added;
    for (const row of unit.newRows) plan.members.push([row, stream]);
  }
  return plan;
}

/** The events of a history grouped by stream, in the order they came, and its latest times. */
class History {
  readonly streams = new Map<string, UnitEvent[]>();
  lastRecordedAt = '';
  latestOccurredAt = '';

  add(stream: string, event: UnitEvent): void {
    const list = this.streams.get(stream);
    if (list) list.push(event);
    else this.streams.set(stream, [event]);
    if (event.recordedAt > this.lastRecordedAt) this.lastRecordedAt = event.recordedAt;
    if (event.occurredAt > this.latestOccurredAt) this.latestOccurredAt = event.occurredAt;
  }
}

/** One stream folded from scratch (its events sorted in place), its deltas added to the rows' `counters`. */
function foldStream(stream: string, events: UnitEvent[], counters: Map<RowKey, Counters>): UnitPlan | null {
  const unit = planUnit(stream, undefined, events.sort(compareEvents));
  if (!unit) return null;
  for (const [row, delta] of unit.deltas) {
    counters.set(row, addCounters(counters.get(row) ?? zeroCounters(), delta));
  }
  return unit;
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
  /** The scan, with the memberships it finds written meanwhile. */
  scanMs: number;
  /** Folding the streams into units (their writes go on meanwhile). */
  foldMs: number;
  /** Waiting for writes after the scan, the fold's time aside: the three add up to the whole rebuild. */
  writeMs: number;
  /**
   * Items written by the time the scan ended. DynamoDB Local runs every request on one SQLite thread, a scan
   * page as one long job, so there writes barely move until the scan is over; DynamoDB itself takes both at once.
   */
  writtenDuringScan: number;
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
 * Rebuilds the projections from the events table into an EMPTY projections table, writing with
 * `BatchWriteItem` all along:
 *
 * 1. A parallel scan of the events, grouped by stream in memory. A row's membership only grows (a unit names a
 *    row from the first event that does, whatever else the stream holds), so membership items are written as
 *    the scan finds them, while it still reads.
 * 2. Each stream folded from scratch, as the projector would fold all its events in one batch, and its unit
 *    written: a unit needs every event of its stream, and the events table is keyed by event, so units wait
 *    for the scan's end.
 * 3. The counters of every row, summed over the units; then the projector's stats, last, so that a table
 *    with stats is a finished one.
 *
 * The projector must be paused meanwhile; once resumed it may replay events the rebuild already holds, which
 * it absorbs.
 *
 * @debt every event is held in memory until its unit is written: fine for a few million events, not for a
 * billion.
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
  const writer = new BatchWriter(client, tables.projections, Math.max(1, options.writeConcurrency ?? 8));
  let items = 0;
  const put = (item: Record<string, unknown>) => {
    writer.put(toAttributes(item));
    items++;
  };

  const started = performance.now();
  const history = new History();
  // Memberships written by the scan, as `row \0 stream`, and the rows they name (each with its provider's
  // SKU item); the fold then checks them against the units' own rows.
  const named = new Set<string>();
  const rows = new Set<RowKey>();
  const name = (row: RowKey, stream: string) => {
    put(projectionKeys.member(row, stream));
    if (rows.has(row)) return;
    rows.add(row);
    const { sku, providerId } = parseRowKey(row);
    put(projectionKeys.providerSku(providerId, sku));
  };
  await scanEventItems(client, tables.events, options.segments ?? 4, (page) => {
    for (const item of page) {
      const { hash: _hash, stream, ...rest } = fromEventItem(fromAttributes(item));
      const event = rest as UnitEvent;
      history.add(stream, event);
      for (const row of rowsNamed([event])) {
        const key = `${row}\u0000${stream}`;
        if (named.has(key)) continue;
        named.add(key);
        name(row, stream);
      }
    }
  });
  const scanMs = performance.now() - started;
  const writtenDuringScan = writer.written;
  options.logger?.info('rebuild scanned the events', {
    streams: history.streams.size,
    memberships: named.size,
    written: writtenDuringScan,
    ms: Math.round(scanMs),
  });

  // The fold pauses whenever enough is queued, which lets the writer's requests go out and bounds what waits.
  const counters = new Map<RowKey, Counters>();
  let units = 0;
  let events = 0;
  let foldMs = 0;
  let slice = performance.now();
  for (const [stream, list] of history.streams) {
    history.streams.delete(stream);
    const unit = foldStream(stream, list, counters);
    if (!unit) continue;
    units++;
    events += unit.added;
    put(encodeUnit(unit.next));
    for (const row of unit.newRows) {
      // Claimed: what stays in `named` at the end is a membership no unit has (which the scan should never write).
      if (!named.delete(`${row}\u0000${stream}`)) name(row, stream);
    }
    if (writer.backlog >= writer.concurrency * 25 * 4) {
      foldMs += performance.now() - slice;
      await writer.drained();
      slice = performance.now();
    }
  }
  foldMs += performance.now() - slice;
  await writer.flush();
  if (named.size > 0) {
    options.logger?.warn('rebuild removes memberships that no unit has', { count: named.size });
    items -= await removeStrays(writer, named, rows, counters);
  }

  // Counters after every unit and membership, and the stats after them.
  for (const [row, sum] of counters) put(encodeCounters(row, sum));
  await writer.flush();
  const store = new DynamoDBProjectionStore(client, tables.projections);
  const now = clock.now().toISOString();
  if (history.latestOccurredAt > now) await store.noteFuture(history.latestOccurredAt);
  if (events > 0) await store.countProjected(events, history.lastRecordedAt, now);

  const stats: RebuildStats = {
    events,
    units,
    rows: counters.size,
    items,
    scanMs,
    foldMs,
    writeMs: performance.now() - started - scanMs - foldMs,
    writtenDuringScan,
  };
  options.logger?.info('rebuild wrote the projections', { ...stats });
  return stats;
}

/**
 * Deletes memberships written during the scan that no unit's fold names, and the provider SKU items of rows
 * no unit names: a safety net for `rowsNamed` and the fold ever disagreeing. Returns how many it deleted.
 */
async function removeStrays(
  writer: BatchWriter,
  strays: Set<string>,
  rows: Set<RowKey>,
  counters: Map<RowKey, Counters>,
): Promise<number> {
  let removed = 0;
  for (const key of strays) {
    removed++;
    const at = key.indexOf('\u0000');
    writer.delete(toAttributes(projectionKeys.member(key.slice(0, at), key.slice(at + 1))));
  }
  for (const row of rows) {
    if (counters.has(row)) continue;
    const { sku, providerId } = parseRowKey(row);
    writer.delete(toAttributes(projectionKeys.providerSku(providerId, sku)));
    removed++;
  }
  await writer.flush();
  return removed;
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

/**
 * A flat item of strings and numbers (what the projection encoders make) as DynamoDB attributes, exactly as
 * `marshall` gives them, without its walk over every value; anything else, and any number `marshall` would
 * refuse, goes to `convertToAttr`.
 */
export function toAttributes(item: Record<string, unknown>): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(item)) {
    if (typeof value === 'string') attributes[name] = { S: value };
    else if (typeof value === 'number' && Number.isSafeInteger(Math.trunc(value)))
      attributes[name] = { N: String(value) };
    else attributes[name] = convertToAttr(value);
  }
  return attributes;
}

/**
 * An item as `unmarshall` gives it, for the kinds of attributes event items hold (strings, safe numbers,
 * maps, lists, booleans, nulls) made without its generality; any other kind goes to `convertToNative`. The
 * scan converts every attribute of every event: this is most of the rebuild's own work while it reads.
 */
export function fromAttributes(item: Record<string, AttributeValue>): Record<string, unknown> {
  const native: Record<string, unknown> = {};
  for (const name of Object.keys(item)) native[name] = toNative(item[name] as AttributeValue);
  return native;
}

function toNative(value: AttributeValue): unknown {
  if (value.S !== undefined) return value.S;
  if (value.M !== undefined) return fromAttributes(value.M);
  if (value.N !== undefined) {
    const n = Number(value.N);
    if (n <= Number.MAX_SAFE_INTEGER && n >= Number.MIN_SAFE_INTEGER) return n;
  } else if (value.L !== undefined) return value.L.map(toNative);
  else if (value.BOOL !== undefined) return value.BOOL;
  else if (value.NULL !== undefined) return null;
  return convertToNative(value);
}

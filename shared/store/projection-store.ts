import { gunzipSync, gzipSync } from 'node:zlib';
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { addCounters, COUNTER_NAMES, type Counters, zeroCounters } from '../projections/counters.ts';
import { type ListedKind, listingOf, partitionsOf, type ShipmentSummary } from '../projections/listing.ts';
import type { StoredUnit, UnitPlan } from '../projections/plan.ts';
import { parseRowKey, type RowKey } from '../projections/rows.ts';
import { batchGet, batchPut } from './batch-io.ts';
import { TABLES } from './tables.ts';

const {
  partitionKey: PK,
  sortKey: SK,
  byKindIndex: BY_KIND,
  onTheWayIndex: ON_THE_WAY_INDEX,
} = TABLES.projections;

/** The projections table's item keys, in one place. */
export const projectionKeys = {
  unit: (stream: string) => ({ [PK]: `unit#${stream}`, [SK]: 'unit' }),
  counters: (row: RowKey) => {
    const { sku, providerId } = parseRowKey(row);
    return { [PK]: `avail#${sku}`, [SK]: providerId };
  },
  member: (row: RowKey, stream: string) => ({ [PK]: `row#${row}`, [SK]: stream }),
  providerSku: (providerId: string, sku: string) => ({ [PK]: `provider#${providerId}`, [SK]: `sku#${sku}` }),
  stats: { [PK]: 'stats', [SK]: 'projected' },
  future: { [PK]: 'stats', [SK]: 'future' },
};

export interface CountersRow extends Counters {
  providerId: string;
  sku: string;
}

export interface ProjectorStats {
  eventsProjected: number;
  lastProjectedAt?: string;
  lastEventRecordedAt?: string;
}

/** The write lost a race with another projector run: re-read and plan again. */
export class StaleUnitError extends Error {
  constructor(streams: string) {
    super(`a unit changed while it was being projected (${streams})`);
    this.name = 'StaleUnitError';
  }
}

/**
 * The projections on DynamoDB. A unit's new state and its rows' counter deltas are written in one
 * transaction, conditional on the unit's version: a counter never moves without the unit that explains it.
 */
export class DynamoDBProjectionStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  /**
   * Rows whose provider-to-SKU entry this store has written. The entry is the same whichever unit brings
   * the row, so one write per row and process is enough: every unit of a busy row used to write it again,
   * a quarter of a write unit per event. Bounded by the number of rows (providers times SKUs).
   */
  private readonly indexedRows = new Set<RowKey>();

  async getUnit(stream: string): Promise<StoredUnit | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall(projectionKeys.unit(stream)),
        ConsistentRead: true,
      }),
    );
    return out.Item ? decodeUnit(unmarshall(out.Item)) : undefined;
  }

  /** Consistent reads: the projector plans on them, so they must include its own latest writes. */
  async getUnits(streams: readonly string[]): Promise<StoredUnit[]> {
    const items = await batchGet(
      this.client,
      this.table,
      [...new Set(streams)].map((s) => marshall(projectionKeys.unit(s))),
      { consistent: true },
    );
    return items.map(decodeUnit);
  }

  async applyAll(plans: readonly UnitPlan[]): Promise<void> {
    // Membership is written first and on its own: harmless if the transaction below never happens, since a
    // replay reads the unit and finds it contributes nothing yet.
    const newRows = new Set(plans.flatMap((plan) => plan.newRows));
    const skuEntries = [...newRows].filter((row) => !this.indexedRows.has(row));
    const memberships = [
      ...plans.flatMap((plan) => plan.newRows.map((row) => projectionKeys.member(row, plan.next.stream))),
      ...skuEntries.map((row) => {
        const { sku, providerId } = parseRowKey(row);
        return projectionKeys.providerSku(providerId, sku);
      }),
    ];
    await batchPut(this.client, this.table, memberships);
    for (const row of skuEntries) this.indexedRows.add(row);

    const deltas = new Map<RowKey, Counters>();
    for (const plan of plans) {
      for (const [row, delta] of plan.deltas)
        deltas.set(row, addCounters(deltas.get(row) ?? zeroCounters(), delta));
    }
    const items: TransactWriteItem[] = plans.map((plan) => ({ Put: this.unitPut(plan) }));
    for (const [row, delta] of deltas) items.push({ Update: this.counterUpdate(row, delta) });
    try {
      if (items.length === 1 && items[0]?.Put) await this.client.send(new PutItemCommand(items[0].Put));
      else await this.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
    } catch (error) {
      if (isConditionFailure(error)) throw new StaleUnitError(plans.map((p) => p.next.stream).join(', '));
      throw error;
    }
  }

  private unitPut(plan: UnitPlan): NonNullable<TransactWriteItem['Put']> {
    const isNew = plan.expectedVersion === 0;
    return {
      TableName: this.table,
      Item: marshall(encodeUnit(plan.next)),
      ConditionExpression: isNew ? 'attribute_not_exists(#pk)' : '#v = :v',
      ExpressionAttributeNames: isNew ? { '#pk': PK } : { '#v': 'version' },
      ExpressionAttributeValues: isNew ? undefined : marshall({ ':v': plan.expectedVersion }),
    };
  }

  private counterUpdate(row: RowKey, delta: Counters): NonNullable<TransactWriteItem['Update']> {
    const { sku, providerId } = parseRowKey(row);
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':provider': providerId, ':sku': sku };
    const adds = COUNTER_NAMES.map((name, i) => {
      names[`#c${i}`] = name;
      values[`:c${i}`] = delta[name];
      return `#c${i} :c${i}`;
    });
    return {
      TableName: this.table,
      Key: marshall(projectionKeys.counters(row)),
      UpdateExpression: `ADD ${adds.join(', ')} SET providerId = :provider, sku = :sku`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: marshall(values),
    };
  }

  /** Current counters of every row of a SKU: one query, however long the history. */
  async countersForSku(sku: string): Promise<CountersRow[]> {
    const items = await this.queryAll({
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': PK },
      ExpressionAttributeValues: marshall({ ':pk': `avail#${sku}` }),
    });
    return items.map(decodeCounters);
  }

  async countersForRows(rows: readonly RowKey[]): Promise<CountersRow[]> {
    const items = await batchGet(
      this.client,
      this.table,
      rows.map((row) => marshall(projectionKeys.counters(row))),
    );
    return items.map(decodeCounters);
  }

  /** The streams that ever named a row: the units to replay for `asOf` and `knownAt`. */
  async membersOf(row: RowKey): Promise<string[]> {
    const items = await this.queryAll({
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
      ExpressionAttributeValues: marshall({ ':pk': `row#${row}` }),
      ProjectionExpression: '#sk',
    });
    return items.map((item) => item[SK] as string);
  }

  /** The ids of every unit of a kind (regulations, licences), from the listing index. */
  async idsOf(kind: Exclude<ListedKind, 'shipment'>): Promise<string[]> {
    const items = await this.queryAll({
      IndexName: BY_KIND.name,
      KeyConditionExpression: '#kpk = :kind',
      ExpressionAttributeNames: { '#kpk': BY_KIND.partitionKey },
      ExpressionAttributeValues: marshall({ ':kind': partitionsOf(kind)[0] }),
    });
    return items.map((item) => item[BY_KIND.sortKey] as string).sort();
  }

  /** The shipments on their way (in transit or held) to these rows, from the on-the-way index. */
  async onTheWay(rows: readonly RowKey[]): Promise<ShipmentSummary[]> {
    const pages = await Promise.all(
      rows.map((row) =>
        this.queryAll({
          IndexName: ON_THE_WAY_INDEX.name,
          KeyConditionExpression: '#wpk = :row',
          ExpressionAttributeNames: { '#wpk': ON_THE_WAY_INDEX.partitionKey },
          ExpressionAttributeValues: marshall({ ':row': row }),
        }),
      ),
    );
    return pages.flat().map((item) => JSON.parse(item.summary as string) as ShipmentSummary);
  }

  /**
   * Shipments by id, after `after`, read page by page from each shard of the listing index until one more
   * than `limit` of them pass `keep` or the shard ends; the shards' pages merged by id. `more` is true when
   * a shipment that passes follows the last one returned.
   */
  async listShipments(options: {
    after?: string;
    limit: number;
    keep: (summary: ShipmentSummary) => boolean;
  }): Promise<{ items: ShipmentSummary[]; more: boolean }> {
    const shards = await Promise.all(
      partitionsOf('shipment').map(async (partition) => {
        const kept: ShipmentSummary[] = [];
        let startKey: Record<string, AttributeValue> | undefined;
        do {
          const out: QueryCommandOutput = await this.client.send(
            new QueryCommand({
              TableName: this.table,
              IndexName: BY_KIND.name,
              KeyConditionExpression: options.after ? '#kpk = :p AND #ksk > :after' : '#kpk = :p',
              ExpressionAttributeNames: {
                '#kpk': BY_KIND.partitionKey,
                ...(options.after ? { '#ksk': BY_KIND.sortKey } : {}),
              },
              ExpressionAttributeValues: marshall({
                ':p': partition,
                ...(options.after ? { ':after': options.after } : {}),
              }),
              ExclusiveStartKey: startKey,
            }),
          );
          for (const item of out.Items ?? []) {
            const summary = JSON.parse(unmarshall(item).summary as string) as ShipmentSummary;
            if (!options.keep(summary)) continue;
            kept.push(summary);
            // One past the limit tells whether anything follows, so the last page never points at an empty one.
            if (kept.length > options.limit) return kept;
          }
          startKey = out.LastEvaluatedKey;
        } while (startKey);
        return kept;
      }),
    );
    const merged = shards
      .flat()
      .sort((a, b) => (a.shipmentId < b.shipmentId ? -1 : a.shipmentId > b.shipmentId ? 1 : 0));
    return { items: merged.slice(0, options.limit), more: merged.length > options.limit };
  }

  async skusOf(providerId: string): Promise<string[]> {
    const items = await this.queryAll({
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
      ExpressionAttributeValues: marshall({ ':pk': `provider#${providerId}`, ':prefix': 'sku#' }),
    });
    return items.map((item) => (item[SK] as string).slice('sku#'.length)).sort();
  }

  async countProjected(count: number, lastEventRecordedAt: string, now: string): Promise<void> {
    if (count === 0) return;
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall(projectionKeys.stats),
        UpdateExpression: 'ADD #count :n SET #at = :now, #rec = :rec',
        ExpressionAttributeNames: {
          '#count': 'count',
          '#at': 'lastProjectedAt',
          '#rec': 'lastEventRecordedAt',
        },
        ExpressionAttributeValues: marshall({ ':n': count, ':now': now, ':rec': lastEventRecordedAt }),
      }),
    );
  }

  /**
   * Remembers the latest `occurredAt` that lies in the future when it was projected: until then, the
   * projected counters include facts that have not happened yet, and "now" must be replayed instead.
   */
  async noteFuture(occurredAt: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall(projectionKeys.future),
          UpdateExpression: 'SET #until = :at',
          ConditionExpression: 'attribute_not_exists(#until) OR #until < :at',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: marshall({ ':at': occurredAt }),
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async futureUntil(): Promise<string | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: marshall(projectionKeys.future) }),
    );
    return out.Item ? (unmarshall(out.Item).until as string) : undefined;
  }

  async stats(): Promise<ProjectorStats> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall(projectionKeys.stats),
        ConsistentRead: true,
      }),
    );
    const item = out.Item ? unmarshall(out.Item) : {};
    return {
      eventsProjected: (item.count as number | undefined) ?? 0,
      lastProjectedAt: item.lastProjectedAt as string | undefined,
      lastEventRecordedAt: item.lastEventRecordedAt as string | undefined,
    };
  }

  private async queryAll(
    input: Omit<ConstructorParameters<typeof QueryCommand>[0], 'TableName'>,
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const out: QueryCommandOutput = await this.client.send(
        new QueryCommand({ ...input, TableName: this.table, ExclusiveStartKey: startKey }),
      );
      for (const item of out.Items ?? []) items.push(unmarshall(item));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}

/**
 * Past this many bytes of JSON, a unit's events are stored gzipped. A unit item holds all its stream's events
 * and DynamoDB caps an item at 400 KB: a shipment never comes near, but a provider's inventory of a SKU grows
 * with every adjustment, and its events (the same provider, SKU and reason each time) compress well: 2,000
 * audits with ULIDs and short notes are 579 KB of JSON and 41 KB gzipped.
 */
const GZIP_EVENTS_OVER = 16 * 1024;

/** A unit's item, as the projector and the rebuild both write it. */
export function encodeUnit(unit: StoredUnit): Record<string, unknown> {
  // JSON strings keep the item compact and free of DynamoDB's type annotations on every nested field.
  const events = JSON.stringify(unit.events);
  return {
    ...projectionKeys.unit(unit.stream),
    stream: unit.stream,
    version: unit.version,
    ...(Buffer.byteLength(events) > GZIP_EVENTS_OVER ? { eventsGzip: gzipSync(events) } : { events }),
    applied: JSON.stringify(unit.applied),
    ...listingOf(unit),
  };
}

export function decodeUnit(item: Record<string, unknown>): StoredUnit {
  const gzipped = item.eventsGzip as Uint8Array | undefined;
  return {
    stream: item.stream as string,
    version: item.version as number,
    events: JSON.parse(gzipped ? gunzipSync(gzipped).toString('utf8') : (item.events as string)),
    applied: JSON.parse(item.applied as string),
  };
}

/**
 * A row's counters item as a whole, for the rebuild's `BatchWriteItem`: the same attributes the projector's
 * `ADD ... SET providerId, sku` update leaves on the item.
 */
export function encodeCounters(row: RowKey, counters: Counters): Record<string, unknown> {
  const { sku, providerId } = parseRowKey(row);
  const item: Record<string, unknown> = { ...projectionKeys.counters(row), providerId, sku };
  for (const name of COUNTER_NAMES) item[name] = counters[name];
  return item;
}

function decodeCounters(item: Record<string, unknown>): CountersRow {
  const counters = zeroCounters();
  for (const name of COUNTER_NAMES) counters[name] = (item[name] as number | undefined) ?? 0;
  return { providerId: item.providerId as string, sku: item.sku as string, ...counters };
}

function isConditionFailure(error: unknown): boolean {
  const e = error as { name?: string; CancellationReasons?: { Code?: string }[] };
  if (e.name === 'ConditionalCheckFailedException') return true;
  return (
    e.name === 'TransactionCanceledException' &&
    (e.CancellationReasons ?? []).some((reason) => reason.Code === 'ConditionalCheckFailed')
  );
}

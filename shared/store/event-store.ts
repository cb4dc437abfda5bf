import {
  type AttributeValue,
  BatchExecuteStatementCommand,
  type BatchExecuteStatementCommandOutput,
  type BatchStatementRequest,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { batchGet } from './batch-io.ts';
import {
  EVENT_SK,
  fromEventItem,
  monthBucket,
  type Rejection,
  type StoredEvent,
  timeSortKey,
  toEventItem,
  toRejectionItem,
} from './event-item.ts';
import { ReadCoalescer } from './read-coalescer.ts';
import { TABLES } from './tables.ts';

const { partitionKey: PK, sortKey: SK, byTimeIndex } = TABLES.events;
const STATS_KEY = { [PK]: 'stats', [SK]: 'recorded' };

export type RecordOutcome =
  | { kind: 'recorded' }
  | { kind: 'duplicate' }
  | { kind: 'conflict'; existingHash: string };

/** An event of a batch: recorded, found already there, or not written for a passing reason (to retry). */
export type BatchRecordOutcome = RecordOutcome | { kind: 'failed'; error: unknown };

/** Statements per `BatchExecuteStatement`: DynamoDB's limit. */
const STATEMENTS_PER_BATCH = 25;

export interface EventPage {
  items: StoredEvent[];
  nextCursor: string | null;
}

export interface RecorderStats {
  eventsRecorded: number;
  lastRecordedAt?: string;
  months: string[];
}

/**
 * The event store on DynamoDB: one item per event keyed by its id, so that a conditional put is the whole
 * idempotency mechanism, and a time index for listing. Streams are read from the projections, not here.
 */
export class DynamoDBEventStore {
  /** Months this process has seen noted: the set only grows, so they need not be added again. */
  private readonly notedMonths = new Set<string>();
  /** Ids asked for by `hashesOf` calls of the same tick, read together. */
  private readonly hashReads = new ReadCoalescer<string, string>((ids) => this.readHashes(ids));

  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  /**
   * Records a batch of events, each once (a redelivery of the same content is a no-op, other content a
   * conflict), in one round trip per 25: PartiQL `INSERT`
   * through `BatchExecuteStatement`, which fails an event whose key exists (`DuplicateItem`) and leaves the
   * others alone, at the price of plain writes (a transaction would double it and fail all for one). An
   * event found there is compared by hash; one whose statement failed for a passing reason (throttling) or
   * whose call failed altogether comes back `failed`, to be delivered again. An id twice in the batch is
   * written in a later round, as a statement batch may not name one key twice.
   */
  async recordAll(events: readonly StoredEvent[]): Promise<BatchRecordOutcome[]> {
    const outcomes: BatchRecordOutcome[] = new Array(events.length);
    let round = events.map((_, index) => index);
    while (round.length > 0) {
      const ids = new Set<string>();
      const now: number[] = [];
      const later: number[] = [];
      for (const index of round) {
        const { eventId } = events[index] as StoredEvent;
        if (ids.has(eventId)) later.push(index);
        else {
          ids.add(eventId);
          now.push(index);
        }
      }
      const chunks: number[][] = [];
      for (let start = 0; start < now.length; start += STATEMENTS_PER_BATCH)
        chunks.push(now.slice(start, start + STATEMENTS_PER_BATCH));
      await Promise.all(
        chunks.map(async (chunk) => {
          const results = await this.insertAll(chunk.map((index) => events[index] as StoredEvent));
          results.forEach((outcome, i) => {
            outcomes[chunk[i] as number] = outcome;
          });
        }),
      );
      round = later;
    }
    return outcomes;
  }

  private async insertAll(events: readonly StoredEvent[]): Promise<BatchRecordOutcome[]> {
    let out: BatchExecuteStatementCommandOutput;
    try {
      out = await this.client.send(
        new BatchExecuteStatementCommand({ Statements: events.map((e) => this.insertOf(e)) }),
      );
    } catch (error) {
      return events.map(() => ({ kind: 'failed', error }));
    }
    // Responses come in the order of the statements.
    return Promise.all(
      events.map(async (event, i): Promise<BatchRecordOutcome> => {
        const error = out.Responses?.[i]?.Error;
        if (!error) return { kind: 'recorded' };
        if (error.Code !== 'DuplicateItem' && error.Code !== 'ConditionalCheckFailed') {
          const name = error.Code ?? 'BatchStatementError';
          return { kind: 'failed', error: Object.assign(new Error(error.Message ?? name), { name }) };
        }
        try {
          const existingHash = await this.hashOf(event.eventId);
          return existingHash === event.hash ? { kind: 'duplicate' } : { kind: 'conflict', existingHash };
        } catch (readError) {
          return { kind: 'failed', error: readError };
        }
      }),
    );
  }

  /** `INSERT INTO "table" VALUE {'pk': ?, ...}`: a put that fails when the key exists. */
  private insertOf(event: StoredEvent): BatchStatementRequest {
    const item = marshall(toEventItem(event), { removeUndefinedValues: true });
    const names = Object.keys(item);
    return {
      Statement: `INSERT INTO "${this.table}" VALUE {${names.map((name) => `'${name}': ?`).join(', ')}}`,
      Parameters: names.map((name) => item[name] as AttributeValue),
    };
  }

  /** Idempotent: the same rejected content maps to the same item. */
  async reject(rejection: Rejection): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall(toRejectionItem(rejection), { removeUndefinedValues: true }),
      }),
    );
  }

  private async hashOf(eventId: string): Promise<string> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall({ [PK]: eventId, [SK]: EVENT_SK }),
        ConsistentRead: true,
        ProjectionExpression: '#h',
        ExpressionAttributeNames: { '#h': 'hash' },
      }),
    );
    return out.Item ? (unmarshall(out.Item).hash as string) : '';
  }

  /**
   * The content hashes of those ids that are recorded. Calls made in the same tick (concurrent requests to
   * one server) share their reads: one round trip per 100 ids, however many callers asked.
   */
  hashesOf(eventIds: readonly string[]): Promise<Map<string, string>> {
    return this.hashReads.load(eventIds);
  }

  /** Each id's content hash, by `BatchGetItem` (`batchGet` chunks and runs the calls side by side). */
  private async readHashes(unique: readonly string[]): Promise<Map<string, string>> {
    const items = await batchGet(
      this.client,
      this.table,
      unique.map((id) => marshall({ [PK]: id, [SK]: EVENT_SK })),
      { projection: '#pk, #h', names: { '#pk': PK, '#h': 'hash' } },
    );
    return new Map(items.map((item) => [item[PK] as string, item.hash as string]));
  }

  /** The event recorded under an id, and any rejected submissions of that id. */
  async find(eventId: string): Promise<{ event?: StoredEvent; rejections: Rejection[] }> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: '#pk = :id',
        ExpressionAttributeNames: { '#pk': PK },
        ExpressionAttributeValues: marshall({ ':id': eventId }),
        ConsistentRead: true,
      }),
    );
    const items = (out.Items ?? []).map((item) => unmarshall(item));
    const eventItem = items.find((item) => item[SK] === EVENT_SK);
    const rejections = items
      .filter((item) => item.kind === 'rejection')
      .map(({ [PK]: _pk, [SK]: _sk, kind: _kind, ...rest }) => rest as Rejection);
    return { event: eventItem ? fromEventItem(eventItem) : undefined, rejections };
  }

  /**
   * Events ordered by (`occurredAt`, `eventId`) within [from, to], walking the months the recorder has seen.
   * The cursor is the last sort key returned, so pages stay stable while new events arrive.
   */
  async listByTime(options: {
    from?: string;
    to?: string;
    type?: string;
    limit: number;
    cursor?: string;
  }): Promise<EventPage> {
    const stats = await this.stats();
    const lower = options.cursor ?? (options.from ? timeSortKey(options.from, '') : '');
    const upper = options.to ? timeSortKey(options.to, '\uffff') : '\uffff';
    // A cursor past `to` leaves nothing to list (and DynamoDB refuses a BETWEEN whose bounds are reversed).
    if (lower > upper) return { items: [], nextCursor: null };
    const months = stats.months.filter((m) => m >= lower.slice(0, 7) && m <= upper.slice(0, 7)).sort();
    const items: StoredEvent[] = [];
    let lastKey: string | undefined;
    for (const month of months) {
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const out = await this.client.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: byTimeIndex.name,
            // DynamoDB refuses an empty key value, so with no lower bound the condition is one-sided.
            KeyConditionExpression: lower
              ? '#tpk = :m AND #tsk BETWEEN :lo AND :hi'
              : '#tpk = :m AND #tsk <= :hi',
            FilterExpression: options.type ? '#type = :type' : undefined,
            ExpressionAttributeNames: {
              '#tpk': byTimeIndex.partitionKey,
              '#tsk': byTimeIndex.sortKey,
              ...(options.type ? { '#type': 'type' } : {}),
            },
            ExpressionAttributeValues: marshall({
              ':m': monthBucket(month),
              // BETWEEN is inclusive; a cursor must exclude its own item, hence the successor key.
              ...(lower ? { ':lo': options.cursor ? `${lower}\u0000` : lower } : {}),
              ':hi': upper,
              ...(options.type ? { ':type': options.type } : {}),
            }),
            Limit: options.limit - items.length,
            ExclusiveStartKey: startKey,
          }),
        );
        for (const raw of out.Items ?? []) {
          const item = unmarshall(raw);
          items.push(fromEventItem(item));
          lastKey = item[byTimeIndex.sortKey] as string;
          if (items.length === options.limit) break;
        }
        startKey = out.LastEvaluatedKey;
        if (items.length === options.limit) return { items, nextCursor: lastKey ?? null };
      } while (startKey);
    }
    return { items, nextCursor: null };
  }

  /**
   * Counts newly recorded events. Months are added before the events are written (`noteMonths`), so that the
   * time listing never misses a month; the count is added after, so it never runs ahead of the table.
   */
  async noteMonths(occurredAts: readonly string[]): Promise<void> {
    const months = [...new Set(occurredAts.map(monthBucket))].filter((m) => !this.notedMonths.has(m));
    if (months.length === 0) return;
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall(STATS_KEY),
        UpdateExpression: 'ADD #months :months SET kind = :kind',
        ExpressionAttributeNames: { '#months': 'months' },
        ExpressionAttributeValues: {
          ':months': { SS: months },
          ':kind': { S: 'stats' },
        },
      }),
    );
    for (const month of months) this.notedMonths.add(month);
  }

  async countRecorded(count: number, lastRecordedAt: string): Promise<void> {
    if (count === 0) return;
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall(STATS_KEY),
        UpdateExpression: 'ADD #count :n SET #last = :last, kind = :kind',
        ExpressionAttributeNames: { '#count': 'count', '#last': 'lastRecordedAt' },
        ExpressionAttributeValues: marshall({ ':n': count, ':last': lastRecordedAt, ':kind': 'stats' }),
      }),
    );
  }

  async stats(): Promise<RecorderStats> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: marshall(STATS_KEY), ConsistentRead: true }),
    );
    const item = out.Item ? unmarshall(out.Item) : {};
    return {
      eventsRecorded: (item.count as number | undefined) ?? 0,
      lastRecordedAt: item.lastRecordedAt as string | undefined,
      months: [...((item.months as Set<string> | undefined) ?? [])].map((m) => m.slice(2)),
    };
  }
}

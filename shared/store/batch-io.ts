import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  BatchWriteItemCommand,
  type BatchWriteItemCommandOutput,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { sleep } from '../util/clock.ts';

/** `BatchGetItem` calls in flight at once: a replay of a large row reads hundreds of chunks. */
const READ_CONCURRENCY = 8;

/**
 * BatchGetItem over any number of keys: chunks of 100, up to `READ_CONCURRENCY` in flight (a replay's
 * latency is then its reads' throughput, not their sum of round trips), and unprocessed keys retried with
 * backoff, since DynamoDB may return part of a batch under load without raising an error. Items come back
 * in no particular order, as `BatchGetItem` gives them.
 */
export async function batchGet(
  client: DynamoDBClient,
  table: string,
  keys: Record<string, AttributeValue>[],
  options: { consistent?: boolean; projection?: string; names?: Record<string, string> } = {},
): Promise<Record<string, unknown>[]> {
  const chunks: Record<string, AttributeValue>[][] = [];
  for (let start = 0; start < keys.length; start += 100) chunks.push(keys.slice(start, start + 100));
  const items: Record<string, unknown>[][] = chunks.map(() => []);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < chunks.length; index = next++) {
      items[index] = await readChunk(
        client,
        table,
        chunks[index] as Record<string, AttributeValue>[],
        options,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, chunks.length) }, worker));
  return items.flat();
}

async function readChunk(
  client: DynamoDBClient,
  table: string,
  keys: Record<string, AttributeValue>[],
  options: { consistent?: boolean; projection?: string; names?: Record<string, string> },
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let pending: Record<string, AttributeValue>[] | undefined = keys;
  for (let attempt = 0; pending && pending.length > 0; attempt++) {
    if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
    if (attempt > 8) throw new Error('BatchGetItem left keys unprocessed after 8 retries');
    const out: BatchGetItemCommandOutput = await client.send(
      new BatchGetItemCommand({
        RequestItems: {
          [table]: {
            Keys: pending,
            ConsistentRead: options.consistent,
            ProjectionExpression: options.projection,
            ExpressionAttributeNames: options.names,
          },
        },
      }),
    );
    for (const item of out.Responses?.[table] ?? []) items.push(unmarshall(item));
    pending = out.UnprocessedKeys?.[table]?.Keys;
  }
  return items;
}

/** BatchWriteItem puts in chunks of 25 (duplicate keys dropped, as DynamoDB refuses them), unprocessed retried. */
export async function batchPut(
  client: DynamoDBClient,
  table: string,
  items: Record<string, unknown>[],
): Promise<void> {
  const unique = new Map(items.map((item) => [JSON.stringify([item.pk, item.sk]), item]));
  const all = [...unique.values()];
  for (let start = 0; start < all.length; start += 25) {
    await writeBatch(
      client,
      table,
      all.slice(start, start + 25).map((item) => ({ PutRequest: { Item: marshall(item) } })),
    );
  }
}

/** One BatchWriteItem of at most 25 requests, what DynamoDB leaves unprocessed retried with backoff. */
async function writeBatch(client: DynamoDBClient, table: string, requests: WriteRequest[]): Promise<void> {
  let pending: WriteRequest[] | undefined = requests;
  for (let attempt = 0; pending && pending.length > 0; attempt++) {
    if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
    if (attempt > 8) throw new Error('BatchWriteItem left items unprocessed after 8 retries');
    const out: BatchWriteItemCommandOutput = await client.send(
      new BatchWriteItemCommand({ RequestItems: { [table]: pending } }),
    );
    pending = out.UnprocessedItems?.[table];
  }
}

/**
 * Writes items as they are handed over, for a producer that makes them faster than one request at a time could
 * take them: a request goes out as soon as 25 items are queued, at most `concurrency` at once, each retried
 * like `batchPut`'s. A short batch waits for more items, unless someone waits on `drained` or `flush` (the
 * producer has paused, so nothing more comes meanwhile). The keys must be unique across everything written:
 * nothing is deduplicated, and a put and a delete of one key could land in either order. The first failure
 * stops all sending; `drained`, `flush` and any later `put` then give it.
 */
export class BatchWriter {
  private readonly queue: WriteRequest[] = [];
  /** Index of the first queued request not yet sent: the queue is compacted now and then, not shifted. */
  private head = 0;
  private requestsInFlight = 0;
  private itemsInFlight = 0;
  private failure: unknown;
  private waiters: { below: number; resolve: () => void; reject: (error: unknown) => void }[] = [];
  /** Items written, acknowledged by DynamoDB. */
  written = 0;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    readonly concurrency = 8,
  ) {}

  /** Items handed over and not yet written. */
  get backlog(): number {
    return this.queue.length - this.head + this.itemsInFlight;
  }

  put(item: Record<string, AttributeValue>): void {
    this.enqueue({ PutRequest: { Item: item } });
  }

  delete(key: Record<string, AttributeValue>): void {
    this.enqueue({ DeleteRequest: { Key: key } });
  }

  /** Resolves once at most `below` items wait to be written: backpressure for a producer that can pause. */
  drained(below = this.concurrency * 25 * 2): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.backlog <= below) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ below, resolve, reject });
      this.pump();
    });
  }

  /** Resolves once everything handed over so far is written. */
  flush(): Promise<void> {
    return this.drained(0);
  }

  private enqueue(request: WriteRequest): void {
    if (this.failure !== undefined) throw this.failure;
    this.queue.push(request);
    this.pump();
  }

  /** Starts requests while slots are free: full batches, or short ones too while someone waits. */
  private pump(): void {
    while (this.requestsInFlight < this.concurrency && this.failure === undefined) {
      const queued = this.queue.length - this.head;
      if (queued === 0 || (queued < 25 && this.waiters.length === 0)) return;
      const requests = this.queue.slice(this.head, this.head + 25);
      this.head += requests.length;
      if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.requestsInFlight++;
      this.itemsInFlight += requests.length;
      writeBatch(this.client, this.table, requests).then(
        () => {
          this.written += requests.length;
          this.done(requests.length);
        },
        (error: unknown) => {
          this.failure ??= error;
          this.done(requests.length);
        },
      );
    }
  }

  private done(items: number): void {
    this.requestsInFlight--;
    this.itemsInFlight -= items;
    this.pump();
    const waiting = this.waiters;
    this.waiters = [];
    for (const waiter of waiting) {
      if (this.failure !== undefined) waiter.reject(this.failure);
      else if (this.backlog <= waiter.below) waiter.resolve();
      else this.waiters.push(waiter);
    }
  }
}

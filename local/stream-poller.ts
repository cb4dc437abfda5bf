import { readFile, rename, writeFile } from 'node:fs/promises';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type { RecordedEvent } from '../shared/events/catalogue.ts';
import { eventOfRecord, PROJECTOR_RETRY_ATTEMPTS } from '../shared/projector/stream-records.ts';
import { sleep } from '../shared/util/clock.ts';
import { appendJsonLines, readJsonLines } from '../shared/util/json-lines.ts';
import { errorFields, type Logger } from '../shared/util/logger.ts';

/**
 * Handles a batch, and returns the events it could not handle (the rest it did); throwing fails them all.
 * Either way the batch is read again, as the event source mapping retries a Lambda's reported failures.
 */
export type StreamConsumer = (events: RecordedEvent[]) => Promise<readonly RecordedEvent[]>;

interface Checkpoints {
  streamArn: string;
  /** Last sequence number handled per shard; `done` once a closed shard is drained. */
  shards: Record<string, string>;
}

/**
 * Reads the events table's stream from DynamoDB Local and hands new event items to the projector, as the
 * Lambda event source mapping does in AWS (with the same filter: INSERTs of items of kind `event`).
 * Checkpoints are saved after each handled batch; after a crash, the batch in hand is read again, which
 * the projector absorbs (it is idempotent).
 */
export class StreamPoller {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private checkpoints: Checkpoints = { streamArn: '', shards: {} };
  private caughtUp = false;
  private lastError: string | undefined;

  constructor(
    private readonly options: {
      dynamo: DynamoDBClient;
      streams: DynamoDBStreamsClient;
      table: string;
      checkpointPath: string;
      consume: StreamConsumer;
      /**
       * Where the events of a batch that still failed after its retries are appended (JSON lines), as the
       * projector's failure queue in AWS; then the shard moves on.
       */
      failurePath: string;
      logger?: Logger;
      idleMs?: number;
      /** Retries of a batch whose events were not all handled, as in AWS. */
      retryAttempts?: number;
      /** The first retry's wait; each next one waits twice as long, up to 30 s. */
      retryDelayMs?: number;
    },
  ) {}

  /** Per shard, the batch (by its first sequence number) that is being retried, and its attempts so far. */
  private readonly retrying = new Map<string, { first: string; attempts: number }>();
  /** Events in the failure file. */
  private setAside = 0;
  private failureFile: Promise<unknown> = Promise.resolve();

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }

  /** `setAside`: events that still failed after their retries, appended to the failure file. */
  status(): { caughtUp: boolean; error: string | null; setAside: number } {
    return { caughtUp: this.caughtUp, error: this.lastError ?? null, setAside: this.setAside };
  }

  private async run(): Promise<void> {
    const idleMs = this.options.idleMs ?? 25;
    const arn = await this.streamArn();
    this.checkpoints = await this.loadCheckpoints(arn);
    await this.withFailureFile(async () => {
      this.setAside = (await this.readSetAside()).reduce((sum, entry) => sum + entry.events.length, 0);
    });
    const iterators = new Map<string, string>();
    let shards: Shard[] = [];
    let shardsReadAt = 0;
    while (!this.stopping) {
      try {
        // The shard list changes rarely (a roll-over every few hours): re-read it every second, not every poll.
        if (Date.now() - shardsReadAt > 1_000) {
          shards = await this.shards(arn);
          shardsReadAt = Date.now();
        }
        let busy = false;
        for (const shard of shards) {
          const id = shard.ShardId as string;
          if (this.checkpoints.shards[id] === 'done') continue;
          const parent = shard.ParentShardId;
          // Order across a split: a child waits until its parent is drained.
          if (
            parent &&
            shards.some((s) => s.ShardId === parent) &&
            this.checkpoints.shards[parent] !== 'done'
          )
            continue;
          const out = await this.readShard(arn, id, iterators.get(id));
          const records = out.Records ?? [];
          if (records.length > 0) {
            busy = true;
            const failed = await this.options.consume(eventsOf(records));
            if (failed.length > 0) await this.retryOrSetAside(id, records, failed);
            else this.retrying.delete(id);
            this.checkpoints.shards[id] = records.at(-1)?.dynamodb?.SequenceNumber as string;
            await this.saveCheckpoints();
          }
          if (out.NextShardIterator) iterators.set(id, out.NextShardIterator);
          else {
            iterators.delete(id);
            shardsReadAt = 0;
            this.checkpoints.shards[id] = 'done';
            await this.saveCheckpoints();
          }
        }
        this.caughtUp = !busy;
        this.lastError = undefined;
        if (!busy) await sleep(idleMs);
      } catch (error) {
        // The batch was not checkpointed; fresh iterators will read it again.
        this.caughtUp = false;
        this.lastError = (error as Error).name;
        iterators.clear();
        this.options.logger?.warn('stream poller will retry', errorFields(error));
        await sleep(error instanceof BatchIncomplete ? error.waitMs : 500);
      }
    }
  }

  /**
   * Throws to have the batch read again while it has retries left; after that, appends the events that
   * failed to the failure file (synced before the shard moves past them) and lets the shard move on.
   */
  private async retryOrSetAside(shardId: string, records: _Record[], failed: readonly RecordedEvent[]) {
    const first = records[0]?.dynamodb?.SequenceNumber as string;
    const last = records.at(-1)?.dynamodb?.SequenceNumber as string;
    const held = this.retrying.get(shardId);
    const attempts = held?.first === first ? held.attempts + 1 : 1;
    if (attempts <= (this.options.retryAttempts ?? PROJECTOR_RETRY_ATTEMPTS)) {
      this.retrying.set(shardId, { first, attempts });
      const waitMs = Math.min((this.options.retryDelayMs ?? 500) * 2 ** (attempts - 1), 30_000);
      throw new BatchIncomplete(failed.length, attempts, waitMs);
    }
    await this.appendSetAside({
      at: new Date().toISOString(),
      shardId,
      first,
      last,
      attempts,
      events: failed,
    });
    this.retrying.delete(shardId);
    this.options.logger?.error('stream poller set events aside after their retries', {
      count: failed.length,
      streams: [...new Set(failed.map((e) => e.stream))],
      file: this.options.failurePath,
    });
  }

  /**
   * Hands the events set aside back to the consumer, as a redrive of the failure queue does: those it
   * handles now leave the failure file, those that fail again stay in it. Returns how many of each.
   */
  async redrive(): Promise<{ handled: number; failedAgain: number }> {
    return this.withFailureFile(async () => {
      const events = (await this.readSetAside()).flatMap((entry) => entry.events);
      if (events.length === 0) return { handled: 0, failedAgain: 0 };
      const failed = await this.options.consume(events);
      const again = { at: new Date().toISOString(), redriven: true, events: failed };
      const tmp = `${this.options.failurePath}.tmp`;
      await writeFile(tmp, failed.length > 0 ? `${JSON.stringify(again)}\n` : '');
      await rename(tmp, this.options.failurePath);
      this.setAside = failed.length;
      return { handled: events.length - failed.length, failedAgain: failed.length };
    });
  }

  /** Appends an entry to the failure file, synced before the shard moves past its events. */
  private async appendSetAside(entry: SetAside): Promise<void> {
    await this.withFailureFile(async () => {
      await appendJsonLines(this.options.failurePath, [entry]);
      this.setAside += entry.events.length;
    });
  }

  private readSetAside(): Promise<SetAside[]> {
    return readJsonLines<SetAside>(this.options.failurePath, (line) =>
      this.options.logger?.warn('stream poller skipped a torn line of its failure file', {
        bytes: line.length,
      }),
    );
  }

  /**
   * Reads a shard from the iterator in hand, or from a fresh one. An iterator refused as stale is replaced
   * from the checkpoint, which loses nothing: DynamoDB Local refuses an iterator it gave for an empty shard
   * (or for the end of one) with TrimmedDataAccessException when the next record is numbered later than the
   * iterator expects (every write advances its one counter, streamed or not), and any iterator expires after
   * 15 minutes. A fresh iterator can be refused the same way when a write lands between taking it and
   * reading it (at start-up, a redrive writes while the poller takes its first iterators); the next one is
   * taken after that write, so a few tries settle it.
   */
  private async readShard(arn: string, shardId: string, held: string | undefined) {
    return readRecords(this.options.streams, held ?? (await this.iteratorFor(arn, shardId)), (errorName) => {
      this.options.logger?.debug('stream iterator refused; taking a fresh one', { shardId, errorName });
      return this.iteratorFor(arn, shardId);
    });
  }

  private async streamArn(): Promise<string> {
    const out = await this.options.dynamo.send(new DescribeTableCommand({ TableName: this.options.table }));
    const arn = out.Table?.LatestStreamArn;
    if (!arn) throw new Error(`table ${this.options.table} has no stream`);
    return arn;
  }

  private async shards(arn: string): Promise<Shard[]> {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const out = await this.options.streams.send(
        new DescribeStreamCommand({ StreamArn: arn, ExclusiveStartShardId: start }),
      );
      shards.push(...(out.StreamDescription?.Shards ?? []));
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return shards;
  }

  private async iteratorFor(arn: string, shardId: string): Promise<string> {
    const after = this.checkpoints.shards[shardId];
    const get = (sequence: string | undefined) => shardIterator(this.options.streams, arn, shardId, sequence);
    try {
      return await get(after);
    } catch (error) {
      if (!after) throw error;
      // The checkpoint fell out of the stream's retention: read all it still holds (replays are harmless).
      this.options.logger?.warn('stream checkpoint no longer valid; reading from the oldest record', {
        shardId,
      });
      return get(undefined);
    }
  }

  private async loadCheckpoints(arn: string): Promise<Checkpoints> {
    try {
      const saved = JSON.parse(await readFile(this.options.checkpointPath, 'utf8')) as Checkpoints;
      if (saved.streamArn === arn) return saved;
    } catch {
      // No checkpoint yet: start at the oldest record the stream holds.
    }
    return { streamArn: arn, shards: {} };
  }

  private async saveCheckpoints(): Promise<void> {
    const tmp = `${this.options.checkpointPath}.tmp`;
    await writeFile(tmp, JSON.stringify(this.checkpoints));
    await rename(tmp, this.options.checkpointPath);
  }

  /** The failure file's writers, one at a time: the loop appends while a redrive may rewrite it. */
  private withFailureFile<T>(use: () => Promise<T>): Promise<T> {
    const turn = this.failureFile.then(use);
    this.failureFile = turn.catch(() => undefined);
    return turn;
  }
}

/** What GetRecords answers for an iterator it no longer honours; a fresh iterator from the checkpoint mends it. */
const STALE_ITERATOR = new Set(['TrimmedDataAccessException', 'ExpiredIteratorException']);
/** Fresh iterators taken for one read before a refusal counts as an error. */
const STALE_ITERATOR_TRIES = 3;

/** An iterator of the shard just after `after`, or from the oldest record it holds. */
export async function shardIterator(
  streams: DynamoDBStreamsClient,
  arn: string,
  shardId: string,
  after: string | undefined,
): Promise<string> {
  const out = await streams.send(
    new GetShardIteratorCommand({
      StreamArn: arn,
      ShardId: shardId,
      ...(after
        ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }
        : { ShardIteratorType: 'TRIM_HORIZON' }),
    }),
  );
  return out.ShardIterator as string;
}

/**
 * Reads up to `limit` records from `iterator`; when it is refused as stale, reads again (a few times) from the
 * iterator `fresh` gives, which should start after the last record handled, so nothing is lost.
 */
export async function readRecords(
  streams: DynamoDBStreamsClient,
  iterator: string,
  fresh: (errorName: string) => Promise<string>,
  limit = 1000,
) {
  let current = iterator;
  for (let refused = 0; ; refused++) {
    try {
      return await streams.send(new GetRecordsCommand({ ShardIterator: current, Limit: limit }));
    } catch (error) {
      const name = (error as Error).name;
      if (!STALE_ITERATOR.has(name) || refused >= STALE_ITERATOR_TRIES) throw error;
      current = await fresh(name);
    }
  }
}

/** An entry of the failure file. */
interface SetAside {
  at: string;
  events: readonly RecordedEvent[];
  [detail: string]: unknown;
}

/** A batch whose events were not all handled, to be read again after `waitMs`. */
class BatchIncomplete extends Error {
  constructor(
    failed: number,
    attempts: number,
    readonly waitMs: number,
  ) {
    super(`${failed} events of the batch were not handled (attempt ${attempts})`);
    this.name = 'BatchIncomplete';
  }
}

function eventsOf(records: _Record[]): RecordedEvent[] {
  return records.flatMap((record) => {
    const event = eventOfRecord(record as Parameters<typeof eventOfRecord>[0]);
    return event ? [event] : [];
  });
}

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
import { eventOfRecord } from '../shared/projector/stream-records.ts';
import { sleep } from '../shared/util/clock.ts';
import { errorFields, type Logger } from '../shared/util/logger.ts';

export type StreamConsumer = (events: RecordedEvent[]) => Promise<void>;

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
      logger?: Logger;
      idleMs?: number;
    },
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }

  status(): { caughtUp: boolean; error: string | null } {
    return { caughtUp: this.caughtUp, error: this.lastError ?? null };
  }

  private async run(): Promise<void> {
    const idleMs = this.options.idleMs ?? 25;
    const arn = await this.streamArn();
    this.checkpoints = await this.loadCheckpoints(arn);
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
            await this.options.consume(eventsOf(records));
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
        await sleep(500);
      }
    }
  }

  /**
   * Reads a shard from the iterator in hand, or from a fresh one. An iterator refused as stale is replaced
   * once from the checkpoint, which loses nothing: DynamoDB Local refuses the iterator it gave for an empty
   * shard with TrimmedDataAccessException when the shard's first record is numbered later than the shard's
   * start (every write advances its one counter, streamed or not), and any iterator expires after 15 minutes.
   */
  private async readShard(arn: string, shardId: string, held: string | undefined) {
    const read = (iterator: string) =>
      this.options.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
    if (!held) return read(await this.iteratorFor(arn, shardId));
    try {
      return await read(held);
    } catch (error) {
      const name = (error as Error).name;
      if (name !== 'TrimmedDataAccessException' && name !== 'ExpiredIteratorException') throw error;
      this.options.logger?.debug('stream iterator refused; taking a fresh one', { shardId, errorName: name });
      return read(await this.iteratorFor(arn, shardId));
    }
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
    const get = async (sequence: string | undefined) => {
      const out = await this.options.streams.send(
        new GetShardIteratorCommand({
          StreamArn: arn,
          ShardId: shardId,
          ...(sequence
            ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: sequence }
            : { ShardIteratorType: 'TRIM_HORIZON' }),
        }),
      );
      return out.ShardIterator as string;
    };
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
}

function eventsOf(records: _Record[]): RecordedEvent[] {
  return records.flatMap((record) => {
    const event = eventOfRecord(record as Parameters<typeof eventOfRecord>[0]);
    return event ? [event] : [];
  });
}

import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { DescribeTableCommand, type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { readRecords, shardIterator } from '../../local/stream-poller.ts';
import { busEnvelopeOf, toBusEntry } from '../../shared/bus/envelope.ts';
import { projectEvents } from '../../shared/projector/projector.ts';
import { eventOfRecord } from '../../shared/projector/stream-records.ts';
import { type Delivery, recordDeliveries } from '../../shared/recorder/recorder.ts';
import { ensureTables } from '../../shared/store/create-tables.ts';
import { createDynamoClient } from '../../shared/store/dynamo.ts';
import { DynamoDBEventStore } from '../../shared/store/event-store.ts';
import { DynamoDBProjectionStore } from '../../shared/store/projection-store.ts';
import { tableNamesFor } from '../../shared/store/tables.ts';
import { processCpuNs } from './cpu.ts';
import { eventAt, recordedEventAt } from './events.ts';
import { type BenchResult, result } from './report.ts';
import { createFloorTable } from './stack.ts';

export interface JvmSizes {
  /** Events recorded and projected before anything is counted: DynamoDB Local's JIT warms meanwhile. */
  warmupEvents: number;
  /** Events counted, and as many floor puts. */
  events: number;
}

/** Events per recorder batch, as SQS hands them over, and per stream read, as the poller takes them. */
const RECORDER_BATCH = 25;
const STREAM_READ = 1000;

/**
 * Where DynamoDB Local's CPU goes per event, by DynamoDB operation: the JVM's CPU time (all its threads,
 * from `/proc/<pid>/task/* /schedstat`) read around each call of the recorder and the projector,
 * driven one batch at a time so that calls barely overlap (the CPU of overlapping calls is shared among
 * them), against the JVM's CPU per `PutItem` of the floor. Linux only; elsewhere it reports nothing.
 */
export async function benchJvm(
  endpoint: string,
  sizes: JvmSizes,
  pid = javaPidServing(endpoint),
): Promise<{ results: BenchResult[]; notes: string[] }> {
  if (pid === undefined)
    return {
      results: [],
      notes: ['jvm: skipped, no DynamoDB Local process found in /proc for this endpoint'],
    };
  const meter = new JvmMeter(pid);
  const client = createDynamoClient({ endpoint });
  const streams = new DynamoDBStreamsClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  meter.instrument(client);
  meter.instrument(streams);
  const id = randomUUID().slice(0, 8);
  const tables = tableNamesFor(`bench-jvm-${id}`);
  const floorTable = `bench-jvm-${id}-floor`;
  try {
    await ensureTables(client, tables);
    await createFloorTable(client, floorTable);
    const pipeline = await pipelineDriver(client, streams, tables, meter);
    const floor = (from: number, to: number) => floorPuts(client, floorTable, from, to);

    await pipeline(0, sizes.warmupEvents);
    await floor(0, sizes.warmupEvents);
    meter.counting = true;
    await pipeline(sizes.warmupEvents, sizes.warmupEvents + sizes.events);
    meter.counting = false;
    const floorNs = meter.cpuNs();
    await floor(sizes.warmupEvents, sizes.warmupEvents + sizes.events);
    const perPut = (meter.cpuNs() - floorNs) / 1e6 / sizes.events;

    const perEvent = (ns: number) => ns / 1e6 / sizes.events;
    const total = [...meter.byOperation.values()].reduce((sum, ns) => sum + ns, 0);
    const results = [
      result('jvm.pipeline', perEvent(total), 'ms/event', { baseline: perPut }),
      ...[...meter.byOperation]
        .sort((a, b) => b[1] - a[1])
        .map(([operation, ns]) => result(`jvm.${operation}`, perEvent(ns), 'ms/event', { baseline: perPut })),
    ];
    return {
      results,
      notes: [
        `jvm: DynamoDB Local's CPU per event (all its threads) recording ${sizes.events} bench events in batches ` +
          `of ${RECORDER_BATCH} and projecting them from stream reads of up to ${STREAM_READ}, after ` +
          `${sizes.warmupEvents} of warm-up, by operation; against its CPU per PutItem of the floor ` +
          `(the same events, ${RECORDER_BATCH} at a time, on a table with neither index nor stream).`,
      ],
    };
  } finally {
    client.destroy();
    streams.destroy();
  }
}

/** Records events k in [from, to) with the recorder, as the bus delivers them, then projects them as the stream poller hands them over. */
async function pipelineDriver(
  client: DynamoDBClient,
  streams: DynamoDBStreamsClient,
  tables: ReturnType<typeof tableNamesFor>,
  meter: JvmMeter,
): Promise<(from: number, to: number) => Promise<void>> {
  const events = new DynamoDBEventStore(client, tables.events);
  const projections = new DynamoDBProjectionStore(client, tables.projections);
  const described = await client.send(new DescribeTableCommand({ TableName: tables.events }));
  const arn = described.Table?.LatestStreamArn as string;
  const stream = await streams.send(new DescribeStreamCommand({ StreamArn: arn }));
  const shardId = stream.StreamDescription?.Shards?.[0]?.ShardId as string;
  // The last record read, and an iterator after it: taken again when DynamoDB Local refuses the one in hand
  // (it does when the shard's next record is numbered past where the iterator points, as happens when a
  // write to another table lands first).
  let last: string | undefined;
  const fresh = () => shardIterator(streams, arn, shardId, last);
  let iterator = await fresh();
  const read = () => readRecords(streams, iterator, fresh, STREAM_READ);
  return async (from, to) => {
    meter.phase = 'recorder';
    for (let k = from; k < to; k += RECORDER_BATCH) {
      const deliveries: Delivery[] = [];
      for (let j = k; j < Math.min(to, k + RECORDER_BATCH); j++) {
        const event = { ...eventAt(j, 'J'), source: 'bench', acceptedAt: new Date().toISOString() };
        const envelope = busEnvelopeOf(toBusEntry(event), `J-${j}`, event.acceptedAt);
        deliveries.push({ messageId: `J-${j}`, body: JSON.stringify(envelope) });
      }
      const { batchItemFailures } = await recordDeliveries({ store: events }, deliveries);
      if (batchItemFailures.length > 0)
        throw new Error(`the recorder failed ${batchItemFailures.length} events`);
    }
    // Until a read comes back empty: the stream then holds nothing more (stats items' records included).
    for (;;) {
      meter.phase = 'poller';
      const out = await read();
      iterator = out.NextShardIterator as string;
      const records = out.Records ?? [];
      if (records.length === 0) break;
      last = records.at(-1)?.dynamodb?.SequenceNumber;
      const batch = records.flatMap((r) => eventOfRecord(r as Parameters<typeof eventOfRecord>[0]) ?? []);
      meter.phase = 'projector';
      if (batch.length > 0) await projectEvents(projections, batch);
    }
  };
}

/** The floor's write for events k in [from, to): a `PutItem` each, as many in flight as a recorder batch. */
async function floorPuts(client: DynamoDBClient, table: string, from: number, to: number): Promise<void> {
  for (let k = from; k < to; k += RECORDER_BATCH) {
    const puts = [];
    for (let j = k; j < Math.min(to, k + RECORDER_BATCH); j++) {
      const event = recordedEventAt(j, 'F');
      const Item = { pk: { S: event.eventId }, sk: { S: 'event' }, body: { S: JSON.stringify(event) } };
      puts.push(client.send(new PutItemCommand({ TableName: table, Item })));
    }
    await Promise.all(puts);
  }
}

/** The JVM's CPU time, and a client middleware that charges it to the operations in flight. */
class JvmMeter {
  counting = false;
  /** Who makes the calls now: `recorder`, `poller` or `projector`. */
  phase = 'recorder';
  readonly byOperation = new Map<string, number>();
  private readonly inFlight = new Map<number, string>();
  private last: number;
  private next = 0;

  constructor(private readonly pid: number) {
    this.last = this.cpuNs();
  }

  cpuNs(): number {
    return processCpuNs(this.pid);
  }

  /** Charges the CPU since the last mark to the operations then in flight, shared equally. */
  private mark(): void {
    const now = this.cpuNs();
    if (this.counting && this.inFlight.size > 0) {
      const share = (now - this.last) / this.inFlight.size;
      for (const operation of this.inFlight.values())
        this.byOperation.set(operation, (this.byOperation.get(operation) ?? 0) + share);
    }
    this.last = now;
  }

  /** Both clients share the middleware stack's shape; typed as DynamoDB's. */
  instrument(client: DynamoDBClient | DynamoDBStreamsClient): void {
    (client as DynamoDBClient).middlewareStack.add(
      (next, context) => async (args) => {
        const operation = `${this.phase}.${context.commandName?.replace(/Command$/, '')}`;
        const id = this.next++;
        this.mark();
        this.inFlight.set(id, operation);
        try {
          return await next(args);
        } finally {
          this.mark();
          this.inFlight.delete(id);
        }
      },
      { step: 'finalizeRequest', name: 'jvmMeter' },
    );
  }
}

/** The pid of the DynamoDB Local serving `endpoint`, from the processes' command lines (Linux). */
export function javaPidServing(endpoint: string): number | undefined {
  const port = new URL(endpoint).port;
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  for (const pid of entries) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (args.some((a) => a.endsWith('DynamoDBLocal.jar')) && args[args.indexOf('-port') + 1] === port)
        return Number(pid);
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return undefined;
}

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient, GetRecordsCommand } from '@aws-sdk/client-dynamodb-streams';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamPoller } from '../../local/stream-poller.ts';
import type { RecordedEvent } from '../../shared/events/catalogue.ts';
import { DynamoDBEventStore } from '../../shared/store/event-store.ts';
import { sleep } from '../../shared/util/clock.ts';
import { createLogger } from '../../shared/util/logger.ts';
import { day, dispatchedEvent, PROVIDERS } from '../support/arbitraries.ts';
import { createTestTables, type TestTables } from '../support/dynamo.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

/** What a test's consumer does with a batch: the events it returns are the ones it failed. */
type Handler = (events: RecordedEvent[]) => RecordedEvent[];

async function pollerOn(
  tables: TestTables,
  options: {
    handle?: Handler;
    retryAttempts?: number;
    retryDelayMs?: number;
    /** Runs before each GetRecords the poller sends, to make writes land at chosen moments. */
    beforeRead?: () => Promise<void>;
  } = {},
) {
  const dir = await mkdtemp(join(tmpdir(), 'poller-'));
  const consumed: RecordedEvent[] = [];
  const logs: { level: string; message: string }[] = [];
  const failurePath = join(dir, 'failures.jsonl');
  const streams = new DynamoDBStreamsClient({
    endpoint: tables.endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const send = streams.send.bind(streams) as (command: unknown) => Promise<unknown>;
  streams.send = (async (command: unknown) => {
    if (command instanceof GetRecordsCommand) await options.beforeRead?.();
    return send(command);
  }) as typeof streams.send;
  const poller = new StreamPoller({
    dynamo: tables.client,
    streams,
    table: tables.names.events,
    checkpointPath: join(dir, 'checkpoints.json'),
    failurePath,
    consume: async (events) => {
      const failed = options.handle?.(events) ?? [];
      consumed.push(...events.filter((e) => !failed.includes(e)));
      return failed;
    },
    logger: createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line)) }),
    retryAttempts: options.retryAttempts,
    retryDelayMs: options.retryDelayMs,
  });
  cleanups.push(async () => {
    await poller.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return { poller, consumed, logs, failurePath };
}

/** Fresh tables and a poller on them, started and caught up with their empty stream. */
async function pollingEmptyTables(name: string, options: Parameters<typeof pollerOn>[1] = {}) {
  const tables = await createTestTables(name);
  cleanups.push(() => tables.drop());
  const watched = await pollerOn(tables, options);
  watched.poller.start();
  await until(() => watched.poller.status().caughtUp);
  return { tables, ...watched };
}

/** Records a shipment's dispatch as the recorder does. */
function recordDispatch(tables: TestTables, eventId: string, shipmentId: string) {
  const event = dispatchedEvent({ eventId, occurredAt: day(1) }, shipmentId, {
    providerId: PROVIDERS[0],
    sku: 'H20',
    quantity: 8,
  });
  return new DynamoDBEventStore(tables.client, tables.names.events).recordAll([
    { ...event, hash: `h-${eventId}` },
  ]);
}

describe('the stream poller on DynamoDB Local', () => {
  it('hands over an event recorded after it started polling an empty table, once and without a warning', async () => {
    const { tables, poller, consumed, logs } = await pollingEmptyTables('poller');

    const [outcome] = await recordDispatch(tables, 'first', 'SH-1');
    expect(outcome).toEqual({ kind: 'recorded' });

    await until(() => consumed.length > 0);
    expect(consumed.map((e) => e.eventId)).toEqual(['first']);
    expect(consumed[0]).toMatchObject({ stream: 'shipment:SH-1', type: 'shipment.dispatched' });
    expect(logs.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    expect(poller.status()).toMatchObject({ error: null });
  });

  it('hands over the first event without a warning when writes to other tables came between', async () => {
    // DynamoDB Local numbers stream records from one counter that every write advances, streamed or not. An
    // iterator taken on the empty shard points at the shard's first number; when the first record lands
    // later than that, DynamoDB Local answers TrimmedDataAccessException. `npm start` hits this on its first
    // event: the dev keys are written in between.
    const { tables, poller, consumed, logs } = await pollingEmptyTables('poller-gap');

    for (const sk of ['a', 'b']) {
      await tables.client.send(
        new PutItemCommand({
          TableName: tables.names.projections,
          Item: { pk: { S: 'other' }, sk: { S: sk } },
        }),
      );
    }
    const [outcome] = await recordDispatch(tables, 'after-gap', 'SH-2');
    expect(outcome).toEqual({ kind: 'recorded' });

    await until(() => consumed.length > 0);
    expect(consumed.map((e) => e.eventId)).toEqual(['after-gap']);
    expect(logs.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    expect(poller.status()).toMatchObject({ error: null });
  });

  it('hands over an event recorded between taking its first iterator and reading it, without a warning', async () => {
    // `npm start -- --redrive-dlq` records the dead letters while the poller takes its first iterators. The
    // iterator was taken on an empty shard, so DynamoDB Local refuses it once the record lands; a fresh one
    // reads the record.
    const tables = await createTestTables('poller-race');
    cleanups.push(() => tables.drop());
    let reads = 0;
    const { poller, consumed, logs } = await pollerOn(tables, {
      beforeRead: async () => {
        if (++reads > 1) return;
        await tables.client.send(
          new PutItemCommand({
            TableName: tables.names.projections,
            Item: { pk: { S: 'x' }, sk: { S: 'x' } },
          }),
        );
        await recordDispatch(tables, 'racing', 'SH-RACE');
      },
    });
    poller.start();

    await until(() => consumed.length > 0);
    expect(logs.map((l) => l.message)).toContain('stream iterator refused; taking a fresh one');
    expect(consumed.map((e) => e.eventId)).toEqual(['racing']);
    expect(logs.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    expect(poller.status()).toMatchObject({ error: null });
  });

  it('reads a batch again while some of its events fail, until they are handled', async () => {
    let failures = 0;
    const { tables, poller, consumed, failurePath } = await pollingEmptyTables('poller-retry', {
      retryDelayMs: 10,
      // The shipment fails twice, as a unit whose transaction lost two races would.
      handle: (events) => {
        if (failures === 2 || events.length === 0) return [];
        failures++;
        return events;
      },
    });

    await recordDispatch(tables, 'flaky', 'SH-FLAKY');

    await until(() => consumed.length > 0);
    expect(failures).toBe(2);
    expect(consumed.map((e) => e.eventId)).toEqual(['flaky']);
    expect(poller.status()).toMatchObject({ setAside: 0 });
    await expect(readFile(failurePath, 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('sets aside what still fails after its retries, in the failure file, moves on, and redrives it', async () => {
    let broken = 'shipment:SH-BAD';
    const { tables, poller, consumed, logs, failurePath } = await pollingEmptyTables('poller-aside', {
      retryAttempts: 2,
      retryDelayMs: 10,
      handle: (events) => events.filter((e) => e.stream === broken),
    });

    await recordDispatch(tables, 'bad', 'SH-BAD');
    await until(() => poller.status().setAside > 0);
    await recordDispatch(tables, 'good', 'SH-GOOD');
    await until(() => consumed.some((e) => e.eventId === 'good'));

    const lines = (await readFile(failurePath, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] as string);
    // The first try and both retries, then set aside.
    expect(entry).toMatchObject({ attempts: 3, events: [{ eventId: 'bad', stream: 'shipment:SH-BAD' }] });
    expect(consumed.map((e) => e.eventId)).toEqual(['good']);
    await until(() => poller.status().caughtUp);
    expect(poller.status()).toMatchObject({ setAside: 1, error: null });
    expect(logs.filter((l) => l.level === 'error').map((l) => l.message)).toEqual([
      'stream poller set events aside after their retries',
    ]);

    // Still broken: the redrive keeps it in the file. Mended: it is handled and leaves the file.
    expect(await poller.redrive()).toEqual({ handled: 0, failedAgain: 1 });
    expect(poller.status()).toMatchObject({ setAside: 1 });
    broken = 'none';
    expect(await poller.redrive()).toEqual({ handled: 1, failedAgain: 0 });
    expect(consumed.map((e) => e.eventId)).toEqual(['good', 'bad']);
    expect(await readFile(failurePath, 'utf8')).toBe('');
    expect(poller.status()).toMatchObject({ setAside: 0 });
  });
});

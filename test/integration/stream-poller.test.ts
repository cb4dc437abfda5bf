import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
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

async function pollerOn(tables: TestTables) {
  const dir = await mkdtemp(join(tmpdir(), 'poller-'));
  const consumed: RecordedEvent[] = [];
  const logs: { level: string; message: string }[] = [];
  const poller = new StreamPoller({
    dynamo: tables.client,
    streams: new DynamoDBStreamsClient({
      endpoint: tables.endpoint,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
    table: tables.names.events,
    checkpointPath: join(dir, 'checkpoints.json'),
    consume: async (events) => {
      consumed.push(...events);
    },
    logger: createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line)) }),
  });
  cleanups.push(async () => {
    await poller.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return { poller, consumed, logs };
}

/** Fresh tables and a poller on them, started and caught up with their empty stream. */
async function pollingEmptyTables(name: string) {
  const tables = await createTestTables(name);
  cleanups.push(() => tables.drop());
  const watched = await pollerOn(tables);
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
});

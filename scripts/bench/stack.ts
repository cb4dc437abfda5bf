import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  type DynamoDBClient,
  PutItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { configFromEnv } from '../../local/config.ts';
import { type DynamoDBLocal, startDynamoDBLocal } from '../../local/dynamodb-local.ts';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.ts';
import { createDynamoClient } from '../../shared/store/dynamo.ts';
import { DynamoDBEventStore } from '../../shared/store/event-store.ts';
import { DynamoDBProjectionStore } from '../../shared/store/projection-store.ts';
import { tableNamesFor } from '../../shared/store/tables.ts';
import { sleep } from '../../shared/util/clock.ts';
import { createLogger } from '../../shared/util/logger.ts';
import { CapacityMeter } from './capacity-meter.ts';

/** Scratch space inside the repo (gitignored): on the same disk as `.data/`, so the bus's fsync costs the same. */
export const BENCH_TMP = fileURLToPath(new URL('../../bench/tmp/', import.meta.url));

export const PARTNER_KEY = 'bench-partner-key';
export const ANALYST_KEY = 'bench-analyst-key';

export interface BenchStack {
  runtime: LocalRuntime;
  /** The floor: a server in this process whose one route does a single write per request. */
  floorUrl: string;
  dynamoEndpoint: string;
  /** Capacity consumed by the runtime's DynamoDB client. */
  meter: CapacityMeter;
  putEvents: { calls: number; entries: number };
  /** Resolves once every event the bus took is recorded and projected. */
  settle(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** DynamoDB Local (in memory, unless an endpoint is given), the local runtime and the floor server. */
export async function startBenchStack(options: { dynamoEndpoint?: string } = {}): Promise<BenchStack> {
  const ddb: DynamoDBLocal | undefined = options.dynamoEndpoint ? undefined : await startDynamoDBLocal();
  const endpoint = options.dynamoEndpoint ?? (ddb as DynamoDBLocal).endpoint;
  const id = randomUUID().slice(0, 8);
  const dataDir = join(BENCH_TMP, `runtime-${id}`);
  await mkdir(dataDir, { recursive: true });
  const prefix = `bench-${id}`;
  const meter = new CapacityMeter();
  const runtime = await startLocalRuntime(
    {
      ...configFromEnv({}),
      port: 0,
      dataDir,
      dynamoEndpoint: endpoint,
      tablePrefix: prefix,
      partnerKey: PARTNER_KEY,
      analystKey: ANALYST_KEY,
      partnerId: 'bench-partner',
    },
    { logger: createLogger({ level: 'silent' }), instrumentDynamo: (client) => meter.attach(client) },
  );

  const putEvents = { calls: 0, entries: 0 };
  const original = runtime.bus.putEvents.bind(runtime.bus);
  runtime.bus.putEvents = (entries) => {
    putEvents.calls += 1;
    putEvents.entries += entries.length;
    return original(entries);
  };

  // Settling reads the stats with a client of its own, so that polling never shows up in the meter.
  const watcher = createDynamoClient({ endpoint });
  const tables = tableNamesFor(prefix);
  const recorded = new DynamoDBEventStore(watcher, tables.events);
  const projected = new DynamoDBProjectionStore(watcher, tables.projections);

  const floor = await startFloor(endpoint, `${prefix}-floor`);

  return {
    runtime,
    floorUrl: floor.url,
    dynamoEndpoint: endpoint,
    meter,
    putEvents,
    async settle(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { pending } = runtime.bus.stats();
        const { caughtUp } = runtime.poller.status();
        if (pending === 0 && caughtUp) {
          const [r, p] = await Promise.all([recorded.stats(), projected.stats()]);
          if (p.eventsProjected >= r.eventsRecorded) return;
        }
        if (Date.now() > deadline) throw new Error(`pipeline did not settle within ${timeoutMs} ms`);
        await sleep(50);
      }
    },
    async stop() {
      await floor.stop();
      await runtime.stop();
      watcher.destroy();
      await ddb?.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The floor of this stack: parse the same JSON body and write it with one DynamoDB call, `PutItem` for an
 * event, `BatchWriteItem` for a batch, to a plain table on the same DynamoDB Local. Nothing cheaper can
 * make an event durable here.
 */
async function startFloor(endpoint: string, table: string): Promise<{ url: string; stop(): Promise<void> }> {
  const client = createDynamoClient({ endpoint });
  await createFloorTable(client, table);
  const app = new Hono();
  app.post('/floor', async (c) => {
    const body = (await c.req.json()) as { eventId?: string; events?: { eventId: string }[] };
    const items = (body.events ?? [body]).map((event) => ({
      pk: { S: String(event.eventId) },
      sk: { S: 'event' },
      body: { S: JSON.stringify(event) },
    }));
    if (items.length === 1) await client.send(new PutItemCommand({ TableName: table, Item: items[0] }));
    else
      await client.send(
        new BatchWriteItemCommand({
          RequestItems: { [table]: items.map((Item) => ({ PutRequest: { Item } })) },
        }),
      );
    return c.json({ accepted: items.length }, 202);
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      client.destroy();
    },
  };
}

export async function createFloorTable(client: DynamoDBClient, table: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: table });
}

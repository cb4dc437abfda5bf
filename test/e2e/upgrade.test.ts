import { randomUUID } from 'node:crypto';
import {
  CreateTableCommand,
  DeleteTableCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { projectEvents } from '../../shared/projector/projector.ts';
import { tableDefinitions } from '../../shared/store/create-tables.ts';
import { createDynamoClient } from '../../shared/store/dynamo.ts';
import { DynamoDBProjectionStore } from '../../shared/store/projection-store.ts';
import { tableNamesFor } from '../../shared/store/tables.ts';
import { recorded } from '../support/read-app.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';

/*
 * `npm start` on a `.data/` from before the listing indexes: the runtime adds them to the projections table
 * and gives the units an older version projected their entries, so lists and regulations show them at once.
 */

const prefix = `upgrade-${randomUUID().slice(0, 8)}`;
const names = tableNamesFor(prefix);
const client = createDynamoClient({ endpoint: inject('dynamoEndpoint') });
let runtime: TestRuntime | undefined;

afterAll(async () => {
  await runtime?.stop();
  for (const table of Object.values(names)) {
    await client.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
  }
  client.destroy();
});

describe('starting on projections from before the listing indexes', () => {
  it('adds the indexes and lists what the older version projected', async () => {
    // The projections table as older versions made it, and units as they wrote them: no index attributes.
    const {
      GlobalSecondaryIndexes: _indexes,
      AttributeDefinitions,
      ...old
    } = tableDefinitions(names)[1] as NonNullable<ReturnType<typeof tableDefinitions>[number]>;
    await client.send(
      new CreateTableCommand({
        ...old,
        AttributeDefinitions: AttributeDefinitions?.filter((a) =>
          ['pk', 'sk'].includes(a.AttributeName as string),
        ),
      }),
    );
    await projectEvents(new DynamoDBProjectionStore(client, names.projections), [
      recorded('shipment.dispatched', '2025-05-01T00:00:00Z', {
        shipmentId: 'OLD-SH-1',
        sku: 'H20',
        quantity: 64,
        exporter: 'nvidia',
        origin: { country: 'TW' },
        destination: { country: 'CN', providerId: 'baidu-ai' },
      }),
      recorded('regulation.issued', '2025-04-01T00:00:00Z', {
        regulationId: 'OLD-R-1',
        authority: 'US-BIS',
        jurisdiction: 'US',
        direction: 'export',
        title: 'Older rule',
        policy: 'prohibited',
        skus: ['H20'],
        destinations: ['CN'],
        effectiveFrom: '2025-04-01T00:00:00Z',
      }),
    ]);
    const items = await client.send(new ScanCommand({ TableName: names.projections }));
    for (const item of (items.Items ?? [])
      .map((i) => unmarshall(i))
      .filter((i) => String(i.pk).startsWith('unit#'))) {
      await client.send(
        new UpdateItemCommand({
          TableName: names.projections,
          Key: { pk: { S: item.pk }, sk: { S: item.sk } },
          UpdateExpression: 'REMOVE kpk, ksk, summary, wpk',
        }),
      );
    }

    runtime = await startTestRuntime({ tablePrefix: prefix });

    const shipments = (await (await runtime.get('/v1/shipments')).json()) as {
      items: { shipmentId: string }[];
    };
    expect(shipments.items.map((s) => s.shipmentId)).toEqual(['OLD-SH-1']);
    const regulations = (await (await runtime.get('/v1/regulations')).json()) as {
      items: { regulationId: string }[];
    };
    expect(regulations.items.map((r) => r.regulationId)).toEqual(['OLD-R-1']);
    // On its way, and in violation: blocked comes from the on-the-way index too.
    const availability = (await (await runtime.get('/v1/availability?sku=H20')).json()) as {
      providers: { providerId: string; inTransit: number; blocked: number }[];
    };
    expect(availability.providers).toEqual([
      expect.objectContaining({ providerId: 'baidu-ai', inTransit: 64, blocked: 64 }),
    ]);
  });
});

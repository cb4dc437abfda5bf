import { GetItemCommand, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectEvents } from '../../shared/projector/projector.ts';
import { AvailabilityQueries } from '../../shared/queries/availability.ts';
import { backfillListing } from '../../shared/store/listing-backfill.ts';
import { DynamoDBProjectionStore, decodeUnit, projectionKeys } from '../../shared/store/projection-store.ts';
import { createTestTables, type TestTables } from '../support/dynamo.ts';
import { recorded } from '../support/read-app.ts';

const NOW = new Date('2025-06-01T00:00:00.000Z');
const dispatch = (id: string, providerId: string) =>
  recorded('shipment.dispatched', '2025-05-01T00:00:00Z', {
    shipmentId: id,
    sku: 'H20',
    quantity: 8,
    exporter: 'nvidia',
    origin: { country: 'TW' },
    destination: { country: 'CN', providerId },
  });
const HISTORY = [
  ...['SH-1', 'SH-2', 'SH-3', 'SH-4', 'SH-5'].map((id) => dispatch(id, 'baidu-ai')),
  recorded('shipment.delivered', '2025-05-09T00:00:00Z', { shipmentId: 'SH-2' }),
  recorded('regulation.issued', '2025-01-01T00:00:00Z', {
    regulationId: 'R-1',
    authority: 'US-BIS',
    jurisdiction: 'US',
    direction: 'export',
    title: 'A rule',
    policy: 'licence-required',
    skus: ['H20'],
    destinations: ['CN'],
    effectiveFrom: '2025-01-01T00:00:00Z',
  }),
  recorded('licence.granted', '2025-01-01T00:00:00Z', {
    licenceId: 'L-1',
    regulationId: 'R-1',
    exporter: 'nvidia',
    skus: ['H20'],
    validFrom: '2025-01-01T00:00:00Z',
  }),
  recorded('allocation.created', '2025-05-02T00:00:00Z', {
    allocationId: 'AL-1',
    providerId: 'baidu-ai',
    sku: 'H20',
    quantity: 4,
    tenant: 'deepseek',
  }),
];

let tables: TestTables;
let store: DynamoDBProjectionStore;
const everything = { limit: Number.POSITIVE_INFINITY, keep: () => true };

beforeAll(async () => {
  tables = await createTestTables('listing');
  store = new DynamoDBProjectionStore(tables.client, tables.names.projections);
  await projectEvents(store, HISTORY, { clock: { now: () => NOW } });
});
afterAll(() => tables.drop());

async function unitItems(): Promise<Record<string, unknown>[]> {
  const out = await tables.client.send(new ScanCommand({ TableName: tables.names.projections }));
  return (out.Items ?? [])
    .map((item) => unmarshall(item))
    .filter((item) => String(item.pk).startsWith('unit#'));
}

describe('the listing index', () => {
  it('lists the shipments, regulations and licences the projector wrote, and nothing else', async () => {
    const { items, more } = await store.listShipments(everything);
    expect(more).toBe(false);
    expect(items.map((s) => [s.shipmentId, s.status])).toEqual([
      ['SH-1', 'dispatched'],
      ['SH-2', 'delivered'],
      ['SH-3', 'dispatched'],
      ['SH-4', 'dispatched'],
      ['SH-5', 'dispatched'],
    ]);
    expect(await store.idsOf('regulation')).toEqual(['R-1']);
    expect(await store.idsOf('licence')).toEqual(['L-1']);
    // On their way to baidu-ai's H20 row: all but the delivered SH-2.
    const onTheWay = await store.onTheWay(['H20#baidu-ai', 'H800#baidu-ai']);
    expect(onTheWay.map((s) => s.shipmentId).sort()).toEqual(['SH-1', 'SH-3', 'SH-4', 'SH-5']);
    const allocation = (await unitItems()).find((item) => item.stream === 'allocation:AL-1');
    expect(allocation).toBeDefined();
    expect(allocation).not.toHaveProperty('kpk');
  });

  it('pages each shard by id after a cursor, stopping at the limit', async () => {
    const first = await store.listShipments({ limit: 2, keep: () => true });
    expect(first.items.map((s) => s.shipmentId)).toEqual(['SH-1', 'SH-2']);
    expect(first.more).toBe(true);
    // Exactly the limit left: no cursor to an empty page.
    expect(await store.listShipments({ after: 'SH-2', limit: 3, keep: () => true })).toMatchObject({
      more: false,
    });
    expect(await store.listShipments({ after: 'SH-1', limit: 3, keep: () => true })).toMatchObject({
      more: true,
    });
    const rest = await store.listShipments({
      after: 'SH-2',
      limit: 10,
      keep: (s) => s.status === 'dispatched',
    });
    expect(rest).toEqual({ items: expect.any(Array), more: false });
    expect(rest.items.map((s) => s.shipmentId)).toEqual(['SH-3', 'SH-4', 'SH-5']);
  });

  it('is backfilled in place for units an older version projected, without overwriting newer ones', async () => {
    // What an older version left: unit items without the index attributes.
    for (const item of await unitItems()) {
      await tables.client.send(
        new UpdateItemCommand({
          TableName: tables.names.projections,
          Key: marshall({ pk: item.pk, sk: item.sk }),
          UpdateExpression: 'REMOVE kpk, ksk, summary, wpk',
        }),
      );
    }
    expect((await store.listShipments(everything)).items).toEqual([]);
    expect(await store.idsOf('licence')).toEqual([]);
    expect(await store.onTheWay(['H20#baidu-ai'])).toEqual([]);

    // Meanwhile the projector rewrites SH-5 (a new version, with its entry) after the backfill read it.
    let raced = false;
    tables.client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Key?: Record<string, unknown> };
        if (
          !raced &&
          context.commandName === 'UpdateItemCommand' &&
          JSON.stringify(input.Key).includes('SH-5')
        ) {
          raced = true;
          const key = marshall(projectionKeys.unit('shipment:SH-5'));
          const current = await tables.client.send(
            new GetItemCommand({ TableName: tables.names.projections, Key: key }),
          );
          const unit = decodeUnit(unmarshall(current.Item ?? {}));
          const held = recorded('shipment.held', '2025-05-20T00:00:00Z', {
            shipmentId: 'SH-5',
            authority: 'CN-GACC',
            reason: 'x',
          });
          const { stream: _stream, ...event } = held;
          await store.applyAll([
            {
              expectedVersion: unit.version,
              next: { ...unit, version: unit.version + 1, events: [...unit.events, event as never] },
              deltas: new Map(),
              newRows: [],
              added: 1,
            },
          ]);
        }
        return next(args);
      },
      { step: 'initialize', name: 'race-the-backfill' },
    );
    const result = await backfillListing(tables.client, tables.names.projections);
    tables.client.middlewareStack.remove('race-the-backfill');

    expect(raced).toBe(true);
    // Eight units without an entry: the allocation is not listed, and SH-5 was already rewritten.
    expect(result).toEqual({ scanned: 8, updated: 6 });
    const listed = (await store.listShipments(everything)).items;
    expect(listed.map((s) => [s.shipmentId, s.status])).toEqual([
      ['SH-1', 'dispatched'],
      ['SH-2', 'delivered'],
      ['SH-3', 'dispatched'],
      ['SH-4', 'dispatched'],
      ['SH-5', 'held'],
    ]);
    expect(await store.idsOf('regulation')).toEqual(['R-1']);
    expect(await store.idsOf('licence')).toEqual(['L-1']);
    const onTheWay = await store.onTheWay(['H20#baidu-ai']);
    expect(onTheWay.map((s) => [s.shipmentId, s.status]).sort()).toEqual([
      ['SH-1', 'dispatched'],
      ['SH-3', 'dispatched'],
      ['SH-4', 'dispatched'],
      ['SH-5', 'held'],
    ]);
    expect(await backfillListing(tables.client, tables.names.projections)).toEqual({
      scanned: 1,
      updated: 0,
    });
  });
});

describe('an availability read with regulations recorded', () => {
  it('reads the goods on their way from the on-the-way index, not every shipment', async () => {
    const queries: string[] = [];
    tables.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'QueryCommand') {
          const input = args.input as {
            IndexName?: string;
            ExpressionAttributeValues?: Record<string, { S?: string }>;
          };
          queries.push(
            `${input.IndexName ?? 'table'} ${Object.values(input.ExpressionAttributeValues ?? {})[0]?.S}`,
          );
        }
        return next(args);
      },
      { step: 'initialize', name: 'count-queries' },
    );
    try {
      const rows = await new AvailabilityQueries(store).forSku('H20', { now: NOW.toISOString() });
      // Every lot is covered by the licence: nothing is blocked.
      expect(rows.map((r) => [r.providerId, r.blocked])).toEqual([['baidu-ai', 0]]);
    } finally {
      tables.client.middlewareStack.remove('count-queries');
    }
    // The licence has no cap, so no shipment partition of the listing index is read.
    expect(queries.filter((q) => q.startsWith('by-kind shipment#'))).toEqual([]);
    expect(queries).toContain('on-the-way H20#baidu-ai');
  });
});

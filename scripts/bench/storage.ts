import { randomUUID } from 'node:crypto';
import {
  CreateTableCommand,
  DeleteTableCommand,
  TransactWriteItemsCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { planUnit } from '../../shared/projections/plan.ts';
import type { UnitEvent } from '../../shared/projections/unit.ts';
import { ensureTables, tableDefinitions } from '../../shared/store/create-tables.ts';
import { createDynamoClient } from '../../shared/store/dynamo.ts';
import { encodeUnit } from '../../shared/store/projection-store.ts';
import { tableNamesFor } from '../../shared/store/tables.ts';
import { recordedRange } from './events.ts';
import { type BenchResult, median, result } from './report.ts';

export interface StorageSizes {
  /** Rounds of each table before any is timed: DynamoDB Local's JIT warms on both. */
  warmupRounds: number;
  /** Timed rounds of each table, alternating; the median counts. */
  rounds: number;
  /** Unit items written per round, in transactions of ten. */
  itemsPerRound: number;
}

/**
 * What the projections table's two sparse indexes cost each unit write on DynamoDB Local: unit items as the
 * projector writes them (shipments, whose attributes put them in the indexes, and allocations, in none), in
 * transactions of ten, into the projections table and into a table with the same keys and no index,
 * alternating round by round so that the machine's load falls on both alike.
 */
export async function benchStorage(
  endpoint: string,
  sizes: StorageSizes,
): Promise<{ results: BenchResult[]; notes: string[] }> {
  const client = createDynamoClient({ endpoint });
  const tables = tableNamesFor(`bench-storage-${randomUUID().slice(0, 8)}`);
  const plain = `${tables.projections}-plain`;
  const projections = tableDefinitions(tables)[1];
  try {
    await ensureTables(client, tables);
    await client.send(
      new CreateTableCommand({
        TableName: plain,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: projections?.KeySchema,
        AttributeDefinitions: projections?.AttributeDefinitions?.filter((a) =>
          projections.KeySchema?.some((k) => k.AttributeName === a.AttributeName),
        ),
      }),
    );
    await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: plain });

    const items = unitItems(sizes.itemsPerRound);
    let version = 0;
    const round = async (table: string): Promise<number> => {
      version++;
      const started = performance.now();
      const writes: Promise<unknown>[] = [];
      for (let at = 0; at < items.length; at += 10) {
        const puts = items.slice(at, at + 10).map((item) => ({
          Put: { TableName: table, Item: marshall({ ...item, version }, { removeUndefinedValues: true }) },
        }));
        writes.push(client.send(new TransactWriteItemsCommand({ TransactItems: puts })));
      }
      await Promise.all(writes);
      return (items.length / (performance.now() - started)) * 1000;
    };
    for (let i = 0; i < sizes.warmupRounds; i++) {
      await round(plain);
      await round(tables.projections);
    }
    const bare: number[] = [];
    const indexed: number[] = [];
    for (let i = 0; i < sizes.rounds; i++) {
      bare.push(await round(plain));
      indexed.push(await round(tables.projections));
    }
    return {
      results: [result('storage.unitWrites', median(indexed), 'items/s', { baseline: median(bare) })],
      notes: [
        `storage: ${items.length} unit items per round in transactions of ten (shipments and allocations), ` +
          `${sizes.warmupRounds} warm-up and ${sizes.rounds} timed rounds per table, alternating; the ` +
          'projections table with its two indexes against a table with the same keys and none.',
      ],
    };
  } finally {
    for (const table of [...Object.values(tables), plain]) {
      await client.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
    }
    client.destroy();
  }
}

/** Unit items as the projector writes them, from the bench's lifecycles: a shipment, then an allocation. */
function unitItems(count: number): Record<string, unknown>[] {
  const byStream = new Map<string, UnitEvent[]>();
  // Six events make two units: a shipment's lifecycle and an allocation.
  for (const { stream, ...event } of recordedRange(0, count * 3, 'ST')) {
    byStream.set(stream, [...(byStream.get(stream) ?? []), event as UnitEvent]);
  }
  return [...byStream]
    .flatMap(([stream, events]) => {
      const plan = planUnit(stream, undefined, events);
      return plan ? [encodeUnit(plan.next)] : [];
    })
    .slice(0, count);
}

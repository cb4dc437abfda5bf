import { randomUUID } from 'node:crypto';
import {
  CreateTableCommand,
  DeleteTableCommand,
  type DynamoDBClient,
  waitUntilTableExists,
  waitUntilTableNotExists,
} from '@aws-sdk/client-dynamodb';
import { contentHash } from '../../shared/events/fingerprint.ts';
import { type RebuildStats, rebuildProjections, scanEventItems } from '../../shared/projector/rebuild.ts';
import { batchPut } from '../../shared/store/batch-io.ts';
import { ensureTables, tableDefinitions } from '../../shared/store/create-tables.ts';
import { createDynamoClient } from '../../shared/store/dynamo.ts';
import { toEventItem } from '../../shared/store/event-item.ts';
import { type TableNames, tableNamesFor } from '../../shared/store/tables.ts';
import { recordedHistory } from './events.ts';
import { type BenchResult, result } from './report.ts';

export interface RebuildSizes {
  events: number;
  segments: number;
  /** Rebuilds timed, each into an empty table; the fastest counts. */
  repeats: number;
}

/**
 * Rebuilding the projections from stored events, against the bare read it cannot avoid: the same parallel
 * `Scan` of the events table with nothing done to the items. The fastest scan is the baseline, so that
 * warming DynamoDB Local up never flatters the ratio.
 */
export async function benchRebuild(
  endpoint: string,
  sizes: RebuildSizes,
): Promise<{ results: BenchResult[]; notes: string[] }> {
  const client = createDynamoClient({ endpoint });
  const tables = tableNamesFor(`bench-rebuild-${randomUUID().slice(0, 8)}`);
  try {
    await ensureTables(client, tables);
    const items = recordedHistory(sizes.events, 'RB').map((event) =>
      toEventItem({ ...event, hash: contentHash(event) }),
    );
    await putAll(items, (chunk) => batchPut(client, tables.events, chunk));

    const scan = async () => {
      const started = performance.now();
      let count = 0;
      await scanEventItems(client, tables.events, sizes.segments, (page) => {
        count += page.length;
      });
      if (count !== sizes.events) throw new Error(`scan saw ${count} of ${sizes.events} events`);
      return performance.now() - started;
    };
    // Scans and rebuilds alternate, and the best of each counts: a burst of load elsewhere on the machine then
    // slows one try, not the figure.
    const scans = [await scan()];
    const rebuilds: { ms: number; stats: RebuildStats }[] = [];
    for (let i = 0; i < sizes.repeats; i++) {
      if (i > 0) await recreate(client, tables, 'projections');
      const started = performance.now();
      const stats = await rebuildProjections(client, tables, { segments: sizes.segments });
      rebuilds.push({ ms: performance.now() - started, stats });
      scans.push(await scan());
    }
    const best = rebuilds.reduce((a, b) => (b.ms < a.ms ? b : a));
    const { stats } = best;

    const perSecond = (ms: number) => sizes.events / (ms / 1000);
    const ms = (values: number[]) => values.map((v) => Math.round(v)).join(', ');
    return {
      results: [
        result('rebuild', perSecond(best.ms), 'events/s', {
          baseline: perSecond(Math.min(...scans)),
          target: { on: 'ratio', op: '>=', limit: 0.5 },
        }),
      ],
      notes: [
        `rebuild: ${stats.events} events into ${stats.units} units, ${stats.rows} rows and ${stats.items} items; ` +
          `best of ${sizes.repeats}: scan ${Math.round(stats.scanMs)} ms (${stats.writtenDuringScan} items written ` +
          `meanwhile), fold ${Math.round(stats.foldMs)} ms, write ${Math.round(stats.writeMs)} ms ` +
          `(rebuilds ${ms(rebuilds.map((r) => r.ms))} ms; ` +
          `raw scans ${ms(scans)} ms; ${sizes.segments} segments).`,
      ],
    };
  } finally {
    for (const table of Object.values(tables)) {
      await client.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
    }
    client.destroy();
  }
}

/** Deletes and re-creates one of the tables, empty, from the shared definitions. */
async function recreate(client: DynamoDBClient, tables: TableNames, which: keyof TableNames): Promise<void> {
  const TableName = tables[which];
  await client.send(new DeleteTableCommand({ TableName }));
  await waitUntilTableNotExists({ client, maxWaitTime: 60 }, { TableName });
  const definition = tableDefinitions(tables).find((d) => d.TableName === TableName);
  if (!definition) throw new Error(`no definition for table ${TableName}`);
  await client.send(new CreateTableCommand(definition));
  await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName });
}

/** Writes chunks of 250 items, eight chunks at a time: seeding is not what is measured. */
async function putAll(
  items: Record<string, unknown>[],
  write: (chunk: Record<string, unknown>[]) => Promise<void>,
): Promise<void> {
  const chunks: Record<string, unknown>[][] = [];
  for (let start = 0; start < items.length; start += 250) chunks.push(items.slice(start, start + 250));
  const worker = async () => {
    for (let chunk = chunks.pop(); chunk; chunk = chunks.pop()) await write(chunk);
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

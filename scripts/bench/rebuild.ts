import { randomUUID } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { contentHash } from '../../shared/events/fingerprint.ts';
import { rebuildProjections, scanEventItems } from '../../shared/projector/rebuild.ts';
import { batchPut } from '../../shared/store/batch-io.ts';
import { ensureTables } from '../../shared/store/create-tables.ts';
import { createDynamoClient } from '../../shared/store/dynamo.ts';
import { toEventItem } from '../../shared/store/event-item.ts';
import { tableNamesFor } from '../../shared/store/tables.ts';
import { recordedHistory } from './events.ts';
import { type BenchResult, result } from './report.ts';

export interface RebuildSizes {
  events: number;
  segments: number;
}

/**
 * Rebuilding the projections from stored events, against the bare read it cannot avoid: the same parallel
 * `Scan` of the events table with nothing done to the items. The faster of two scans, one before and one
 * after the rebuild, is the baseline, so that warming DynamoDB Local up never flatters the ratio.
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
    const scanBefore = await scan();
    const started = performance.now();
    const stats = await rebuildProjections(client, tables, { segments: sizes.segments });
    const rebuildMs = performance.now() - started;
    const scanAfter = await scan();
    const scanMs = Math.min(scanBefore, scanAfter);

    const perSecond = (ms: number) => sizes.events / (ms / 1000);
    return {
      results: [
        result('rebuild', perSecond(rebuildMs), 'events/s', {
          baseline: perSecond(scanMs),
          target: { on: 'ratio', op: '>=', limit: 0.5 },
        }),
      ],
      notes: [
        `rebuild: ${stats.events} events into ${stats.units} units, ${stats.rows} rows and ${stats.items} items; ` +
          `scan ${Math.round(stats.scanMs)} ms, fold ${Math.round(stats.foldMs)} ms, write ${Math.round(stats.writeMs)} ms ` +
          `(raw scans ${Math.round(scanBefore)} and ${Math.round(scanAfter)} ms, ${sizes.segments} segments).`,
      ],
    };
  } finally {
    for (const table of Object.values(tables)) {
      await client.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
    }
    client.destroy();
  }
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

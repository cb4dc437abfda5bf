import { randomUUID } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { createApp } from '../../shared/api/app.ts';
import { Authenticator } from '../../shared/auth/authenticator.ts';
import { DynamoDBKeyStore } from '../../shared/auth/key-store.ts';
import { newKeyRecord } from '../../shared/auth/keys.ts';
import { projectEvents } from '../../shared/projector/projector.ts';
import { ensureTables } from '../../shared/store/create-tables.ts';
import { createDynamoClient } from '../../shared/store/dynamo.ts';
import { DynamoDBEventStore } from '../../shared/store/event-store.ts';
import { DynamoDBProjectionStore } from '../../shared/store/projection-store.ts';
import { tableNamesFor } from '../../shared/store/tables.ts';
import { systemClock, ulidGenerator } from '../../shared/util/clock.ts';
import { createLogger } from '../../shared/util/logger.ts';
import { occurredAtOf, recordedHistory } from './events.ts';
import { type BenchResult, median, result } from './report.ts';
import { ANALYST_KEY } from './stack.ts';

export interface QuerySizes {
  small: number;
  large: number;
  samples: number;
  asOfSamples: number;
}

/** Events per `projectEvents` call: about what one poll of the stream hands the projector. */
const PROJECT_BATCH = 1_000;

/**
 * Current availability after a short and after a long history, read through the API in this process (no
 * network, so DynamoDB's work is what varies), and the same with `asOf`, which replays the rows' units.
 * The history is projected with the product's `projectEvents`, straight into the projections table.
 */
export async function benchQuery(
  endpoint: string,
  sizes: QuerySizes,
): Promise<{ results: BenchResult[]; notes: string[] }> {
  const client = createDynamoClient({ endpoint });
  const tables = tableNamesFor(`bench-query-${randomUUID().slice(0, 8)}`);
  try {
    await ensureTables(client, tables);
    const keys = new DynamoDBKeyStore(client, tables.keys);
    await keys.put(newKeyRecord(ANALYST_KEY, { role: 'analyst', label: 'bench analyst' }, systemClock.now()));
    const projections = new DynamoDBProjectionStore(client, tables.projections);
    const app = createApp({
      events: new DynamoDBEventStore(client, tables.events),
      projections,
      publisher: {
        publish: () => Promise.reject(new Error('the query bench publishes nothing')),
      },
      authenticator: new Authenticator(keys),
      clock: systemClock,
      newId: ulidGenerator(),
      logger: createLogger({ level: 'silent' }),
    });
    const history = recordedHistory(sizes.large, 'Q');
    const project = async (from: number, to: number) => {
      for (let start = from; start < to; start += PROJECT_BATCH) {
        const result = await projectEvents(
          projections,
          history.slice(start, Math.min(to, start + PROJECT_BATCH)),
        );
        if (result.failedStreams.size > 0)
          throw new Error(`projection failed for ${result.failedStreams.size} streams`);
      }
    };
    const time = async (path: string, samples: number) => {
      const headers = { Authorization: `Bearer ${ANALYST_KEY}` };
      const times: number[] = [];
      for (let i = -2; i < samples; i++) {
        const started = performance.now();
        const response = await app.request(path, { headers });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}`);
        if (i >= 0) times.push(performance.now() - started);
      }
      return median(times);
    };
    // A horizon inside the short history: the long one only adds units that contribute nothing at it.
    const asOf = `/v1/availability?sku=H20&asOf=${encodeURIComponent(occurredAtOf(Math.floor(sizes.small / 2)))}`;
    const current = '/v1/availability?sku=H20';

    await project(0, sizes.small);
    const small = { current: await time(current, sizes.samples), asOf: await time(asOf, sizes.asOfSamples) };
    await project(sizes.small, sizes.large);
    const large = { current: await time(current, sizes.samples), asOf: await time(asOf, sizes.asOfSamples) };

    const label = (n: number) => n.toLocaleString('en-US');
    return {
      results: [
        result('query.scaling', large.current, 'ms', {
          baseline: small.current,
          target: { on: 'ratio', op: '<=', limit: 1.5 },
        }),
        result('query.asOf.scaling', large.asOf, 'ms', { baseline: small.asOf }),
        result('query.asOf.vsCurrent', large.asOf, 'ms', { baseline: large.current }),
      ],
      notes: [
        `query: GET ${current} (median of ${sizes.samples}) after ${label(sizes.large)} events against after ` +
          `${label(sizes.small)}; asOf (median of ${sizes.asOfSamples}) the same, and against the current read.`,
      ],
    };
  } finally {
    for (const table of Object.values(tables)) {
      await client.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
    }
    client.destroy();
  }
}

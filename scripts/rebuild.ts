/**
 * Rebuilds every projection from the events table into an empty projections table:
 *
 *   npm run rebuild -- --endpoint http://127.0.0.1:8000 --prefix h20-tracker   # DynamoDB Local (npm start)
 *   npm run rebuild -- --events-table h20-tracker-prod-events --projections-table h20-tracker-prod-projections-v2
 *
 * Options: `--region`, `--segments N` (parallel scans, 4), `--concurrency N` (BatchWriteItem calls in flight, 8),
 * `--create-table` (DynamoDB Local only: create the projections table if it is missing). Pause the projector
 * first (stop `npm start`, or disable the stream's event source mapping); a table that is not empty is refused.
 *
 * `--listing-only` (with `--projections-table` or `--prefix`) rebuilds nothing: it gives the unit items that
 * an older version projected their listing-index attributes, in place, and may run beside the projector.
 */
import { pathToFileURL } from 'node:url';
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { ProjectionsNotEmptyError, rebuildProjections } from '../shared/projector/rebuild.ts';
import { tableDefinitions } from '../shared/store/create-tables.ts';
import { createDynamoClient } from '../shared/store/dynamo.ts';
import { backfillListing } from '../shared/store/listing-backfill.ts';
import { tableNamesFor } from '../shared/store/tables.ts';
import { createLogger } from '../shared/util/logger.ts';

export interface RebuildArgs {
  endpoint?: string;
  region?: string;
  events: string;
  projections: string;
  segments: number;
  concurrency: number;
  createTable: boolean;
  /** Only give units projected before the listing index their index attributes (`backfillListing`). */
  listingOnly: boolean;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Reads the command line; throws `UsageError` with what is wrong. */
export function parseRebuildArgs(argv: readonly string[]): RebuildArgs {
  const known = new Set([
    'endpoint',
    'region',
    'prefix',
    'events-table',
    'projections-table',
    'segments',
    'concurrency',
  ]);
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (name === 'create-table' || name === 'listing-only') flags.add(name);
    else if (!known.has(name)) throw new UsageError(`unknown option --${name}`);
    else if (inline !== undefined) values.set(name, inline);
    else {
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      values.set(name, next);
    }
  }

  const prefix = values.get('prefix');
  const byPrefix = prefix ? tableNamesFor(prefix) : undefined;
  const events = values.get('events-table') ?? byPrefix?.events;
  const projections = values.get('projections-table') ?? byPrefix?.projections;
  const listingOnly = flags.has('listing-only');
  if (!projections || (!events && !listingOnly))
    throw new UsageError('name the tables: --prefix P, or --events-table E and --projections-table P');
  const count = (name: string, fallback: number) => {
    const raw = values.get(name);
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 64)
      throw new UsageError(`--${name} must be an integer from 1 to 64`);
    return n;
  };
  const createTable = flags.has('create-table');
  if (createTable && !values.has('endpoint'))
    throw new UsageError('--create-table is for DynamoDB Local (--endpoint)');
  return {
    endpoint: values.get('endpoint'),
    region: values.get('region'),
    events: events ?? '',
    projections,
    listingOnly,
    segments: count('segments', 4),
    concurrency: count('concurrency', 8),
    createTable,
  };
}

async function createProjectionsTable(client: DynamoDBClient, table: string): Promise<void> {
  const exists = await client.send(new DescribeTableCommand({ TableName: table })).then(
    () => true,
    (error: { name?: string }) => {
      if (error.name === 'ResourceNotFoundException') return false;
      throw error;
    },
  );
  if (exists) return;
  // The shared definitions give the projections table its keys; only that one table is wanted here.
  const definition = tableDefinitions({ events: '', projections: table, keys: '' }).find(
    (d) => d.TableName === table,
  );
  if (!definition) throw new Error('no projections table definition');
  await client.send(new CreateTableCommand(definition));
  await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: table });
}

async function main(): Promise<number> {
  let args: RebuildArgs;
  try {
    args = parseRebuildArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`rebuild: ${error.message}`);
    return 2;
  }
  const client = createDynamoClient({ endpoint: args.endpoint, region: args.region });
  try {
    if (args.listingOnly) {
      const { scanned, updated } = await backfillListing(client, args.projections);
      console.log(`rebuild: listed ${updated} of ${scanned} unlisted units of ${args.projections}`);
      return 0;
    }
    if (args.createTable) await createProjectionsTable(client, args.projections);
    const stats = await rebuildProjections(
      client,
      { events: args.events, projections: args.projections },
      {
        segments: args.segments,
        writeConcurrency: args.concurrency,
        logger: createLogger({ service: 'rebuild' }),
      },
    );
    console.log(
      `rebuild: ${stats.events} events into ${stats.units} units and ${stats.rows} rows of ${args.projections} ` +
        `in ${((stats.scanMs + stats.foldMs + stats.writeMs) / 1000).toFixed(1)} s`,
    );
    return 0;
  } catch (error) {
    if (!(error instanceof ProjectionsNotEmptyError)) throw error;
    console.error(`rebuild: ${error.message}`);
    return 1;
  } finally {
    client.destroy();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then((code) => process.exit(code));
}

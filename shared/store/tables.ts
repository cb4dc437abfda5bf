/**
 * Table, index and key names: the single definition that the runtime code and the CDK stack both import.
 *
 * Events table (the source of truth): one item per event, keyed by its `eventId`, so the key itself makes an
 * `eventId` unique without a guard item or a transaction. Rejections of a reused `eventId` live beside it.
 * A global secondary index orders events by `occurredAt` within a month, for listing without a stream filter.
 *
 * Projections table: availability counters per (sku, provider), one unit item per projected stream, row
 * membership for `asOf`/`knownAt` replays, provider profiles, catalogues and operational stats; a sparse
 * index lists shipments, regulations and licences.
 *
 * Keys table: API keys, stored only as SHA-256 hashes.
 */
export const TABLES = {
  events: {
    logicalName: 'events',
    partitionKey: 'pk',
    sortKey: 'sk',
    byTimeIndex: { name: 'by-time', partitionKey: 'tpk', sortKey: 'tsk' },
  },
  projections: {
    logicalName: 'projections',
    partitionKey: 'pk',
    sortKey: 'sk',
    /**
     * A sparse index of the units that are listed (shipments, regulations, licences): by kind, in shards
     * for shipments, ordered by id, with each unit's `summary` (`shared/projections/listing.ts`).
     */
    byKindIndex: { name: 'by-kind', partitionKey: 'kpk', sortKey: 'ksk', projected: ['summary'] },
    /**
     * A sparse index of the shipments on their way (in transit or held), by their (sku, provider) row: what
     * `blocked` judges, read in O(goods on their way) rather than O(history).
     */
    onTheWayIndex: { name: 'on-the-way', partitionKey: 'wpk', sortKey: 'ksk', projected: ['summary'] },
  },
  keys: { logicalName: 'keys', partitionKey: 'keyId' },
} as const;

/** Environment variables through which deployed and local handlers learn their resources. */
export const ENV = {
  eventsTable: 'EVENTS_TABLE',
  projectionsTable: 'PROJECTIONS_TABLE',
  keysTable: 'KEYS_TABLE',
  busName: 'EVENT_BUS_NAME',
  stage: 'STAGE',
  logLevel: 'LOG_LEVEL',
} as const;

export interface TableNames {
  events: string;
  projections: string;
  keys: string;
}

/** Table names for a prefix, as the local runtime and the tests create them. */
export function tableNamesFor(prefix: string): TableNames {
  return {
    events: `${prefix}-events`,
    projections: `${prefix}-projections`,
    keys: `${prefix}-keys`,
  };
}

/** Reads the table names a Lambda was configured with; throws at cold start if one is missing. */
export function tableNamesFromEnv(env: NodeJS.ProcessEnv = process.env): TableNames {
  const read = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`missing environment variable ${name}`);
    return value;
  };
  return {
    events: read(ENV.eventsTable),
    projections: read(ENV.projectionsTable),
    keys: read(ENV.keysTable),
  };
}

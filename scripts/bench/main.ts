/**
 * `npm run bench [-- --quick] [-- --only ingest,fold]`: speed and cost of the product, each measured against
 * a baseline taken in the same run. Prints a table, writes `bench/results.json` and refreshes the table in
 * `docs/benchmarks.md` (a run with `--only` writes neither, so a partial run never replaces a full one).
 */
import { fileURLToPath } from 'node:url';
import { startDynamoDBLocal } from '../../local/dynamodb-local.ts';
import { benchCost, type CostSizes } from './cost.ts';
import { benchFoldIsolated, type FoldSizes } from './fold.ts';
import { benchIngest, type IngestSizes } from './ingest.ts';
import { benchJvm, type JvmSizes } from './jvm.ts';
import { benchQuery, type QuerySizes } from './query.ts';
import { benchRebuild, type RebuildSizes } from './rebuild.ts';
import { type BenchResult, formatTable, progress, reportOf, updateDoc, writeReport } from './report.ts';
import { type BenchStack, startBenchStack } from './stack.ts';
import { benchStorage, type StorageSizes } from './storage.ts';

export interface BenchSizes {
  ingest: IngestSizes;
  cost: CostSizes;
  query: QuerySizes;
  rebuild: RebuildSizes;
  storage: StorageSizes;
  jvm: JvmSizes;
  fold: FoldSizes;
  coldstart: { samples: number };
}

export const SIZES: Record<'quick' | 'full', BenchSizes> = {
  quick: {
    ingest: {
      durationS: 3,
      warmupS: 2,
      jvmWarmupS: 2,
      connections: [10],
      lagIntervalMs: 200,
      settleTimeoutMs: 120_000,
    },
    cost: { events: 300, connections: 10, settleTimeoutMs: 120_000 },
    query: { small: 1_000, large: 10_000, samples: 30, asOfSamples: 5 },
    rebuild: { events: 5_000, segments: 4, repeats: 2 },
    storage: { warmupRounds: 5, rounds: 5, itemsPerRound: 200 },
    jvm: { warmupEvents: 800, events: 800 },
    fold: { events: 200_000, repeats: 3 },
    coldstart: { samples: 3 },
  },
  full: {
    ingest: {
      durationS: 10,
      warmupS: 5,
      jvmWarmupS: 30,
      connections: [1, 10, 50],
      lagIntervalMs: 200,
      settleTimeoutMs: 600_000,
    },
    cost: { events: 1_000, connections: 10, settleTimeoutMs: 300_000 },
    query: { small: 1_000, large: 100_000, samples: 50, asOfSamples: 10 },
    rebuild: { events: 100_000, segments: 4, repeats: 2 },
    storage: { warmupRounds: 20, rounds: 15, itemsPerRound: 300 },
    jvm: { warmupEvents: 12_000, events: 6_000 },
    fold: { events: 1_000_000, repeats: 5 },
    coldstart: { samples: 10 },
  },
};

export const SUITES = ['ingest', 'cost', 'query', 'rebuild', 'storage', 'jvm', 'fold', 'coldstart'] as const;
export type Suite = (typeof SUITES)[number];

const RESULTS_PATH = fileURLToPath(new URL('../../bench/results.json', import.meta.url));
const DOC_PATH = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));

const log = progress;

/** What the run has started, for the SIGINT handler: DynamoDB Local must not outlive the bench. */
let running: Pick<BenchStack, 'stop'> | undefined;

/** Runs the suites in an order that keeps them apart: the in-memory ones last, so RSS is the runtime's. */
export async function runBench(
  sizes: BenchSizes,
  suites: readonly Suite[],
  options: { dynamoEndpoint?: string } = {},
): Promise<{ results: BenchResult[]; notes: string[] }> {
  const results: BenchResult[] = [];
  const notes: string[] = [];
  const collect = (out: { results: BenchResult[]; notes: string[] }) => {
    results.push(...out.results);
    notes.push(...out.notes);
  };
  const timed = async <T>(name: Suite, run: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    log(`${name}...`);
    const out = await run();
    log(`${name} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return out;
  };
  try {
    if (suites.includes('ingest') || suites.includes('cost')) {
      log('starting DynamoDB Local and the local runtime');
      const stack = await startBenchStack(options);
      running = stack;
      if (suites.includes('ingest')) collect(await timed('ingest', () => benchIngest(stack, sizes.ingest)));
      if (suites.includes('cost')) collect(await timed('cost', () => benchCost(stack, sizes.cost)));
      await stack.stop();
      running = undefined;
    }
    // A DynamoDB Local of their own: one that already holds the ingest runs' items writes several times slower.
    if (suites.includes('query'))
      collect(
        await timed('query', () => withDynamo(options, (endpoint) => benchQuery(endpoint, sizes.query))),
      );
    if (suites.includes('rebuild'))
      collect(
        await timed('rebuild', () =>
          withDynamo(options, (endpoint) => benchRebuild(endpoint, sizes.rebuild)),
        ),
      );
    if (suites.includes('storage'))
      collect(
        await timed('storage', () =>
          withDynamo(options, (endpoint) => benchStorage(endpoint, sizes.storage)),
        ),
      );
    if (suites.includes('jvm'))
      collect(await timed('jvm', () => withDynamo(options, (endpoint) => benchJvm(endpoint, sizes.jvm))));
    // In a fresh process: in this one, after the other suites, `fold` read 15% and `fold.units` 30-50% slower.
    if (suites.includes('fold'))
      collect(await timed('fold', async () => ({ results: await benchFoldIsolated(sizes.fold), notes: [] })));
    if (suites.includes('coldstart')) {
      // Imported here: the CDK library behind the bundling options is heavy, and the ingest RSS must not carry it.
      const { benchColdstart } = await import('./coldstart.ts');
      collect(await timed('coldstart', () => benchColdstart(sizes.coldstart)));
    }
  } finally {
    await running?.stop();
    running = undefined;
  }
  return { results, notes };
}

/** Runs `use` on the given DynamoDB, or on a DynamoDB Local started for it and stopped after. */
async function withDynamo<T>(
  options: { dynamoEndpoint?: string },
  use: (endpoint: string) => Promise<T>,
): Promise<T> {
  if (options.dynamoEndpoint) return use(options.dynamoEndpoint);
  const ddb = await startDynamoDBLocal();
  running = { stop: () => ddb.stop() };
  try {
    return await use(ddb.endpoint);
  } finally {
    await ddb.stop();
    running = undefined;
  }
}

function parseArgs(argv: readonly string[]): { quick: boolean; only?: Suite[] } {
  const quick = argv.includes('--quick');
  const at = argv.findIndex((a) => a === '--only' || a.startsWith('--only='));
  if (at === -1) return { quick };
  const value = argv[at]?.includes('=') ? argv[at]?.split('=')[1] : argv[at + 1];
  const only = (value ?? '').split(',').filter(Boolean);
  const unknown = only.filter((s) => !(SUITES as readonly string[]).includes(s));
  if (unknown.length > 0 || only.length === 0)
    throw new Error(`--only takes a comma-separated list of: ${SUITES.join(', ')}`);
  return { quick, only: only as Suite[] };
}

async function main(): Promise<void> {
  const { quick, only } = parseArgs(process.argv.slice(2));
  const mode = quick ? 'quick' : 'full';
  const command = `npm run bench${quick ? ' -- --quick' : ''}`;
  const started = Date.now();
  const { results, notes } = await runBench(SIZES[mode], only ?? SUITES);
  const report = reportOf(results, mode);
  console.log(formatTable(results));
  for (const note of notes) console.log(`- ${note}`);
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (only) {
    log('a partial run (--only): bench/results.json and docs/benchmarks.md left as they were');
    return;
  }
  await writeReport(RESULTS_PATH, { ...report, notes });
  await updateDoc(DOC_PATH, report, command, notes);
  log('wrote bench/results.json and docs/benchmarks.md');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.once('SIGINT', () => {
    void (running?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

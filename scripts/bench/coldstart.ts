import { spawn } from 'node:child_process';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import {
  BUNDLING,
  entryPath,
  type HandlerName,
  SOURCE_MAP_ENVIRONMENT,
} from '../../infra/lambda-defaults.ts';
import { type BenchResult, median, result } from './report.ts';
import { BENCH_TMP } from './stack.ts';

export interface ColdstartSizes {
  samples: number;
}

const HANDLERS: HandlerName[] = ['api', 'recorder', 'projector'];
const BASELINE_ENTRY = fileURLToPath(new URL('./coldstart-baseline.ts', import.meta.url));

/** What the handlers read at import, as the stack sets it. */
const HANDLER_ENV = {
  EVENTS_TABLE: 'bench-events',
  PROJECTIONS_TABLE: 'bench-projections',
  KEYS_TABLE: 'bench-keys',
  EVENT_BUS_NAME: 'bench-bus',
  AWS_REGION: 'us-east-1',
  ...SOURCE_MAP_ENVIRONMENT,
};

/**
 * Bundles an entry as the CDK build does (`NodejsFunction` with the project's `BUNDLING`): the flags below
 * are the ones CDK passes esbuild for those options. The bundle lands inside the repo, so that the AWS SDK,
 * left external as the Lambda runtime provides it, resolves from `node_modules`.
 */
export async function bundle(entry: string, outDir: string): Promise<string> {
  const outfile = join(outDir, 'index.mjs');
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: BUNDLING.format === 'esm' ? 'esm' : 'cjs',
    target: BUNDLING.target,
    mainFields: BUNDLING.mainFields,
    minify: BUNDLING.minify,
    sourcemap: BUNDLING.sourceMap,
    sourcesContent: BUNDLING.sourcesContent,
    external: BUNDLING.externalModules,
    banner: BUNDLING.banner ? { js: BUNDLING.banner } : undefined,
    logLevel: 'warning',
  });
  return outfile;
}

/** Milliseconds to import the bundle in a fresh Node process: the module init a cold Lambda pays for. */
export function initTime(file: string): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(performance.now() - t);`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, ...HANDLER_ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = Number(out.trim().split('\n').at(-1));
      if (code === 0 && Number.isFinite(ms)) resolve(ms);
      else reject(new Error(`importing ${file} failed (exit ${code}): ${err.trim().slice(-500)}`));
    });
  });
}

/**
 * Bundle bytes and init time of each Lambda, against the minimal handler. Samples alternate between the
 * handlers and the baseline, so that a burst of load on the machine falls on all of them alike.
 */
export async function benchColdstart(
  sizes: ColdstartSizes,
): Promise<{ results: BenchResult[]; notes: string[] }> {
  const dir = join(BENCH_TMP, `coldstart-${process.pid}-${Date.now()}`);
  try {
    const entries: [string, string][] = [
      ['baseline', BASELINE_ENTRY],
      ...HANDLERS.map((h): [string, string] => [h, entryPath(h)]),
    ];
    const files = new Map<string, string>();
    const bytes = new Map<string, number>();
    for (const [name, entry] of entries) {
      await mkdir(join(dir, name), { recursive: true });
      const file = await bundle(entry, join(dir, name));
      files.set(name, file);
      bytes.set(name, (await stat(file)).size);
    }
    const times = new Map<string, number[]>(entries.map(([name]) => [name, []]));
    for (let i = 0; i < sizes.samples; i++) {
      for (const [name] of entries) times.get(name)?.push(await initTime(files.get(name) as string));
    }
    const init = (name: string) => median(times.get(name) ?? []);
    const results: BenchResult[] = [];
    for (const name of HANDLERS) {
      const isApi = name === 'api';
      results.push(
        result(`coldstart.${name}.init`, init(name), 'ms', {
          baseline: init('baseline'),
          target: isApi ? { on: 'ratio', op: '<=', limit: 1.5 } : undefined,
        }),
        result(`coldstart.${name}.bytes`, bytes.get(name) ?? 0, 'bytes', {
          baseline: bytes.get('baseline'),
          target: isApi ? { on: 'value', op: '<', limit: 1_000_000 } : undefined,
        }),
      );
    }
    return {
      results,
      notes: [
        `coldstart: median of ${sizes.samples} imports per bundle in fresh processes, with the handlers' ` +
          'environment and NODE_OPTIONS=--enable-source-maps as deployed; the AWS SDK is loaded from node_modules.',
      ],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

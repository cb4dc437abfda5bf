import { randomUUID } from 'node:crypto';
import { type CoresUsed, MACHINE_CORES, watchCores } from './cpu.ts';
import { javaPidServing } from './jvm.ts';
import { LagSampler } from './lag.ts';
import { type LoadJob, type LoadResult, runLoad } from './load.ts';
import { RssSampler, rssMiB } from './memory.ts';
import { type BenchResult, percentile, progress, result } from './report.ts';
import { ANALYST_KEY, type BenchStack, PARTNER_KEY } from './stack.ts';

export interface IngestSizes {
  durationS: number;
  /** Load on both servers before anything is timed: DynamoDB Local's JVM starts cold, and so does V8. */
  warmupS: number;
  /**
   * More load on the floor first: HotSpot needs about half a minute of work to finish compiling DynamoDB
   * Local, and until then its compiler threads take a core from whatever runs first.
   */
  jvmWarmupS: number;
  connections: number[];
  lagIntervalMs: number;
  /** How long the pipeline may take to drain the backlog a run leaves. */
  settleTimeoutMs: number;
}

interface Run {
  connections: number;
  eventsPerS: number;
  p50: number;
  p99: number;
  /** The cores busy while the load ran (Linux only). */
  cores?: CoresUsed;
}

const AUTH = { authorization: `Bearer ${PARTNER_KEY}` };

const MODES = [
  { name: 'single', eventsPerRequest: 1 },
  { name: 'batch10', eventsPerRequest: 10 },
] as const;

/**
 * Events accepted per second over HTTP, ours against the floor at each connection count, the floor first
 * and the pipeline drained after each of ours, so that no run pays for another's backlog. Lag markers run
 * alongside ours, and the process's RSS is sampled throughout. Last, the single-event peak is split into its
 * halves (`halves`): the API alone, then the pipeline alone.
 */
export async function benchIngest(
  stack: BenchStack,
  sizes: IngestSizes,
): Promise<{ results: BenchResult[]; notes: string[] }> {
  const id = randomUUID().slice(0, 6);
  const results: BenchResult[] = [];
  const notes: string[] = [];
  const warmup = {
    connections: sizes.connections.at(-1) ?? 10,
    durationS: sizes.warmupS,
    eventsPerRequest: 10,
  };
  if (sizes.warmupS > 0) {
    await runLoad({
      ...warmup,
      durationS: Math.max(sizes.warmupS, sizes.jvmWarmupS),
      url: stack.floorUrl,
      path: '/floor',
      headers: {},
      prefix: `WF${id}`,
    });
    await runLoad({
      ...warmup,
      url: stack.runtime.url,
      path: '/v1/events',
      headers: AUTH,
      prefix: `WO${id}`,
    });
    await stack.settle(sizes.settleTimeoutMs);
  }
  const idle = rssMiB();
  const rss = new RssSampler();
  rss.start();
  const jvmPid = javaPidServing(stack.dynamoEndpoint);

  let singlePeak: { connections: number; floor: Run } | undefined;
  const cpu: [string, CoresUsed | undefined][] = [];
  for (const mode of MODES) {
    const runs: { floor: Run; ours: Run; lags: number[]; unseen: number }[] = [];
    for (const connections of sizes.connections) {
      const job = {
        connections,
        durationS: sizes.durationS,
        eventsPerRequest: mode.eventsPerRequest,
      };
      const floorLoad = await timedLoad(jvmPid, {
        ...job,
        url: stack.floorUrl,
        path: '/floor',
        headers: {},
        prefix: `F${id}-${mode.name}-${connections}`,
      });
      const floor = runOf(connections, mode.eventsPerRequest, floorLoad.out, floorLoad.cores);
      const sampler = new LagSampler({
        url: stack.runtime.url,
        partnerKey: PARTNER_KEY,
        analystKey: ANALYST_KEY,
        prefix: `LAG${id}-${mode.name}-${connections}`,
        intervalMs: sizes.lagIntervalMs,
      });
      const { out, cores } = await timedLoad(
        jvmPid,
        {
          ...job,
          url: stack.runtime.url,
          path: '/v1/events',
          headers: AUTH,
          prefix: `O${id}-${mode.name}-${connections}`,
        },
        () => sampler.start(),
      );
      if (out.non2xx > 0 || out.errors > 0)
        notes.push(
          `ingest.${mode.name} at ${connections} connections: ${JSON.stringify(out.statuses)}, ${out.errors} errors`,
        );
      const ours = runOf(connections, mode.eventsPerRequest, out, cores);
      const drained = Date.now();
      const { lags, unseen } = await sampler.finish(sizes.settleTimeoutMs);
      await stack.settle(sizes.settleTimeoutMs);
      runs.push({ floor, ours, lags, unseen });
      progress(
        `ingest.${mode.name} at ${connections} connections: ${Math.round(ours.eventsPerS)} events/s ` +
          `(floor ${Math.round(floor.eventsPerS)}), drained in ${((Date.now() - drained) / 1000).toFixed(1)} s`,
      );
    }

    const peak = (pick: (r: (typeof runs)[number]) => Run) =>
      runs.map(pick).reduce((best, run) => (run.eventsPerS > best.eventsPerS ? run : best));
    const ours = peak((r) => r.ours);
    const floor = peak((r) => r.floor);
    const atPeak = runs.find((r) => r.ours === ours) ?? (runs[0] as (typeof runs)[number]);
    const name = `ingest.${mode.name}`;
    const perCount = runs.length > 1;
    if (mode.name === 'single') {
      singlePeak = { connections: ours.connections, floor: atPeak.floor };
      cpu.push(['floor.single', atPeak.floor.cores], ['ingest.single', ours.cores]);
    }
    results.push(
      result(name, ours.eventsPerS, 'events/s', {
        baseline: floor.eventsPerS,
        target: { on: 'ratio', op: '>=', limit: 0.7 },
      }),
    );
    for (const run of perCount ? runs : []) {
      results.push(
        result(`${name}.c${run.ours.connections}`, run.ours.eventsPerS, 'events/s', {
          baseline: run.floor.eventsPerS,
        }),
      );
    }
    results.push(result(`${name}.p50`, ours.p50, 'ms', { baseline: atPeak.floor.p50 }));
    results.push(result(`${name}.p99`, ours.p99, 'ms', { baseline: atPeak.floor.p99 }));
    notes.push(
      `${name}: peak at ${ours.connections} connections (the floor's at ${floor.connections}); ` +
        `latencies at ${ours.connections} connections against the floor's at the same count.`,
    );

    // The target is the lag at the measured ingest rate: the markers of the run that set the peak.
    const lagName = mode.name === 'single' ? 'lag' : `lag.${mode.name}`;
    results.push(result(`${lagName}.p50`, percentile(atPeak.lags, 50), 'ms'));
    results.push(
      result(`${lagName}.p99`, percentile(atPeak.lags, 99), 'ms', {
        target: mode.name === 'single' ? { on: 'value', op: '<', limit: 1000 } : undefined,
      }),
    );
    for (const run of perCount ? runs : []) {
      results.push(result(`${lagName}.c${run.ours.connections}.p99`, percentile(run.lags, 99), 'ms'));
    }
    const unseen = runs.reduce((sum, run) => sum + run.unseen, 0);
    notes.push(
      `${lagName}: ${atPeak.lags.length} markers during ${name} at ${ours.connections} connections ` +
        `(${runs.reduce((sum, run) => sum + run.lags.length, 0)} in all)` +
        (unseen > 0 ? `, ${unseen} not projected within the wait and counted at the wait` : ''),
    );
  }

  if (singlePeak) {
    const split = await halves(stack, sizes, singlePeak.connections, singlePeak.floor, id, jvmPid);
    results.push(...split.results);
    notes.push(...split.notes);
    cpu.push(...split.cpu);
  }
  const watched = cpu.filter((entry): entry is [string, CoresUsed] => entry[1] !== undefined);
  for (const [phase, cores] of watched) {
    results.push(result(`cpu.${phase}`, cores.machine, 'cores', { baseline: MACHINE_CORES }));
    results.push(result(`cpu.${phase}.jvm`, cores.jvm, 'cores', { baseline: MACHINE_CORES }));
  }
  if (watched.length > 0)
    notes.push(
      `cpu: cores busy (CPU time over wall time, from /proc) in the whole machine and in DynamoDB Local's JVM, ` +
        `against the machine's ${MACHINE_CORES}: the floor and ours at ingest.single's peak, then its two halves; ` +
        `the bench's own process (API, bus, recorder, projector, floor) took ` +
        watched.map(([phase, cores]) => `${cores.bench.toFixed(2)} (${phase})`).join(', ') +
        '.',
    );

  results.push(result('memory.rssPeak', rss.stop(), 'MiB', { baseline: idle }));
  notes.push(
    'memory.rssPeak: the bench process (API, bus, recorder, projector, floor) against its RSS before the load.',
  );
  return { results, notes };
}

/**
 * `ingest.single` at its peak split in two, each half alone on the machine: the API with the bus's delivery
 * paused (what accepting costs: validation, the eventId check, the fsync'd journal), then the pipeline with
 * the API idle, recording and projecting what piled up. Together they share two cores; a sustained rate
 * with a bounded lag can go no faster than the pipeline alone.
 */
async function halves(
  stack: BenchStack,
  sizes: IngestSizes,
  connections: number,
  floor: Run,
  id: string,
  jvmPid: number | undefined,
): Promise<{ results: BenchResult[]; notes: string[]; cpu: [string, CoresUsed | undefined][] }> {
  const { bus } = stack.runtime;
  bus.pauseDelivery();
  let loaded: { out: LoadResult; cores?: CoresUsed };
  try {
    loaded = await timedLoad(jvmPid, {
      connections,
      durationS: sizes.durationS,
      eventsPerRequest: 1,
      url: stack.runtime.url,
      path: '/v1/events',
      headers: AUTH,
      prefix: `H${id}`,
    });
  } catch (error) {
    bus.resumeDelivery();
    throw error;
  }
  const { out, cores: apiCores } = loaded;
  const api = runOf(connections, 1, out);
  const started = performance.now();
  const watchPipeline = watchCores(jvmPid);
  bus.resumeDelivery();
  await stack.settle(sizes.settleTimeoutMs);
  const pipelineCores = watchPipeline?.();
  const drainS = (performance.now() - started) / 1000;
  const pipeline = out.ok / drainS;
  progress(
    `ingest.single halves at ${connections} connections: API alone ${Math.round(api.eventsPerS)} events/s, ` +
      `pipeline alone ${Math.round(pipeline)} events/s (floor ${Math.round(floor.eventsPerS)})`,
  );
  return {
    results: [
      result('ingest.single.apiOnly', api.eventsPerS, 'events/s', { baseline: floor.eventsPerS }),
      result('ingest.single.pipelineOnly', pipeline, 'events/s', { baseline: floor.eventsPerS }),
    ],
    notes: [
      `ingest.single halves at ${connections} connections: with the bus's delivery paused the API accepted ` +
        `${out.ok} events in ${out.durationS.toFixed(1)} s; the pipeline then recorded and projected them in ` +
        `${drainS.toFixed(1)} s with the API idle. Both against the floor at ${connections} connections.`,
    ],
    cpu: [
      ['apiOnly', apiCores],
      ['pipelineOnly', pipelineCores],
    ],
  };
}

/** Runs a load, watching the cores from the moment the load starts (when the JVM's process is known). */
async function timedLoad(
  jvmPid: number | undefined,
  job: LoadJob,
  onStart?: () => void,
): Promise<{ out: LoadResult; cores?: CoresUsed }> {
  let watch: (() => CoresUsed) | undefined;
  const out = await runLoad(job, () => {
    watch = watchCores(jvmPid);
    onStart?.();
  });
  return { out, cores: watch?.() };
}

function runOf(connections: number, eventsPerRequest: number, out: LoadResult, cores?: CoresUsed): Run {
  return {
    connections,
    eventsPerS: (out.ok * eventsPerRequest) / out.durationS,
    p50: out.latencyP50,
    p99: out.latencyP99,
    cores,
  };
}

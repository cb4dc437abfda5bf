import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { dollarsPerMillion } from '../../scripts/bench/cost.ts';
import { EVENTS_PER_BLOCK, eventAt, recordedHistory } from '../../scripts/bench/events.ts';
import { parsedHistory } from '../../scripts/bench/fold.ts';
import { type BenchSizes, runBench, SUITES } from '../../scripts/bench/main.ts';
import {
  formatTable,
  percentile,
  RESULTS_END,
  RESULTS_START,
  reportOf,
  result,
  updateDoc,
} from '../../scripts/bench/report.ts';
import { EventInput } from '../../shared/events/catalogue.ts';
import { foldAvailability } from '../../shared/projections/unit.ts';
import { planRebuild } from '../../shared/projector/rebuild.ts';

/*
 * The bench on tiny sizes, so that its code cannot rot between the runs someone makes by hand. These tests
 * check what the bench reports and that its inputs are valid, never how fast anything is.
 */

const TINY: BenchSizes = {
  ingest: {
    durationS: 1,
    warmupS: 0,
    jvmWarmupS: 0,
    connections: [2],
    lagIntervalMs: 200,
    settleTimeoutMs: 30_000,
  },
  cost: { events: 20, connections: 2, settleTimeoutMs: 30_000 },
  query: { small: 20, large: 200, samples: 3, asOfSamples: 2 },
  rebuild: { events: 200, segments: 2, repeats: 2 },
  storage: { warmupRounds: 1, rounds: 1, itemsPerRound: 20 },
  jvm: { warmupEvents: 50, events: 50 },
  fold: { events: 1_000, repeats: 1 },
  coldstart: { samples: 1 },
};

const REQUIRED = [
  'ingest.single',
  'ingest.batch10',
  'ingest.single.apiOnly',
  'ingest.single.pipelineOnly',
  'cpu.ingest.single',
  'cpu.pipelineOnly.jvm',
  'lag.p99',
  'fold',
  'rebuild',
  'storage.unitWrites',
  'jvm.pipeline',
  'jvm.recorder.BatchExecuteStatement',
  'query.scaling',
  'coldstart.api.init',
  'coldstart.api.bytes',
  'cost.writeUnitsPerEvent',
  'memory.rssPeak',
];

describe('the bench', () => {
  it('runs every suite and reports every required figure in the results.json shape', async () => {
    const { results, notes } = await runBench(TINY, SUITES, { dynamoEndpoint: inject('dynamoEndpoint') });
    const names = results.map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(REQUIRED));
    expect(new Set(names).size).toBe(names.length);
    for (const r of results) {
      expect(Object.keys(r).sort(), r.name).toEqual([
        'baseline',
        'name',
        'pass',
        'ratio',
        'target',
        'unit',
        'value',
      ]);
      expect(Number.isFinite(r.value), r.name).toBe(true);
      expect(r.pass === null, r.name).toBe(r.target === null);
      if (r.baseline !== null && r.baseline !== 0)
        expect(r.ratio, r.name).toBeCloseTo(r.value / r.baseline, 1);
    }
    expect(results.find((r) => r.name === 'ingest.single')?.value).toBeGreaterThan(0);
    expect(results.find((r) => r.name === 'cost.putEventsPerEvent')?.value).toBe(1);
    expect(results.find((r) => r.name === 'cost.batch10.putEventsPerEvent')?.value).toBe(0.1);
    expect(notes.length).toBeGreaterThan(0);

    const report = reportOf(results, 'tiny');
    expect(Object.keys(report.machine).sort()).toEqual(['cpus', 'model', 'node']);
    expect(Date.parse(report.when)).not.toBeNaN();
  }, 120_000);
});

describe('the bench events', () => {
  it('are valid events the API accepts, with ids that never repeat', () => {
    const events = Array.from({ length: EVENTS_PER_BLOCK * 10 }, (_, k) => eventAt(k, 'T'));
    for (const event of events) expect(EventInput.safeParse(event).success, JSON.stringify(event)).toBe(true);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    expect(new Set(events.map((e) => e.type))).toEqual(
      new Set([
        'shipment.dispatched',
        'shipment.held',
        'shipment.released',
        'shipment.delivered',
        'shipment.installed',
        'shipment.cancelled',
        'allocation.created',
      ]),
    );
  });

  it('fold to the counters the rebuild computes, however they are laid out in memory', () => {
    const events = recordedHistory(600, 'T');
    const rebuilt = planRebuild(events).counters;
    expect(foldAvailability(events)).toEqual(rebuilt);
    expect(foldAvailability(parsedHistory(600, 'T'))).toEqual(rebuilt);
  });
});

describe('the bench report', () => {
  it('computes ratios and checks targets on the value or on the ratio', () => {
    expect(
      result('a', 70, 'events/s', { baseline: 100, target: { on: 'ratio', op: '>=', limit: 0.7 } }),
    ).toEqual({
      name: 'a',
      value: 70,
      unit: 'events/s',
      baseline: 100,
      ratio: 0.7,
      target: 'ratio >= 0.7',
      pass: true,
    });
    expect(result('b', 1000, 'ms', { target: { on: 'value', op: '<', limit: 1000 } }).pass).toBe(false);
    expect(result('c', 5, 'x', { target: { on: 'ratio', op: '<=', limit: 1 } }).pass).toBe(false);
    expect(result('d', 5, 'x')).toMatchObject({ baseline: null, ratio: null, target: null, pass: null });
  });

  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([], 50)).toBeNaN();
  });

  it('replaces only the generated section of the benchmarks page', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-doc-'));
    try {
      const path = join(dir, 'benchmarks.md');
      await writeFile(path, `# Title\n\n${RESULTS_START}\nSTALE-TABLE\n${RESULTS_END}\n\nProse.\n`);
      const report = reportOf([result('fold', 2, 'events/s')], 'tiny');
      await updateDoc(path, report, 'npm run bench', ['a note']);
      const text = await readFile(path, 'utf8');
      expect(text).not.toContain('STALE-TABLE');
      expect(text).toContain(formatTable(report.results));
      expect(text).toContain('- a note');
      expect(text.startsWith('# Title')).toBe(true);
      expect(text.endsWith('Prose.\n')).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('prices a million events item by item', () => {
    const dollars = dollarsPerMillion({
      writeUnits: 4,
      readUnits: 0,
      putEventsCalls: 1,
      busEntries: 1,
      apiRequests: 1,
    });
    expect(dollars.dynamoWrites).toBeCloseTo(2.5);
    expect(dollars.eventBridge).toBeCloseTo(1);
    expect(dollars.httpApi).toBeCloseTo(1);
    const { total, ...items } = dollars;
    expect(total).toBeCloseTo(Object.values(items).reduce((a, b) => a + b, 0));
  });
});

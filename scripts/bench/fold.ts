import { fileURLToPath } from 'node:url';
import type { RecordedEvent } from '../../shared/events/catalogue.ts';
import type { Counters } from '../../shared/projections/counters.ts';
import type { RowKey } from '../../shared/projections/rows.ts';
import { foldAvailability, UnitFold } from '../../shared/projections/unit.ts';
import { planRebuild } from '../../shared/projector/rebuild.ts';
import { runChild } from './child.ts';
import { openingBalances, recordedRange } from './events.ts';
import { type BenchResult, median, result } from './report.ts';

export interface FoldSizes {
  events: number;
  /** Timed repetitions of each loop; the median counts. */
  repeats: number;
}

/** The floor: touch the fields a fold reads, and nothing else. */
export function readEvents(events: readonly RecordedEvent[]): number {
  let sum = 0;
  for (const event of events) {
    sum += event.stream.length + event.type.length + event.occurredAt.length + event.eventId.length;
  }
  return sum;
}

function timeIt(repeats: number, run: () => unknown): number {
  const times: number[] = [];
  run(); // warm-up: let the JIT see the loop before it is timed
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    run();
    times.push(performance.now() - started);
  }
  return median(times);
}

/**
 * The history as the product holds events: parsed from JSON (a stream record, a scanned item), which lays
 * each event out compactly. Objects built piecemeal by a generator are scattered over the heap instead, and
 * reading them costs ten times as much on a small machine, which would measure the generator, not the fold.
 */
export function parsedHistory(count: number, prefix: string): RecordedEvent[] {
  const openings = openingBalances(prefix).slice(0, count);
  const events: RecordedEvent[] = JSON.parse(JSON.stringify(openings));
  for (let from = 0; events.length < count; from += 10_000) {
    const to = Math.min(from + 10_000, count - openings.length);
    for (const event of JSON.parse(JSON.stringify(recordedRange(from, to, prefix))) as RecordedEvent[]) {
      events.push(event);
    }
  }
  return events;
}

export function benchFold(sizes: FoldSizes): BenchResult[] {
  const events = parsedHistory(sizes.events, 'FOLD');
  const perSecond = (ms: number) => sizes.events / (ms / 1000);
  const read = perSecond(timeIt(sizes.repeats, () => readEvents(events)));
  const fold = perSecond(timeIt(sizes.repeats, () => foldAvailability(events)));
  const units = unitsOf(events);
  const unitFold = perSecond(timeIt(sizes.repeats, () => foldUnits(units)));
  const plan = perSecond(timeIt(sizes.repeats, () => planRebuild(events)));
  return [
    result('fold', fold, 'events/s', { baseline: read, target: { on: 'value', op: '>=', limit: 1_000_000 } }),
    result('fold.units', unitFold, 'events/s', { baseline: read }),
    result('fold.rebuildPlan', plan, 'events/s', { baseline: read }),
  ];
}

const CHILD = fileURLToPath(new URL('./fold-child.ts', import.meta.url));

/** `benchFold` in a fresh Node process (`fold-child.ts`), as the coldstart suite measures its bundles. */
export function benchFoldIsolated(sizes: FoldSizes): Promise<BenchResult[]> {
  return runChild<FoldSizes, BenchResult[]>(CHILD, sizes, 'fold suite');
}

/** The same events as the projections store holds them: one list per unit (grouping is not timed). */
function unitsOf(events: readonly RecordedEvent[]): RecordedEvent[][] {
  const byStream = new Map<string, RecordedEvent[]>();
  for (const event of events) {
    const list = byStream.get(event.stream);
    if (list) list.push(event);
    else byStream.set(event.stream, [event]);
  }
  return [...byStream.values()];
}

/** What the projector and every `asOf` replay do: fold each unit's events, sum the contributions per row. */
function foldUnits(units: readonly RecordedEvent[][]): Map<RowKey, Counters> {
  const rows = new Map<RowKey, Counters>();
  for (const events of units) {
    const fold = new UnitFold();
    for (const event of events) fold.add(event);
    fold.contributeTo(rows);
  }
  return rows;
}

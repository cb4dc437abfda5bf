import type { ComplianceJudge } from '../projections/compliance.ts';
import {
  type AvailabilityTotals,
  type Counters,
  toRow,
  totalsOf,
  zeroCounters,
} from '../projections/counters.ts';
import { ON_THE_WAY, type ShipmentSummary, summaryOf } from '../projections/listing.ts';
import type { StoredUnit } from '../projections/plan.ts';
import type { RowKey } from '../projections/rows.ts';
import { type UnitEvent, UnitFold } from '../projections/unit.ts';
import { blockedPerRow } from './compliance.ts';

export type Interval = 'day' | 'week' | 'month';

const DAY_MS = 86_400_000;

/** Midnight UTC of a date; unlike `Date.UTC`, years 0 to 99 are not taken for 1900 to 1999. */
function utc(year: number, month: number, day: number): number {
  return new Date(0).setUTCFullYear(year, month, day);
}

/** The start of the UTC day, ISO week (from Monday) or calendar month holding `ms`. */
function periodStart(ms: number, interval: Interval): number {
  const d = new Date(ms);
  const day = utc(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (interval === 'day') return day;
  if (interval === 'week') return day - ((d.getUTCDay() + 6) % 7) * DAY_MS;
  return utc(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

function nextStart(start: number, interval: Interval): number {
  if (interval === 'day') return start + DAY_MS;
  if (interval === 'week') return start + 7 * DAY_MS;
  const d = new Date(start);
  return utc(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/**
 * The times of a history's points: the end of each UTC day, ISO week (Monday to Monday) or calendar month
 * that the period `from`..`to` overlaps, which is the start of the next, the last one cut at `to`. A point's
 * counters are the availability `asOf` it, so an event at a boundary counts in the interval it closes.
 * `from` equal to `to` is one point. Null when there would be more than `max`.
 *
 * @example
 * pointTimes('2025-03-01T00:00:00Z', '2025-03-02T12:00:00Z', 'day', 1000)
 * // ['2025-03-02T00:00:00.000Z', '2025-03-02T12:00:00.000Z']
 * pointTimes('2025-03-01T00:00:00Z', '2025-03-02T00:00:00Z', 'day', 1000)
 * // ['2025-03-02T00:00:00.000Z']
 */
export function pointTimes(from: string, to: string, interval: Interval, max: number): string[] | null {
  const end = Date.parse(to);
  const points: string[] = [];
  let start = periodStart(Date.parse(from), interval);
  do {
    if (points.length === max) return null;
    start = nextStart(start, interval);
    points.push(new Date(Math.min(start, end)).toISOString());
  } while (start < end);
  return points;
}

export type HistoryPoint = { at: string } & AvailabilityTotals;

/**
 * The availability summed over `rows` at each of `points` (ascending), from the units that ever named them,
 * in one sweep: events in `occurredAt` order are added to their unit's fold, and a unit that took any is
 * re-counted once at the next point, its old contribution taken out of the rows and its new one put in. So
 * the work is the events' sort plus the points times the rows, not a replay per point. Only events recorded
 * by `knownAt` count, when it is given. `available` and `overAllocated` are summed over the rows, as the
 * availability totals are; `blocked` (with a `judge`: some regulation is known) is judged at each point
 * among the shipments on their way then.
 */
export function historyOf(
  units: readonly StoredUnit[],
  rows: readonly RowKey[],
  points: readonly string[],
  knownAt?: string,
  judge?: ComplianceJudge,
): HistoryPoint[] {
  const wanted = new Set(rows);
  const entries: { event: UnitEvent; unit: number }[] = [];
  units.forEach((unit, index) => {
    for (const event of unit.events) {
      if (knownAt === undefined || event.recordedAt <= knownAt) entries.push({ event, unit: index });
    }
  });
  entries.sort((a, b) =>
    a.event.occurredAt < b.event.occurredAt ? -1 : a.event.occurredAt > b.event.occurredAt ? 1 : 0,
  );

  const folds = units.map(() => new UnitFold());
  const counted = units.map(() => new Map<RowKey, Counters>());
  const totals = new Map<RowKey, Counters>([...wanted].map((row) => [row, zeroCounters()]));
  const move = (contribution: Map<RowKey, Counters>, sign: 1 | -1) => {
    for (const [row, counters] of contribution) {
      const total = totals.get(row);
      if (!total) continue;
      for (const name of Object.keys(counters) as (keyof Counters)[]) total[name] += sign * counters[name];
    }
  };

  const history: HistoryPoint[] = [];
  let next = 0;
  for (const at of points) {
    const touched = new Set<number>();
    for (; next < entries.length && (entries[next]?.event.occurredAt as string) <= at; next++) {
      const { event, unit } = entries[next] as { event: UnitEvent; unit: number };
      folds[unit]?.add(event);
      touched.add(unit);
    }
    for (const unit of touched) {
      move(counted[unit] as Map<RowKey, Counters>, -1);
      counted[unit] = (folds[unit] as UnitFold).contributeTo(new Map());
      move(counted[unit], 1);
    }
    const blocked = judge
      ? blockedPerRow(judge, movingAt(units, folds), wanted, at)
      : new Map<RowKey, number>();
    const rowsNow = [...totals].map(([row, counters]) => toRow('', '', counters, blocked.get(row) ?? 0));
    const point = { at, ...totalsOf(rowsNow) };
    history.push(point);
  }
  return history;
}

/** The shipments among the units whose folds so far leave them on their way (in transit or held). */
function* movingAt(units: readonly StoredUnit[], folds: readonly UnitFold[]): Generator<ShipmentSummary> {
  for (let i = 0; i < units.length; i++) {
    const state = folds[i]?.shipment();
    if (!state || !ON_THE_WAY.has(state.status)) continue;
    yield summaryOf(state.dispatch.data.shipmentId, state.dispatch, state.status, state.statusAt);
  }
}

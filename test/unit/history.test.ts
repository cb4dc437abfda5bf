import { describe, expect, it } from 'vitest';
import { recordedRange } from '../../scripts/bench/events.ts';
import type { RecordedEvent } from '../../shared/events/catalogue.ts';
import { toRow, totalsOf } from '../../shared/projections/counters.ts';
import { planUnit, type StoredUnit } from '../../shared/projections/plan.ts';
import { rowKey } from '../../shared/projections/rows.ts';
import { contributionOf, type UnitEvent } from '../../shared/projections/unit.ts';
import { historyOf, pointTimes } from '../../shared/queries/history.ts';

describe('pointTimes', () => {
  it('ends each UTC day touched at the next midnight, the last one cut at to', () => {
    expect(pointTimes('2025-03-01T06:00:00.000Z', '2025-03-03T12:00:00.000Z', 'day', 1000)).toEqual([
      '2025-03-02T00:00:00.000Z',
      '2025-03-03T00:00:00.000Z',
      '2025-03-03T12:00:00.000Z',
    ]);
  });

  it('gives one point, at to, when from and to are the same instant', () => {
    expect(pointTimes('2025-03-01T00:00:00.000Z', '2025-03-01T00:00:00.000Z', 'day', 1000)).toEqual([
      '2025-03-01T00:00:00.000Z',
    ]);
  });

  it('ends ISO weeks at Monday midnight and months at the first of the next, leap years included', () => {
    // 2024-02-28 is a Wednesday; its ISO week ends as Monday 2024-03-04 begins.
    expect(pointTimes('2024-02-28T00:00:00.000Z', '2024-03-12T00:00:00.000Z', 'week', 1000)).toEqual([
      '2024-03-04T00:00:00.000Z',
      '2024-03-11T00:00:00.000Z',
      '2024-03-12T00:00:00.000Z',
    ]);
    expect(pointTimes('2024-01-31T10:00:00.000Z', '2024-04-01T10:00:00.000Z', 'month', 1000)).toEqual([
      '2024-02-01T00:00:00.000Z',
      '2024-03-01T00:00:00.000Z',
      '2024-04-01T00:00:00.000Z',
      '2024-04-01T10:00:00.000Z',
    ]);
  });

  it('keeps years 0 to 99 as they are (Date.UTC would read them as 1900 to 1999)', () => {
    expect(pointTimes('0050-01-15T00:00:00.000Z', '0050-03-01T00:00:00.000Z', 'month', 1000)).toEqual([
      '0050-02-01T00:00:00.000Z',
      '0050-03-01T00:00:00.000Z',
    ]);
  });

  it('ends the last interval at a to that falls on a boundary: a whole day is one point, not two', () => {
    expect(pointTimes('2025-02-01T00:00:00.000Z', '2025-02-02T00:00:00.000Z', 'day', 1000)).toEqual([
      '2025-02-02T00:00:00.000Z',
    ]);
    expect(pointTimes('2025-02-03T00:00:00.000Z', '2025-02-17T00:00:00.000Z', 'week', 1000)).toEqual([
      '2025-02-10T00:00:00.000Z',
      '2025-02-17T00:00:00.000Z',
    ]);
    expect(pointTimes('2025-01-15T00:00:00.000Z', '2025-03-01T00:00:00.000Z', 'month', 1000)).toEqual([
      '2025-02-01T00:00:00.000Z',
      '2025-03-01T00:00:00.000Z',
    ]);
  });

  it('refuses more points than the cap, and allows exactly the cap', () => {
    expect(pointTimes('2025-01-01T00:00:00.000Z', '2025-01-10T12:00:00.000Z', 'day', 9)).toBeNull();
    expect(pointTimes('2025-01-01T00:00:00.000Z', '2025-01-10T12:00:00.000Z', 'day', 10)).toHaveLength(10);
    // Exactly 1,000 whole days.
    const days = pointTimes('2023-01-01T00:00:00.000Z', '2025-09-27T00:00:00.000Z', 'day', 1000);
    expect(days).toHaveLength(1000);
    expect(days?.at(-1)).toBe('2025-09-27T00:00:00.000Z');
  });
});

/** Units as the projector stores them, from a flat history. */
function unitsOf(events: readonly RecordedEvent[]): StoredUnit[] {
  const streams = new Map<string, UnitEvent[]>();
  for (const { stream, ...event } of events)
    streams.set(stream, [...(streams.get(stream) ?? []), event as UnitEvent]);
  return [...streams].flatMap(([stream, list]) => planUnit(stream, undefined, list)?.next ?? []);
}

/** The reference: every unit replayed at the point, as `GET /v1/availability?asOf=` does. */
function replayedTotals(
  units: readonly StoredUnit[],
  rows: readonly string[],
  asOf: string,
  knownAt?: string,
) {
  const sums = new Map(
    rows.map((row) => [
      row,
      toRow('', '', { installed: 0, allocated: 0, delivered: 0, inTransit: 0, held: 0 }),
    ]),
  );
  for (const unit of units) {
    for (const [row, c] of contributionOf(unit.events, { asOf, knownAt })) {
      const sum = sums.get(row);
      if (!sum) continue;
      for (const name of ['installed', 'allocated', 'delivered', 'inTransit', 'held'] as const)
        sum[name] += c[name];
    }
  }
  return totalsOf([...sums.values()].map((c) => toRow('', '', c)));
}

describe('historyOf', () => {
  // 600 bench events: lifecycles a minute apart over 10 hours, every row of 8 providers and 3 SKUs.
  const events = recordedRange(0, 600, 'HIST');
  const units = unitsOf(events);
  const h20 = ['alibaba-cloud', 'baidu-ai', 'tencent-cloud'].map((p) => rowKey(p, 'H20'));
  // Every 7 minutes: lifecycle steps are a minute apart, so points land on every step of some shipment.
  const points = Array.from({ length: 86 }, (_, i) => new Date(Date.UTC(2023, 0, 1, 0, i * 7)).toISOString());

  it('gives at every point what a replay as of that point gives', () => {
    const history = historyOf(units, h20, points);
    expect(history).toHaveLength(points.length);
    history.forEach(({ at, ...counters }, i) => {
      expect(at).toBe(points[i]);
      expect(counters).toEqual(replayedTotals(units, h20, at));
    });
    // Not a history of zeros: goods move through transit, customs and into service.
    expect(history.some((p) => p.held > 0)).toBe(true);
    expect(history.at(-1)?.installed).toBeGreaterThan(0);
  });

  it('counts only events recorded by knownAt', () => {
    const knownAt = '2023-01-01T03:00:00.000Z';
    const history = historyOf(units, h20, points, knownAt);
    for (const { at, ...counters } of history) {
      expect(counters).toEqual(replayedTotals(units, h20, at, knownAt));
    }
    expect(history.at(-1)).not.toEqual(historyOf(units, h20, points).at(-1));
  });

  it('counts a unit once however its events fall between points, and ignores rows not asked for', () => {
    const one = [rowKey('baidu-ai', 'H20')];
    const sparse = [points[3] as string, points[60] as string];
    expect(historyOf(units, one, sparse).map(({ at: _, ...c }) => c)).toEqual(
      sparse.map((at) => replayedTotals(units, one, at)),
    );
  });
});

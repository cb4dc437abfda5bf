import { describe, expect, it } from 'vitest';
import { zeroCounters } from '../../shared/projections/counters.ts';
import type { UnitPlan } from '../../shared/projections/plan.ts';
import { packed } from '../../shared/projector/projector.ts';

/** A plan for a unit that moves the given rows. */
const plan = (stream: string, ...rows: string[]): UnitPlan => ({
  expectedVersion: 0,
  next: { stream, version: 1, events: [], applied: {} },
  deltas: new Map(rows.map((row) => [row, zeroCounters()])),
  newRows: [],
  added: 1,
});

/** Items a transaction of these plans writes: a put per unit, an update per distinct row. */
const itemsOf = (plans: UnitPlan[]) =>
  plans.length + new Set(plans.flatMap((p) => [...p.deltas.keys()])).size;

describe('packed', () => {
  it('keeps every plan once and in order, each transaction within the item limit', () => {
    const plans = Array.from({ length: 37 }, (_, i) =>
      plan(`shipment:S${i}`, `H20#p${i % 7}`, `L20#p${i % 3}`),
    );
    for (const max of [3, 5, 12, 100]) {
      const transactions = packed(plans, max);
      expect(transactions.flat()).toEqual(plans);
      for (const t of transactions) expect(itemsOf(t)).toBeLessThanOrEqual(max);
    }
  });

  it('fills a transaction as far as the limit allows, counting a shared row once', () => {
    const plans = Array.from({ length: 10 }, (_, i) => plan(`shipment:S${i}`, 'H20#alibaba-cloud'));
    expect(packed(plans, 5).map((t) => t.length)).toEqual([4, 4, 2]);
    // 150 units over 24 rows in transactions of 100: 48 counter updates, where 25 units a time made 144.
    const busy = Array.from({ length: 150 }, (_, i) => plan(`allocation:A${i}`, `H20#p${i % 24}`));
    const transactions = packed(busy, 100);
    expect(transactions.map((t) => t.length)).toEqual([76, 74]);
    expect(transactions.reduce((sum, t) => sum + itemsOf(t) - t.length, 0)).toBe(48);
  });

  it('gives a plan that alone exceeds the limit a transaction of its own', () => {
    const wide = plan('shipment:WIDE', 'H20#a', 'H20#b', 'H20#c');
    const transactions = packed([plan('shipment:S1', 'H20#a'), wide, plan('shipment:S2', 'H20#a')], 3);
    expect(transactions.map((t) => t.map((p) => p.next.stream))).toEqual([
      ['shipment:S1'],
      ['shipment:WIDE'],
      ['shipment:S2'],
    ]);
  });

  it('makes no transaction of no plans', () => {
    expect(packed([], 100)).toEqual([]);
  });
});

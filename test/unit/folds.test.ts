import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../shared/events/catalogue.ts';
import {
  type AvailabilityRow,
  type Counters,
  toRow,
  totalsOf,
  zeroCounters,
} from '../../shared/projections/counters.ts';
import { planUnit, type StoredUnit } from '../../shared/projections/plan.ts';
import { rowKey } from '../../shared/projections/rows.ts';
import {
  contributionOf,
  foldShipment,
  rowsNamed,
  type UnitEvent,
  visibleAt,
} from '../../shared/projections/unit.ts';
import {
  allocationCreatedEvent,
  allocationReleasedEvent,
  day,
  dispatchedEvent,
  inventoryAdjustedEvent,
  providerRegisteredEvent,
  type ShipmentStep,
  shipmentEvent,
} from '../support/arbitraries.ts';

const ALI = 'alibaba-cloud';
const TENCENT = 'tencent-cloud';
const ALI_H20 = rowKey(ALI, 'H20');
const TENCENT_H20 = rowKey(TENCENT, 'H20');
const ALI_H800 = rowKey(ALI, 'H800');

/** The units of the projector's folds: recorded events without their stream. */
const units = (...events: RecordedEvent[]): UnitEvent[] =>
  events.map(({ stream: _, ...event }) => event as UnitEvent);

const counters = (partial: Partial<Counters>): Counters => ({ ...zeroCounters(), ...partial });

const dispatch = (eventId: string, occurredAt: string, providerId = ALI, sku = 'H20', quantity = 8) =>
  dispatchedEvent({ eventId, occurredAt }, 'SH-1', { providerId, sku, quantity });
const step = (eventId: string, occurredAt: string, what: ShipmentStep) =>
  shipmentEvent({ eventId, occurredAt }, 'SH-1', what);

function contribution(...events: RecordedEvent[]): Record<string, Counters> {
  return Object.fromEntries(contributionOf(units(...events)));
}

describe('a shipment', () => {
  it('counts a dispatched shipment as in transit to its destination', () => {
    expect(contribution(dispatch('e1', day(1)))).toEqual({ [ALI_H20]: counters({ inTransit: 8 }) });
  });

  it('counts a held shipment as held, not in transit', () => {
    expect(contribution(dispatch('e1', day(1)), step('e2', day(2), 'held'))).toEqual({
      [ALI_H20]: counters({ held: 8 }),
    });
  });

  it('puts a released shipment back in transit', () => {
    expect(
      contribution(dispatch('e1', day(1)), step('e2', day(2), 'held'), step('e3', day(3), 'released')),
    ).toEqual({ [ALI_H20]: counters({ inTransit: 8 }) });
  });

  it('counts a delivered shipment as delivered, not yet installed', () => {
    expect(contribution(dispatch('e1', day(1)), step('e2', day(2), 'delivered'))).toEqual({
      [ALI_H20]: counters({ delivered: 8 }),
    });
  });

  it('counts every unit of an installed shipment as installed', () => {
    expect(
      contribution(dispatch('e1', day(1)), step('e2', day(2), 'delivered'), step('e3', day(3), 'installed')),
    ).toEqual({ [ALI_H20]: counters({ installed: 8 }) });
  });

  it('counts a cancelled shipment nowhere, yet still names its row', () => {
    expect(contribution(dispatch('e1', day(1)), step('e2', day(2), 'cancelled'))).toEqual({
      [ALI_H20]: zeroCounters(),
    });
  });

  it('counts a shipment cancelled after delivery nowhere, not as delivered', () => {
    expect(
      contribution(dispatch('e1', day(1)), step('e2', day(2), 'delivered'), step('e3', day(3), 'cancelled')),
    ).toEqual({ [ALI_H20]: zeroCounters() });
  });

  it('takes its status from the latest event by occurredAt, not from the order of arrival', () => {
    const given = [step('e3', day(3), 'delivered'), step('e2', day(2), 'held'), dispatch('e1', day(1))];
    expect(foldShipment(visibleAt(units(...given), {}))).toMatchObject({
      status: 'delivered',
      statusAt: day(3),
    });
    expect(contribution(...given)).toEqual({ [ALI_H20]: counters({ delivered: 8 }) });
  });

  const lifecycle = ['dispatched', 'held', 'released', 'delivered', 'installed', 'cancelled'] as const;
  const pairs = lifecycle.flatMap((earlier, i) =>
    lifecycle.slice(i + 1).map((later) => [earlier, later] as const),
  );
  const at = (what: (typeof lifecycle)[number], eventId: string) =>
    what === 'dispatched' ? dispatch(eventId, day(2)) : step(eventId, day(2), what);

  it.each(pairs)('at the same occurredAt, ranks %s before %s, whatever their eventIds', (earlier, later) => {
    // The later step gets the smaller eventId, so an eventId tie-break would pick the wrong status.
    const given = [dispatch('e0', day(1)), at(later, 'a-later'), at(earlier, 'z-earlier')];
    expect(foldShipment(visibleAt(units(...given), {})).status).toBe(later);
    expect(foldShipment(visibleAt(units(...given.reverse()), {})).status).toBe(later);
  });

  it('breaks a tie between two dispatches at the same occurredAt by eventId', () => {
    const given = [dispatch('e2', day(1), TENCENT), dispatch('e1', day(1), ALI)];
    expect(contribution(...given)).toEqual({
      [ALI_H20]: zeroCounters(),
      [TENCENT_H20]: counters({ inTransit: 8 }),
    });
  });

  it("is 'unknown' and counts nowhere while its dispatch is not known", () => {
    const given = [step('e2', day(2), 'held'), step('e3', day(3), 'delivered')];
    const view = foldShipment(visibleAt(units(...given), {}));
    expect(view.status).toBe('unknown');
    expect(view.dispatch).toBeUndefined();
    expect(view.timeline.map((e) => e.eventId)).toEqual(['e2', 'e3']);
    expect(contribution(...given)).toEqual({});
  });

  it('counts once its dispatch arrives, with the status of its latest event', () => {
    const later = [step('e2', day(2), 'held'), step('e3', day(3), 'delivered')];
    expect(contribution(...later, dispatch('e1', day(1)))).toEqual({ [ALI_H20]: counters({ delivered: 8 }) });
  });

  it('takes its sku, quantity and destination from its latest dispatch, leaving the old row named at zero', () => {
    const given = [
      dispatch('e1', day(1), ALI, 'H20', 8),
      step('e2', day(2), 'held'),
      dispatch('e3', day(3), TENCENT, 'H800', 5),
    ];
    expect(contribution(...given)).toEqual({
      [ALI_H20]: zeroCounters(),
      [rowKey(TENCENT, 'H800')]: counters({ inTransit: 5 }),
    });
  });

  it('keeps the status of a later event after a re-dispatch, with the goods of the re-dispatch', () => {
    const given = [
      dispatch('e1', day(1), ALI, 'H20', 8),
      dispatch('e2', day(2), TENCENT),
      step('e3', day(3), 'held'),
    ];
    expect(contribution(...given)).toEqual({
      [ALI_H20]: zeroCounters(),
      [TENCENT_H20]: counters({ held: 8 }),
    });
  });
});

describe('an allocation', () => {
  const create = (eventId: string, occurredAt: string, providerId = ALI, quantity = 16) =>
    allocationCreatedEvent({ eventId, occurredAt }, 'AL-1', { providerId, sku: 'H20', quantity });
  const release = (eventId: string, occurredAt: string) =>
    allocationReleasedEvent({ eventId, occurredAt }, 'AL-1');

  it('counts a created allocation as allocated', () => {
    expect(contribution(create('a1', day(1)))).toEqual({ [ALI_H20]: counters({ allocated: 16 }) });
  });

  it('counts a released allocation nowhere, yet still names its row', () => {
    expect(contribution(create('a1', day(1)), release('a2', day(2)))).toEqual({ [ALI_H20]: zeroCounters() });
  });

  it.each([
    ['after', day(3)],
    ['at the same time as', day(2)],
    ['before', day(1)],
  ])('is released by a release %s its creation', (_, releasedAt) => {
    expect(contribution(create('a1', day(2)), release('a2', releasedAt))).toEqual({
      [ALI_H20]: zeroCounters(),
    });
  });

  it('is not released at an asOf before its release', () => {
    const given = units(create('a1', day(1)), release('a2', day(3)));
    expect(Object.fromEntries(contributionOf(given, { asOf: day(2) }))).toEqual({
      [ALI_H20]: counters({ allocated: 16 }),
    });
  });

  it('names no row while only its release is known', () => {
    expect(contribution(release('a2', day(2)))).toEqual({});
  });

  it('counts with its latest creation when it is created twice', () => {
    expect(contribution(create('a2', day(2), TENCENT, 4), create('a1', day(1)))).toEqual({
      [ALI_H20]: zeroCounters(),
      [TENCENT_H20]: counters({ allocated: 4 }),
    });
  });
});

describe("a provider's inventory of a SKU", () => {
  const adjust = (eventId: string, occurredAt: string, delta: number) =>
    inventoryAdjustedEvent({ eventId, occurredAt }, { providerId: ALI, sku: 'H800' }, delta);

  it('sums its deltas into installed, negative ones too', () => {
    expect(
      contribution(adjust('i1', day(1), 100), adjust('i2', day(2), -30), adjust('i3', day(3), 5)),
    ).toEqual({
      [ALI_H800]: counters({ installed: 75 }),
    });
  });

  it('names its row even when the deltas cancel out', () => {
    expect(contribution(adjust('i1', day(1), 10), adjust('i2', day(2), -10))).toEqual({
      [ALI_H800]: zeroCounters(),
    });
  });

  it('may go below zero', () => {
    expect(contribution(adjust('i1', day(1), -3))).toEqual({ [ALI_H800]: counters({ installed: -3 }) });
  });

  it('keeps installed negative after a larger decommissioning, and counts overAllocated from it (README)', () => {
    const folded = contribution(adjust('i1', day(1), -5))[ALI_H800] as Counters;
    expect(toRow(ALI, 'H800', folded)).toMatchObject({
      installed: -5,
      allocated: 0,
      available: 0,
      overAllocated: 5,
    });
  });
});

describe('a provider registration', () => {
  it('names no row and counts nowhere', () => {
    const registered = providerRegisteredEvent({ eventId: 'p1', occurredAt: day(1) }, ALI);
    expect(contribution(registered)).toEqual({});
    expect(rowsNamed(units(registered)).size).toBe(0);
  });
});

describe('a row', () => {
  it('shows installed minus allocated as available when enough is installed', () => {
    expect(
      toRow(ALI, 'H20', counters({ installed: 10, allocated: 4, delivered: 2, inTransit: 3, held: 1 })),
    ).toEqual({
      providerId: ALI,
      sku: 'H20',
      installed: 10,
      allocated: 4,
      available: 6,
      overAllocated: 0,
      delivered: 2,
      inTransit: 3,
      held: 1,
      blocked: 0,
      expectedInbound: 4,
    });
  });

  it('never counts more blocked than is on its way', () => {
    expect(toRow(ALI, 'H20', counters({ inTransit: 5 }), 10)).toMatchObject({
      blocked: 5,
      expectedInbound: 0,
    });
  });

  it('takes blocked units out of what is expected inbound', () => {
    expect(toRow(ALI, 'H20', counters({ inTransit: 30, held: 12 }), 20)).toMatchObject({
      inTransit: 30,
      held: 12,
      blocked: 20,
      expectedInbound: 22,
    });
  });

  it('shows allocated minus installed as overAllocated, and nothing available, when too little is installed', () => {
    expect(toRow(ALI, 'H20', counters({ installed: 4, allocated: 10 }))).toMatchObject({
      available: 0,
      overAllocated: 6,
    });
  });

  it('shows neither available nor overAllocated when installed equals allocated', () => {
    expect(toRow(ALI, 'H20', counters({ installed: 7, allocated: 7 }))).toMatchObject({
      available: 0,
      overAllocated: 0,
    });
  });

  it('lists the fields in the order the contract shows them', () => {
    expect(Object.keys(toRow(ALI, 'H20', zeroCounters()))).toEqual([
      'providerId',
      'sku',
      'installed',
      'allocated',
      'available',
      'overAllocated',
      'delivered',
      'inTransit',
      'held',
      'blocked',
      'expectedInbound',
    ]);
  });
});

describe('the totals of rows', () => {
  it("sum the rows' available, rather than recompute it from the summed installed and allocated", () => {
    const rows: AvailabilityRow[] = [
      toRow(ALI, 'H20', counters({ installed: 10 })),
      toRow(TENCENT, 'H20', counters({ allocated: 4, inTransit: 2 }), 1),
    ];
    expect(totalsOf(rows)).toEqual({
      installed: 10,
      allocated: 4,
      available: 10,
      overAllocated: 4,
      delivered: 0,
      inTransit: 2,
      held: 0,
      blocked: 1,
      expectedInbound: 1,
    });
  });

  it('are all zero with no rows', () => {
    expect(Object.values(totalsOf([]))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('the events visible at a horizon', () => {
  const given = units(
    dispatchedEvent({ eventId: 'e1', occurredAt: day(1), recordedAt: day(1) }, 'SH-1', {
      providerId: ALI,
      sku: 'H20',
      quantity: 8,
    }),
    shipmentEvent({ eventId: 'e3', occurredAt: day(3), recordedAt: day(3) }, 'SH-1', 'delivered'),
    // Happened on day 2, but only reported on day 5.
    shipmentEvent({ eventId: 'e2', occurredAt: day(2), recordedAt: day(5) }, 'SH-1', 'held'),
  );
  const ids = (horizon: { asOf?: string; knownAt?: string }) =>
    visibleAt(given, horizon).map((e) => e.eventId);

  it('are every event, sorted, without a horizon', () => {
    expect(ids({})).toEqual(['e1', 'e2', 'e3']);
  });

  it('are those that occurred at or before asOf', () => {
    expect(ids({ asOf: day(2) })).toEqual(['e1', 'e2']);
    expect(ids({ asOf: day(2, 23) })).toEqual(['e1', 'e2']);
    expect(ids({ asOf: day(0) })).toEqual([]);
  });

  it('are those recorded at or before knownAt', () => {
    expect(ids({ knownAt: day(3) })).toEqual(['e1', 'e3']);
    expect(ids({ knownAt: day(5) })).toEqual(['e1', 'e2', 'e3']);
  });

  it('combine asOf and knownAt', () => {
    expect(ids({ asOf: day(2), knownAt: day(4) })).toEqual(['e1']);
  });

  it('sort by the lifecycle at equal occurredAt', () => {
    const tied = units(step('a', day(1), 'delivered'), step('b', day(1), 'held'), dispatch('c', day(1)));
    expect(visibleAt(tied, {}).map((e) => e.type)).toEqual([
      'shipment.dispatched',
      'shipment.held',
      'shipment.delivered',
    ]);
  });

  it('make a contribution as the shipment stood then, and as it was known then', () => {
    expect(Object.fromEntries(contributionOf(given, { asOf: day(2) }))).toEqual({
      [ALI_H20]: counters({ held: 8 }),
    });
    expect(Object.fromEntries(contributionOf(given, { asOf: day(2), knownAt: day(4) }))).toEqual({
      [ALI_H20]: counters({ inTransit: 8 }),
    });
    expect(Object.fromEntries(contributionOf(given, { asOf: day(0) }))).toEqual({});
  });
});

describe('planning the write of a unit', () => {
  const stream = 'shipment:SH-1';
  const stored = (...events: RecordedEvent[]): StoredUnit => {
    const plan = planUnit(stream, undefined, units(...events));
    if (!plan) throw new Error('a new unit always has a plan');
    return plan.next;
  };

  it('writes a new unit at version 0 with its whole contribution, and lists its rows as new', () => {
    const plan = planUnit(stream, undefined, units(dispatch('e1', day(1)), step('e2', day(2), 'held')));
    expect(plan).toMatchObject({ expectedVersion: 0, added: 2, newRows: [ALI_H20] });
    expect(plan?.next).toMatchObject({ stream, version: 2, applied: { [ALI_H20]: counters({ held: 8 }) } });
    expect(Object.fromEntries(plan?.deltas ?? [])).toEqual({ [ALI_H20]: counters({ held: 8 }) });
  });

  it('counts a duplicate within one delivery once', () => {
    const plan = planUnit(stream, undefined, units(dispatch('e1', day(1)), dispatch('e1', day(1))));
    expect(plan).toMatchObject({ added: 1, next: { version: 1 } });
    expect(plan?.next.events).toHaveLength(1);
  });

  it('returns null on a redelivery, in any order', () => {
    const unit = stored(dispatch('e1', day(1)), step('e2', day(2), 'held'));
    expect(planUnit(stream, unit, units(step('e2', day(2), 'held'), dispatch('e1', day(1))))).toBeNull();
    expect(planUnit(stream, unit, [])).toBeNull();
  });

  it('moves the counters by the difference from the contribution applied before', () => {
    const unit = stored(dispatch('e1', day(1)));
    const plan = planUnit(stream, unit, units(step('e2', day(2), 'delivered')));
    expect(plan).toMatchObject({ expectedVersion: 1, added: 1, newRows: [] });
    expect(Object.fromEntries(plan?.deltas ?? [])).toEqual({
      [ALI_H20]: counters({ inTransit: -8, delivered: 8 }),
    });
    expect(plan?.next.applied).toEqual({ [ALI_H20]: counters({ delivered: 8 }) });
  });

  it('moves the units from the old row to the new one on a re-dispatch, and lists only the new row', () => {
    const unit = stored(dispatch('e1', day(1), ALI));
    const plan = planUnit(stream, unit, units(dispatch('e2', day(2), TENCENT)));
    expect(plan?.newRows).toEqual([TENCENT_H20]);
    expect(Object.fromEntries(plan?.deltas ?? [])).toEqual({
      [ALI_H20]: counters({ inTransit: -8 }),
      [TENCENT_H20]: counters({ inTransit: 8 }),
    });
  });

  it('leaves out the rows whose contribution did not change', () => {
    const unit = stored(dispatch('e1', day(1), ALI), dispatch('e2', day(2), TENCENT));
    const plan = planUnit(stream, unit, units(step('e3', day(3), 'held')));
    expect(Object.fromEntries(plan?.deltas ?? [])).toEqual({
      [TENCENT_H20]: counters({ inTransit: -8, held: 8 }),
    });
  });

  it('still stores a late event that changes no counter, with no delta at all', () => {
    const unit = stored(dispatch('e1', day(1)), step('e3', day(3), 'delivered'));
    const plan = planUnit(stream, unit, units(step('e2', day(2), 'held')));
    expect(plan).toMatchObject({ expectedVersion: 2, added: 1, newRows: [], next: { version: 3 } });
    expect(plan?.deltas.size).toBe(0);
  });

  it('lists a row named by a zero contribution as new, with a zero delta, so that the row appears', () => {
    const plan = planUnit(stream, undefined, units(dispatch('e1', day(1)), step('e2', day(1), 'cancelled')));
    expect(plan?.newRows).toEqual([ALI_H20]);
    expect(Object.fromEntries(plan?.deltas ?? [])).toEqual({ [ALI_H20]: zeroCounters() });
  });
});

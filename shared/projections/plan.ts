import { addCounters, type Counters, isZero, zeroCounters } from './counters.ts';
import type { RowKey } from './rows.ts';
import { contributionOf, type UnitEvent } from './unit.ts';

/** A unit as the projections store holds it: every event it has folded, and what it added to each row. */
export interface StoredUnit {
  stream: string;
  /** The number of distinct events folded: grows with every new event, so it doubles as the write guard. */
  version: number;
  events: UnitEvent[];
  applied: Record<RowKey, Counters>;
}

export interface UnitPlan {
  /** The version the write is conditional on; 0 when the unit is new. */
  expectedVersion: number;
  next: StoredUnit;
  /** Per row: what to add to its counters (rows newly named get an entry even when it is zero). */
  deltas: Map<RowKey, Counters>;
  newRows: RowKey[];
  /** How many events this plan folds in for the first time. */
  added: number;
}

/**
 * Given what is stored and what arrived, what to write. Null when nothing arrived that the unit did not
 * already hold: a redelivery changes nothing.
 */
export function planUnit(
  stream: string,
  stored: StoredUnit | undefined,
  incoming: readonly UnitEvent[],
): UnitPlan | null {
  const known = new Map((stored?.events ?? []).map((e) => [e.eventId, e]));
  const before = known.size;
  for (const event of incoming) if (!known.has(event.eventId)) known.set(event.eventId, event);
  const added = known.size - before;
  if (added === 0) return null;

  const events = [...known.values()];
  const contribution = contributionOf(events);
  const previous = stored?.applied ?? {};
  const deltas = new Map<RowKey, Counters>();
  const newRows: RowKey[] = [];
  const applied: Record<RowKey, Counters> = { ...previous };
  for (const [row, counters] of contribution) {
    const old = previous[row];
    if (!old) newRows.push(row);
    const delta = addCounters(counters, old ?? zeroCounters(), -1);
    if (!old || !isZero(delta)) deltas.set(row, delta);
    applied[row] = counters;
  }
  return {
    expectedVersion: stored?.version ?? 0,
    next: { stream, version: events.length, events, applied },
    deltas,
    newRows,
    added,
  };
}

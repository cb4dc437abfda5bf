import type { RecordedEvent } from '../events/catalogue.ts';
import { planUnit, type StoredUnit, type UnitPlan } from '../projections/plan.ts';
import type { UnitEvent } from '../projections/unit.ts';
import { type Clock, sleep, systemClock } from '../util/clock.ts';
import { errorFields, type Logger } from '../util/logger.ts';

/** What the projector needs of a store; the DynamoDB store implements it, and so can an in-memory one. */
export interface UnitStore {
  getUnits(streams: readonly string[]): Promise<StoredUnit[]>;
  /**
   * Writes the plans atomically: each unit conditional on its expected version, each row's counters moved
   * by the sum of the plans' deltas. Throws `StaleUnitError` when some unit moved meanwhile.
   */
  applyAll(plans: readonly UnitPlan[]): Promise<void>;
  countProjected(count: number, lastEventRecordedAt: string, now: string): Promise<void>;
  noteFuture(occurredAt: string): Promise<void>;
}

export interface ProjectorOptions {
  logger?: Logger;
  clock?: Clock;
  /** Attempts per group of units when other writers keep winning the race. */
  maxAttempts?: number;
  /** Units read and planned together: one `BatchGetItem` takes 100 keys. */
  unitsPerGroup?: number;
  /**
   * Items per transaction: each unit's put, and one counter update per row the transaction moves. DynamoDB
   * allows 100. A group's plans are packed into as few transactions as fit. (It also caps a transaction at
   * 4 MB: units that big together fail as a group and are then written one by one.)
   */
  itemsPerTransaction?: number;
}

export interface ProjectionResult {
  /** Streams whose projection could not be brought up to date; their events must be delivered again. */
  failedStreams: Set<string>;
  /** Events folded in for the first time. */
  added: number;
}

/**
 * Projects a batch of recorded events: per stream, re-folds the unit with the new events and writes the
 * difference. Redelivered events add nothing, and arrival order never matters, because a unit's
 * contribution is recomputed from the full set of its events each time. Units are read 100 at a time and
 * written in transactions as full as DynamoDB's 100 items allow, so a busy row's counters move once per
 * transaction, not once per event.
 */
export async function projectEvents(
  store: UnitStore,
  events: readonly RecordedEvent[],
  options: ProjectorOptions = {},
): Promise<ProjectionResult> {
  const clock = options.clock ?? systemClock;
  const byStream = new Map<string, UnitEvent[]>();
  for (const { stream, ...event } of events) {
    const list = byStream.get(stream) ?? [];
    list.push(event as UnitEvent);
    byStream.set(stream, list);
  }

  // Counted as each transaction lands, so that events a group wrote before failing are counted once.
  const result: ProjectionResult = { failedStreams: new Set(), added: 0 };
  const streams = [...byStream.keys()];
  const size = options.unitsPerGroup ?? 100;
  const limits = { maxAttempts: options.maxAttempts ?? 6, items: options.itemsPerTransaction ?? 100 };
  for (let start = 0; start < streams.length; start += size) {
    const group = streams.slice(start, start + size);
    try {
      await projectGroup(store, group, byStream, limits, result);
    } catch (error) {
      // One bad unit must not hold back the others: try them one by one and isolate the failure.
      options.logger?.warn('group projection failed; retrying unit by unit', errorFields(error));
      for (const stream of group) {
        try {
          await projectGroup(store, [stream], byStream, limits, result);
        } catch (unitError) {
          result.failedStreams.add(stream);
          options.logger?.error('projection failed', { stream, ...errorFields(unitError) });
        }
      }
    }
  }

  const now = clock.now().toISOString();
  const projected = events.filter((e) => !result.failedStreams.has(e.stream));
  const latestOccurred =
    projected
      .map((e) => e.occurredAt)
      .sort()
      .at(-1) ?? '';
  if (latestOccurred > now) await store.noteFuture(latestOccurred);
  const lastRecordedAt =
    projected
      .map((e) => e.recordedAt)
      .sort()
      .at(-1) ?? '';
  if (result.added > 0) await store.countProjected(result.added, lastRecordedAt, now);
  return result;
}

/**
 * Reads a group's units, plans them, and writes the plans in as few transactions as fit. A lost race
 * re-reads the group: units a landed transaction already holds plan nothing the second time.
 */
async function projectGroup(
  store: UnitStore,
  streams: readonly string[],
  incoming: Map<string, UnitEvent[]>,
  limits: { maxAttempts: number; items: number },
  result: ProjectionResult,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const stored = new Map((await store.getUnits(streams)).map((unit) => [unit.stream, unit]));
    const plans = streams.flatMap(
      (stream) => planUnit(stream, stored.get(stream), incoming.get(stream) ?? []) ?? [],
    );
    try {
      for (const transaction of packed(plans, limits.items)) {
        await store.applyAll(transaction);
        for (const plan of transaction) result.added += plan.added;
      }
      return;
    } catch (error) {
      if (!isRace(error) || attempt >= limits.maxAttempts) throw error;
      await sleep(Math.random() * 10 * 2 ** attempt);
    }
  }
}

/**
 * Plans in order, cut into transactions of at most `maxItems` items: a put per unit and an update per row
 * the transaction moves. A busy row is updated once per transaction, so fuller transactions mean fewer
 * counter writes. A plan that alone exceeds the limit still goes in a transaction of its own.
 */
export function packed(plans: readonly UnitPlan[], maxItems: number): UnitPlan[][] {
  const transactions: UnitPlan[][] = [];
  let current: UnitPlan[] = [];
  let rows = new Set<string>();
  for (const plan of plans) {
    const withPlan = new Set([...rows, ...plan.deltas.keys()]);
    if (current.length > 0 && current.length + 1 + withPlan.size > maxItems) {
      transactions.push(current);
      current = [];
      rows = new Set(plan.deltas.keys());
    } else rows = withPlan;
    current.push(plan);
  }
  if (current.length > 0) transactions.push(current);
  return transactions;
}

/** Lost to a concurrent writer: a stale unit version, or DynamoDB's transaction conflict. */
function isRace(error: unknown): boolean {
  const e = error as { name?: string; CancellationReasons?: { Code?: string }[] };
  return (
    e.name === 'StaleUnitError' ||
    (e.name === 'TransactionCanceledException' &&
      (e.CancellationReasons ?? []).some((r) => r.Code === 'TransactionConflict')) ||
    e.name === 'TransactionConflictException'
  );
}

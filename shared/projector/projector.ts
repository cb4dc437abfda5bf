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
  /** Units written per transaction (each also brings the rows it moves; DynamoDB allows 100 items). */
  unitsPerTransaction?: number;
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
 * contribution is recomputed from the full set of its events each time. Units are read in one batch and
 * written in shared transactions, so a busy row's counters move once per batch, not once per event.
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

  const result: ProjectionResult = { failedStreams: new Set(), added: 0 };
  const streams = [...byStream.keys()];
  const size = options.unitsPerTransaction ?? 25;
  for (let start = 0; start < streams.length; start += size) {
    const group = streams.slice(start, start + size);
    try {
      result.added += await projectGroup(store, group, byStream, options.maxAttempts ?? 6);
    } catch (error) {
      // One bad unit must not hold back the others: try them one by one and isolate the failure.
      options.logger?.warn('group projection failed; retrying unit by unit', errorFields(error));
      for (const stream of group) {
        try {
          result.added += await projectGroup(store, [stream], byStream, options.maxAttempts ?? 6);
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

async function projectGroup(
  store: UnitStore,
  streams: readonly string[],
  incoming: Map<string, UnitEvent[]>,
  maxAttempts: number,
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const stored = new Map((await store.getUnits(streams)).map((unit) => [unit.stream, unit]));
    const plans = streams.flatMap(
      (stream) => planUnit(stream, stored.get(stream), incoming.get(stream) ?? []) ?? [],
    );
    if (plans.length === 0) return 0;
    try {
      await store.applyAll(plans);
      return plans.reduce((sum, plan) => sum + plan.added, 0);
    } catch (error) {
      if (!isRace(error) || attempt >= maxAttempts) throw error;
      await sleep(Math.random() * 10 * 2 ** attempt);
    }
  }
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

import type { RecordedEvent } from '../events/catalogue.ts';
import { planUnit, type StoredUnit, type UnitPlan } from '../projections/plan.ts';
import type { UnitEvent } from '../projections/unit.ts';
import { type Clock, sleep, systemClock } from '../util/clock.ts';
import { errorFields, type Logger } from '../util/logger.ts';

/** What the projector needs of a store; the DynamoDB store implements it, and so can an in-memory one. */
export interface UnitStore {
  getUnit(stream: string): Promise<StoredUnit | undefined>;
  /** Throws `StaleUnitError` when the unit's version is no longer `plan.expectedVersion`. */
  apply(plan: UnitPlan): Promise<void>;
  countProjected(count: number, lastEventRecordedAt: string, now: string): Promise<void>;
  noteFuture(occurredAt: string): Promise<void>;
}

export interface ProjectorOptions {
  logger?: Logger;
  clock?: Clock;
  /** Attempts per unit when other writers keep winning the race. */
  maxAttempts?: number;
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
 * contribution is recomputed from the full set of its events each time.
 */
export async function projectEvents(
  store: UnitStore,
  events: readonly RecordedEvent[],
  options: ProjectorOptions = {},
): Promise<ProjectionResult> {
  const clock = options.clock ?? systemClock;
  const maxAttempts = options.maxAttempts ?? 6;
  const byStream = new Map<string, UnitEvent[]>();
  for (const { stream, ...event } of events) {
    const list = byStream.get(stream) ?? [];
    list.push(event as UnitEvent);
    byStream.set(stream, list);
  }

  const result: ProjectionResult = { failedStreams: new Set(), added: 0 };
  let lastRecordedAt = '';
  for (const [stream, incoming] of byStream) {
    try {
      result.added += await projectStream(store, stream, incoming, maxAttempts);
      const now = clock.now().toISOString();
      const latest =
        incoming
          .map((e) => e.occurredAt)
          .sort()
          .at(-1) ?? '';
      if (latest > now) await store.noteFuture(latest);
      for (const e of incoming) if (e.recordedAt > lastRecordedAt) lastRecordedAt = e.recordedAt;
    } catch (error) {
      result.failedStreams.add(stream);
      options.logger?.warn('projection failed', { stream, ...errorFields(error) });
    }
  }
  if (result.added > 0) await store.countProjected(result.added, lastRecordedAt, clock.now().toISOString());
  return result;
}

async function projectStream(
  store: UnitStore,
  stream: string,
  incoming: UnitEvent[],
  maxAttempts: number,
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const plan = planUnit(stream, await store.getUnit(stream), incoming);
    if (!plan) return 0;
    try {
      await store.apply(plan);
      return plan.added;
    } catch (error) {
      const retryable =
        (error as Error).name === 'StaleUnitError' ||
        (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons?.some(
          (r) => r.Code === 'TransactionConflict',
        );
      if (!retryable || attempt >= maxAttempts) throw error;
      await sleep(Math.random() * 20 * 2 ** attempt);
    }
  }
}

import { type FileHandle, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SQSBatchResponse } from 'aws-lambda';
import type { Delivery } from '../recorder/recorder.ts';
import { type Clock, type IdGenerator, sleep, systemClock, ulidGenerator } from '../util/clock.ts';
import { appendJsonLines, readJsonLines } from '../util/json-lines.ts';
import { errorFields, type Logger } from '../util/logger.ts';
import { type BusEntry, type BusEnvelope, busEnvelopeOf } from './envelope.ts';
import { matchesPattern } from './pattern-matcher.ts';
import { entrySize, PUT_EVENTS_MAX_BYTES, type PutEventsResultEntry } from './publisher.ts';
import { RECORDER_DELIVERY, type RouteDefinition } from './routes.ts';

/** The dead-letter file; a redrive first renames it `dlq.redrive-<ms>.ndjson`, so a crash leaves that aside. */
const DEAD_LETTERS = 'dlq.ndjson';

export type Target = (deliveries: Delivery[]) => Promise<SQSBatchResponse>;

export interface LocalBusOptions {
  dir: string;
  routes: readonly RouteDefinition[];
  targets: Record<RouteDefinition['target'], Target>;
  logger?: Logger;
  /** Messages per delivery, as an SQS event source's batch size. */
  batchSize?: number;
  /**
   * Deliveries in flight at once, as the concurrent batches an SQS event source hands to Lambda (which
   * scales much further; one process on a small machine gains little beyond a few). Default 4.
   */
  concurrency?: number;
  /** Deliveries of one message before it goes to the dead-letter file, as an SQS redrive policy. */
  maxReceiveCount?: number;
  retryDelayMs?: number;
  /** Journal size past which a fully delivered journal is truncated. */
  compactBytes?: number;
  clock?: Clock;
  newId?: IdGenerator;
}

interface JournalRecord {
  id: string;
  time: string;
  entry: BusEntry;
}

interface Pending {
  record: JournalRecord;
  /** Byte offset just past this record's line: where the cursor moves once it is delivered. */
  end: number;
}

/** A batch handed to the targets; the cursor passes it only once it and every batch before it settled. */
interface InFlight {
  records: Pending[];
  settled: boolean;
}

interface Append {
  records: JournalRecord[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * EventBridge and SQS for the local runtime, as durable as they are: `putEvents` resolves only once the
 * entries are in the journal on disk (fsync'd, with concurrent calls sharing one fsync), and delivery
 * moves a cursor that is saved after each batch, so a crash at any point redelivers rather than loses.
 */
export class LocalBus {
  /** Accepted and not yet delivered, in journal order; the first ones may be in flight. */
  private readonly pending: Pending[] = [];
  private readonly inFlight: InFlight[] = [];
  private readonly deliveries = new Set<Promise<void>>();
  /** Cursor saves and compaction, one at a time and in order. */
  private saving: Promise<void> = Promise.resolve();
  private readonly appends: Append[] = [];
  private flushing = false;
  private size = 0;
  private cursor = 0;
  private stopping = false;
  private paused = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private deadLettered = 0;
  private readonly clock: Clock;
  private readonly newId: IdGenerator;

  private constructor(
    private readonly options: LocalBusOptions,
    private readonly journal: FileHandle,
  ) {
    this.clock = options.clock ?? systemClock;
    this.newId = options.newId ?? ulidGenerator();
  }

  static async open(options: LocalBusOptions): Promise<LocalBus> {
    const path = join(options.dir, 'journal.ndjson');
    const handle = await open(path, 'a+');
    const bus = new LocalBus(options, handle);
    await bus.recover(path);
    return bus;
  }

  /** Reads back what was accepted but not yet delivered, and cuts off a line torn by a crash mid-write. */
  private async recover(path: string): Promise<void> {
    const content = await readFile(path);
    this.size = content.length;
    const saved = await readFile(this.cursorPath(), 'utf8').then(
      (text) => (JSON.parse(text) as { offset: number }).offset,
      () => 0,
    );
    this.cursor = saved <= content.length ? saved : 0;
    let start = this.cursor;
    while (start < content.length) {
      const newline = content.indexOf(0x0a, start);
      if (newline === -1) {
        // Never acknowledged: the append of a torn line had not returned when the process died.
        await this.journal.truncate(start);
        this.size = start;
        this.options.logger?.warn('local bus dropped a torn journal tail', { bytes: content.length - start });
        break;
      }
      const line = content.subarray(start, newline).toString('utf8');
      if (line.trim()) this.pending.push({ record: JSON.parse(line) as JournalRecord, end: newline + 1 });
      start = newline + 1;
    }
    if (this.pending.length > 0)
      this.options.logger?.info('local bus will redeliver', { pending: this.pending.length });
    this.deadLettered = await this.countDeadLetters();
  }

  /** Messages in the dead-letter file, and in any file a crash left aside in the middle of a redrive. */
  private async countDeadLetters(): Promise<number> {
    let count = 0;
    for (const file of await this.deadLetterFiles()) count += (await this.readDeadLetters(file)).length;
    return count;
  }

  private readDeadLetters(file: string): Promise<{ record: JournalRecord }[]> {
    return readJsonLines(join(this.options.dir, file), (line) =>
      this.options.logger?.warn('local bus skipped a torn dead-letter line', { file, bytes: line.length }),
    );
  }

  private async deadLetterFiles(): Promise<string[]> {
    return (await readdir(this.options.dir)).filter((f) => /^dlq(\.redrive-\d+)?\.ndjson$/.test(f)).sort();
  }

  /** `PutEvents`: per-entry results, entries durable on disk before this resolves. */
  async putEvents(
    entries: BusEntry[],
  ): Promise<{ FailedEntryCount: number; Entries: PutEventsResultEntry[] }> {
    const results: PutEventsResultEntry[] = [];
    const records: JournalRecord[] = [];
    const time = this.clock.now().toISOString();
    for (const entry of entries) {
      const problem = checkEntry(entry);
      if (problem) {
        results.push(problem);
        continue;
      }
      const record = { id: this.newId(), time, entry };
      records.push(record);
      results.push({ EventId: record.id });
    }
    if (records.length > 0) {
      if (this.stopping)
        throw Object.assign(new Error('local bus is stopping'), { name: 'ServiceUnavailable' });
      await new Promise<void>((resolve, reject) => {
        this.appends.push({ records, resolve, reject });
        void this.flush();
      });
    }
    return { FailedEntryCount: results.filter((r) => r.ErrorCode).length, Entries: results };
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.appends.length > 0) {
        const group = this.appends.splice(0);
        const lines = group.flatMap((a) =>
          a.records.map((r) => Buffer.from(`${JSON.stringify(r)}\n`, 'utf8')),
        );
        try {
          await this.journal.write(Buffer.concat(lines));
          await this.journal.datasync();
        } catch (error) {
          this.size = (await this.journal.stat()).size;
          for (const append of group) append.reject(error);
          continue;
        }
        let offset = this.size;
        let line = 0;
        for (const append of group) {
          for (const record of append.records) {
            offset += (lines[line++] as Buffer).length;
            this.pending.push({ record, end: offset });
          }
          append.resolve();
        }
        this.size = offset;
        this.wake?.();
      }
    } finally {
      this.flushing = false;
    }
  }

  start(): void {
    this.loop ??= this.run();
  }

  /**
   * Hands out batches in journal order, up to `concurrency` at once. Batches may settle in any order (the
   * recorder does not care), but the cursor only moves over a prefix of settled ones, so a crash redelivers
   * whatever was not settled, and perhaps some that were: at least once, as SQS.
   */
  private async run(): Promise<void> {
    const batchSize = this.options.batchSize ?? RECORDER_DELIVERY.batchSize;
    const concurrency = this.options.concurrency ?? 4;
    while (!this.stopping) {
      const handedOut = this.inFlight.reduce((sum, batch) => sum + batch.records.length, 0);
      const unsettled = this.inFlight.filter((batch) => !batch.settled).length;
      if (!this.paused && unsettled < concurrency && this.pending.length > handedOut) {
        this.dispatch({ records: this.pending.slice(handedOut, handedOut + batchSize), settled: false });
        continue;
      }
      // Woken by an append, a settled batch or stop(); set synchronously after the check, so none is missed.
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
    await Promise.all(this.deliveries);
    await this.saving;
  }

  /**
   * Hands out no more batches until `resumeDelivery()`, as disabling an SQS event source mapping does: entries
   * are still taken and journaled, and batches already handed out finish. The benchmarks time the API alone
   * this way, then the pipeline alone on what piled up.
   */
  pauseDelivery(): void {
    this.paused = true;
  }

  resumeDelivery(): void {
    this.paused = false;
    this.wake?.();
  }

  private dispatch(batch: InFlight): void {
    this.inFlight.push(batch);
    const delivery = this.deliver(batch.records.map((p) => p.record))
      .then((settled) => {
        batch.settled = settled;
        if (settled) this.advance();
      })
      .catch((error: unknown) => {
        // Only the dead-letter file's own I/O can fail here: the batch stays in the journal and waits for a
        // restart, as a message whose visibility timeout never ends would.
        this.options.logger?.error('local bus delivery failed', errorFields(error));
      })
      .finally(() => {
        this.deliveries.delete(delivery);
        this.wake?.();
      });
    this.deliveries.add(delivery);
  }

  /** Moves the cursor over the settled batches at the head of the line, and saves it. */
  private advance(): void {
    let count = 0;
    let end = this.cursor;
    while (this.inFlight[0]?.settled) {
      const batch = this.inFlight.shift() as InFlight;
      count += batch.records.length;
      end = (batch.records.at(-1) as Pending).end;
    }
    if (count === 0) return;
    this.pending.splice(0, count);
    this.cursor = end;
    this.saving = this.saving
      .then(() => this.saveCursor(this.cursor))
      .then(() => this.compactIfIdle())
      .catch((error: unknown) => {
        // The cursor on disk lags behind: a restart redelivers a little more, which the recorder absorbs.
        this.options.logger?.warn('local bus could not save its cursor', errorFields(error));
      });
  }

  /** Delivers one batch to every route it matches; false when stopped before the batch was settled. */
  private async deliver(batch: JournalRecord[]): Promise<boolean> {
    for (const route of this.options.routes) {
      const target = this.options.targets[route.target];
      let waiting = batch.filter((record) =>
        matchesPattern(route.pattern, envelopeOf(record) as unknown as Record<string, unknown>),
      );
      const receives = new Map<string, number>();
      for (let attempt = 1; waiting.length > 0; attempt++) {
        if (this.stopping) return false;
        if (attempt > 1)
          await sleep(Math.min(2_000, (this.options.retryDelayMs ?? 100) * 2 ** (attempt - 2)));
        for (const record of waiting) receives.set(record.id, (receives.get(record.id) ?? 0) + 1);
        let failed: Set<string>;
        try {
          const response = await target(
            waiting.map((r) => ({ messageId: r.id, body: JSON.stringify(envelopeOf(r)) })),
          );
          failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
        } catch (error) {
          this.options.logger?.warn('local bus target failed', { route: route.id, ...errorFields(error) });
          failed = new Set(waiting.map((r) => r.id));
        }
        waiting = waiting.filter((r) => failed.has(r.id));
        const exhausted = waiting.filter(
          (r) =>
            (receives.get(r.id) ?? 0) >= (this.options.maxReceiveCount ?? RECORDER_DELIVERY.maxReceiveCount),
        );
        if (exhausted.length > 0) {
          await this.deadLetter(route.id, exhausted);
          waiting = waiting.filter((r) => !exhausted.includes(r));
        }
      }
    }
    return true;
  }

  private async deadLetter(route: string, records: JournalRecord[]): Promise<void> {
    const at = this.clock.now().toISOString();
    await appendJsonLines(
      join(this.options.dir, DEAD_LETTERS),
      records.map((record) => ({ route, record, at })),
    );
    this.deadLettered += records.length;
    this.options.logger?.error('local bus dead-lettered messages', { route, count: records.length });
  }

  /**
   * Moves dead-lettered messages back into the journal for another round of delivery, as SQS's redrive
   * does. The dead-letter file is first renamed aside, so a message dead-lettered meanwhile lands in a new
   * file instead of being erased; a file left aside by a crash is picked up by the next redrive. Safe to
   * repeat: the recorder is idempotent. Returns how many messages were moved.
   */
  async redrive(): Promise<number> {
    const aside = join(this.options.dir, `dlq.redrive-${Date.now()}.ndjson`);
    await rename(join(this.options.dir, DEAD_LETTERS), aside).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    let moved = 0;
    const files = (await this.deadLetterFiles()).filter((f) => f !== DEAD_LETTERS);
    for (const file of files) {
      const path = join(this.options.dir, file);
      const entries = (await this.readDeadLetters(file)).map(({ record }) => record.entry);
      if (entries.length > 0) await this.putEvents(entries);
      await rm(path);
      moved += entries.length;
      this.deadLettered = Math.max(0, this.deadLettered - entries.length);
    }
    return moved;
  }

  private cursorPath(): string {
    return join(this.options.dir, 'cursor.json');
  }

  private async saveCursor(offset: number): Promise<void> {
    const tmp = `${this.cursorPath()}.tmp`;
    await writeFile(tmp, JSON.stringify({ offset }));
    await rename(tmp, this.cursorPath());
  }

  /** Truncates a fully delivered journal; the cursor is reset first, so a crash in between only redelivers. */
  private async compactIfIdle(): Promise<void> {
    const limit = this.options.compactBytes ?? 16 * 1024 * 1024;
    if (this.pending.length > 0 || this.size < limit || this.flushing || this.appends.length > 0) return;
    this.flushing = true;
    try {
      await this.saveCursor(0);
      await this.journal.truncate(0);
      this.size = 0;
      this.cursor = 0;
    } finally {
      this.flushing = false;
    }
    void this.flush();
  }

  /** `deadLettered`: messages waiting in the dead-letter files, as an SQS dead-letter queue's depth. */
  stats(): { pending: number; oldestAcceptedAt?: string; deadLettered: number; journalBytes: number } {
    return {
      pending: this.pending.length,
      oldestAcceptedAt: this.pending[0]?.record.time,
      deadLettered: this.deadLettered,
      journalBytes: this.size,
    };
  }

  /** Stops delivering after the batch in hand; entries not yet delivered stay in the journal for next time. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    while (this.flushing || this.appends.length > 0) await sleep(5);
    await this.journal.close();
  }
}

function envelopeOf(record: JournalRecord): BusEnvelope {
  return busEnvelopeOf(record.entry, record.id, record.time);
}

/** The checks EventBridge makes of an entry before taking it. */
function checkEntry(entry: BusEntry): PutEventsResultEntry | undefined {
  if (!entry.Source || !entry.DetailType) {
    return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Source and DetailType are required' };
  }
  if (entrySize(entry) > PUT_EVENTS_MAX_BYTES) {
    return { ErrorCode: 'InvalidArgument', ErrorMessage: 'entry is larger than 256 KiB' };
  }
  try {
    const detail: unknown = JSON.parse(entry.Detail);
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail))
      throw new Error('not an object');
  } catch {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is not a JSON object' };
  }
  return undefined;
}

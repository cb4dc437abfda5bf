import { sleep } from '../util/clock.ts';
import type { BusEntry } from './envelope.ts';

/** The part of `PutEvents` the publisher relies on; EventBridge's client and the local bus both provide it. */
export interface PutEventsResultEntry {
  EventId?: string;
  ErrorCode?: string;
  ErrorMessage?: string;
}
export type PutEventsPort = (
  entries: BusEntry[],
) => Promise<{ FailedEntryCount?: number; Entries?: PutEventsResultEntry[] }>;

export interface PublishFailure {
  index: number;
  code: string;
  message: string;
}

export interface PublishResult {
  accepted: number[];
  failed: PublishFailure[];
}

export interface PublisherOptions {
  /** Attempts per entry, the first included. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** EventBridge's limits on one `PutEvents` call. */
export const PUT_EVENTS_MAX_ENTRIES = 10;
export const PUT_EVENTS_MAX_BYTES = 256 * 1024;

const RETRYABLE_ENTRY_CODES = new Set([
  'InternalFailure',
  'InternalException',
  'ThrottlingException',
  'ServiceUnavailable',
]);
const RETRYABLE_ERROR_NAMES = new Set([
  'ThrottlingException',
  'InternalException',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
]);

/** The size EventBridge charges an entry: its strings' UTF-8 bytes, plus 14 for the time. */
export const entrySize = (e: BusEntry): number =>
  Buffer.byteLength(e.Source) + Buffer.byteLength(e.DetailType) + Buffer.byteLength(e.Detail) + 14;

/**
 * Hands entries to the bus without losing or inventing any: chunks within `PutEvents` limits, retries
 * only the entries that failed, and only for codes that can succeed later, with capped exponential
 * backoff and full jitter. What still fails is returned by index, so a caller resends only those.
 *
 * @example
 * const publisher = new EventBridgePublisher((entries) => client.send(new PutEventsCommand({ Entries: entries })));
 * const { accepted, failed } = await publisher.publish(entries);
 */
export class EventBridgePublisher {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly putEvents: PutEventsPort,
    options: PublisherOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 4;
    this.baseDelayMs = options.baseDelayMs ?? 50;
    this.maxDelayMs = options.maxDelayMs ?? 1000;
    this.sleep = options.sleep ?? sleep;
  }

  async publish(entries: readonly BusEntry[]): Promise<PublishResult> {
    const results = await Promise.all(chunk(entries).map((indices) => this.publishChunk(entries, indices)));
    const accepted = results.flatMap((r) => r.accepted).sort((a, b) => a - b);
    const failed = results.flatMap((r) => r.failed).sort((a, b) => a.index - b.index);
    return { accepted, failed };
  }

  private async publishChunk(entries: readonly BusEntry[], indices: number[]): Promise<PublishResult> {
    const accepted: number[] = [];
    const failed: PublishFailure[] = [];
    let pending = indices;
    let lastError: PublishFailure | undefined;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > this.maxAttempts) {
        for (const index of pending)
          failed.push({ ...(lastError ?? { code: 'Unknown', message: '' }), index });
        break;
      }
      if (attempt > 1) await this.sleep(this.backoff(attempt - 1));
      let response: Awaited<ReturnType<PutEventsPort>>;
      try {
        response = await this.putEvents(pending.map((i) => entries[i] as BusEntry));
      } catch (error) {
        const code = errorCode(error);
        const failure = { index: -1, code, message: 'the event bus did not answer' };
        if (!isRetryableError(error)) {
          for (const index of pending) failed.push({ ...failure, index });
          break;
        }
        lastError = failure;
        continue;
      }
      const next: number[] = [];
      pending.forEach((index, position) => {
        const result = response.Entries?.[position];
        if (result?.EventId && !result.ErrorCode) {
          accepted.push(index);
          return;
        }
        const code = result?.ErrorCode ?? 'MissingResult';
        const failure = { index, code, message: result?.ErrorMessage ?? 'no result for this entry' };
        // An entry without a result is treated like a passing failure: resending is safe, ids are idempotent.
        if (RETRYABLE_ENTRY_CODES.has(code) || !result) {
          lastError = failure;
          next.push(index);
        } else {
          failed.push(failure);
        }
      });
      pending = next;
    }
    return { accepted, failed };
  }

  private backoff(retry: number): number {
    const cap = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (retry - 1));
    return Math.random() * cap;
  }
}

/** Groups entry indices so that no group passes 10 entries or 256 KiB. */
export function chunk(entries: readonly BusEntry[]): number[][] {
  const groups: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  entries.forEach((entry, index) => {
    const size = entrySize(entry);
    if (
      current.length === PUT_EVENTS_MAX_ENTRIES ||
      (current.length > 0 && bytes + size > PUT_EVENTS_MAX_BYTES)
    ) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(index);
    bytes += size;
  });
  if (current.length > 0) groups.push(current);
  return groups;
}

function errorCode(error: unknown): string {
  return (error as { name?: string } | undefined)?.name ?? 'Error';
}

function isRetryableError(error: unknown): boolean {
  const e = error as
    | { name?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } }
    | undefined;
  if (!e) return false;
  if (e.$retryable || RETRYABLE_ERROR_NAMES.has(e.name ?? '')) return true;
  const status = e.$metadata?.httpStatusCode;
  // No HTTP status at all means the request never got an answer (network, DNS, socket): worth another try.
  return status === undefined
    ? !(e.name ?? '').endsWith('ValidationException')
    : status >= 500 || status === 429;
}

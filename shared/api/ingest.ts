import type { Principal } from '../auth/keys.ts';
import { type AcceptedEvent, toBusEntry } from '../bus/envelope.ts';
import type { PublishResult } from '../bus/publisher.ts';
import {
  type DomainEvent,
  EventEnvelope,
  EventInput,
  familyOf,
  providerNamedBy,
  streamOf,
} from '../events/catalogue.ts';
import { contentHash } from '../events/fingerprint.ts';
import type { StoredUnit } from '../projections/plan.ts';
import { repeatedKeysIn } from './json-keys.ts';
import { ProblemError, type ProblemIssue, validationProblem } from './problem.ts';
import { issuesOf } from './validation.ts';

export const MAX_BATCH = 100;
export const MAX_EVENT_BYTES = 64 * 1024;

export interface IngestDeps {
  hashesOf(eventIds: readonly string[]): Promise<Map<string, string>>;
  /** Events this process handed to the bus lately, which the store may not hold yet. */
  recent?: RecentlyAccepted;
  getUnit(stream: string): Promise<StoredUnit | undefined>;
  publish(entries: ReturnType<typeof toBusEntry>[]): Promise<PublishResult>;
  busName?: string;
  /** False once the request has been answered at its budget: then nothing more may go to the bus. */
  inTime?: () => boolean;
}

/** Thrown instead of publishing when the request was already answered at its budget. */
export class PastBudget extends Error {
  override readonly name = 'PastBudget';
}

export interface Receipt {
  eventId: string;
  type: string;
  status: 'accepted';
  href: string;
}

/** An event not taken (the bus refused it after retries, or the store or bus was out): to be resent. */
export interface FailedEntry {
  index: number;
  /** The partner's, or the one the server made: resent under it, an event that did get through counts once. */
  eventId: string;
  type: string;
  code: string;
  message: string;
}

/** Deeper than any event's shape needs by far; deep enough input would overflow the stack of every walk. */
export const MAX_BODY_DEPTH = 32;

/**
 * Splits a body, parsed from `text`, into its events: one event, or `{ "events": [...] }` with 1 to 100.
 * `text` shows what the parsed body no longer does: a key written twice in one object, which is refused.
 */
export function eventsOf(
  body: unknown,
  text: string,
): { raw: unknown[]; batch: boolean; envelopeIssues: ProblemIssue[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw validationProblem('The body must be an event object or { "events": [...] }.', [
      { path: '', message: 'must be an object' },
    ]);
  }
  const flaw = shapeFlawOf(body, MAX_BODY_DEPTH);
  if (flaw === 'too-deep') {
    throw validationProblem(`The body nests objects or arrays more than ${MAX_BODY_DEPTH} deep.`, [
      { path: '', message: `must not nest more than ${MAX_BODY_DEPTH} levels deep` },
    ]);
  }
  if (flaw) {
    throw validationProblem('The body holds text that cannot be written in UTF-8.', [
      {
        path: flaw.path,
        message: 'must not hold an unpaired UTF-16 surrogate (an escape from \\ud800 to \\udfff)',
      },
    ]);
  }
  const repeated = repeatedKeysIn(text);
  if (repeated.length > 0) {
    const batch = 'events' in body;
    throw validationProblem(
      'The body writes a key twice in one object; JSON keeps only the last.',
      repeated.map((path) =>
        batch && path[0] === 'events' && typeof path[1] === 'number'
          ? { index: path[1], path: path.slice(2).join('.'), message: 'is written twice' }
          : { path: path.join('.'), message: 'is written twice' },
      ),
    );
  }
  if (!('events' in body)) return { raw: [body], batch: false, envelopeIssues: [] };
  const { events, ...rest } = body as { events: unknown };
  const issues: ProblemIssue[] = Object.keys(rest).map((key) => ({
    path: key,
    message: 'is not a known field',
  }));
  if (!Array.isArray(events)) issues.push({ path: 'events', message: 'must be an array' });
  else if (events.length < 1 || events.length > MAX_BATCH)
    issues.push({ path: 'events', message: `must hold 1 to ${MAX_BATCH} events, not ${events.length}` });
  // Without a list of events there is nothing more to judge. With one beside stray fields, its events are
  // judged too, so that one answer lists every issue.
  if (!Array.isArray(events) || issues.length > Object.keys(rest).length)
    throw validationProblem('The batch is not well formed.', issues);
  return { raw: events, batch: true, envelopeIssues: issues };
}

/**
 * Validates every event, all or nothing, reporting every issue found, with `envelopeIssues` (those of the
 * batch around them) first.
 */
export function validateAll(
  raw: readonly unknown[],
  batch: boolean,
  envelopeIssues: readonly ProblemIssue[] = [],
): DomainEvent[] {
  const tooLarge = raw.flatMap((event, index) =>
    Buffer.byteLength(JSON.stringify(event) ?? '') > MAX_EVENT_BYTES ? [index] : [],
  );
  if (tooLarge.length > 0) {
    throw new ProblemError(
      'payload-too-large',
      413,
      `An event may be at most ${MAX_EVENT_BYTES} bytes serialized.`,
      {
        errors: tooLarge.map((index) => ({
          ...(batch ? { index } : {}),
          path: '',
          message: 'event is too large',
        })),
      },
    );
  }
  const issues: ProblemIssue[] = [...envelopeIssues];
  const events: DomainEvent[] = [];
  raw.forEach((candidate, index) => {
    const parsed = EventInput.safeParse(candidate, { reportInput: true });
    if (parsed.success) {
      const flaws = textIssuesOf(parsed.data.data, ['data']);
      if (flaws.length === 0) events.push(parsed.data as DomainEvent);
      for (const flaw of flaws) issues.push({ ...(batch ? { index } : {}), ...flaw });
    } else {
      // Without a known type there is no schema for `data`, but the rest of the envelope can still be judged.
      const unknownType = parsed.error.issues.some((i) => i.path.length === 1 && i.path[0] === 'type');
      const error = unknownType
        ? (EventEnvelope.safeParse(candidate, { reportInput: true }).error ?? parsed.error)
        : parsed.error;
      const found = issuesOf(error, batch ? index : undefined);
      // Blank or control-laden text is reported with the schema's issues, not only once they are mended;
      // a string the schema already faults (or one inside a field it faults) is not reported twice.
      const faulted = found.map((i) => i.path);
      const data = (candidate as { data?: unknown } | null)?.data;
      const flaws = textIssuesOf(data, ['data']).filter(
        (flaw) => !faulted.some((path) => flaw.path === path || flaw.path.startsWith(`${path}.`)),
      );
      issues.push(...found, ...flaws.map((flaw) => ({ ...(batch ? { index } : {}), ...flaw })));
    }
  });
  if (issues.length > envelopeIssues.length) {
    const n = new Set(issues.slice(envelopeIssues.length).map((i) => i.index ?? 0)).size;
    throw validationProblem(`${n} event${n === 1 ? ' is' : 's are'} invalid; nothing was accepted.`, issues);
  }
  if (issues.length > 0) throw validationProblem('The batch is not well formed.', issues);
  return events;
}

/**
 * Accepts validated events for a partner under `eventIds` (the partner's, or made by the caller for events
 * without one): checks its scope, refuses an id reused for other content (within the body, or against what
 * is recorded), and hands the rest to the bus. Events already recorded with the same content are
 * acknowledged without being sent again.
 */
export async function ingest(
  deps: IngestDeps,
  principal: Principal,
  events: DomainEvent[],
  eventIds: readonly string[],
  batch: boolean,
  now: Date,
): Promise<{ status: 202 | 503; receipts: Receipt[]; failed: FailedEntry[] }> {
  const source = principal.partnerId ?? principal.keyId;
  const acceptedAt = now.toISOString();
  const accepted: AcceptedEvent[] = events.map((event, index) => ({
    ...event,
    eventId: eventIds[index] as string,
    source,
    acceptedAt,
  }));
  await checkScope(deps, principal, accepted, batch);

  const hashes = accepted.map((e) => contentHash(e));
  const at = (index: number) => (batch ? { index } : {});
  const conflicts: ProblemIssue[] = [];
  const firstIndex = new Map<string, number>();
  accepted.forEach((event, index) => {
    const first = firstIndex.get(event.eventId);
    if (first === undefined) firstIndex.set(event.eventId, index);
    else if (hashes[first] !== hashes[index])
      conflicts.push({
        ...at(index),
        path: 'eventId',
        message: `is used by event ${first} of this batch with other content`,
      });
  });
  const supplied = events.flatMap((e) => (e.eventId ? [e.eventId] : []));
  const recorded = supplied.length > 0 ? await deps.hashesOf(supplied) : new Map<string, string>();
  // Accepted moments ago and still on its way to the store: as much a conflict as a recorded one.
  const inFlight =
    deps.recent?.lookup(
      supplied.filter((id) => !recorded.has(id)),
      now,
    ) ?? new Map<string, { hash: string; onBus: boolean }>();
  accepted.forEach((event, index) => {
    const existing = recorded.get(event.eventId);
    const pending = inFlight.get(event.eventId)?.hash;
    if (existing !== undefined && existing !== hashes[index])
      conflicts.push({
        ...at(index),
        path: 'eventId',
        message: 'was already recorded with other content, or from another partner',
      });
    else if (pending !== undefined && pending !== hashes[index])
      conflicts.push({
        ...at(index),
        path: 'eventId',
        message: 'was already accepted with other content, or from another partner',
      });
  });
  if (conflicts.length > 0) {
    throw new ProblemError('conflict', 409, 'An eventId is reused for another event; nothing was accepted.', {
      errors: conflicts,
    });
  }

  // What the store or the bus already holds with this content is acknowledged, not sent again. A copy
  // whose first is still being handed over is sent too: that handover may yet fail, and a 202 is a promise.
  const toSend = accepted.filter(
    (event, index) =>
      firstIndex.get(event.eventId) === index &&
      !recorded.has(event.eventId) &&
      !inFlight.get(event.eventId)?.onBus,
  );
  const hashOf = new Map(accepted.map((event, index) => [event.eventId, hashes[index] as string]));
  const sending = toSend.map((e) => [e.eventId, hashOf.get(e.eventId) as string] as const);
  if (deps.inTime && !deps.inTime()) throw new PastBudget('answered at its budget before publishing');
  deps.recent?.claim(sending, now);
  let result: PublishResult | undefined;
  try {
    result =
      toSend.length > 0 ? await deps.publish(toSend.map((e) => toBusEntry(e, deps.busName))) : undefined;
  } catch (error) {
    deps.recent?.settle(
      [],
      sending.map(([id]) => id),
      now,
    );
    throw error;
  }
  const failedIds = new Map((result?.failed ?? []).map((f) => [toSend[f.index]?.eventId, f]));
  deps.recent?.settle(
    sending.filter(([id]) => !failedIds.has(id)),
    [...failedIds.keys()].filter((id): id is string => id !== undefined),
    now,
  );
  const receipts: Receipt[] = [];
  const failed: FailedEntry[] = [];
  accepted.forEach((event, index) => {
    const failure = failedIds.get(event.eventId);
    if (failure) {
      failed.push({
        index,
        eventId: event.eventId,
        type: event.type,
        code: failure.code,
        message: 'the event bus did not take this event; send it again',
      });
      return;
    }
    receipts.push({
      eventId: event.eventId,
      type: event.type,
      status: 'accepted',
      href: `/v1/events/${event.eventId}`,
    });
  });
  return { status: failed.length > 0 ? 503 : 202, receipts, failed };
}

async function checkScope(
  deps: IngestDeps,
  principal: Principal,
  events: readonly AcceptedEvent[],
  batch: boolean,
): Promise<void> {
  const issues: ProblemIssue[] = [];
  const at = (index: number) => (batch ? { index } : {});
  // A follow-up event (held, delivered, released...) names no provider; its stream's dispatch or creation
  // does, whether it is in this request or already projected.
  const ownerOfStream = new Map<string, string>();
  for (const event of events) {
    const provider = providerNamedBy(event);
    if (provider && (event.type === 'shipment.dispatched' || event.type === 'allocation.created'))
      ownerOfStream.set(streamOf(event), provider);
  }
  for (const [index, event] of events.entries()) {
    const family = familyOf(event.type);
    if (!principal.families.includes(family)) {
      issues.push({ ...at(index), path: 'type', message: `this key may not send ${family} events` });
      continue;
    }
    if (!principal.providers) continue;
    let provider = providerNamedBy(event);
    const stream = streamOf(event);
    if (!provider && (stream.startsWith('shipment:') || stream.startsWith('allocation:'))) {
      provider = ownerOfStream.get(stream) ?? (await ownerFromProjection(deps, stream));
      if (!provider) {
        issues.push({
          ...at(index),
          path: 'data',
          message: 'this key is limited to some providers, and the provider of this stream is not known yet',
        });
        continue;
      }
    }
    if (provider && !principal.providers.includes(provider))
      issues.push({ ...at(index), path: 'data', message: `this key may not speak for provider ${provider}` });
  }
  if (issues.length > 0) {
    throw new ProblemError(
      'forbidden',
      403,
      'Some events are outside this key’s scope; nothing was accepted.',
      {
        errors: issues,
      },
    );
  }
}

async function ownerFromProjection(deps: IngestDeps, stream: string): Promise<string | undefined> {
  const unit = await deps.getUnit(stream);
  for (const event of unit?.events ?? []) {
    if (event.type === 'shipment.dispatched') return event.data.destination.providerId;
    if (event.type === 'allocation.created') return event.data.providerId;
  }
  return undefined;
}

/**
 * The content hashes of the events this process handed to the bus lately, so that a second copy of an
 * `eventId` with other content is refused at once (409) while the first is still on its way to the store,
 * rather than accepted and rejected later. Per process: the local runtime sees every request; a Lambda
 * instance sees those it served, and the recorder still settles the rest.
 */
export class RecentlyAccepted {
  private readonly entries = new Map<string, { hash: string; at: number; onBus: boolean }>();

  /**
   * @param ttlMs how long an acceptance counts: long enough to cover the way to the store, short enough
   *   that an event stuck there (in a dead-letter queue, say) may be sent again and go through.
   */
  constructor(
    private readonly capacity = 100_000,
    private readonly ttlMs = 10 * 60_000,
  ) {}

  /** The live entries of these ids: their hash, and whether the bus has taken the event yet. */
  lookup(eventIds: readonly string[], now: Date): Map<string, { hash: string; onBus: boolean }> {
    const found = new Map<string, { hash: string; onBus: boolean }>();
    for (const id of eventIds) {
      const entry = this.entries.get(id);
      if (entry && now.getTime() - entry.at < this.ttlMs) found.set(id, entry);
    }
    return found;
  }

  /**
   * Notes content about to be handed to the bus, for the ids no live entry holds: the first content stays,
   * as the recorder will keep it. Called in the same turn as the lookup, so that of two requests racing
   * with one id in this process the second sees the first.
   */
  claim(events: readonly (readonly [string, string])[], now: Date): void {
    for (const [id, hash] of events) {
      const entry = this.entries.get(id);
      if (entry && now.getTime() - entry.at < this.ttlMs) continue;
      this.set(id, { hash, at: now.getTime(), onBus: false });
    }
  }

  /** What the bus took is on it for good; a claim on what it refused is given back, unless the bus has it. */
  settle(sent: readonly (readonly [string, string])[], refused: readonly string[], now: Date): void {
    for (const [id, hash] of sent) {
      const entry = this.entries.get(id);
      if (entry?.hash === hash) entry.onBus = true;
      else if (!entry) this.set(id, { hash, at: now.getTime(), onBus: true });
    }
    for (const id of refused) if (this.entries.get(id)?.onBus === false) this.entries.delete(id);
  }

  private set(id: string, entry: { hash: string; at: number; onBus: boolean }): void {
    this.entries.delete(id);
    this.entries.set(id, entry);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }
}

/** C0 control characters and DEL, but tab, LF and CR. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds.
const CONTROL_CHARACTER = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/**
 * The strings of a valid event's `data` that are blank or hold a control character (tab and line breaks
 * aside): free text that would otherwise travel into every listing, CSV export and log. Ids, codes and
 * times have patterns that already exclude both, so every string is checked alike. A rule of the API's
 * door only: the recorder takes what was accepted under earlier rules.
 */
export function textIssuesOf(value: unknown, path: readonly string[]): ProblemIssue[] {
  if (typeof value === 'string') {
    if (value.trim().length === 0) return [{ path: path.join('.'), message: 'must not be blank' }];
    if (CONTROL_CHARACTER.test(value))
      return [
        { path: path.join('.'), message: 'must not hold control characters (tab and line breaks aside)' },
      ];
    return [];
  }
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => textIssuesOf(child, [...path, key]));
}

/** An unpaired surrogate: valid in a JSON escape, but no UTF-8 can write it, so no reader could take it back. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * What makes a parsed JSON body unfit to take, before any schema looks at it: nesting deeper than `max`
 * (which would overflow the stack of every recursive walk), or a string or key with an unpaired surrogate
 * (named by its dotted path from the body's root). Iterative, so any depth is safe.
 */
export function shapeFlawOf(value: unknown, max: number): 'too-deep' | { path: string } | undefined {
  const stack: [unknown, number, string][] = [[value, 1, '']];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [node, depth, path] = next;
    if (typeof node === 'string' && LONE_SURROGATE.test(node)) return { path };
    if (typeof node !== 'object' || node === null) continue;
    if (depth > max) return 'too-deep';
    for (const [key, child] of Object.entries(node)) {
      const at = path ? `${path}.${key}` : key;
      if (LONE_SURROGATE.test(key)) return { path: at };
      stack.push([child, depth + 1, at]);
    }
  }
  return undefined;
}

import * as z from 'zod';
import { type DomainEvent, EventInput } from '../events/catalogue.ts';
import { Identifier, Slug } from '../events/primitives.ts';
import { BUS } from './routes.ts';

/** An event the API accepted, as it travels on the bus: the validated event plus who sent it. */
export type AcceptedEvent = DomainEvent & { source: string; acceptedAt: string };

/** The bus's `PutEvents` entry shape, shared by the EventBridge client and the local bus. */
export interface BusEntry {
  Source: string;
  DetailType: string;
  Detail: string;
  EventBusName?: string;
}

export function toBusEntry(event: AcceptedEvent, busName?: string): BusEntry {
  return {
    Source: BUS.source,
    DetailType: event.type,
    Detail: JSON.stringify({
      eventId: event.eventId,
      type: event.type,
      occurredAt: event.occurredAt,
      data: event.data,
      source: event.source,
      acceptedAt: event.acceptedAt,
    }),
    ...(busName ? { EventBusName: busName } : {}),
  };
}

/** EventBridge's envelope, as an SQS message body carries it to the recorder. */
export interface BusEnvelope {
  version: string;
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
}

/** The envelope EventBridge wraps around an entry it took, with the id and time it gave it. */
export function busEnvelopeOf(entry: BusEntry, id: string, time: string): BusEnvelope {
  return {
    version: '0',
    id,
    'detail-type': entry.DetailType,
    source: entry.Source,
    account: '000000000000',
    time,
    region: 'local',
    resources: [],
    detail: JSON.parse(entry.Detail),
  };
}

const Detail = z.object({
  eventId: Identifier,
  source: Slug,
  acceptedAt: z.string().optional(),
});

export type ParsedDelivery =
  | { ok: true; event: AcceptedEvent }
  | { ok: false; eventId?: string; reason: string; raw?: Record<string, unknown> };

/**
 * Reads one delivery. Everything is validated again with the same schemas the API used: the bus is a trust
 * boundary too (anyone with `PutEvents` on it could send anything).
 */
export function parseDelivery(body: string): ParsedDelivery {
  let envelope: BusEnvelope;
  try {
    envelope = JSON.parse(body) as BusEnvelope;
  } catch {
    return { ok: false, reason: 'message body is not JSON' };
  }
  const detail = envelope?.detail;
  if (typeof detail !== 'object' || detail === null) return { ok: false, reason: 'message has no detail' };
  const raw = detail as Record<string, unknown>;
  const eventId =
    typeof raw.eventId === 'string' && Identifier.safeParse(raw.eventId).success ? raw.eventId : undefined;
  const meta = Detail.safeParse(raw);
  if (!meta.success) return { ok: false, eventId, reason: 'detail lacks a valid eventId or source', raw };
  const parsed = EventInput.safeParse({
    eventId: raw.eventId,
    type: raw.type,
    occurredAt: raw.occurredAt,
    data: raw.data,
  });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    return { ok: false, eventId, reason: `invalid event: ${issues}`, raw };
  }
  return {
    ok: true,
    event: {
      ...(parsed.data as DomainEvent),
      eventId: meta.data.eventId,
      source: meta.data.source,
      acceptedAt: meta.data.acceptedAt ?? envelope.time,
    },
  };
}

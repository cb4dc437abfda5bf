import * as z from 'zod';
import { EVENT_TYPES, EventInput } from '../events/catalogue.ts';
import { Identifier, Sku, Slug } from '../events/primitives.ts';
import { MAX_BATCH } from './ingest.ts';

/*
 * What the API answers, as zod schemas: `/openapi.json` is built from them (beside the request schemas that
 * validate), and the tests check real responses against them, so the document cannot drift from the code.
 * Objects are not strict: the contract welcomes more fields.
 */

const Count = z.number().int();
const Time = z.string().meta({ format: 'date-time', description: 'UTC with milliseconds' });

/** A batch as `POST /v1/events` takes it; a single event is an `EventInput`. */
export const EventBatch = z.strictObject({ events: z.array(EventInput).min(1).max(MAX_BATCH) });

export const Receipt = z.object({
  eventId: Identifier,
  type: z.enum(EVENT_TYPES as [string, ...string[]]),
  status: z.literal('accepted'),
  href: z.string(),
});

export const Accepted = z.object({ accepted: z.array(Receipt) });

export const RecordedEventView = z.object({
  eventId: Identifier,
  type: z.enum(EVENT_TYPES as [string, ...string[]]),
  occurredAt: Time,
  recordedAt: Time,
  source: z.string(),
  stream: z.string(),
  status: z.literal('recorded'),
  data: z.record(z.string(), z.unknown()),
  rejections: z.array(z.object({ reason: z.string(), receivedAt: Time })).optional(),
});

export const RejectedEventView = z.object({
  eventId: Identifier,
  type: z.string().nullable(),
  occurredAt: Time.nullable(),
  source: z.string().nullable(),
  status: z.literal('rejected'),
  reason: z.string(),
  receivedAt: Time,
});

export const EventPage = z.object({ items: z.array(RecordedEventView), nextCursor: z.string().nullable() });

const COUNTERS = {
  installed: Count,
  allocated: Count,
  available: Count,
  overAllocated: Count,
  delivered: Count,
  inTransit: Count,
  held: Count,
  blocked: Count.meta({
    description: 'Units in transit or held whose shipment is in violation or import-banned.',
  }),
  expectedInbound: Count.meta({ description: 'inTransit + held - blocked.' }),
};

export const AvailabilityRow = z.object({ providerId: Slug, sku: Sku, ...COUNTERS });
export const AvailabilityTotals = z.object(COUNTERS);

export const SkuAvailability = z.object({
  sku: Sku,
  asOf: Time,
  knownAt: Time.optional(),
  providers: z.array(AvailabilityRow),
  totals: AvailabilityTotals,
});

export const ProviderAvailability = z.object({
  providerId: Slug,
  name: z.string().optional(),
  country: z.string().optional(),
  kind: z.string().optional(),
  asOf: Time,
  knownAt: Time.optional(),
  skus: z.array(AvailabilityRow),
});

export const AvailabilityHistory = z.object({
  sku: Sku,
  providerId: Slug.optional(),
  interval: z.enum(['day', 'week', 'month']),
  from: Time,
  to: Time,
  knownAt: Time.optional(),
  points: z.array(z.object({ at: Time, ...COUNTERS })),
});

const Place = z.object({ country: z.string(), providerId: Slug.optional(), site: z.string().optional() });

export const Compliance = z.object({
  status: z.enum(['clear', 'licensed', 'violation']),
  regulations: z.array(
    z.object({
      regulationId: Identifier,
      outcome: z.enum(['licensed', 'violation', 'blocked']),
      licenceId: Identifier.optional(),
    }),
  ),
});

/** A shipment as lists show it. */
export const ShipmentItem = z.object({
  shipmentId: Identifier,
  sku: Sku.nullable(),
  quantity: Count.nullable(),
  exporter: Slug.nullable(),
  origin: Place.nullable(),
  destination: Place.nullable(),
  licenceId: Identifier.optional(),
  status: z.enum(['dispatched', 'held', 'released', 'delivered', 'installed', 'cancelled', 'unknown']),
  statusAt: Time.nullable(),
  dispatchedAt: Time.nullable(),
  compliance: Compliance,
});

export const Shipment = ShipmentItem.extend({
  timeline: z.array(
    z.object({ eventId: Identifier, type: z.enum(EVENT_TYPES as [string, ...string[]]), occurredAt: Time }),
  ),
});

export const ShipmentList = z.object({ items: z.array(ShipmentItem), nextCursor: z.string().nullable() });

const RegulationFields = {
  regulationId: Identifier,
  authority: z.string(),
  jurisdiction: z.string(),
  direction: z.enum(['export', 'import', 'use']),
  title: z.string(),
  policy: z.enum(['licence-required', 'prohibited', 'case-by-case', 'discouraged']),
  skus: z.array(Sku),
  destinations: z.array(z.string()),
  effectiveFrom: Time,
  status: z.enum(['scheduled', 'in-force', 'rescinded']),
  rescindedAt: Time.optional(),
};

export const RegulationItem = z.object({ ...RegulationFields, licences: Count });

export const RegulationList = z.object({ activeAt: Time.optional(), items: z.array(RegulationItem) });

export const Licence = z.object({
  licenceId: Identifier,
  regulationId: Identifier,
  exporter: Slug,
  skus: z.array(Sku),
  providerId: Slug.optional(),
  quantity: Count.optional(),
  validFrom: Time,
  validUntil: Time.optional(),
  conditions: z.string().optional(),
  status: z.enum(['pending', 'valid', 'expired', 'revoked']),
  revokedAt: Time.optional(),
});

export const RegulationDetail = z.object({
  ...RegulationFields,
  events: z.array(
    z.object({
      eventId: Identifier,
      type: z.enum(EVENT_TYPES as [string, ...string[]]),
      occurredAt: Time,
      data: z.record(z.string(), z.unknown()),
    }),
  ),
  licences: z.array(Licence),
});

export const Health = z.object({ status: z.literal('ok') });

export const Status = z.object({
  eventsRecorded: Count,
  eventsProjected: Count,
  projectionLagMs: Count,
  lastRecordedAt: Time.nullable(),
  lastProjectedAt: Time.nullable(),
});

/** RFC 9457 problem details, as every error is answered. */
export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  errors: z
    .array(z.object({ index: z.number().int().optional(), path: z.string(), message: z.string() }))
    .optional(),
});

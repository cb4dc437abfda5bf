import * as z from 'zod';
import { AllocationCreated, AllocationReleased } from './allocation.ts';
import { InventoryAdjusted } from './inventory.ts';
import { Identifier, Timestamp } from './primitives.ts';
import { ProviderRegistered } from './provider.ts';
import {
  LicenceGranted,
  LicenceRevoked,
  RegulationAmended,
  RegulationIssued,
  RegulationRescinded,
} from './regulation.ts';
import {
  ShipmentCancelled,
  ShipmentDelivered,
  ShipmentDispatched,
  ShipmentHeld,
  ShipmentInstalled,
  ShipmentReleased,
} from './shipment.ts';

/** Every event type of the contract and the schema of its `data`: the one source of truth. */
export const DATA_SCHEMAS = {
  'provider.registered': ProviderRegistered,
  'shipment.dispatched': ShipmentDispatched,
  'shipment.held': ShipmentHeld,
  'shipment.released': ShipmentReleased,
  'shipment.delivered': ShipmentDelivered,
  'shipment.installed': ShipmentInstalled,
  'shipment.cancelled': ShipmentCancelled,
  'inventory.adjusted': InventoryAdjusted,
  'allocation.created': AllocationCreated,
  'allocation.released': AllocationReleased,
  'regulation.issued': RegulationIssued,
  'regulation.amended': RegulationAmended,
  'regulation.rescinded': RegulationRescinded,
  'licence.granted': LicenceGranted,
  'licence.revoked': LicenceRevoked,
} as const;

export type EventType = keyof typeof DATA_SCHEMAS;
export const EVENT_TYPES = Object.keys(DATA_SCHEMAS) as EventType[];
export type EventData<T extends EventType> = z.output<(typeof DATA_SCHEMAS)[T]>;

/** The families a partner key is scoped to. Licences are compliance facts, so they travel with regulations. */
export const FAMILIES = ['shipment', 'regulation', 'allocation', 'inventory', 'provider'] as const;
export type Family = (typeof FAMILIES)[number];

function envelopeOf<T extends EventType>(type: T) {
  return z.strictObject({
    eventId: Identifier.optional(),
    type: z.literal(type),
    occurredAt: Timestamp,
    data: DATA_SCHEMAS[type],
  });
}

const envelopes = EVENT_TYPES.map((type) => envelopeOf(type)) as unknown as [
  ReturnType<typeof envelopeOf<EventType>>,
  ...ReturnType<typeof envelopeOf<EventType>>[],
];

/** An event as a partner posts it: `eventId` optional, times normalised to UTC. */
export const EventInput = z.discriminatedUnion('type', envelopes);

/**
 * What every event has, whatever its type: checked on its own when `type` names no event type, so that
 * the answer still lists every other issue of the envelope rather than the type's alone.
 */
export const EventEnvelope = z.strictObject({
  eventId: Identifier.optional(),
  type: z.enum(EVENT_TYPES),
  occurredAt: Timestamp,
  data: z.record(z.string(), z.unknown()),
});

/** A validated event, discriminated on `type` so `data` narrows with it. */
export type DomainEvent = {
  [T in EventType]: { eventId: string; type: T; occurredAt: string; data: EventData<T> };
}[EventType];

/** An event as the store holds it. */
export type RecordedEvent = DomainEvent & { recordedAt: string; source: string; stream: string };

export function familyOf(type: EventType): Family {
  const prefix = type.slice(0, type.indexOf('.'));
  return prefix === 'licence' ? 'regulation' : (prefix as Family);
}

/** The stream an event belongs to; events of one stream share an entity. */
export function streamOf(event: Pick<DomainEvent, 'type' | 'data'>): string {
  const e = event as DomainEvent;
  switch (e.type) {
    case 'provider.registered':
      return `provider:${e.data.providerId}`;
    case 'inventory.adjusted':
      return `inventory:${e.data.providerId}:${e.data.sku}`;
    case 'shipment.dispatched':
    case 'shipment.held':
    case 'shipment.released':
    case 'shipment.delivered':
    case 'shipment.installed':
    case 'shipment.cancelled':
      return `shipment:${e.data.shipmentId}`;
    case 'allocation.created':
    case 'allocation.released':
      return `allocation:${e.data.allocationId}`;
    case 'regulation.issued':
    case 'regulation.amended':
    case 'regulation.rescinded':
      return `regulation:${e.data.regulationId}`;
    case 'licence.granted':
    case 'licence.revoked':
      return `licence:${e.data.licenceId}`;
  }
}

/** Tie-break among events of one stream at the same `occurredAt`: the lifecycle order. */
export const LIFECYCLE_RANK: Record<EventType, number> = {
  'provider.registered': 0,
  'shipment.dispatched': 0,
  'shipment.held': 1,
  'shipment.released': 2,
  'shipment.delivered': 3,
  'shipment.installed': 4,
  'shipment.cancelled': 5,
  'inventory.adjusted': 0,
  'allocation.created': 0,
  'allocation.released': 1,
  'regulation.issued': 0,
  'regulation.amended': 1,
  'regulation.rescinded': 2,
  'licence.granted': 0,
  'licence.revoked': 1,
};

/** The order every fold uses: (`occurredAt`, lifecycle rank, `eventId`). */
export function compareEvents(
  a: { occurredAt: string; type: EventType; eventId: string },
  b: { occurredAt: string; type: EventType; eventId: string },
): number {
  if (a.occurredAt !== b.occurredAt) return a.occurredAt < b.occurredAt ? -1 : 1;
  const rank = LIFECYCLE_RANK[a.type] - LIFECYCLE_RANK[b.type];
  if (rank !== 0) return rank;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

/** The provider an event speaks for, where the event itself names one. */
export function providerNamedBy(event: DomainEvent): string | undefined {
  switch (event.type) {
    case 'provider.registered':
    case 'inventory.adjusted':
    case 'allocation.created':
      return event.data.providerId;
    case 'shipment.dispatched':
      return event.data.destination.providerId;
    case 'licence.granted':
      return event.data.providerId;
    default:
      return undefined;
  }
}

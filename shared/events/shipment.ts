import * as z from 'zod';
import { Authority, Country, Identifier, Quantity, Sku, Slug, Text } from './primitives.ts';

export const ShipmentDispatched = z.strictObject({
  shipmentId: Identifier,
  sku: Sku,
  quantity: Quantity,
  exporter: Slug,
  origin: z.strictObject({ country: Country }),
  destination: z.strictObject({ country: Country, providerId: Slug, site: Text(200).optional() }),
  licenceId: Identifier.optional(),
  hsCode: z
    .string()
    .regex(/^\d{4}(?:\.?\d{2}){0,3}$/, 'must be an HS code such as 8473.30')
    .optional(),
  eccn: z
    .string()
    .regex(/^(?:EAR99|[0-9][A-E][0-9]{3}(?:\.[a-z0-9.]+)?)$/, 'must be an ECCN such as 3A090 or EAR99')
    .optional(),
});

export const ShipmentHeld = z.strictObject({
  shipmentId: Identifier,
  authority: Authority,
  reason: Text(500),
  regulationId: Identifier.optional(),
});

export const ShipmentReleased = z.strictObject({ shipmentId: Identifier });

export const ShipmentDelivered = z.strictObject({ shipmentId: Identifier, site: Text(200).optional() });

export const ShipmentInstalled = z.strictObject({ shipmentId: Identifier });

export const ShipmentCancelled = z.strictObject({
  shipmentId: Identifier,
  disposition: z.enum(['cancelled', 'returned', 'seized', 'diverted']),
  reason: Text(500).optional(),
});

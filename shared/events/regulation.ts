import * as z from 'zod';
import { Authority, Country, Identifier, Quantity, Sku, Slug, Text, Timestamp } from './primitives.ts';

const Policy = z.enum(['licence-required', 'prohibited', 'case-by-case', 'discouraged']);
const Skus = z.array(Sku).min(1).max(100);
const Destinations = z.array(Country).min(1).max(250);

export const RegulationIssued = z.strictObject({
  regulationId: Identifier,
  authority: Authority,
  jurisdiction: Country,
  direction: z.enum(['export', 'import', 'use']),
  title: Text(500),
  policy: Policy,
  skus: Skus,
  destinations: Destinations,
  effectiveFrom: Timestamp,
  sourceType: z.enum(['rule', 'notice', 'statement', 'press-report']).optional(),
  reference: Text(500).optional(),
  confidence: z.enum(['confirmed', 'reported']).optional(),
});

export const RegulationAmended = z
  .strictObject({
    regulationId: Identifier,
    title: Text(500).optional(),
    policy: Policy.optional(),
    skus: Skus.optional(),
    destinations: Destinations.optional(),
  })
  .refine(
    (amendment) => Object.keys(amendment).length > 1,
    'must change at least one of title, policy, skus, destinations',
  );

export const RegulationRescinded = z.strictObject({ regulationId: Identifier });

export const LicenceGranted = z
  .strictObject({
    licenceId: Identifier,
    regulationId: Identifier,
    exporter: Slug,
    skus: Skus,
    providerId: Slug.optional(),
    quantity: Quantity.optional(),
    validFrom: Timestamp,
    validUntil: Timestamp.optional(),
    conditions: Text(500).optional(),
  })
  .refine((licence) => !licence.validUntil || licence.validUntil > licence.validFrom, {
    message: 'must be later than validFrom',
    path: ['validUntil'],
  });

export const LicenceRevoked = z.strictObject({ licenceId: Identifier });

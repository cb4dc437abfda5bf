import * as z from 'zod';
import { Sku, Slug, Text } from './primitives.ts';

export const InventoryAdjusted = z.strictObject({
  providerId: Slug,
  sku: Sku,
  delta: z
    .number()
    .min(-1_000_000, { abort: true })
    .max(1_000_000, { abort: true })
    .int('must be an integer')
    .refine((delta) => delta !== 0, 'must not be zero'),
  reason: z.enum(['opening-balance', 'decommissioned', 'audit', 'transfer']),
  note: Text(500).optional(),
});

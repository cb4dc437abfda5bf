import * as z from 'zod';
import { Identifier, Quantity, Sku, Slug, Text } from './primitives.ts';

export const AllocationCreated = z.strictObject({
  allocationId: Identifier,
  providerId: Slug,
  sku: Sku,
  quantity: Quantity,
  tenant: Slug,
  workload: Text(200).optional(),
});

export const AllocationReleased = z.strictObject({ allocationId: Identifier });

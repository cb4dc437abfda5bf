import * as z from 'zod';
import { Country, Slug, Text } from './primitives.ts';

export const ProviderRegistered = z.strictObject({
  providerId: Slug,
  name: Text(200),
  country: Country,
  kind: z.enum(['cloud', 'lab', 'operator']),
});

import * as z from 'zod';
import { COUNTRY_CODES } from './countries.ts';

/** Lower-case slug: provider ids, exporters, tenants, partner ids. */
export const Slug = z
  .string()
  .regex(
    /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/,
    'must be a lower-case slug (a-z, 0-9, inner hyphens; 1-64)',
  );

/** Shipment, allocation, regulation, licence and event ids. */
export const Identifier = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
    'must be 1-128 of A-Z a-z 0-9 . _ : - , starting alphanumeric',
  );

export const Sku = z
  .string()
  .regex(/^[A-Z0-9][A-Z0-9-]{0,31}$/, 'must be an upper-case SKU such as H20 or RTX-PRO-6000D (1-32)');

const countrySet: ReadonlySet<string> = new Set(COUNTRY_CODES);
export const Country = z
  .string()
  .refine((value) => countrySet.has(value), 'must be an ISO 3166-1 alpha-2 country code, upper-case');

/**
 * An RFC 3339 time with a zone, normalised to UTC with milliseconds, the only form the store and the
 * responses ever hold, so that equal instants compare and sort equal as strings.
 */
export const Timestamp = z
  .preprocess(
    // RFC 3339 allows a lower-case `t` and `z`.
    (value) =>
      typeof value === 'string' ? value.replace(/^(\d{4}-\d\d-\d\d)t/, '$1T').replace(/z$/, 'Z') : value,
    z.iso.datetime({
      offset: true,
      message: 'must be an RFC 3339 time with a zone, e.g. 2025-04-09T00:00:00Z',
    }),
  )
  .transform((value) => new Date(value).toISOString())
  // An offset can push a time at the edge of the calendar outside years 0000-9999, which RFC 3339 cannot write.
  .refine((utc) => /^\d{4}-/.test(utc), 'must fall within the years 0000 to 9999 in UTC');

/**
 * A government body, by convention prefixed by its country (`US-BIS`, `CN-GACC`), but not forced to be:
 * bodies go by many names (`MOFCOM`, `China Customs`), and refusing a fact over its spelling loses it.
 */
export const Authority = z
  .string()
  .max(100)
  .regex(
    /^\S(?:[^\p{Cc}]*\S)?$/u,
    'must be an authority such as US-BIS or CN-GACC, without control characters or outer spaces',
  );

/** Out of range is said alone: `2^53 + 1` is too big, and no other message would help. */
export const Quantity = z
  .number()
  .min(1, { abort: true })
  .max(1_000_000, { abort: true })
  .int('must be an integer');

/**
 * Free text (a name, a title, a reason). The API also refuses blank text and control characters in it
 * (`textIssuesOf` in `shared/api/ingest.ts`); that rule stays out of this schema, which the recorder applies
 * to what the bus delivers, so that an event accepted before the rule existed is still recorded after it.
 */
export const Text = (max: number) => z.string().min(1).max(max);

export type Timestamp = z.output<typeof Timestamp>;

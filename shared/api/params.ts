import * as z from 'zod';
import { EVENT_TYPES } from '../events/catalogue.ts';
import { Identifier, Sku, Slug, Timestamp } from '../events/primitives.ts';
import { validationProblem } from './problem.ts';
import { issuesOf } from './validation.ts';

/** In an unencoded query string `+` arrives as a space; an offset like ` 08:00` can only have meant `+08:00`. */
const QueryTime = z.preprocess(
  (value) => (typeof value === 'string' ? value.replace(/ (\d\d:\d\d)$/, '+$1') : value),
  Timestamp,
);

/**
 * A stream as `streamOf` names them, each id checked as its events' ids are: a filter that could never match
 * is a mistake to report, not an empty page.
 */
function isStream(stream: string): boolean {
  const [kind, ...ids] = stream.split(':');
  const id = ids.join(':');
  switch (kind) {
    case 'provider':
      return Slug.safeParse(id).success;
    case 'inventory': {
      // A provider id has no colon, so the SKU is what follows the last one.
      const at = id.lastIndexOf(':');
      return at > 0 && Slug.safeParse(id.slice(0, at)).success && Sku.safeParse(id.slice(at + 1)).success;
    }
    case 'shipment':
    case 'allocation':
    case 'regulation':
    case 'licence':
      return Identifier.safeParse(id).success;
    default:
      return false;
  }
}

const Limit = (max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number from 1 to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(1, `must be from 1 to ${max}`).max(max, `must be from 1 to ${max}`))
    .default(fallback);

export const AvailabilityQuery = z.object({
  sku: Sku,
  provider: Slug.optional(),
  asOf: QueryTime.optional(),
  knownAt: QueryTime.optional(),
});

export const HorizonQuery = z.object({ asOf: QueryTime.optional(), knownAt: QueryTime.optional() });

export const HISTORY_INTERVALS = ['day', 'week', 'month'] as const;
export type HistoryInterval = (typeof HISTORY_INTERVALS)[number];

export const RegulationsQuery = z.object({ activeAt: QueryTime.optional() });

export const SHIPMENT_STATUSES = [
  'dispatched',
  'held',
  'released',
  'delivered',
  'installed',
  'cancelled',
  'unknown',
] as const;
export const COMPLIANCE_STATUSES = ['clear', 'licensed', 'violation'] as const;

export const ShipmentListQuery = z.object({
  provider: Slug.optional(),
  sku: Sku.optional(),
  status: z.enum(SHIPMENT_STATUSES).optional(),
  /** A `compliance.status`, or `blocked`: shipments that an import ban holds back now (an outcome, not a status). */
  compliance: z.enum([...COMPLIANCE_STATUSES, 'blocked']).optional(),
  limit: Limit(500, 100),
  cursor: z.string().max(1024).optional(),
});

/**
 * `to` defaults to `asOf`, or else to now; `interval` to a day. `asOf` is taken so that the horizon every
 * availability route shares can be sent here too: a history as of a time ends there.
 */
export const HistoryQuery = z.object({
  sku: Sku,
  provider: Slug.optional(),
  from: QueryTime,
  to: QueryTime.optional(),
  asOf: QueryTime.optional(),
  interval: z.enum(HISTORY_INTERVALS).default('day'),
  knownAt: QueryTime.optional(),
});

export const EventListQuery = z
  .object({
    stream: z
      .string()
      .refine(isStream, 'must be a stream such as shipment:SH-1 or inventory:alibaba-cloud:H20')
      .optional(),
    type: z.enum(EVENT_TYPES as [string, ...string[]]).optional(),
    from: QueryTime.optional(),
    to: QueryTime.optional(),
    limit: Limit(500, 100),
    cursor: z.string().max(1024).optional(),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, {
    path: ['from'],
    message: 'must not be after to',
  });

/** The query of a route that takes none. */
export const NoQuery = z.object({});

export const ProviderParam = Slug;
export const IdParam = Identifier;

/**
 * A route's query (`c.req.queries()`, every value of every name) checked against its schema, answering 400
 * with every issue. Every parameter of this API takes one value: a name given twice is refused rather than
 * read as its first. A name the route does not take is refused too, as unknown body fields are: `asOf` where
 * only `knownAt` is read, or a misspelt `knowAt`, would otherwise answer a question that was not asked.
 */
export function parseQuery<S extends z.ZodObject>(schema: S, queries: Record<string, string[]>): z.output<S> {
  const entries = Object.entries(queries);
  const repeated = entries.filter(([, values]) => values.length > 1);
  if (repeated.length > 0) {
    throw validationProblem(
      'Some query parameters are given more than once.',
      repeated.map(([name]) => ({ path: name, message: 'is given more than once' })),
    );
  }
  const taken = Object.keys(schema.shape);
  const unknown = entries.filter(([name]) => !taken.includes(name));
  if (unknown.length > 0) {
    const list = taken.length > 0 ? `it takes ${taken.join(', ')}` : 'it takes none';
    throw validationProblem(
      `Some query parameters are not taken by this route (${list}).`,
      unknown.map(([name]) => ({ path: name, message: 'is not a parameter of this route' })),
    );
  }
  const single = Object.fromEntries(entries.map(([name, values]) => [name, values[0]]));
  const parsed = schema.safeParse(single, { reportInput: true });
  if (!parsed.success)
    throw validationProblem('Some query parameters are not valid.', issuesOf(parsed.error));
  return parsed.data;
}

/** A path parameter checked against its schema; a problem names it. */
export function parsePathParam<S extends z.ZodType>(schema: S, name: string, value: string): z.output<S> {
  const parsed = schema.safeParse(value, { reportInput: true });
  if (!parsed.success)
    throw validationProblem(
      `The path parameter ${name} is not valid.`,
      issuesOf(parsed.error, undefined, [name]),
    );
  return parsed.data;
}

/** A shipment list's cursor: base64url of the last shipment id returned. */
export function decodeIdCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!Identifier.safeParse(id).success) {
    throw validationProblem('The cursor is not one this API returned.', [
      { path: 'cursor', message: 'is not valid' },
    ]);
  }
  return id;
}

/** Cursors are opaque to callers: base64url of the last sort key returned. */
export const encodeCursor = (key: string): string => Buffer.from(key, 'utf8').toString('base64url');

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{4}-\d\d-\d\dT[\d:.]+Z#[A-Za-z0-9._:-]+$/.test(key)) {
    throw validationProblem('The cursor is not one this API returned.', [
      { path: 'cursor', message: 'is not valid' },
    ]);
  }
  return key;
}

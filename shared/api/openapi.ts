import * as z from 'zod';
import { EventInput } from '../events/catalogue.ts';
import {
  AvailabilityQuery,
  EventListQuery,
  HistoryQuery,
  HorizonQuery,
  IdParam,
  ProviderParam,
  RegulationsQuery,
  ShipmentListQuery,
} from './params.ts';
import * as S from './schemas.ts';

type Method = 'get' | 'post';

interface Answer {
  description: string;
  schema?: z.ZodType;
  /** Also offered as `text/csv` (`Accept: text/csv`), with a header row of the same field names. */
  csv?: boolean;
  /** A page: `Link: <...>; rel="next"` while more follow. */
  paged?: boolean;
}

/** One route of the API, as the document describes it and as the app's 405 answers find it. */
export interface RouteSpec {
  method: Method;
  /** OpenAPI form: `/v1/events/{eventId}`. */
  path: string;
  summary: string;
  /** Roles whose key may call it; `public` needs no key. */
  roles: readonly ('partner' | 'analyst' | 'admin')[] | 'public';
  query?: z.ZodObject;
  params?: Record<string, z.ZodType>;
  body?: z.ZodType;
  answers: Record<number, Answer>;
}

const ERRORS = {
  400: { description: 'A parameter or the body is not valid: every issue is listed.', schema: S.Problem },
  401: { description: 'Missing or unknown API key.', schema: S.Problem },
  403: { description: 'The key may not do this.', schema: S.Problem },
} as const;

/** Every route the app serves. */
export const ROUTES: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/v1/health',
    summary: 'Liveness; needs no key.',
    roles: 'public',
    answers: { 200: { description: 'The API is up.', schema: S.Health } },
  },
  {
    method: 'get',
    path: '/v1/status',
    summary: 'Recorded and projected counts, and how far the projections lag.',
    roles: ['analyst', 'admin'],
    answers: {
      200: { description: 'The pipeline status.', schema: S.Status },
      400: ERRORS[400],
      401: ERRORS[401],
      403: ERRORS[403],
    },
  },
  {
    method: 'post',
    path: '/v1/events',
    summary: 'Record one event, or a batch of 1 to 100, all or nothing.',
    roles: ['partner'],
    body: z.union([EventInput, S.EventBatch]),
    answers: {
      202: { description: 'Every event was handed to the event bus.', schema: S.Accepted },
      ...ERRORS,
      409: { description: 'An eventId already recorded with other content.', schema: S.Problem },
      413: { description: 'The body is over 1 MiB or an event over 64 KiB.', schema: S.Problem },
      415: { description: 'The body is not application/json.', schema: S.Problem },
      503: {
        description:
          'The bus did not take some events, or the store or bus was out: resend only those listed in `failed`.',
        schema: S.Problem,
      },
    },
  },
  {
    method: 'get',
    path: '/v1/events',
    summary: 'Recorded events by occurredAt, then eventId; one stream, or all.',
    roles: ['analyst', 'admin'],
    query: EventListQuery,
    answers: { 200: { description: 'A page of events.', schema: S.EventPage, paged: true }, ...ERRORS },
  },
  {
    method: 'get',
    path: '/v1/events/{eventId}',
    summary: 'One event: recorded, or rejected with the reason. Partners see only their own.',
    roles: ['partner', 'analyst', 'admin'],
    params: { eventId: IdParam },
    answers: {
      200: { description: 'The event.', schema: z.union([S.RecordedEventView, S.RejectedEventView]) },
      ...ERRORS,
      404: { description: 'Not recorded (yet).', schema: S.Problem },
    },
  },
  {
    method: 'get',
    path: '/v1/availability',
    summary: 'Availability of one SKU per provider, now or as of a time, as known now or at a time.',
    roles: ['analyst', 'admin'],
    query: AvailabilityQuery,
    answers: {
      200: {
        description: 'One row per provider, sorted by providerId.',
        schema: S.SkuAvailability,
        csv: true,
      },
      ...ERRORS,
    },
  },
  {
    method: 'get',
    path: '/v1/availability/history',
    summary: 'Availability of one SKU at the end of each day, week or month of a period.',
    roles: ['analyst', 'admin'],
    query: HistoryQuery,
    answers: {
      200: {
        description: 'One point per interval, summed over providers.',
        schema: S.AvailabilityHistory,
        csv: true,
      },
      ...ERRORS,
    },
  },
  {
    method: 'get',
    path: '/v1/providers/{providerId}/availability',
    summary: "A provider's availability of every SKU it has.",
    roles: ['analyst', 'admin'],
    params: { providerId: ProviderParam },
    query: HorizonQuery,
    answers: {
      200: { description: 'One row per SKU, sorted by sku.', schema: S.ProviderAvailability },
      ...ERRORS,
      404: { description: 'No event names the provider.', schema: S.Problem },
    },
  },
  {
    method: 'get',
    path: '/v1/shipments/{shipmentId}',
    summary: "A shipment's goods, status, compliance and timeline.",
    roles: ['analyst', 'admin'],
    params: { shipmentId: IdParam },
    answers: {
      200: { description: 'The shipment.', schema: S.Shipment },
      ...ERRORS,
      404: { description: 'No event names the shipment.', schema: S.Problem },
    },
  },
  {
    method: 'get',
    path: '/v1/shipments',
    summary: 'Shipments by id, with their compliance; filtered by provider, SKU, status and compliance.',
    roles: ['analyst', 'admin'],
    query: ShipmentListQuery,
    answers: {
      200: { description: 'A page of shipments.', schema: S.ShipmentList, csv: true, paged: true },
      ...ERRORS,
    },
  },
  {
    method: 'get',
    path: '/v1/regulations',
    summary: 'Every regulation as it stands now, or those in force at activeAt.',
    roles: ['analyst', 'admin'],
    query: RegulationsQuery,
    answers: { 200: { description: 'Regulations, sorted by id.', schema: S.RegulationList }, ...ERRORS },
  },
  {
    method: 'get',
    path: '/v1/regulations/{regulationId}',
    summary: 'One regulation (as of activeAt, or now), with its events and the licences granted under it.',
    roles: ['analyst', 'admin'],
    params: { regulationId: IdParam },
    query: RegulationsQuery,
    answers: {
      200: { description: 'The regulation.', schema: S.RegulationDetail },
      ...ERRORS,
      404: { description: 'No regulation of that id has been issued.', schema: S.Problem },
    },
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document; needs no key.',
    roles: 'public',
    answers: { 200: { description: 'OpenAPI 3.1.' } },
  },
  {
    method: 'get',
    path: '/docs',
    summary: 'This document, rendered; needs no key and works offline.',
    roles: 'public',
    answers: { 200: { description: 'An HTML page.' } },
  },
];

/** A request schema as JSON Schema: what a caller sends, before the API normalises it. */
function inputSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    // The date-time regex zod checks with is long and says less than the format does.
    override: ({ jsonSchema }) => {
      if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
    },
  }) as Record<string, unknown>;
}

function outputSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>;
}

const withoutDialect = ({ $schema: _dialect, ...schema }: Record<string, unknown>) => schema;

function parametersOf(route: RouteSpec): Record<string, unknown>[] {
  const parameters: Record<string, unknown>[] = [];
  for (const [name, schema] of Object.entries(route.params ?? {})) {
    parameters.push({ name, in: 'path', required: true, schema: withoutDialect(inputSchema(schema)) });
  }
  if (route.query) {
    const json = inputSchema(route.query) as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, schema] of Object.entries(json.properties ?? {})) {
      parameters.push({ name, in: 'query', required: json.required?.includes(name) ?? false, schema });
    }
  }
  return parameters;
}

const NEXT_LINK = {
  description: 'While more pages follow: `<the same request with the next cursor>; rel="next"` (RFC 8288).',
  schema: { type: 'string' },
};

/** What any route may answer besides its own answers: an `Accept` it cannot serve, a backing service out. */
const COMMON_ANSWERS: Record<number, Answer> = {
  406: { description: '`Accept` rules out every type this route answers in.', schema: S.Problem },
  503: {
    description: 'A backing service is out or did not answer in time; try again after `Retry-After`.',
    schema: S.Problem,
  },
};

function operationOf(route: RouteSpec): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  const answers = route.roles === 'public' ? route.answers : { ...COMMON_ANSWERS, ...route.answers };
  for (const [status, answer] of Object.entries(answers)) {
    const media = (type: string) =>
      answer.schema ? { [type]: { schema: withoutDialect(outputSchema(answer.schema)) } } : {};
    const json = status.startsWith('2') ? 'application/json' : 'application/problem+json';
    responses[status] = {
      description: answer.description,
      ...(answer.paged ? { headers: { Link: NEXT_LINK } } : {}),
      ...(answer.schema
        ? {
            content: {
              ...media(json),
              ...(answer.csv ? { 'text/csv': { schema: { type: 'string' } } } : {}),
            },
          }
        : {}),
    };
  }
  const operation: Record<string, unknown> = {
    summary: route.summary,
    operationId: `${route.method}${route.path.replace(/[{}]/g, '').replace(/[/.](\w)/g, (_, c: string) => c.toUpperCase())}`,
    parameters: parametersOf(route),
    responses,
  };
  if (route.roles === 'public') operation.security = [];
  else operation['x-roles'] = route.roles;
  if (route.body) {
    operation.requestBody = {
      required: true,
      content: { 'application/json': { schema: withoutDialect(inputSchema(route.body)) } },
    };
  }
  return operation;
}

let built: Record<string, unknown> | undefined;

/**
 * The OpenAPI 3.1 document of every route, built on first use from the zod schemas that validate requests
 * and those that describe answers (`schemas.ts`); kept for the life of the process.
 */
export function openApiDocument(): Record<string, unknown> {
  if (built) return built;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method] = operationOf(route);
  }
  built = {
    openapi: '3.1.0',
    info: {
      title: 'h20-tracker',
      version: '1.0.0',
      description:
        'Where data-centre GPUs are, amid export controls: partners record shipment, regulation and ' +
        'allocation events; analysts read availability per provider and SKU at any point in time.',
    },
    servers: [{ url: '/' }],
    security: [{ apiKey: [] }],
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key.' } },
    },
    paths,
  };
  return built;
}

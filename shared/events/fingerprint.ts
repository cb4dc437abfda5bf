import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every depth, so that equal content always serialises alike. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * The identity of an event's content: what must match for a resent `eventId` to be a harmless duplicate.
 * It covers the sender too, so another partner reusing an id is a conflict, never a silent merge.
 */
export function contentHash(event: {
  type: string;
  occurredAt: string;
  data: unknown;
  source: string;
}): string {
  const body = canonicalJson({
    type: event.type,
    occurredAt: event.occurredAt,
    data: event.data,
    source: event.source,
  });
  return createHash('sha256').update(body).digest('base64url');
}

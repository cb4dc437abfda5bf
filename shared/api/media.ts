import type { AppContext } from './context.ts';
import { json } from './context.ts';
import { ProblemError } from './problem.ts';

/**
 * The media type, of those a route `offers` (its preferred first), that an `Accept` header ranks highest:
 * by quality, then by how specifically a range names it (`text/csv` before `text/*` before the
 * wildcard). No
 * header, or one without a range that parses, means the first offered; null means none is acceptable.
 */
export function negotiate(accept: string | undefined, offers: readonly string[]): string | null {
  if (!accept?.trim()) return offers[0] ?? null;
  const ranges = accept.split(',').flatMap((part) => {
    const [range = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    if (!/^[\w.+*-]+\/[\w.+*-]+$/.test(range)) return [];
    const q = params.find((p) => p.startsWith('q='));
    const quality = q ? Number(q.slice(2)) : 1;
    return Number.isFinite(quality) ? [{ range, quality }] : [];
  });
  // A header with no range that parses says nothing a server must heed (RFC 9110, 12.5.1): as if absent.
  if (ranges.length === 0) return offers[0] ?? null;
  let best: string | null = null;
  let bestQuality = 0;
  for (const offer of offers) {
    const [type] = offer.split('/');
    // The most specific range that matches decides this offer's quality.
    let specificity = -1;
    let quality = 0;
    for (const { range, quality: q } of ranges) {
      const s = range === offer ? 2 : range === `${type}/*` ? 1 : range === '*/*' ? 0 : -1;
      if (s > specificity) {
        specificity = s;
        quality = q;
      }
    }
    if (quality > bestQuality) {
      best = offer;
      bestQuality = quality;
    }
  }
  return best;
}

/**
 * One CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180). A text that a spreadsheet
 * would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a carriage return: a partner's free text,
 * such as a site) gets a leading `'`, as OWASP advises against CSV injection; numbers are written as they are.
 */
function field(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' && /^[=+\-@\t\r]/.test(value) ? `'${value}` : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** RFC 4180 CSV: a header row of `columns`, then one line per record, CRLF-terminated. */
export function toCsv(columns: readonly string[], records: readonly object[]): string {
  const lines = [columns.map(field).join(',')];
  for (const record of records)
    lines.push(columns.map((column) => field((record as Record<string, unknown>)[column])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * Answers JSON, or CSV of `records` under `columns` when the `Accept` header prefers `text/csv`; 406 when
 * it accepts neither. Either way the answer varies with `Accept`, and says so to caches.
 */
export function jsonOrCsv(
  c: AppContext,
  body: unknown,
  csv: { columns: readonly string[]; records: readonly object[] },
): Response {
  const type = negotiate(c.req.header('accept'), ['application/json', 'text/csv']);
  if (type === null) {
    throw new ProblemError('not-acceptable', 406, 'This route answers application/json or text/csv.', {
      headers: { Vary: 'Accept' },
    });
  }
  c.header('Vary', 'Accept');
  if (type === 'application/json') return json(c, body);
  return c.body(toCsv(csv.columns, csv.records), 200, { 'Content-Type': 'text/csv; charset=utf-8' });
}

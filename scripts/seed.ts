/**
 * Loads the demo dataset through the public API, as a partner would: `npm run seed`.
 * Env: `TRACKER_URL` (default http://localhost:3000), `TRACKER_PARTNER_KEY` (default dev-partner-key).
 * Running it again is harmless: the events have fixed ids, and the server records a repeated event once.
 */
import { pathToFileURL } from 'node:url';
import { type DemoEvent, demoEvents } from './demo-data.ts';

/** The most events `POST /v1/events` takes in one body. */
export const BATCH_SIZE = 100;

export interface SeedOptions {
  url: string;
  key: string;
  events: DemoEvent[];
  fetchImpl?: typeof fetch;
  log?: (line: string) => void;
  /** Tries per batch, the first one included, before giving up on a 503 or an unreachable server. */
  maxAttempts?: number;
  /** Wait before the first resend; it doubles with each further one. */
  backoffMs?: number;
}

export class SeedError extends Error {
  readonly status: number | undefined;
  readonly body: string | undefined;

  constructor(message: string, status?: number, body?: string) {
    super(message);
    this.name = 'SeedError';
    this.status = status;
    this.body = body;
  }
}

/**
 * Posts `events` in order, in batches of at most 100, resending only what a 503 reports as failed.
 *
 * @example
 * const { sent, batches } = await seed({ url: 'http://localhost:3000', key: 'dev-partner-key', events });
 */
export async function seed(options: SeedOptions): Promise<{ sent: number; batches: number }> {
  const batches: DemoEvent[][] = [];
  for (let start = 0; start < options.events.length; start += BATCH_SIZE) {
    batches.push(options.events.slice(start, start + BATCH_SIZE));
  }
  for (const [position, batch] of batches.entries()) {
    await sendBatch(options, batch, `batch ${position + 1}/${batches.length}`);
  }
  return { sent: options.events.length, batches: batches.length };
}

async function sendBatch(options: SeedOptions, batch: DemoEvent[], label: string): Promise<void> {
  const { key, fetchImpl = fetch, log = () => {}, maxAttempts = 5, backoffMs = 250 } = options;
  const endpoint = `${options.url.replace(/\/+$/, '')}/v1/events`;
  let pending = batch;
  for (let attempt = 1; ; attempt += 1) {
    const wait = backoffMs * 2 ** (attempt - 1);
    let response: Response;
    try {
      response = await fetchImpl(endpoint, {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ events: pending }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (attempt >= maxAttempts) throw new SeedError(`cannot reach ${endpoint}: ${reason}`);
      // Resending is safe: an event that did get through is recorded once however often it comes.
      log(`${label}: cannot reach ${endpoint} (${reason}); retrying in ${wait} ms`);
      await sleep(wait);
      continue;
    }
    if (response.ok) return;
    const body = await response.text();
    if (response.status !== 503) {
      throw new SeedError(`POST ${endpoint} answered ${response.status}`, response.status, body);
    }
    if (attempt >= maxAttempts) {
      throw new SeedError(`POST ${endpoint} still answered 503 after ${attempt} tries`, 503, body);
    }
    pending = failedEntries(pending, body);
    log(`${label}: ${pending.length} of ${batch.length} events not taken (503); resending in ${wait} ms`);
    await sleep(wait);
  }
}

/**
 * The entries of `sent` that a 503 lists as failed. A 503 without a usable `failed` list (from a proxy, say)
 * says nothing about what got through, so everything is resent: duplicates are harmless, losses are not.
 */
function failedEntries(sent: DemoEvent[], body: string): DemoEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return sent;
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    !('failed' in parsed) ||
    !Array.isArray(parsed.failed)
  ) {
    return sent;
  }
  const failed: DemoEvent[] = [];
  for (const entry of parsed.failed as unknown[]) {
    const index = typeof entry === 'object' && entry !== null && 'index' in entry ? entry.index : undefined;
    const event = typeof index === 'number' && Number.isInteger(index) ? sent[index] : undefined;
    if (event === undefined) return sent;
    failed.push(event);
  }
  return failed.length > 0 ? failed : sent;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function main(): Promise<void> {
  const url = process.env.TRACKER_URL ?? 'http://localhost:3000';
  const key = process.env.TRACKER_PARTNER_KEY ?? 'dev-partner-key';
  // Name the variable rather than print its value: a real analyst key has no place in a terminal log.
  const analystKey = process.env.TRACKER_ANALYST_KEY ? '$TRACKER_ANALYST_KEY' : 'dev-analyst-key';
  try {
    const { sent, batches } = await seed({
      url,
      key,
      events: demoEvents(),
      log: (line) => console.log(line),
    });
    console.log(`seed: sent ${sent} events in ${batches} batches to ${url}`);
    console.log(
      `try: curl -s -H "Authorization: Bearer ${analystKey}" "${url}/v1/availability?sku=H20"` +
        ' (projections follow within moments; GET /v1/status shows the lag)',
    );
  } catch (error) {
    if (!(error instanceof SeedError)) throw error;
    console.error(`seed: ${error.message}`);
    if (error.body) console.error(prettyJson(error.body));
    process.exitCode = 1;
  }
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

const entryPoint = process.argv[1];
if (entryPoint !== undefined && import.meta.url === pathToFileURL(entryPoint).href) {
  await main();
}

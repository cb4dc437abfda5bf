import { randomUUID } from 'node:crypto';
import { runLoad } from './load.ts';
import { type BenchResult, result } from './report.ts';
import { type BenchStack, PARTNER_KEY } from './stack.ts';

/**
 * Public on-demand list prices, us-east-1, in dollars, as of 2025 (DynamoDB's after its November 2024 cut).
 * Re-check them at https://aws.amazon.com/pricing before quoting a figure.
 */
export const PRICES = {
  asOf: '2025',
  dynamoWriteUnit: 0.625e-6,
  dynamoReadUnit: 0.125e-6,
  eventBridgeEvent: 1.0e-6,
  sqsRequest: 0.4e-6,
  lambdaRequest: 0.2e-6,
  lambdaArmGbSecond: 0.0000133334,
  httpApiRequest: 1.0e-6,
} as const;

/**
 * What the deployed stack does per event that this run cannot see, from `infra/`: the recorder reads SQS in
 * batches of 25, the projector the stream in batches of 100. Handler durations are assumptions, not
 * measurements (this machine is not a Lambda): stated here so that anyone can redo the sum.
 */
export const ASSUMPTIONS = {
  recorderBatch: 25,
  projectorBatch: 100,
  api: { memoryGb: 1, seconds: 0.03 },
  recorder: { memoryGb: 0.5, seconds: 0.2 },
  projector: { memoryGb: 1, seconds: 0.3 },
} as const;

export interface CostSizes {
  /** Events posted per mode. */
  events: number;
  connections: number;
  settleTimeoutMs: number;
}

export interface PerEvent {
  writeUnits: number;
  readUnits: number;
  putEventsCalls: number;
  busEntries: number;
  apiRequests: number;
}

/** Dollars per million events, item by item, for a pipeline that does `perEvent` for each event. */
export function dollarsPerMillion(perEvent: PerEvent): Record<string, number> {
  const a = ASSUMPTIONS;
  const lambdaGbSeconds =
    perEvent.apiRequests * a.api.memoryGb * a.api.seconds +
    (a.recorder.memoryGb * a.recorder.seconds) / a.recorderBatch +
    (a.projector.memoryGb * a.projector.seconds) / a.projectorBatch;
  // EventBridge sends each event to SQS with its own SendMessage; the recorder's poller receives and deletes
  // them a batch at a time.
  const sqsRequests = perEvent.busEntries * (1 + 2 / a.recorderBatch);
  const lambdaRequests = perEvent.apiRequests + 1 / a.recorderBatch + 1 / a.projectorBatch;
  const items = {
    dynamoWrites: perEvent.writeUnits * PRICES.dynamoWriteUnit,
    dynamoReads: perEvent.readUnits * PRICES.dynamoReadUnit,
    eventBridge: perEvent.busEntries * PRICES.eventBridgeEvent,
    sqs: sqsRequests * PRICES.sqsRequest,
    lambdaRequests: lambdaRequests * PRICES.lambdaRequest,
    lambdaDuration: lambdaGbSeconds * PRICES.lambdaArmGbSecond,
    httpApi: perEvent.apiRequests * PRICES.httpApiRequest,
  };
  const perMillion = Object.fromEntries(Object.entries(items).map(([k, v]) => [k, v * 1e6]));
  return { ...perMillion, total: Object.values(perMillion).reduce((sum, v) => sum + v, 0) };
}

/**
 * Posts a fixed number of events, single and in batches of ten, waits until every one is recorded and
 * projected, and divides what the runtime's DynamoDB client consumed (as DynamoDB reports it) and what the
 * bus was asked to put by the number of events.
 */
export async function benchCost(
  stack: BenchStack,
  sizes: CostSizes,
): Promise<{ results: BenchResult[]; notes: string[] }> {
  const id = randomUUID().slice(0, 6);
  const results: BenchResult[] = [];
  const notes: string[] = [];
  for (const eventsPerRequest of [1, 10]) {
    const mode = eventsPerRequest === 1 ? '' : '.batch10';
    await stack.settle(sizes.settleTimeoutMs);
    stack.meter.reset();
    const before = { ...stack.putEvents };
    await runLoad({
      url: stack.runtime.url,
      path: '/v1/events',
      headers: { authorization: `Bearer ${PARTNER_KEY}` },
      connections: sizes.connections,
      durationS: 0,
      amount: Math.max(1, Math.round(sizes.events / eventsPerRequest)),
      eventsPerRequest,
      prefix: `C${id}-${eventsPerRequest}`,
    });
    await stack.settle(sizes.settleTimeoutMs);
    const used = stack.meter.snapshot();
    const calls = stack.putEvents.calls - before.calls;
    const events = stack.putEvents.entries - before.entries;
    const perEvent: PerEvent = {
      writeUnits: used.writeUnits / events,
      readUnits: used.readUnits / events,
      putEventsCalls: calls / events,
      busEntries: 1,
      apiRequests: 1 / eventsPerRequest,
    };
    const dollars = dollarsPerMillion(perEvent);
    results.push(
      result(`cost${mode}.writeUnitsPerEvent`, perEvent.writeUnits, 'WRU/event', {
        target: mode ? undefined : { on: 'value', op: '<=', limit: 6 },
      }),
      result(`cost${mode}.readUnitsPerEvent`, perEvent.readUnits, 'RRU/event'),
      result(`cost${mode}.putEventsPerEvent`, perEvent.putEventsCalls, 'calls/event'),
      result(`cost${mode}.dollarsPerMillion`, dollars.total ?? 0, '$/M events'),
    );
    const byCommand = Object.entries(used.writesByCommand)
      .map(([command, units]) => `${command} ${(units / events).toFixed(2)}`)
      .join(', ');
    const items = Object.entries(dollars)
      .filter(([k]) => k !== 'total')
      .map(([k, v]) => `${k} $${v.toFixed(3)}`)
      .join(', ');
    const dynamoCalls = Object.entries(used.calls)
      .map(([command, n]) => `${command} ${(n / events).toFixed(2)}`)
      .join(', ');
    notes.push(
      `cost${mode}: ${events} events; write units per event by command: ${byCommand}; ` +
        `DynamoDB calls per event: ${dynamoCalls}; dollars per million: ${items}.`,
    );
  }
  return { results, notes };
}

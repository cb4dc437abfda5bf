import { describe, expect, it } from 'vitest';
import { type DemoEvent, demoEvents } from '../../scripts/demo-data.ts';
import { SeedError, seed } from '../../scripts/seed.ts';
import { compareEvents, EventInput } from '../../shared/events/catalogue.ts';

const events = demoEvents();

describe('the demo dataset', () => {
  it('holds only events that the API accepts', () => {
    const failures = events.flatMap((event) => {
      const result = EventInput.safeParse(event);
      return result.success ? [] : [{ eventId: event.eventId, issues: result.error.issues }];
    });
    expect(failures).toEqual([]);
  });

  it('has between 80 and 150 events, each with its own eventId', () => {
    expect(events.length).toBeGreaterThanOrEqual(80);
    expect(events.length).toBeLessThanOrEqual(150);
    const ids = events.map((event) => event.eventId);
    expect(ids.filter((id, position) => ids.indexOf(id) !== position)).toEqual([]);
  });

  it('is the same on every call, so seeding twice sends the same events', () => {
    expect(demoEvents()).toEqual(events);
  });

  it('has nothing happen in the future', () => {
    const now = Date.now();
    expect(
      events.filter((event) => Date.parse(event.occurredAt) > now).map((event) => event.eventId),
    ).toEqual([]);
  });

  it('dispatches every shipment it tells more of, before anything else happens to it', () => {
    const dispatchedAt = new Map<string, number>();
    for (const event of events) {
      if (event.type === 'shipment.dispatched')
        dispatchedAt.set(event.data.shipmentId, Date.parse(event.occurredAt));
    }
    const orphans = events.filter((event) => {
      if (!event.type.startsWith('shipment.') || event.type === 'shipment.dispatched') return false;
      const at = dispatchedAt.get((event.data as { shipmentId: string }).shipmentId);
      return at === undefined || Date.parse(event.occurredAt) <= at;
    });
    expect(orphans.map((event) => event.eventId)).toEqual([]);
  });

  it('allocates whole R1 replicas of 16 GPUs', () => {
    const odd = events.filter(
      (event) => event.type === 'allocation.created' && event.data.quantity % 16 !== 0,
    );
    expect(odd.map((event) => event.eventId)).toEqual([]);
  });

  it('names only registered providers and issued regulations', () => {
    const registered = new Set(
      events.flatMap((e) => (e.type === 'provider.registered' ? [e.data.providerId] : [])),
    );
    const issued = new Set(
      events.flatMap((e) => (e.type === 'regulation.issued' ? [e.data.regulationId] : [])),
    );
    const unknown = events.filter((event) => {
      switch (event.type) {
        case 'shipment.dispatched':
          return !registered.has(event.data.destination.providerId);
        case 'inventory.adjusted':
        case 'allocation.created':
          return !registered.has(event.data.providerId);
        case 'licence.granted':
        case 'regulation.amended':
        case 'regulation.rescinded':
          return !issued.has(event.data.regulationId);
        default:
          return false;
      }
    });
    expect(unknown.map((event) => event.eventId)).toEqual([]);
  });

  // The figures the README and the lead's cross-check quote; a change to the data must update them knowingly.
  it('adds up to the H20 figures quoted for the demo', () => {
    expect(h20Rows(events)).toEqual({
      'alibaba-cloud': { installed: 11168, allocated: 2560, delivered: 0, inTransit: 1024, held: 2048 },
      'baidu-ai-cloud': { installed: 3524, allocated: 640, delivered: 0, inTransit: 0, held: 0 },
      'high-flyer': { installed: 30384, allocated: 9600, delivered: 512, inTransit: 0, held: 0 },
      'tencent-cloud': { installed: 9656, allocated: 4480, delivered: 0, inTransit: 1024, held: 0 },
      'volcano-engine': { installed: 11144, allocated: 4800, delivered: 0, inTransit: 2048, held: 0 },
    });
    expect(h20Rows(events, '2025-04-12T00:00:00.000Z')).toEqual({
      'alibaba-cloud': { installed: 9120, allocated: 2400, delivered: 0, inTransit: 1024, held: 0 },
      'baidu-ai-cloud': { installed: 2524, allocated: 640, delivered: 0, inTransit: 0, held: 0 },
      'high-flyer': { installed: 30384, allocated: 9600, delivered: 0, inTransit: 0, held: 0 },
      'tencent-cloud': { installed: 8632, allocated: 4480, delivered: 0, inTransit: 0, held: 0 },
      'volcano-engine': { installed: 9096, allocated: 3200, delivered: 0, inTransit: 0, held: 2048 },
    });
  });
});

interface Row {
  installed: number;
  allocated: number;
  delivered: number;
  inTransit: number;
  held: number;
}

/** The contract's availability rules for H20, folded naively over the whole set as of `asOf`. */
function h20Rows(all: DemoEvent[], asOf = '9999-12-31T00:00:00.000Z'): Record<string, Row> {
  const ordered = all
    .map((event) => ({ ...event, occurredAt: new Date(event.occurredAt).toISOString() }))
    .filter((event) => event.occurredAt <= asOf)
    .sort(compareEvents);
  const rows: Record<string, Row> = {};
  const row = (providerId: string): Row => {
    const existing = rows[providerId];
    if (existing) return existing;
    const created = { installed: 0, allocated: 0, delivered: 0, inTransit: 0, held: 0 };
    rows[providerId] = created;
    return created;
  };
  const lots = new Map<string, { providerId: string; quantity: number; status: string }>();
  const allocations = new Map<string, { providerId: string; quantity: number }>();
  for (const event of ordered) {
    if (event.type === 'shipment.dispatched') {
      if (event.data.sku !== 'H20') continue;
      const { shipmentId, quantity, destination } = event.data;
      lots.set(shipmentId, { providerId: destination.providerId, quantity, status: 'dispatched' });
    } else if (event.type.startsWith('shipment.')) {
      const lot = lots.get((event.data as { shipmentId: string }).shipmentId);
      if (lot) lot.status = event.type.slice('shipment.'.length);
    } else if (event.type === 'inventory.adjusted' && event.data.sku === 'H20') {
      row(event.data.providerId).installed += event.data.delta;
    } else if (event.type === 'allocation.created' && event.data.sku === 'H20') {
      allocations.set(event.data.allocationId, event.data);
    } else if (event.type === 'allocation.released') {
      allocations.delete(event.data.allocationId);
    }
  }
  for (const { providerId, quantity, status } of lots.values()) {
    const counters = row(providerId);
    if (status === 'dispatched' || status === 'released') counters.inTransit += quantity;
    if (status === 'held') counters.held += quantity;
    if (status === 'delivered') counters.delivered += quantity;
    if (status === 'installed') counters.installed += quantity;
  }
  for (const { providerId, quantity } of allocations.values()) row(providerId).allocated += quantity;
  return rows;
}

describe('seed', () => {
  interface Call {
    url: string;
    headers: Record<string, string>;
    events: DemoEvent[];
  }

  function fakeServer(answers: Array<(sent: DemoEvent[]) => Response>) {
    const calls: Call[] = [];
    const fetchImpl: typeof fetch = async (input, init) => {
      const body = JSON.parse(String(init?.body)) as { events: DemoEvent[] };
      calls.push({
        url: String(input),
        headers: init?.headers as Record<string, string>,
        events: body.events,
      });
      const answer = answers.shift() ?? accept;
      return answer(body.events);
    };
    return { calls, fetchImpl };
  }

  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const accepted = (event: DemoEvent) => ({
    eventId: event.eventId,
    type: event.type,
    status: 'accepted',
    href: `/v1/events/${event.eventId}`,
  });
  const accept = (sent: DemoEvent[]) => json(202, { accepted: sent.map(accepted) });

  it('sends batches of at most 100 in order, and resends only the entries a 503 lists as failed', async () => {
    const failOne = (sent: DemoEvent[]) =>
      json(503, {
        accepted: sent.filter((_, index) => index !== 1).map(accepted),
        failed: [{ index: 1, eventId: sent[1]?.eventId, error: 'ThrottlingException' }],
      });
    const { calls, fetchImpl } = fakeServer([accept, failOne, accept]);
    const lines: string[] = [];

    const result = await seed({
      url: 'http://tracker.test/',
      key: 'k-partner',
      events,
      fetchImpl,
      log: (line) => lines.push(line),
      backoffMs: 1,
    });

    expect(result).toEqual({ sent: events.length, batches: 2 });
    expect(calls.map((call) => call.events.length)).toEqual([100, events.length - 100, 1]);
    expect(calls[0]?.events).toEqual(events.slice(0, 100));
    expect(calls[1]?.events).toEqual(events.slice(100));
    expect(calls[2]?.events).toEqual([events[101]]);
    for (const call of calls) {
      expect(call.url).toBe('http://tracker.test/v1/events');
      expect(call.headers).toMatchObject({
        Authorization: 'Bearer k-partner',
        'Content-Type': 'application/json',
      });
    }
    expect(lines).toEqual([expect.stringContaining('1 of')]);
  });

  it('stops at the first answer that is neither accepted nor 503, with the problem', async () => {
    const problem = { type: '/problems/validation', title: 'Invalid events', status: 400, errors: [] };
    const { calls, fetchImpl } = fakeServer([() => json(400, problem)]);

    const run = seed({ url: 'http://tracker.test', key: 'k', events, fetchImpl, backoffMs: 1 });

    await expect(run).rejects.toThrow(SeedError);
    await expect(run).rejects.toMatchObject({ status: 400, body: JSON.stringify(problem) });
    expect(calls).toHaveLength(1);
  });

  it('gives up after a bounded number of 503s', async () => {
    const unavailable = () => json(503, { accepted: [], failed: [{ index: 0 }] });
    const { calls, fetchImpl } = fakeServer(Array.from({ length: 10 }, () => unavailable));

    const run = seed({
      url: 'http://tracker.test',
      key: 'k',
      events,
      fetchImpl,
      maxAttempts: 3,
      backoffMs: 1,
    });

    await expect(run).rejects.toMatchObject({ status: 503 });
    expect(calls.map((call) => call.events.length)).toEqual([100, 1, 1]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';

const dispatched = (id: string, quantity: number, provider = 'alibaba-cloud') => ({
  eventId: `${id}-d`,
  type: 'shipment.dispatched',
  occurredAt: '2025-03-02T08:00:00+08:00',
  data: {
    shipmentId: id,
    sku: 'H20',
    quantity,
    exporter: 'nvidia',
    origin: { country: 'TW' },
    destination: { country: 'CN', providerId: provider },
  },
});

describe('the pipeline over HTTP', () => {
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await startTestRuntime();
  });
  afterAll(() => rt.stop());

  it('records an accepted event and projects it into availability', async () => {
    const res = await rt.post('/v1/events', dispatched('SH-1', 512));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({
      accepted: [
        { eventId: 'SH-1-d', type: 'shipment.dispatched', status: 'accepted', href: '/v1/events/SH-1-d' },
      ],
    });
    await rt.settle();
    const availability = (await (await rt.get('/v1/availability?sku=H20')).json()) as {
      providers: unknown[];
    };
    expect(availability.providers).toEqual([
      expect.objectContaining({ providerId: 'alibaba-cloud', inTransit: 512, installed: 0 }),
    ]);
    const event = await (await rt.get('/v1/events/SH-1-d')).json();
    expect(event).toMatchObject({
      status: 'recorded',
      occurredAt: '2025-03-02T00:00:00.000Z',
      source: 'test-partner',
      stream: 'shipment:SH-1',
    });
  });

  it('does not count an event dated in the future until its time has come', async () => {
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
    const future = { ...dispatched('SH-FUTURE', 64, 'future-cloud'), occurredAt: tomorrow };
    expect((await rt.post('/v1/events', future)).status).toBe(202);
    await rt.settle();
    type Availability = { providers: { providerId: string; inTransit: number }[] };
    const now = (await (
      await rt.get('/v1/availability?sku=H20&provider=future-cloud')
    ).json()) as Availability;
    expect(now.providers).toEqual([]);
    const later = new Date(Date.now() + 2 * 86_400_000).toISOString();
    const then = (await (
      await rt.get(`/v1/availability?sku=H20&provider=future-cloud&asOf=${encodeURIComponent(later)}`)
    ).json()) as Availability;
    expect(then.providers).toEqual([expect.objectContaining({ providerId: 'future-cloud', inTransit: 64 })]);
  });
});

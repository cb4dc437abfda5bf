import { sleep } from '../../shared/util/clock.ts';

interface Marker {
  shipmentId: string;
  acceptedAt: number;
}

/**
 * Measures how long an accepted event takes to show in the projections while load runs: every `intervalMs`
 * it posts a new shipment's dispatch, and from its 202 on it asks for that shipment until it is there.
 * Only the oldest marker is polled (the pipeline is first in, first out), which keeps the polling itself
 * from adding load; a later marker found in the same sweep is timed when it is seen, so a lag is never
 * under-reported.
 */
export class LagSampler {
  private readonly pending: Marker[] = [];
  private readonly lags: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private posting = new Set<Promise<void>>();
  private count = 0;
  private failures = 0;
  private done = false;

  constructor(
    private readonly options: {
      url: string;
      partnerKey: string;
      analystKey: string;
      prefix: string;
      intervalMs: number;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      const post = this.post().finally(() => this.posting.delete(post));
      this.posting.add(post);
    }, this.options.intervalMs);
    this.checking = this.check();
  }

  /** Stops posting markers; the ones posted are still followed until they show or `timeoutMs` passes. */
  async finish(timeoutMs: number): Promise<{ lags: number[]; unseen: number; failures: number }> {
    clearInterval(this.timer);
    await Promise.all(this.posting);
    const deadline = Date.now() + timeoutMs;
    while (this.pending.length > 0 && Date.now() < deadline) await sleep(50);
    this.done = true;
    await this.checking;
    // Markers never seen are counted at the time waited: a lower bound, so the percentiles stay honest.
    const unseen = this.pending.length;
    for (const marker of this.pending.splice(0)) this.lags.push(Date.now() - marker.acceptedAt);
    return { lags: this.lags, unseen, failures: this.failures };
  }

  private async post(): Promise<void> {
    const shipmentId = `${this.options.prefix}-${this.count++}`;
    const response = await fetch(`${this.options.url}/v1/events`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${this.options.partnerKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        eventId: shipmentId,
        type: 'shipment.dispatched',
        occurredAt: new Date(Date.UTC(2024, 0, 1)).toISOString(),
        data: {
          shipmentId,
          sku: 'H20',
          quantity: 1,
          exporter: 'nvidia',
          origin: { country: 'TW' },
          destination: { country: 'CN', providerId: 'lag-probe' },
        },
      }),
    }).catch(() => undefined);
    await response?.body?.cancel();
    if (response?.status === 202) this.pending.push({ shipmentId, acceptedAt: Date.now() });
    else this.failures += 1;
  }

  private async check(): Promise<void> {
    while (!this.done) {
      const oldest = this.pending[0];
      if (!oldest) {
        await sleep(20);
        continue;
      }
      const response = await fetch(`${this.options.url}/v1/shipments/${oldest.shipmentId}`, {
        headers: { Authorization: `Bearer ${this.options.analystKey}` },
      }).catch(() => undefined);
      await response?.body?.cancel();
      if (response?.status === 200) {
        this.lags.push(Date.now() - oldest.acceptedAt);
        this.pending.shift();
      } else {
        await sleep(20);
      }
    }
  }
}

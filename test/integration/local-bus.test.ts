import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BusEntry, BusEnvelope } from '../../shared/bus/envelope.ts';
import { LocalBus, type LocalBusOptions, type Target } from '../../shared/bus/local-bus.ts';
import { BUS, ROUTES } from '../../shared/bus/routes.ts';
import type { Delivery } from '../../shared/recorder/recorder.ts';

const REPO = resolve(import.meta.dirname, '../..');

const entry = (eventId: string, overrides: Partial<BusEntry> = {}): BusEntry => ({
  Source: BUS.source,
  DetailType: 'shipment.dispatched',
  Detail: JSON.stringify({ eventId, type: 'shipment.dispatched', data: { quantity: 1 } }),
  ...overrides,
});

const eventIdOf = (delivery: Delivery): string =>
  ((JSON.parse(delivery.body) as BusEnvelope).detail as { eventId: string }).eventId;

/** A target that keeps every delivery it is handed and fails the messages `fail` picks. */
function recorder(fail: (eventId: string) => boolean = () => false) {
  const calls: Delivery[][] = [];
  const target: Target = async (deliveries) => {
    calls.push(deliveries);
    const failures: SQSBatchResponse['batchItemFailures'] = deliveries
      .filter((d) => fail(eventIdOf(d)))
      .map((d) => ({ itemIdentifier: d.messageId }));
    return { batchItemFailures: failures };
  };
  return {
    target,
    calls,
    deliveries: () => calls.flat(),
    eventIds: () => calls.flat().map(eventIdOf),
    receivesOf: (eventId: string) => calls.flat().filter((d) => eventIdOf(d) === eventId).length,
  };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const lines = async (path: string): Promise<string[]> =>
  (await readFile(path, 'utf8').catch(() => '')).split('\n').filter((line) => line.trim());

describe('LocalBus', () => {
  let dir: string;
  const open: LocalBus[] = [];

  const openBus = async (target: Target, options: Partial<LocalBusOptions> = {}): Promise<LocalBus> => {
    const bus = await LocalBus.open({
      dir,
      routes: ROUTES,
      targets: { recorder: target },
      retryDelayMs: 1,
      ...options,
    });
    open.push(bus);
    return bus;
  };

  /** Stops a bus once; the afterEach stops whatever a test left running. */
  const stop = async (bus: LocalBus): Promise<void> => {
    open.splice(open.indexOf(bus), 1);
    await bus.stop();
  };

  /** Proves a reopened bus delivers nothing old: a fresh entry arrives alone. */
  const expectOnlyFreshDelivery = async (): Promise<void> => {
    const rec = recorder();
    const bus = await openBus(rec.target);
    bus.start();
    await bus.putEvents([entry('sentinel')]);
    await until(() => rec.eventIds().includes('sentinel'));
    await new Promise((r) => setTimeout(r, 50));
    expect(rec.eventIds()).toEqual(['sentinel']);
    await stop(bus);
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'h20-bus-'));
  });

  afterEach(async () => {
    for (const bus of open.splice(0)) await bus.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('delivers accepted entries to the target as SQS messages carrying an EventBridge envelope', async () => {
    const rec = recorder();
    const bus = await openBus(rec.target);
    bus.start();

    const result = await bus.putEvents([entry('EV-1'), entry('EV-2', { DetailType: 'allocation.made' })]);

    expect(result.FailedEntryCount).toBe(0);
    expect(result.Entries).toHaveLength(2);
    for (const e of result.Entries) expect(e).toEqual({ EventId: expect.any(String) });
    await until(() => rec.deliveries().length === 2);
    const [first, second] = rec.deliveries() as [Delivery, Delivery];
    expect(first.messageId).toBe(result.Entries[0]?.EventId);
    expect(second.messageId).toBe(result.Entries[1]?.EventId);
    const envelope = JSON.parse(first.body) as BusEnvelope;
    expect(envelope).toMatchObject({
      version: '0',
      id: first.messageId,
      'detail-type': 'shipment.dispatched',
      source: BUS.source,
      detail: { eventId: 'EV-1', type: 'shipment.dispatched', data: { quantity: 1 } },
    });
    expect(Number.isNaN(Date.parse(envelope.time))).toBe(false);
    expect((JSON.parse(second.body) as BusEnvelope)['detail-type']).toBe('allocation.made');
    expect(bus.stats().pending).toBe(0);
  });

  it('does not deliver an entry that matches no route', async () => {
    const rec = recorder();
    const bus = await openBus(rec.target);
    bus.start();

    const result = await bus.putEvents([
      entry('OTHER-SOURCE', { Source: 'someone.else' }),
      entry('OTHER-TYPE', { DetailType: 'weather.reported' }),
    ]);
    expect(result.FailedEntryCount).toBe(0);
    await bus.putEvents([entry('ROUTED')]);

    await until(() => rec.eventIds().includes('ROUTED'));
    expect(rec.eventIds()).toEqual(['ROUTED']);
    expect(bus.stats().pending).toBe(0);
  });

  it('delivers every entry of concurrent putEvents calls exactly once', async () => {
    const rec = recorder();
    const bus = await openBus(rec.target, { batchSize: 7 });
    bus.start();

    const ids = Array.from({ length: 60 }, (_, call) => [0, 1, 2].map((n) => `C-${call}-${n}`));
    const results = await Promise.all(ids.map((batch) => bus.putEvents(batch.map((id) => entry(id)))));

    expect(results.every((r) => r.FailedEntryCount === 0)).toBe(true);
    await until(() => rec.deliveries().length >= 180);
    await new Promise((r) => setTimeout(r, 50));
    const delivered = rec.eventIds();
    expect(delivered).toHaveLength(180);
    expect(new Set(delivered)).toEqual(new Set(ids.flat()));
    expect(new Set(rec.deliveries().map((d) => d.messageId)).size).toBe(180);
    expect(rec.calls.every((call) => call.length <= 7)).toBe(true);
    expect(bus.stats()).toMatchObject({ pending: 0, deadLettered: 0 });
  });

  it('journals entries but hands out no batch while delivery is paused, and delivers them all on resume', async () => {
    const rec = recorder();
    const bus = await openBus(rec.target, { batchSize: 4 });
    bus.start();
    await bus.putEvents([entry('BEFORE')]);
    await until(() => rec.eventIds().includes('BEFORE'));

    bus.pauseDelivery();
    const paused = Array.from({ length: 10 }, (_, i) => `PAUSED-${i}`);
    const result = await bus.putEvents(paused.map((id) => entry(id)));
    expect(result.FailedEntryCount).toBe(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(rec.eventIds()).toEqual(['BEFORE']);
    expect(bus.stats().pending).toBe(10);

    bus.resumeDelivery();
    await until(() => bus.stats().pending === 0);
    expect(rec.eventIds()).toEqual(['BEFORE', ...paused]);
  });

  it('keeps several batches in flight, and saves its cursor only past batches settled in journal order', async () => {
    const held: (() => void)[] = [];
    let inFlight = 0;
    let most = 0;
    const delivered: string[] = [];
    const slow: Target = async (deliveries) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      // The first batch hangs until released; the others settle after a moment, so that they overlap.
      if (deliveries.some((d) => eventIdOf(d) === 'Q-0')) await new Promise<void>((r) => held.push(r));
      else await new Promise((r) => setTimeout(r, 20));
      delivered.push(...deliveries.map(eventIdOf));
      inFlight -= 1;
      return { batchItemFailures: [] };
    };
    const bus = await openBus(slow, { batchSize: 2, concurrency: 3 });
    await bus.putEvents(Array.from({ length: 10 }, (_, i) => entry(`Q-${i}`)));
    bus.start();

    await until(() => delivered.length === 8 && held.length === 1);
    expect(most).toBe(3);
    const cursorOnDisk = async () =>
      JSON.parse(await readFile(join(dir, 'cursor.json'), 'utf8').catch(() => '{"offset":0}')).offset;
    // Later batches settled, but the first did not: a crash now must redeliver it, so the cursor stays put.
    expect(await cursorOnDisk()).toBe(0);
    expect(bus.stats().pending).toBe(10);

    (held[0] as () => void)();
    await until(() => bus.stats().pending === 0);
    await until(async () => (await cursorOnDisk()) === (await stat(join(dir, 'journal.ndjson'))).size);
    expect(new Set(delivered)).toEqual(new Set(Array.from({ length: 10 }, (_, i) => `Q-${i}`)));
    await stop(bus);
    await expectOnlyFreshDelivery();
  });

  it('redelivers, after a restart, entries accepted by a bus that never delivered them', async () => {
    const idle = await openBus(recorder().target);
    const accepted = ['D-1', 'D-2', 'D-3', 'D-4', 'D-5'];
    await idle.putEvents(accepted.slice(0, 2).map((id) => entry(id)));
    await idle.putEvents(accepted.slice(2).map((id) => entry(id)));
    expect(idle.stats().pending).toBe(5);
    await stop(idle);

    const rec = recorder();
    const bus = await openBus(rec.target);
    expect(bus.stats().pending).toBe(5);
    bus.start();
    await until(() => rec.deliveries().length >= 5);
    expect(rec.eventIds()).toEqual(accepted);
    await stop(bus);
    await expectOnlyFreshDelivery();
  });

  it('redelivers, after a restart, entries whose deliveries kept failing until it stopped', async () => {
    let attempts = 0;
    const failing: Target = async () => {
      attempts += 1;
      throw new Error('recorder is down');
    };
    const down = await openBus(failing, { maxReceiveCount: 1_000 });
    down.start();
    await down.putEvents([entry('F-1'), entry('F-2')]);
    await until(() => attempts >= 3);
    await stop(down);

    const rec = recorder();
    const bus = await openBus(rec.target);
    bus.start();
    await until(() => rec.deliveries().length >= 2);
    expect(rec.eventIds()).toEqual(['F-1', 'F-2']);
    expect(await lines(join(dir, 'dlq.ndjson'))).toEqual([]);
  });

  it('redelivers every acknowledged entry after the process is killed mid-delivery', async () => {
    // A real crash: another process takes entries while a batch is in flight (its target never answers),
    // reports each acknowledgement synchronously, and SIGKILLs itself the moment the last one resolves,
    // with one more putEvents call still under way.
    const script = `
      import { writeSync } from 'node:fs';
      import { LocalBus } from ${JSON.stringify(join(REPO, 'shared/bus/local-bus.ts'))};
      import { ROUTES, BUS } from ${JSON.stringify(join(REPO, 'shared/bus/routes.ts'))};
      const bus = await LocalBus.open({
        dir: process.argv[1], routes: ROUTES, batchSize: 3,
        targets: { recorder: () => new Promise(() => {}) },
      });
      bus.start();
      const entry = (eventId) => ({ Source: BUS.source, DetailType: 'shipment.dispatched',
        Detail: JSON.stringify({ eventId }) });
      const ids = (call) => [0, 1, 2].map((n) => 'K-' + call + '-' + n);
      for (let call = 0; call < 4; call++) {
        const result = await bus.putEvents(ids(call).map(entry));
        if (result.FailedEntryCount === 0) writeSync(1, ids(call).join(',') + '\\n');
      }
      void bus.putEvents(ids(4).map(entry));
      process.kill(process.pid, 'SIGKILL');
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dir], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let errors = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
    });
    const exited = new Promise<NodeJS.Signals | null>((r) =>
      child.once('close', (_code, signal) => r(signal)),
    );
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const signal = await exited;
    clearTimeout(timer);
    expect(signal, errors).toBe('SIGKILL');
    const acknowledged = output
      .split('\n')
      .filter((line) => line.startsWith('K-'))
      .flatMap((line) => line.split(','));
    expect(acknowledged, errors).toHaveLength(12);

    const rec = recorder();
    const bus = await openBus(rec.target);
    bus.start();
    await until(() => rec.deliveries().length >= 12);
    await new Promise((r) => setTimeout(r, 50));
    const delivered = rec.eventIds();
    expect(delivered.slice(0, 12)).toEqual(acknowledged);
    expect(new Set(delivered).size).toBe(delivered.length);
    for (const id of delivered.slice(12)) expect(id).toMatch(/^K-4-[0-2]$/);
  });

  it('drops a torn journal tail on open and keeps delivering what is appended after it', async () => {
    const idle = await openBus(recorder().target);
    await idle.putEvents([entry('T-1'), entry('T-2')]);
    await stop(idle);
    const journal = join(dir, 'journal.ndjson');
    const whole = (await stat(journal)).size;
    await appendFile(journal, '{"id":"01TORN","time":"2025-01-01T00:00:00.000Z","entry":{"Sou');

    const rec = recorder();
    const bus = await openBus(rec.target);
    expect((await stat(journal)).size).toBe(whole);
    expect(bus.stats()).toMatchObject({ pending: 2, journalBytes: whole });
    bus.start();
    await bus.putEvents([entry('T-3')]);
    await until(() => rec.deliveries().length >= 3);
    expect(rec.eventIds()).toEqual(['T-1', 'T-2', 'T-3']);
    await stop(bus);

    const journalLines = await lines(journal);
    expect(journalLines).toHaveLength(3);
    for (const line of journalLines) expect(() => JSON.parse(line)).not.toThrow();
    await expectOnlyFreshDelivery();
  });

  it('redelivers only the message a target reports as failed, then dead-letters it and moves on', async () => {
    const rec = recorder((eventId) => eventId === 'POISON');
    const bus = await openBus(rec.target, { maxReceiveCount: 3 });
    bus.start();

    await bus.putEvents([entry('P-1'), entry('POISON'), entry('P-2'), entry('P-3')]);
    await until(() => bus.stats().deadLettered === 1);

    expect(rec.calls[0]?.map(eventIdOf)).toEqual(['P-1', 'POISON', 'P-2', 'P-3']);
    expect(rec.calls.slice(1).map((call) => call.map(eventIdOf))).toEqual([['POISON'], ['POISON']]);
    expect(rec.receivesOf('POISON')).toBe(3);
    const dead = (await lines(join(dir, 'dlq.ndjson'))).map(
      (line) => JSON.parse(line) as { route: string; record: { entry: BusEntry } },
    );
    expect(dead).toHaveLength(1);
    expect(dead[0]?.route).toBe('record-events');
    expect(JSON.parse(dead[0]?.record.entry.Detail ?? '{}')).toMatchObject({ eventId: 'POISON' });

    await bus.putEvents([entry('P-4')]);
    await until(() => rec.eventIds().includes('P-4'));
    expect(bus.stats()).toMatchObject({ pending: 0, deadLettered: 1 });
    for (const id of ['P-1', 'P-2', 'P-3', 'P-4']) expect(rec.receivesOf(id)).toBe(1);
    await stop(bus);
    await expectOnlyFreshDelivery();
  });

  it('redrives dead-lettered messages back to the target', async () => {
    let healthy = false;
    const rec = recorder((eventId) => !healthy && eventId.startsWith('BAD'));
    const bus = await openBus(rec.target, { maxReceiveCount: 2 });
    bus.start();
    await bus.putEvents([entry('BAD-1'), entry('OK-1'), entry('BAD-2')]);
    await until(() => bus.stats().deadLettered === 2);
    expect(await lines(join(dir, 'dlq.ndjson'))).toHaveLength(2);

    healthy = true;
    expect(await bus.redrive()).toBe(2);
    expect(bus.stats().deadLettered).toBe(0);

    await until(() => rec.receivesOf('BAD-1') === 3 && rec.receivesOf('BAD-2') === 3);
    expect(await lines(join(dir, 'dlq.ndjson'))).toEqual([]);
    expect(rec.calls.at(-1)?.map(eventIdOf)).toEqual(['BAD-1', 'BAD-2']);
    expect(rec.receivesOf('OK-1')).toBe(1);
    await until(() => bus.stats().pending === 0);
    expect(await bus.redrive()).toBe(0);
  });

  it('keeps a message that is dead-lettered while a redrive is under way', async () => {
    // BAD-1 waits in the dead-letter file; BAD-2's delivery is held until the redrive has read that file
    // and is putting its messages back (the clock is read as it does so), then fails for good.
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let releaseOnNextTick = false;
    const clock = {
      now: () => {
        if (releaseOnNextTick) {
          releaseOnNextTick = false;
          release();
        }
        return new Date();
      },
    };
    const rec = recorder(
      (eventId) => eventId === 'BAD-2' || (eventId === 'BAD-1' && rec.receivesOf('BAD-1') === 1),
    );
    const target: Target = async (deliveries) => {
      const response = rec.target(deliveries);
      if (deliveries.some((d) => eventIdOf(d) === 'BAD-2')) await held;
      return response;
    };
    const bus = await openBus(target, { maxReceiveCount: 1, batchSize: 1, clock });
    bus.start();
    await bus.putEvents([entry('BAD-1')]);
    await until(() => bus.stats().deadLettered === 1);
    await bus.putEvents([entry('BAD-2')]);
    await until(() => rec.receivesOf('BAD-2') === 1);

    releaseOnNextTick = true;
    expect(await bus.redrive()).toBe(1);
    // BAD-1 left the dead letters and was delivered; BAD-2 took its place.
    await until(() => bus.stats().pending === 0 && rec.receivesOf('BAD-1') === 2);
    expect(bus.stats().deadLettered).toBe(1);

    expect(rec.receivesOf('BAD-1')).toBe(2);
    const dead = (await lines(join(dir, 'dlq.ndjson'))).map(
      (line) => (JSON.parse(line) as { record: { entry: BusEntry } }).record.entry.Detail,
    );
    expect(dead.map((detail) => (JSON.parse(detail) as { eventId: string }).eventId)).toEqual(['BAD-2']);
  });

  it('counts, when reopened, the dead letters a run before it left, those a crashed redrive set aside too', async () => {
    const rec = recorder((eventId) => eventId.startsWith('BAD'));
    const first = await openBus(rec.target, { maxReceiveCount: 1 });
    first.start();
    await first.putEvents([entry('BAD-1'), entry('OK-1'), entry('BAD-2')]);
    await until(() => first.stats().deadLettered === 2);
    await stop(first);
    // A redrive that died after moving the file aside and before putting its messages back.
    await appendFile(
      join(dir, 'dlq.redrive-1700000000000.ndjson'),
      `${JSON.stringify({ route: 'record-events', record: { id: 'X', time: '2025-01-01T00:00:00.000Z', entry: entry('BAD-3') }, at: '2025-01-01T00:00:00.000Z' })}\n`,
    );

    const healthy = recorder();
    const reopened = await openBus(healthy.target);
    expect(reopened.stats().deadLettered).toBe(3);
    reopened.start();
    expect(await reopened.redrive()).toBe(3);
    expect(reopened.stats().deadLettered).toBe(0);
    await until(() => healthy.eventIds().length === 3);
    expect(healthy.eventIds().sort()).toEqual(['BAD-1', 'BAD-2', 'BAD-3']);
  });

  it('opens, counts and redrives past a dead letter whose append a crash cut short', async () => {
    const rec = recorder((eventId) => eventId.startsWith('BAD'));
    const first = await openBus(rec.target, { maxReceiveCount: 1 });
    first.start();
    await first.putEvents([entry('BAD-1')]);
    await until(() => first.stats().deadLettered === 1);
    await appendFile(join(dir, 'dlq.ndjson'), '{"route":"record-events","record":{"id":"TORN"');
    await first.putEvents([entry('BAD-2')]);
    await until(() => first.stats().deadLettered === 2);
    await stop(first);

    const healthy = recorder();
    const reopened = await openBus(healthy.target);
    expect(reopened.stats().deadLettered).toBe(2);
    reopened.start();
    expect(await reopened.redrive()).toBe(2);
    await until(() => healthy.eventIds().length === 2);
    expect(healthy.eventIds().sort()).toEqual(['BAD-1', 'BAD-2']);
  });

  it('truncates a fully delivered journal past compactBytes and keeps delivering later entries', async () => {
    const journal = join(dir, 'journal.ndjson');
    const rec = recorder();
    const bus = await openBus(rec.target, { compactBytes: 1 });
    bus.start();

    await bus.putEvents([entry('K-1'), entry('K-2'), entry('K-3')]);
    await until(() => rec.deliveries().length === 3);
    await until(() => bus.stats().journalBytes === 0);
    expect((await stat(journal)).size).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'cursor.json'), 'utf8'))).toEqual({ offset: 0 });

    const later = await Promise.all([bus.putEvents([entry('K-4')]), bus.putEvents([entry('K-5')])]);
    expect(later.every((r) => r.FailedEntryCount === 0)).toBe(true);
    await until(() => rec.deliveries().length === 5);
    await until(() => bus.stats().journalBytes === 0);
    expect(rec.eventIds().sort()).toEqual(['K-1', 'K-2', 'K-3', 'K-4', 'K-5']);
    await stop(bus);
    await expectOnlyFreshDelivery();
  });

  it('refuses an entry with a malformed Detail with a per-entry error and takes the others', async () => {
    const rec = recorder();
    const bus = await openBus(rec.target);
    bus.start();

    const result = await bus.putEvents([
      entry('M-1'),
      { Source: BUS.source, DetailType: 'shipment.dispatched', Detail: '{"eventId": "M-2"' },
      { Source: BUS.source, DetailType: 'shipment.dispatched', Detail: '["M-3"]' },
      entry('M-4', { Source: '' }),
      entry('M-5'),
    ]);

    expect(result.FailedEntryCount).toBe(3);
    expect(result.Entries[0]).toEqual({ EventId: expect.any(String) });
    expect(result.Entries[1]).toMatchObject({
      ErrorCode: 'MalformedDetail',
      ErrorMessage: expect.any(String),
    });
    expect(result.Entries[2]).toMatchObject({ ErrorCode: 'MalformedDetail' });
    expect(result.Entries[3]).toMatchObject({ ErrorCode: 'InvalidArgument' });
    expect(result.Entries[4]).toEqual({ EventId: expect.any(String) });
    await until(() => rec.deliveries().length >= 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(rec.eventIds()).toEqual(['M-1', 'M-5']);
    expect(await lines(join(dir, 'journal.ndjson'))).toHaveLength(2);
  });
});

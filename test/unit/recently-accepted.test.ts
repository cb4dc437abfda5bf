import { describe, expect, it } from 'vitest';
import { RecentlyAccepted } from '../../shared/api/ingest.ts';

const at = (seconds: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, seconds));
const hashes = (recent: RecentlyAccepted, ids: string[], now: Date) =>
  new Map([...recent.lookup(ids, now)].map(([id, entry]) => [id, entry.hash]));

describe('RecentlyAccepted', () => {
  it('keeps the first content claimed for an id, while it counts', () => {
    const recent = new RecentlyAccepted(10, 60_000);
    recent.claim([['E1', 'first']], at(0));
    recent.claim([['E1', 'second']], at(1));

    expect(hashes(recent, ['E1', 'E2'], at(2))).toEqual(new Map([['E1', 'first']]));
  });

  it('forgets an acceptance after its time, so the id may be accepted again', () => {
    const recent = new RecentlyAccepted(10, 60_000);
    recent.claim([['E1', 'first']], at(0));

    expect(hashes(recent, ['E1'], at(59)).get('E1')).toBe('first');
    expect(recent.lookup(['E1'], at(60)).size).toBe(0);
    recent.claim([['E1', 'second']], at(60));
    expect(hashes(recent, ['E1'], at(61)).get('E1')).toBe('second');
  });

  it('counts an acceptance for ten minutes by default, as the README says', () => {
    const recent = new RecentlyAccepted();
    recent.claim([['E1', 'a']], at(0));

    expect(recent.lookup(['E1'], at(599)).size).toBe(1);
    expect(recent.lookup(['E1'], at(600)).size).toBe(0);
  });

  it('marks what the bus took, and gives back a claim on what it refused', () => {
    const recent = new RecentlyAccepted(10, 60_000);
    recent.claim(
      [
        ['E1', 'a'],
        ['E2', 'b'],
      ],
      at(0),
    );
    expect(recent.lookup(['E1'], at(0)).get('E1')?.onBus).toBe(false);

    recent.settle([['E1', 'a']], ['E2'], at(1));

    const found = recent.lookup(['E1', 'E2'], at(2));
    expect([...found.keys()]).toEqual(['E1']);
    expect(found.get('E1')).toMatchObject({ hash: 'a', onBus: true });
  });

  it('keeps an event another request put on the bus, though its own claim was refused', () => {
    const recent = new RecentlyAccepted(10, 60_000);
    recent.claim([['E1', 'a']], at(0));
    // A second copy of the same content, sent meanwhile, got through; the first handover then failed.
    recent.settle([['E1', 'a']], [], at(1));
    recent.settle([], ['E1'], at(2));

    expect(recent.lookup(['E1'], at(3)).get('E1')).toMatchObject({ hash: 'a', onBus: true });
  });

  it('holds at most its capacity, dropping the oldest first', () => {
    const recent = new RecentlyAccepted(2, 60_000);
    recent.claim(
      [
        ['E1', 'a'],
        ['E2', 'b'],
        ['E3', 'c'],
      ],
      at(0),
    );

    expect([...recent.lookup(['E1', 'E2', 'E3'], at(1)).keys()]).toEqual(['E2', 'E3']);
  });
});

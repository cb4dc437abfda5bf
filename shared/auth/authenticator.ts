import { type Clock, systemClock } from '../util/clock.ts';
import type { KeyReader } from './key-store.ts';
import { hashKey, keyIdOf, type Principal, principalOf, sameHash } from './keys.ts';

/**
 * Resolves a bearer key to a principal. Lookups are cached briefly (revocation takes effect within
 * `ttlMs`), which keeps the key table off the hot path of ingest.
 */
export class Authenticator {
  private readonly cache = new Map<string, { principal: Principal | null; until: number }>();
  private readonly ttlMs: number;
  private readonly clock: Clock;

  constructor(
    private readonly keys: KeyReader,
    options: { ttlMs?: number; clock?: Clock } = {},
  ) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.clock = options.clock ?? systemClock;
  }

  async authenticate(key: string): Promise<Principal | null> {
    const hash = hashKey(key);
    const now = this.clock.now().getTime();
    const cached = this.cache.get(hash);
    if (cached && cached.until > now) return cached.principal;

    const record = await this.keys.get(keyIdOf(hash));
    const valid = record && sameHash(record.hash, hash) && !record.revokedAt;
    const principal = valid ? principalOf(record) : null;
    // Unknown keys are remembered for less time, so a key created a moment ago works almost at once.
    this.cache.set(hash, { principal, until: now + (principal ? this.ttlMs : Math.min(this.ttlMs, 2_000)) });
    if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value as string);
    return principal;
  }
}

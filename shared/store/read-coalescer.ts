/**
 * Joins the key lookups of concurrent callers into shared reads, as a data loader does: every key asked for
 * in the same tick goes into one `read` (which batches them, e.g. `BatchGetItem` by 100), and each caller gets
 * the answers for its own keys. On a server taking many requests at once this turns one database round trip
 * per request into one per tick; a caller alone (a Lambda with one request) pays one tick more, nothing else.
 */
export class ReadCoalescer<K, V> {
  private pending: { keys: Set<K>; waiters: Waiter<K, V>[] } | undefined;

  constructor(private readonly read: (keys: readonly K[]) => Promise<Map<K, V>>) {}

  load(keys: readonly K[]): Promise<Map<K, V>> {
    if (keys.length === 0) return Promise.resolve(new Map());
    if (!this.pending) {
      const batch = { keys: new Set<K>(), waiters: [] as Waiter<K, V>[] };
      this.pending = batch;
      setImmediate(() => void this.flush(batch));
    }
    const batch = this.pending;
    for (const key of keys) batch.keys.add(key);
    return new Promise((resolve, reject) => batch.waiters.push({ keys, resolve, reject }));
  }

  private async flush(batch: { keys: Set<K>; waiters: Waiter<K, V>[] }): Promise<void> {
    if (this.pending === batch) this.pending = undefined;
    try {
      const found = await this.read([...batch.keys]);
      for (const waiter of batch.waiters) {
        const mine = new Map<K, V>();
        for (const key of waiter.keys) {
          const value = found.get(key);
          if (value !== undefined) mine.set(key, value);
        }
        waiter.resolve(mine);
      }
    } catch (error) {
      for (const waiter of batch.waiters) waiter.reject(error);
    }
  }
}

interface Waiter<K, V> {
  keys: readonly K[];
  resolve: (found: Map<K, V>) => void;
  reject: (error: unknown) => void;
}

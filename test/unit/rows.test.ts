import { describe, expect, it } from 'vitest';
import { parseRowKey, rowKey } from '../../shared/projections/rows.ts';

describe('rowKey', () => {
  it('names a row by SKU then provider, and parseRowKey reads it back', () => {
    expect(rowKey('alibaba-cloud', 'H20')).toBe('H20#alibaba-cloud');
    expect(parseRowKey(rowKey('alibaba-cloud', 'H20'))).toEqual({ sku: 'H20', providerId: 'alibaba-cloud' });
  });

  it('keeps giving the right key past the number of keys it keeps', () => {
    // More rows than the cache keeps, twice over, each checked as it is built and again afterwards.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 9_000; i++) {
        const provider = `provider-${i % 3_000}`;
        const sku = `SKU-${Math.floor(i / 3_000)}`;
        expect(rowKey(provider, sku)).toBe(`${sku}#${provider}`);
      }
    }
    expect(rowKey('provider-7', 'SKU-2')).toBe('SKU-2#provider-7');
    expect(rowKey('SKU-2', 'provider-7')).toBe('provider-7#SKU-2');
  });
});

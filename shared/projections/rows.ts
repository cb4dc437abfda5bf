/** A (provider, sku) row's key, as the projections store writes it: `H20#alibaba-cloud`. */
export type RowKey = string;

/**
 * The keys built so far, by provider and SKU. A fold asks for its row's key once per unit; a key built afresh
 * is a new string, which every map it is looked up in must hash again (a tenth of `fold`'s time). Bounded:
 * emptied once it holds `MAX_KEPT_KEYS`, far more rows than providers times SKUs come to.
 */
const builtKeys = new Map<string, Map<string, RowKey>>();
let keptKeys = 0;
const MAX_KEPT_KEYS = 4_096;

export function rowKey(providerId: string, sku: string): RowKey {
  const known = builtKeys.get(providerId)?.get(sku);
  if (known !== undefined) return known;
  if (keptKeys >= MAX_KEPT_KEYS) {
    builtKeys.clear();
    keptKeys = 0;
  }
  const key = `${sku}#${providerId}`;
  let bySku = builtKeys.get(providerId);
  if (bySku === undefined) {
    bySku = new Map();
    builtKeys.set(providerId, bySku);
  }
  bySku.set(sku, key);
  keptKeys++;
  return key;
}

export function parseRowKey(key: RowKey): { sku: string; providerId: string } {
  const at = key.indexOf('#');
  return { sku: key.slice(0, at), providerId: key.slice(at + 1) };
}

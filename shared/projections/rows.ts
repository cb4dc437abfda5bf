/** A (provider, sku) row's key, as the projections store writes it: `H20#alibaba-cloud`. */
export type RowKey = string;

export const rowKey = (providerId: string, sku: string): RowKey => `${sku}#${providerId}`;

export function parseRowKey(key: RowKey): { sku: string; providerId: string } {
  const at = key.indexOf('#');
  return { sku: key.slice(0, at), providerId: key.slice(at + 1) };
}

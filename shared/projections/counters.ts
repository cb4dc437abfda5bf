/** The stored counters of one (provider, sku) row; `available` and `overAllocated` derive from them. */
export const COUNTER_NAMES = ['installed', 'allocated', 'delivered', 'inTransit', 'held'] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];
export type Counters = Record<CounterName, number>;

export const zeroCounters = (): Counters => ({
  installed: 0,
  allocated: 0,
  delivered: 0,
  inTransit: 0,
  held: 0,
});

export function addCounters(a: Counters, b: Counters, sign: 1 | -1 = 1): Counters {
  const sum = zeroCounters();
  for (const name of COUNTER_NAMES) sum[name] = a[name] + sign * b[name];
  return sum;
}

export const isZero = (c: Counters): boolean => COUNTER_NAMES.every((name) => c[name] === 0);

export interface AvailabilityRow extends Counters {
  providerId: string;
  sku: string;
  available: number;
  overAllocated: number;
  /** Units in transit or held whose shipment is in violation or blocked by an import ban. */
  blocked: number;
  /** `inTransit` + `held` - `blocked`: what can still be expected to arrive. */
  expectedInbound: number;
}

export type AvailabilityTotals = Omit<AvailabilityRow, 'providerId' | 'sku'>;

/** A row as the contract shows it, in its field order; `blocked` comes from compliance, not the counters. */
export function toRow(providerId: string, sku: string, c: Counters, blocked = 0): AvailabilityRow {
  // Never more than is on its way: the index \`blocked\` is read from can trail the counters for a moment.
  const onTheWay = Math.min(blocked, Math.max(0, c.inTransit + c.held));
  return {
    providerId,
    sku,
    installed: c.installed,
    allocated: c.allocated,
    available: Math.max(0, c.installed - c.allocated),
    overAllocated: Math.max(0, c.allocated - c.installed),
    delivered: c.delivered,
    inTransit: c.inTransit,
    held: c.held,
    blocked: onTheWay,
    expectedInbound: c.inTransit + c.held - onTheWay,
  };
}

/** Each total is the sum of that field over the rows, `available` included (not recomputed). */
export function totalsOf(rows: readonly AvailabilityRow[]): AvailabilityTotals {
  const totals: AvailabilityTotals = {
    installed: 0,
    allocated: 0,
    available: 0,
    overAllocated: 0,
    delivered: 0,
    inTransit: 0,
    held: 0,
    blocked: 0,
    expectedInbound: 0,
  };
  for (const row of rows) {
    for (const key of Object.keys(totals) as (keyof AvailabilityTotals)[]) totals[key] += row[key];
  }
  return totals;
}

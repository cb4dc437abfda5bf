const H20_RULE = {
  regulationId: 'BIS-1',
  authority: 'US-BIS',
  jurisdiction: 'US',
  direction: 'export',
  title: 'H20 licence requirement',
  policy: 'licence-required',
  skus: ['H20'],
  destinations: ['CN'],
  effectiveFrom: '2025-04-09T00:00:00Z',
};

/**
 * The data of the rule most tests need: the US licence requirement for H20 exports to China of 2025-04-09
 * (DOMAIN.md), with whatever a test changes in `overrides`.
 */
export function h20Rule<T extends object = Record<never, never>>(
  overrides: T = {} as T,
): Omit<typeof H20_RULE, keyof T> & T {
  // Fresh arrays each time: a test that changes one must not change the next test's rule.
  return { ...H20_RULE, skus: [...H20_RULE.skus], destinations: [...H20_RULE.destinations], ...overrides };
}

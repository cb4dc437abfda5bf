import { readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';

/** A bound a measurement must keep, on its value or on its ratio to the baseline. */
export interface Target {
  on: 'value' | 'ratio';
  op: '>=' | '<=' | '<';
  limit: number;
}

/** One line of the report, as `bench/results.json` holds it. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** The same quantity measured for the floor it is compared with, in the same run; null when none. */
  baseline: number | null;
  /** `value / baseline`. */
  ratio: number | null;
  /** Readable form of the target, e.g. `ratio >= 0.7`; null when the measurement is informative only. */
  target: string | null;
  pass: boolean | null;
}

export interface BenchReport {
  when: string;
  machine: { cpus: number; node: string; model: string };
  mode: string;
  results: BenchResult[];
  /** What a reader needs to interpret the figures: peaks, breakdowns, counts. */
  notes?: string[];
}

/** Builds a result, computing its ratio and whether it meets its target. */
export function result(
  name: string,
  value: number,
  unit: string,
  options: { baseline?: number; target?: Target } = {},
): BenchResult {
  const baseline = options.baseline ?? null;
  const ratio = baseline !== null && baseline !== 0 ? value / baseline : null;
  const target = options.target;
  let pass: boolean | null = null;
  if (target) {
    const measured = target.on === 'ratio' ? ratio : value;
    pass = measured === null ? false : compare(measured, target.op, target.limit);
  }
  return {
    name,
    value: round(value),
    unit,
    baseline: baseline === null ? null : round(baseline),
    ratio: ratio === null ? null : round(ratio),
    target: target ? `${target.on} ${target.op} ${target.limit}` : null,
    pass,
  };
}

function compare(measured: number, op: Target['op'], limit: number): boolean {
  if (op === '>=') return measured >= limit;
  if (op === '<=') return measured <= limit;
  return measured < limit;
}

/** Four significant digits: enough to compare runs, few enough to read. */
function round(n: number): number {
  if (!Number.isFinite(n) || n === 0) return n;
  const digits = Math.max(0, 3 - Math.floor(Math.log10(Math.abs(n))));
  return Number(n.toFixed(Math.min(digits, 6)));
}

/** Progress on stderr, so that stdout holds only the table. */
export const progress = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`);
};

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

const show = (n: number | null): string =>
  n === null ? '' : n.toLocaleString('en-US', { maximumFractionDigits: 3 });

/** The results as a Markdown table, which reads as well on a terminal as in the docs. */
export function formatTable(results: readonly BenchResult[]): string {
  const header = ['name', 'value', 'unit', 'baseline', 'ratio', 'target', 'status'];
  const rows = results.map((r) => [
    r.name,
    show(r.value),
    r.unit,
    show(r.baseline),
    show(r.ratio),
    r.target ?? '',
    r.pass === null ? '' : r.pass ? 'pass' : 'MISS',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function reportOf(results: BenchResult[], mode: string, when = new Date()): BenchReport {
  return {
    when: when.toISOString(),
    machine: { cpus: cpus().length, node: process.version, model: cpus()[0]?.model.trim() ?? 'unknown' },
    mode,
    results,
  };
}

export async function writeReport(path: string, report: BenchReport): Promise<void> {
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
}

export const RESULTS_START = '<!-- bench:results:start -->';
export const RESULTS_END = '<!-- bench:results:end -->';

/** Replaces the generated section of the benchmarks page, leaving the prose around it as written. */
export async function updateDoc(
  path: string,
  report: BenchReport,
  command: string,
  notes: readonly string[],
): Promise<void> {
  const text = await readFile(path, 'utf8');
  const start = text.indexOf(RESULTS_START);
  const end = text.indexOf(RESULTS_END);
  if (start === -1 || end < start)
    throw new Error(`${path} has no ${RESULTS_START} ... ${RESULTS_END} section`);
  const { machine } = report;
  const section = [
    RESULTS_START,
    '',
    `Latest run: \`${command}\` on ${report.when.slice(0, 10)} (${machine.cpus} × ${machine.model}, Node ${machine.node}).`,
    '',
    formatTable(report.results),
    '',
    ...notes.map((note) => `- ${note}`),
    '',
    '',
  ].join('\n');
  await writeFile(path, `${text.slice(0, start)}${section}${text.slice(end)}`);
}

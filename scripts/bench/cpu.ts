import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** CPU time of a process, all its threads, in ns (Linux: `/proc/<pid>/task/<tid>/schedstat`). */
export function processCpuNs(pid: number): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return ns;
}

/** `/proc/stat` counts in USER_HZ, which Linux fixes at 100 for user space. */
const NS_PER_TICK = 1e9 / 100;

/** Busy CPU time of the whole machine in ns: every state of `/proc/stat`'s `cpu` line but idle and iowait. */
function machineBusyNs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = ticks;
  return (user + nice + system + irq + softirq + steal) * NS_PER_TICK;
}

/** Cores busy over a stretch of time: this process, DynamoDB Local's JVM, and the machine in all. */
export interface CoresUsed {
  bench: number;
  jvm: number;
  machine: number;
}

/**
 * Starts watching the CPU; the function it returns gives the cores used since (CPU time over wall time).
 * Linux only: undefined elsewhere, or when the JVM's process is not known.
 */
export function watchCores(jvmPid: number | undefined): (() => CoresUsed) | undefined {
  if (jvmPid === undefined) return undefined;
  let start: { at: number; bench: number; jvm: number; machine: number };
  try {
    start = {
      at: performance.now(),
      bench: processCpuNs(process.pid),
      jvm: processCpuNs(jvmPid),
      machine: machineBusyNs(),
    };
  } catch {
    return undefined;
  }
  return () => {
    const wallNs = (performance.now() - start.at) * 1e6;
    return {
      bench: (processCpuNs(process.pid) - start.bench) / wallNs,
      jvm: (processCpuNs(jvmPid) - start.jvm) / wallNs,
      machine: (machineBusyNs() - start.machine) / wallNs,
    };
  };
}

export const MACHINE_CORES = cpus().length;

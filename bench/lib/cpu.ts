/**
 * CPU accounting from /proc, to tell a slow system from a busy machine: a round whose machine was
 * busy with something other than the benchmark and its servers is a round to distrust.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';

interface ProcStat {
  idle: number;
  steal: number;
  total: number;
}

function readProcStat(): ProcStat | undefined {
  try {
    // First line: "cpu  user nice system idle iowait irq softirq steal guest guest_nice" in ticks.
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    return { idle: fields[3]! + fields[4]!, steal: fields[7] ?? 0, total };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds (user + system) a process has used, from `/proc/<pid>/stat`.
 * @returns NaN when unreadable
 */
export function processCpuSeconds(pid: number): number {
  try {
    // The command name (field 2) may contain spaces; fields after ") " are fixed.
    const after = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime are fields 14 and 15, i.e. 11 and 12 after the name; clock ticks are 100/s on Linux.
    return (Number(after[11]) + Number(after[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** CPU use over an interval, in percent of ONE core (so 200 % is both cores of this machine). */
export interface CpuWindow {
  /** All work on the machine. */
  machineBusyPct: number;
  /** Time the hypervisor gave our vCPUs to someone else. */
  stealPct: number;
  /** The benchmark process itself (load generators, workers, receivers). */
  benchProcessPct: number;
}

/**
 * Starts measuring; call the returned function at the end of the interval.
 */
export function startCpuWindow(): () => CpuWindow {
  const stat0 = readProcStat();
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  return () => {
    const stat1 = readProcStat();
    const own = process.cpuUsage(own0);
    const wallSeconds = (performance.now() - t0) / 1000;
    const cores = cpus().length;
    let machineBusyPct = Number.NaN;
    let stealPct = Number.NaN;
    if (stat0 && stat1 && stat1.total > stat0.total) {
      const total = stat1.total - stat0.total;
      machineBusyPct = (100 * cores * (total - (stat1.idle - stat0.idle))) / total;
      stealPct = (100 * cores * (stat1.steal - stat0.steal)) / total;
    }
    return {
      machineBusyPct: Math.round(machineBusyPct),
      stealPct: Math.round(stealPct),
      benchProcessPct: Math.round((100 * (own.user + own.system)) / 1e6 / wallSeconds),
    };
  };
}

/**
 * CPU accounting from /proc, to tell a slow system from a busy machine: a round whose machine was
 * busy with something other than the benchmark and its servers is a round to distrust.
 */
import { readdirSync, readFileSync } from 'node:fs';
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
  /**
   * Processes of the benchmark: this process, its descendants (servers under test) and the
   * services the peers use (redis-server, postgres).
   */
  oursPct: number;
  /**
   * Everything else: `machineBusyPct - oursPct`. Approximate — processes of ours that exited
   * during the window count up to their last sample (every 250 ms), and kernel time spent on
   * loopback networking may be charged to no process — but a value far above ~10 % means
   * another workload shared the cores during the round.
   */
  foreignPct: number;
}

/** Services whose CPU counts as the benchmark's own: the peers' servers. */
const SERVICE_COMMANDS = new Set(['redis-server', 'postgres', 'postmaster']);

interface ProcessSample {
  ppid: number;
  comm: string;
  cpuSeconds: number;
}

/** Reads utime+stime, ppid and command name of every process. */
function sampleProcesses(): Map<number, ProcessSample> {
  const samples = new Map<number, ProcessSample>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return samples;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const open = stat.indexOf('(');
      const close = stat.lastIndexOf(')');
      const rest = stat.slice(close + 2).split(' ');
      samples.set(Number(entry), {
        comm: stat.slice(open + 1, close),
        ppid: Number(rest[1]),
        cpuSeconds: (Number(rest[11]) + Number(rest[12])) / 100,
      });
    } catch {
      // The process exited between readdir and read.
    }
  }
  return samples;
}

function isOurs(pid: number, samples: Map<number, ProcessSample>): boolean {
  const sample = samples.get(pid);
  if (!sample) return false;
  if (SERVICE_COMMANDS.has(sample.comm)) return true;
  for (let current: number | undefined = pid, hops = 0; current && hops < 64; hops++) {
    if (current === process.pid) return true;
    current = samples.get(current)?.ppid;
  }
  return false;
}

/**
 * Starts measuring; call the returned function at the end of the interval. Samples the process
 * table every 250 ms meanwhile, so that processes of ours that exit during the window (a server
 * stopped at the end of a round, the database backends of its connections) still count as ours.
 */
export function startCpuWindow(): () => CpuWindow {
  const stat0 = readProcStat();
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  const initial = sampleProcesses();
  // Per process of ours: CPU seconds at the start of the window (0 if it started later) and last seen.
  const base = new Map<number, number>();
  const last = new Map<number, number>();
  const track = (): void => {
    const now = sampleProcesses();
    for (const [pid, sample] of now) {
      if (!isOurs(pid, now)) continue;
      if (!base.has(pid)) base.set(pid, initial.get(pid)?.comm === sample.comm ? initial.get(pid)!.cpuSeconds : 0);
      last.set(pid, sample.cpuSeconds);
    }
  };
  track();
  const timer = setInterval(track, 250);
  timer.unref();
  return () => {
    clearInterval(timer);
    track();
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
    let oursSeconds = 0;
    for (const [pid, seconds] of last) oursSeconds += seconds - (base.get(pid) ?? 0);
    const oursPct = (100 * oursSeconds) / wallSeconds;
    return {
      machineBusyPct: Math.round(machineBusyPct),
      stealPct: Math.round(stealPct),
      benchProcessPct: Math.round((100 * (own.user + own.system)) / 1e6 / wallSeconds),
      oursPct: Math.round(oursPct),
      foreignPct: Math.max(0, Math.round(machineBusyPct - oursPct)),
    };
  };
}

/** Options of {@link waitForQuiet}. */
export interface QuietOptions {
  /** The machine counts as quiet below this busy level, in % of one core. @default 35 */
  thresholdPct?: number;
  /** Length of each sample, ms. @default 500 */
  sampleMs?: number;
  /** Give up waiting after this long and go on (the round's CPU record shows the noise). @default 30000 */
  maxWaitMs?: number;
}

/**
 * Waits until the machine is nearly idle before a round starts. Other work on this shared
 * 2-core machine (a build, a test run) arrives in bursts of seconds to minutes; starting rounds
 * in its gaps keeps most rounds clean, and the interleaving handles what remains.
 * @returns how long it waited, ms, and the last busy level sampled
 */
export async function waitForQuiet(options: QuietOptions = {}): Promise<{ waitedMs: number; busyPct: number }> {
  const { thresholdPct = 35, sampleMs = 500, maxWaitMs = 30_000 } = options;
  const start = performance.now();
  for (;;) {
    const end = startCpuWindow();
    await new Promise((resolve) => setTimeout(resolve, sampleMs));
    const { machineBusyPct } = end();
    const waitedMs = Math.round(performance.now() - start);
    if (!(machineBusyPct > thresholdPct) || waitedMs >= maxWaitMs) return { waitedMs, busyPct: machineBusyPct };
  }
}

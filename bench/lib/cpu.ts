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
   * during the window count up to their last sample (every 500 ms), kernel time spent on
   * loopback networking may be charged to no process, and PostgreSQL's shared processes count as
   * ours whoever keeps them busy — but a value far above ~10 % means another workload shared
   * the cores during the round.
   */
  foreignPct: number;
}

/** Services whose CPU counts as the benchmark's own: the peers' servers. */
const SERVICE_COMMANDS = new Set(['redis-server', 'postgres', 'postmaster']);

/** Databases the benchmark uses (lib/services.ts, peers/pg-boss.ts, agentjobs/deployment.ts). */
const BENCH_DATABASE = /^agentjobs_bench/;

/**
 * Whether a postgres process works for the benchmark. A backend shows its user and database in
 * its process title (`postgres: [<cluster>: ]<user> <database> <client> <state>`), so one
 * serving another workload on the same server — the integration tests, say — is not ours. Shared
 * processes (postmaster, checkpointer, WAL writer…) are counted as ours: the benchmark's commits
 * keep them busy too.
 */
function isBenchPostgres(pid: number): boolean {
  try {
    const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    // Debian prefixes the cluster (`postgres: 15/main: …`); a backend's client is `host(port)` or `[local]`.
    const backend = /^postgres: (?:\S+: )?\S+ (\S+) (?:\S+\(\d+\)|\[local\])/.exec(title);
    if (!backend) return true;
    return BENCH_DATABASE.test(backend[1]!);
  } catch {
    return false;
  }
}

interface ProcessInfo {
  ppid: number;
  comm: string;
  cpuSeconds: number;
}

/** Reads command name, ppid and utime+stime of one process; undefined if it is gone. */
function readProcess(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    const rest = stat.slice(close + 2).split(' ');
    return { comm: stat.slice(open + 1, close), ppid: Number(rest[1]), cpuSeconds: (Number(rest[11]) + Number(rest[12])) / 100 };
  } catch {
    return undefined;
  }
}

function listPids(): number[] {
  try {
    return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number);
  } catch {
    return [];
  }
}

/**
 * Which processes are the benchmark's. Each pid is classified once, when first seen — its
 * command and parent do not change — so that a sample reads /proc only for the processes of
 * ours (a few dozen) instead of every process: reading all of them took ~5 ms of this
 * process's event loop per sample, enough to show up in the latency figures.
 */
class OwnershipTable {
  private readonly ours = new Map<number, boolean>();
  private readonly parents = new Map<number, { ppid: number; comm: string }>();

  /** Whether `pid` is this process, a descendant of it, or working for the peers' services. */
  isOurs(pid: number, info?: ProcessInfo): boolean {
    const known = this.ours.get(pid);
    if (known !== undefined) return known;
    const self = info ?? readProcess(pid);
    let ours = false;
    if (self) {
      this.parents.set(pid, { ppid: self.ppid, comm: self.comm });
      if (SERVICE_COMMANDS.has(self.comm)) ours = self.comm === 'redis-server' || isBenchPostgres(pid);
      else {
        for (let current = pid, hops = 0; current > 1 && hops < 64; hops++) {
          if (current === process.pid) {
            ours = true;
            break;
          }
          const parent = this.parents.get(current) ?? readProcess(current);
          if (!parent) break;
          this.parents.set(current, { ppid: parent.ppid, comm: parent.comm });
          current = parent.ppid;
        }
      }
    }
    this.ours.set(pid, ours);
    return ours;
  }
}

/**
 * Starts measuring; call the returned function at the end of the interval. Samples the
 * processes of ours every 500 ms meanwhile, so that those that exit during the window (a server
 * stopped at the end of a round, the database backends of its connections) still count as ours
 * up to their last sample.
 */
export function startCpuWindow(): () => CpuWindow {
  const stat0 = readProcStat();
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  const table = new OwnershipTable();
  // Per process of ours: CPU seconds at the start of the window (0 if it started later) and last seen.
  const base = new Map<number, number>();
  const last = new Map<number, number>();
  let first = true;
  const track = (): void => {
    for (const pid of listPids()) {
      if (!table.isOurs(pid)) continue;
      const info = readProcess(pid);
      if (!info) continue;
      if (!base.has(pid)) base.set(pid, first ? info.cpuSeconds : 0);
      last.set(pid, info.cpuSeconds);
    }
    first = false;
  };
  track();
  const timer = setInterval(track, 500);
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

/** Share of the machine busy over `sampleMs`, in % of one core, from /proc/stat alone. */
async function machineBusyOver(sampleMs: number): Promise<number> {
  const stat0 = readProcStat();
  await new Promise((resolve) => setTimeout(resolve, sampleMs));
  const stat1 = readProcStat();
  if (!stat0 || !stat1 || stat1.total <= stat0.total) return 0;
  const total = stat1.total - stat0.total;
  return (100 * cpus().length * (total - (stat1.idle - stat0.idle))) / total;
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
    const busyPct = Math.round(await machineBusyOver(sampleMs));
    const waitedMs = Math.round(performance.now() - start);
    if (!(busyPct > thresholdPct) || waitedMs >= maxWaitMs) return { waitedMs, busyPct };
  }
}

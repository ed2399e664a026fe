/**
 * The contract between the runner (run.ts) and a benchmark scenario — a peer today, agentjobs
 * tomorrow. A scenario is set up once per run, measured once per round (rounds of competing
 * scenarios are interleaved by the runner), and torn down at the end.
 */

/** The groups `--only` selects, one per item of the benchmark issue. */
export const SCENARIO_GROUPS = ['dispatch', 'batch', 'e2e', 'latency', 'webhooks', 'growth'] as const;

/** A group of scenarios compared with each other. */
export type ScenarioGroup = (typeof SCENARIO_GROUPS)[number];

/** An external service a scenario needs; the runner skips the scenario when it is down. */
export type Requirement = 'redis' | 'postgres' | 'agentjobs';

/** One measured value of one round. */
export interface Figure {
  /**
   * Name of the figure, e.g. `accepted` or `start p99`. Figures with the same name in the same
   * group are compared with each other: the ratio column divides by the reference's figure.
   */
  name: string;
  /** Unit as printed, e.g. `jobs/s`, `ms`, `MB`. */
  unit: string;
  /** The value. */
  value: number;
  /** Whether a higher value is better (throughput) or worse (latency, memory). */
  better: 'higher' | 'lower';
}

/** Sizes of a run, resolved once from argv (`--quick` shrinks them). */
export interface RunSizes {
  /** Length of a closed-loop throughput measurement, ms. */
  throughputMs: number;
  /** Warm-up before the first measured round, ms. */
  warmupMs: number;
  /** Jobs pushed through in an end-to-end round. */
  e2eJobs: number;
  /** Arrival rate of latency rounds, jobs/s. */
  latencyRate: number;
  /** Length of a latency round, ms. */
  latencyMs: number;
  /** Jobs already stored in the "full" store of the growth group. */
  growthJobs: number;
  /** Concurrent callers / connections / worker concurrency everywhere. */
  concurrency: number;
}

/** What the runner hands a scenario. */
export interface ScenarioContext {
  /** Sizes of this run. */
  sizes: RunSizes;
  /** Absolute path of the repository root (the servers' working directory). */
  repoRoot: string;
  /**
   * The agentjobs CLI to start (`dist/cli/main.js` of this checkout unless `--agentjobs-cli`
   * points at another build, e.g. to compare two builds of the server).
   */
  agentjobsCli: string;
  /** A scratch directory for this run, removed afterwards. */
  workDir: string;
  /** `postgres://…` of the server the peers and agentjobs-on-PostgreSQL use. */
  postgresUrl: string;
  /** Redis host and port. */
  redis: { host: string; port: number };
  /** Progress messages (go to stderr, so the table on stdout stays clean). */
  log: (message: string) => void;
}

/** A benchmark scenario. */
export interface Scenario {
  /** Unique id, e.g. `bullmq.add`. */
  id: string;
  /** The group it is compared in. */
  group: ScenarioGroup;
  /** Short label for the table, e.g. `BullMQ Queue.add`. */
  label: string;
  /** What is measured and how, one or two sentences, copied into the results file. */
  description: string;
  /**
   * Whether this is the group's reference, the denominator of the ratio column. One per group;
   * when it is skipped, ratios are left blank rather than computed against something else.
   */
  reference?: boolean;
  /** Services without which the scenario is skipped with a note. */
  requires: Requirement[];
  /** Settings worth recording with the results (pool sizes, batch sizes…). */
  config?: Record<string, unknown>;
  /** Once per run before the first round: start processes, connect, warm up. */
  setup(ctx: ScenarioContext): Promise<void>;
  /** One measured round; must leave the scenario ready for the next round. */
  run(ctx: ScenarioContext, round: number): Promise<Figure[]>;
  /** Once per run after the last round, also after a failed setup or round; an error here is reported, not fatal. */
  teardown(ctx: ScenarioContext): Promise<void>;
}

/**
 * Runs scenarios group by group in interleaved rounds and reduces the rounds to medians and
 * ratios.
 *
 * Why interleave: this machine's cores drift by up to 40 % in speed within an hour, so two
 * figures are comparable only when taken close together. Each round runs every scenario of a
 * group once, in alternating order (A B C, then C B A…) so no scenario always runs first or last;
 * the ratio of a scenario to its group's reference is computed per round — from two
 * measurements minutes apart at most — and the median of those per-round ratios is reported.
 */
import { performance } from 'node:perf_hooks';
import { startCpuWindow, waitForQuiet, type CpuWindow } from './cpu.js';
import type { Figure, Scenario, ScenarioContext, ScenarioGroup } from './scenario.js';
import { median } from './stats.js';

/** One scenario's outcome in one round. */
export interface RoundRecord {
  /** 1-based round number. */
  round: number;
  /** Scenario id. */
  scenario: string;
  /** Position in the round's order (0 = first). */
  position: number;
  /** ISO time the round started. */
  startedAt: string;
  /** Wall time of `run()`, ms. */
  durationMs: number;
  /** Figures, empty on error. */
  figures: Figure[];
  /** Error message when the round failed. */
  error?: string;
  /**
   * CPU use during the round, in % of one core. `machineBusyPct` well above what the scenario's
   * own processes explain means something else ran on the machine: distrust that round.
   */
  cpu?: CpuWindow;
  /** How long the runner waited for the machine to quieten before the round, and how busy it was then. */
  quiet?: { waitedMs: number; busyPct: number };
  /**
   * Set when the round was measured but thrown away because another workload used the cores
   * meanwhile (`cpu.foreignPct` above the limit); it was then run again. Kept for the record,
   * left out of medians and ratios.
   */
  discarded?: string;
  /**
   * Set on a round kept although other work used more CPU than the limit, because it had been
   * run again as often as allowed. Medians leave it out when enough clean rounds remain.
   */
  noisy?: boolean;
}

/** A figure reduced over the rounds. */
export interface FigureSummary {
  /** Group. */
  group: ScenarioGroup;
  /** Scenario id. */
  scenario: string;
  /** Scenario label. */
  label: string;
  /** Figure name. */
  figure: string;
  /** Unit. */
  unit: string;
  /** Whether higher is better. */
  better: 'higher' | 'lower';
  /** Median over the successful rounds. */
  median: number;
  /** Smallest value. */
  min: number;
  /** Largest value. */
  max: number;
  /** Number of rounds the median was taken over. */
  rounds: number;
  /**
   * How many of those rounds were noisy (see {@link RoundRecord.noisy}): 0 unless fewer than
   * half the rounds were clean, in which case the noisy ones are used too.
   */
  noisyRounds: number;
  /**
   * Median of per-round ratios to the group reference's figure of the same name; undefined when
   * the reference has no such figure or did not run.
   */
  ratio?: number;
}

/** A scenario that did not run at all, and why. */
export interface SkippedScenario {
  /** Scenario id. */
  scenario: string;
  /** Reason, as printed. */
  reason: string;
}

/** Options of {@link runGroups}. */
export interface RunGroupsOptions {
  /** Scenarios to run (already filtered for `--only` and availability). */
  scenarios: Scenario[];
  /** Rounds per group. */
  rounds: number;
  /** Context handed to each scenario. */
  ctx: ScenarioContext;
  /** A round longer than this fails (so one stuck scenario cannot hang the run). */
  roundTimeoutMs: number;
  /**
   * A round during which other work used more than this much CPU (% of one core, averaged over
   * the round) is discarded and run again. @default 40
   */
  maxForeignPct?: number;
  /** How many times one round of one scenario may be run again for that reason. @default 3 */
  maxReruns?: number;
}

/** Everything a run produced. */
export interface RunOutcome {
  /** Every round of every scenario. */
  rounds: RoundRecord[];
  /** Scenarios whose setup failed. */
  failedSetups: SkippedScenario[];
  /** Errors during teardown (reported, not fatal). */
  teardownErrors: SkippedScenario[];
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits for a quiet machine, then runs one round of one scenario and records it. */
async function runOneRound(scenario: Scenario, round: number, position: number, options: RunGroupsOptions): Promise<RoundRecord> {
  const { ctx, rounds, roundTimeoutMs } = options;
  const quiet = await waitForQuiet();
  if (quiet.waitedMs > 1000) ctx.log(`[${scenario.group}] waited ${quiet.waitedMs} ms for the machine to quieten (busy ${quiet.busyPct}%)`);
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const endCpu = startCpuWindow();
  try {
    const figures = await withTimeout(scenario.run(ctx, round), roundTimeoutMs, `round ${round} of ${scenario.id}`);
    const durationMs = performance.now() - t0;
    const cpu = endCpu();
    ctx.log(
      `[${scenario.group}] round ${round}/${rounds} ${scenario.id}: ` +
        figures.map((f) => `${f.name}=${f.value.toFixed(f.value >= 100 ? 0 : 2)}${f.unit === 'ms' ? 'ms' : ''}`).join(' ') +
        ` (cpu: machine ${cpu.machineBusyPct}%, ours ${cpu.oursPct}%, foreign ${cpu.foreignPct}%, steal ${cpu.stealPct}%)`,
    );
    return { round, scenario: scenario.id, position, startedAt, durationMs, figures, cpu, quiet };
  } catch (error) {
    const durationMs = performance.now() - t0;
    const cpu = endCpu();
    ctx.log(`[${scenario.group}] round ${round}/${rounds} ${scenario.id} failed: ${message(error)}`);
    return { round, scenario: scenario.id, position, startedAt, durationMs, figures: [], error: message(error), cpu, quiet };
  }
}

/**
 * Runs the scenarios one group at a time: set up the group's scenarios, run the interleaved
 * rounds, tear them down. Groups run one after the other so that only one group's processes and
 * connections exist at a time, and each group's rounds sit close together in time.
 */
export async function runGroups(options: RunGroupsOptions): Promise<RunOutcome> {
  const { scenarios, rounds, ctx, roundTimeoutMs, maxForeignPct = 40, maxReruns = 3 } = options;
  const outcome: RunOutcome = { rounds: [], failedSetups: [], teardownErrors: [] };
  const groups = [...new Set(scenarios.map((s) => s.group))];

  for (const group of groups) {
    const members = scenarios.filter((s) => s.group === group);
    const ready: Scenario[] = [];
    for (const scenario of members) {
      ctx.log(`[${group}] setting up ${scenario.id}`);
      try {
        await withTimeout(scenario.setup(ctx), Math.max(roundTimeoutMs, 3_600_000), `setup of ${scenario.id}`);
        ready.push(scenario);
      } catch (error) {
        ctx.log(`[${group}] setup of ${scenario.id} failed: ${message(error)}`);
        outcome.failedSetups.push({ scenario: scenario.id, reason: `setup failed: ${message(error)}` });
        await scenario.teardown(ctx).catch(() => undefined);
      }
    }

    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 1 ? ready : [...ready].reverse();
      for (const [position, scenario] of order.entries()) {
        for (let attempt = 0; ; attempt++) {
          const record = await runOneRound(scenario, round, position, options);
          const tooNoisy = !record.error && record.cpu !== undefined && record.cpu.foreignPct > maxForeignPct;
          if (tooNoisy && attempt < maxReruns) {
            record.discarded = `other work used ${record.cpu!.foreignPct}% of a core during the round`;
            ctx.log(`[${group}] round ${round}/${rounds} ${scenario.id}: discarded (${record.discarded}); running it again`);
          } else if (tooNoisy) {
            record.noisy = true;
            ctx.log(`[${group}] round ${round}/${rounds} ${scenario.id}: still noisy after ${maxReruns} reruns; kept, marked noisy`);
          }
          outcome.rounds.push(record);
          if (!record.discarded) break;
        }
      }
    }

    for (const scenario of ready) {
      try {
        await withTimeout(scenario.teardown(ctx), 120_000, `teardown of ${scenario.id}`);
      } catch (error) {
        outcome.teardownErrors.push({ scenario: scenario.id, reason: message(error) });
        ctx.log(`[${group}] teardown of ${scenario.id} failed: ${message(error)}`);
      }
    }
  }
  return outcome;
}

/**
 * The rounds of one scenario that its medians use: the clean ones when they are at least half
 * of the rounds run, otherwise every kept round (clean or noisy) — a median over one or two
 * clean rounds would be less trustworthy than one over all of them.
 */
function usableRounds(scenarioId: string, rounds: readonly RoundRecord[]): RoundRecord[] {
  const kept = rounds.filter((r) => r.scenario === scenarioId && !r.error && !r.discarded);
  const clean = kept.filter((r) => !r.noisy);
  const roundsRun = new Set(rounds.filter((r) => r.scenario === scenarioId).map((r) => r.round)).size;
  return clean.length >= Math.ceil(roundsRun / 2) ? clean : kept;
}

/**
 * Reduces the rounds to one summary per (scenario, figure), in scenario order, with the ratio to
 * the group's reference computed per round (both rounds usable) and then taken at the median.
 */
export function summarizeRounds(scenarios: readonly Scenario[], rounds: readonly RoundRecord[]): FigureSummary[] {
  const summaries: FigureSummary[] = [];
  for (const scenario of scenarios) {
    const mine = usableRounds(scenario.id, rounds);
    if (mine.length === 0) continue;
    const reference = scenarios.find((s) => s.group === scenario.group && s.reference);
    const referenceRounds = reference ? usableRounds(reference.id, rounds) : [];
    const names = [...new Set(mine.flatMap((r) => r.figures.map((f) => f.name)))];
    for (const name of names) {
      const values: number[] = [];
      const ratios: number[] = [];
      let unit = '';
      let better: 'higher' | 'lower' = 'higher';
      let noisyRounds = 0;
      for (const record of mine) {
        const figure = record.figures.find((f) => f.name === name);
        if (!figure || !Number.isFinite(figure.value)) continue;
        values.push(figure.value);
        if (record.noisy) noisyRounds++;
        unit = figure.unit;
        better = figure.better;
        const refValue = referenceRounds.find((r) => r.round === record.round)?.figures.find((f) => f.name === name)?.value;
        if (refValue !== undefined && Number.isFinite(refValue) && refValue !== 0) ratios.push(figure.value / refValue);
      }
      if (values.length === 0) continue;
      const ratio = median(ratios);
      summaries.push({
        group: scenario.group,
        scenario: scenario.id,
        label: scenario.label,
        figure: name,
        unit,
        better,
        median: median(values),
        min: Math.min(...values),
        max: Math.max(...values),
        rounds: values.length,
        noisyRounds,
        ...(Number.isFinite(ratio) ? { ratio } : {}),
      });
    }
  }
  return summaries;
}

/**
 * Small statistics helpers shared by every load driver.
 *
 * Percentiles are taken from the full sorted sample rather than an HDR histogram: a benchmark
 * round records at most a few hundred thousand latencies, which sort in milliseconds, and the
 * exact sample avoids the bucket rounding an HDR histogram would add to `max`.
 */

/** Latency summary in milliseconds. */
export interface LatencySummary {
  /** Number of samples the summary was computed from. */
  count: number;
  /** Median. */
  p50: number;
  /** 90th percentile. */
  p90: number;
  /** 99th percentile. */
  p99: number;
  /** Largest sample. */
  max: number;
  /** Arithmetic mean. */
  mean: number;
}

/**
 * Nearest-rank percentile of an ascending-sorted sample.
 *
 * Nearest rank (not interpolation) so that the reported value is always one that was observed.
 * @param sorted - samples sorted ascending
 * @param q - quantile in [0, 1]
 * @returns the percentile, or NaN for an empty sample
 */
export function percentileOfSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length);
  const index = Math.min(sorted.length - 1, Math.max(0, rank - 1));
  return sorted[index]!;
}

/**
 * Summarises latency samples (any unit; the drivers use milliseconds).
 * @param samples - unsorted samples; not modified
 */
export function summarize(samples: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i]!;
  return {
    count: sorted.length,
    p50: percentileOfSorted(sorted, 0.5),
    p90: percentileOfSorted(sorted, 0.9),
    p99: percentileOfSorted(sorted, 0.99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

/**
 * Median of a sample; the mean of the two middle values for an even count, because rounds are
 * few (3–7) and the midpoint is a fairer centre than either neighbour.
 * @returns NaN for an empty sample
 */
export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}

/**
 * A growable buffer of float samples that avoids boxing every latency in a JS array.
 * Doubling keeps appends amortised O(1) while a closed-loop driver records ~25,000 samples/s.
 */
export class SampleBuffer {
  private data = new Float64Array(4096);
  private size = 0;

  /** Appends one sample. */
  push(value: number): void {
    if (this.size === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.size++] = value;
  }

  /** Number of samples recorded. */
  get length(): number {
    return this.size;
  }

  /** A view of the recorded samples (shares memory with the buffer). */
  values(): Float64Array {
    return this.data.subarray(0, this.size);
  }
}

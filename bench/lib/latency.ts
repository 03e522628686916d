/** The latency columns of a result row (`TargetResult.latencyMs`) from raw samples in ms, in any order. */
export function latencyStats(samples: readonly number[]): { p50: number; p90: number; p99: number; mean: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!)
  return {
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    mean: sorted.length === 0 ? NaN : sorted.reduce((a, b) => a + b, 0) / sorted.length,
    max: sorted.at(-1) ?? NaN,
  }
}

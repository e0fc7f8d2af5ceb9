// Small statistics for benchmarks: percentiles over a sample of numbers.

/** The p-th percentile (0..100) by nearest rank; NaN for an empty sample. */
export const percentile = (sample: ReadonlyArray<number>, p: number): number => {
  if (sample.length === 0) return Number.NaN
  const sorted = [...sample].sort((a, b) => a - b)
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number
}

export interface Summary {
  readonly count: number
  readonly p50: number
  readonly p99: number
  readonly mean: number
}

export const summarize = (sample: ReadonlyArray<number>): Summary => ({
  count: sample.length,
  p50: percentile(sample, 50),
  p99: percentile(sample, 99),
  mean: sample.length === 0 ? Number.NaN : sample.reduce((a, b) => a + b, 0) / sample.length
})

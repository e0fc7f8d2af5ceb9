// Shared formatting and timing for benchmark output.
import { summarize } from "@spindle/shared/stats"
export interface BenchResult {
  readonly name: string
  readonly lines: ReadonlyArray<string>
}

export const formatMs = (ms: number) => (ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(3)} ms`)

/** a/b with two decimals, as "x.xx×". */
export const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`

/** Runs `f` n times one after another; the latencies' summary. */
export const time = async (n: number, f: (i: number) => Promise<unknown>) => {
  const latencies: Array<number> = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await f(i)
    latencies.push(performance.now() - t0)
  }
  return summarize(latencies)
}

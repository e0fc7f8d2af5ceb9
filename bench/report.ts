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

/**
 * `a` and `b` n times each, taking turns (a then b, then b then a, ...), so that whatever drifts
 * during the run (a model process warming up, the page cache, other load) weighs on both alike.
 */
export const timeInTurns = async (
  n: number,
  a: (i: number) => Promise<unknown>,
  b: (i: number) => Promise<unknown>
) => {
  const latencies: [Array<number>, Array<number>] = [[], []]
  const once = async (which: 0 | 1, i: number) => {
    const t0 = performance.now()
    await (which === 0 ? a : b)(i)
    latencies[which].push(performance.now() - t0)
  }
  for (let i = 0; i < n; i++) {
    const first = i % 2 === 0 ? 0 : 1
    await once(first, i)
    await once(first === 0 ? 1 : 0, i)
  }
  return [summarize(latencies[0]), summarize(latencies[1])] as const
}

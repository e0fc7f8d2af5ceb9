// Shared formatting for benchmark output.
export interface BenchResult {
  readonly name: string
  readonly lines: ReadonlyArray<string>
}

export const formatMs = (ms: number) => (ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(3)} ms`)

/** a/b with two decimals, as "x.xx×". */
export const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`

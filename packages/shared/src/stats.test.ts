import { assert, describe, it } from "@effect/vitest"
import { percentile, summarize } from "./stats.ts"

describe("stats", () => {
  it("takes percentiles by nearest rank", () => {
    const sample = Array.from({ length: 100 }, (_, i) => 100 - i)
    assert.strictEqual(percentile(sample, 50), 50)
    assert.strictEqual(percentile(sample, 99), 99)
    assert.strictEqual(percentile(sample, 100), 100)
    assert.strictEqual(percentile([7], 1), 7)
    assert.isNaN(percentile([], 50))
  })

  it("summarizes", () => {
    const summary = summarize([1, 2, 3, 4])
    assert.deepStrictEqual(summary, { count: 4, p50: 2, p99: 4, mean: 2.5 })
  })
})

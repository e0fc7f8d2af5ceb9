import { assert, describe, it } from "@effect/vitest"
import { stableStringify } from "./json.ts"

describe("stableStringify", () => {
  it("gives the same text for the same value whatever the key order", () => {
    assert.strictEqual(
      stableStringify({ b: 1, a: { d: [2, { y: 1, x: 0 }], c: null } }),
      stableStringify({ a: { c: null, d: [2, { x: 0, y: 1 }] }, b: 1 })
    )
    assert.strictEqual(stableStringify({ b: 1, a: 2 }), '{"a":2,"b":1}')
    assert.notStrictEqual(stableStringify({ a: [1, 2] }), stableStringify({ a: [2, 1] }))
  })
})

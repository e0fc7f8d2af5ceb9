import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { randomHex } from "./random.ts"

describe("randomHex", () => {
  it.effect("gives exactly two hex digits per byte", () =>
    Effect.gen(function* () {
      for (let i = 0; i < 200; i++) {
        assert.match(yield* randomHex(4), /^[0-9a-f]{8}$/)
      }
    })
  )
})

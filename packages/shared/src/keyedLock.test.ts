import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { makeKeyedLock } from "./keyedLock.ts"

describe("makeKeyedLock", () => {
  it.effect("runs work on one key one at a time, and on other keys meanwhile", () =>
    Effect.gen(function* () {
      const locked = makeKeyedLock<string>()
      const release = yield* Deferred.make<void>()
      const order: Array<string> = []
      const first = yield* Effect.forkChild(
        locked(
          "a",
          Effect.andThen(
            Deferred.await(release),
            Effect.sync(() => order.push("a1"))
          )
        )
      )
      yield* Effect.yieldNow
      const second = yield* Effect.forkChild(
        locked(
          "a",
          Effect.sync(() => order.push("a2"))
        )
      )
      yield* locked(
        "b",
        Effect.sync(() => order.push("b"))
      )
      yield* Effect.yieldNow
      assert.deepStrictEqual(order, ["b"])
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(first)
      yield* Fiber.join(second)
      assert.deepStrictEqual(order, ["b", "a1", "a2"])
    })
  )
})

import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { makeKeyedLock } from "./keyedLock.ts"

describe("makeKeyedLock", () => {
  it.effect("runs work on one key one at a time and on different keys side by side", () =>
    Effect.gen(function* () {
      const locked = makeKeyedLock<string>()
      const order: Array<string> = []
      const release = yield* Deferred.make<void>()
      const first = yield* Effect.forkChild(
        locked(
          "a",
          Effect.andThen(
            Effect.sync(() => order.push("a1 in")),
            Deferred.await(release)
          )
        )
      )
      yield* Effect.yieldNow
      const second = yield* Effect.forkChild(
        locked(
          "a",
          Effect.sync(() => order.push("a2 in"))
        )
      )
      yield* locked(
        "b",
        Effect.sync(() => order.push("b in"))
      )
      yield* Effect.yieldNow
      assert.deepStrictEqual(order, ["a1 in", "b in"])
      assert.isTrue(locked.busy("a"))
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(first)
      yield* Fiber.join(second)
      assert.deepStrictEqual(order, ["a1 in", "b in", "a2 in"])
    })
  )

  it.effect("forgets a key once nobody holds or waits for it, after success, failure or interruption", () =>
    Effect.gen(function* () {
      const locked = makeKeyedLock<number>()
      for (let key = 0; key < 100; key++) yield* locked(key, Effect.void)
      assert.strictEqual(locked.size(), 0)
      yield* Effect.flip(locked(1, Effect.fail("no")))
      const stuck = yield* Effect.forkChild(locked(2, Effect.never))
      yield* Effect.yieldNow
      const waiting = yield* Effect.forkChild(locked(2, Effect.void))
      yield* Effect.yieldNow
      assert.strictEqual(locked.size(), 1)
      yield* Fiber.interrupt(waiting)
      assert.isTrue(locked.busy(2))
      yield* Fiber.interrupt(stuck)
      assert.strictEqual(locked.size(), 0)
      assert.isFalse(locked.busy(2))
    })
  )
})

import { assert, describe, it } from "@effect/vitest"
import { SpindleError } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Ref from "effect/Ref"
import { StartupGate } from "./StartupGate.ts"

/** Lets forked fibers run until they block. */
const settle = Effect.yieldNow.pipe(Effect.repeat({ times: 20 }))

describe("StartupGate", () => {
  it.effect("runs work at once when ready", () =>
    Effect.gen(function* () {
      const gate = yield* StartupGate.make()
      yield* gate.markReady
      assert.strictEqual(yield* gate.enqueue(Effect.succeed(42)), 42)
      assert.deepStrictEqual(yield* gate.state, { status: "ready" })
    })
  )

  it.effect("holds work while starting and runs it in arrival order once ready", () =>
    Effect.gen(function* () {
      const gate = yield* StartupGate.make()
      const order = yield* Ref.make<Array<number>>([])
      const fibers = yield* Effect.forEach(
        Array.from({ length: 10 }, (_, i) => i),
        (i) => Effect.forkChild(gate.enqueue(Ref.update(order, (o) => [...o, i])))
      )
      yield* settle
      assert.deepStrictEqual(yield* Ref.get(order), [])
      assert.strictEqual(yield* gate.waiting, 10)
      yield* gate.markReady
      yield* Effect.forEach(fibers, Fiber.join)
      assert.deepStrictEqual(yield* Ref.get(order), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      assert.strictEqual(yield* gate.waiting, 0)
    })
  )

  it.effect("answers unavailable when the waiting queue is full", () =>
    Effect.gen(function* () {
      const gate = yield* StartupGate.make({ capacity: 2 })
      yield* Effect.forkChild(gate.enqueue(Effect.void))
      yield* Effect.forkChild(gate.enqueue(Effect.void))
      yield* settle
      const error = yield* Effect.flip(gate.enqueue(Effect.void))
      assert.strictEqual(error.reason, "unavailable")
    })
  )

  it.effect("fails waiting and later work with the startup error", () =>
    Effect.gen(function* () {
      const gate = yield* StartupGate.make()
      const ran = yield* Ref.make(false)
      const waiting = yield* Effect.forkChild(gate.enqueue(Ref.set(ran, true)))
      yield* settle
      const startupError = new SpindleError({ reason: "internal", message: "database unreadable" })
      yield* gate.markFailed(startupError)
      const error = yield* Effect.flip(Fiber.join(waiting))
      assert.strictEqual(error, startupError)
      assert.strictEqual(
        (yield* Effect.flip(gate.enqueue(Ref.set(ran, true)))).message,
        "database unreadable"
      )
      assert.isFalse(yield* Ref.get(ran))
      // A late markReady does not reopen a failed gate.
      yield* gate.markReady
      assert.strictEqual((yield* gate.state).status, "failed")
    })
  )

  it.effect("a waiter that gives up does not block the ones behind it", () =>
    Effect.gen(function* () {
      const gate = yield* StartupGate.make()
      const first = yield* Effect.forkChild(gate.enqueue(Effect.succeed("first")))
      const second = yield* Effect.forkChild(gate.enqueue(Effect.succeed("second")))
      yield* settle
      yield* Fiber.interrupt(first)
      yield* gate.markReady
      assert.strictEqual(yield* Fiber.join(second), "second")
    })
  )
})

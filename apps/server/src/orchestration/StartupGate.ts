// The gate every mutating entry point passes. While the server is `starting`, work waits in a
// bounded FIFO and starts in arrival order once `ready`; if startup fails, it all fails with the
// startup error. Reads never go through here.
import { SpindleError } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

export type StartupState =
  | { readonly status: "starting" }
  | { readonly status: "ready" }
  | { readonly status: "failed"; readonly error: SpindleError }

export const DEFAULT_QUEUE_CAPACITY = 1_000

export class StartupGate extends Context.Service<
  StartupGate,
  {
    readonly state: Effect.Effect<StartupState>
    /** How many callers are waiting for `ready`. */
    readonly waiting: Effect.Effect<number>
    readonly markReady: Effect.Effect<void>
    readonly markFailed: (error: SpindleError) => Effect.Effect<void>
    /** Runs `effect` now if ready, after `ready` (in arrival order) if starting, never if failed. */
    readonly enqueue: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | SpindleError, R>
  }
>()("spindle/orchestration/StartupGate") {
  static readonly make = (options?: { readonly capacity?: number }) =>
    Effect.gen(function* () {
      const capacity = options?.capacity ?? DEFAULT_QUEUE_CAPACITY
      let state: StartupState = { status: "starting" }
      // Released one by one in arrival order when the gate settles.
      const waiters = new Set<Deferred.Deferred<void, SpindleError>>()

      const settle = (next: StartupState) =>
        Effect.suspend(() => {
          if (state.status !== "starting") return Effect.void
          state = next
          const released = [...waiters]
          waiters.clear()
          return Effect.forEach(
            released,
            (waiter) =>
              next.status === "failed"
                ? Deferred.fail(waiter, next.error)
                : Deferred.succeed(waiter, undefined),
            { discard: true }
          )
        })

      const enqueue = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | SpindleError, R> =>
        Effect.suspend(() => {
          if (state.status === "ready") return effect
          if (state.status === "failed") return Effect.fail(state.error)
          if (waiters.size >= capacity) {
            return Effect.fail(
              new SpindleError({
                reason: "unavailable",
                message: `The server is still starting and ${capacity} commands are already waiting. Retry in a few seconds.`
              })
            )
          }
          const mine = Deferred.makeUnsafe<void, SpindleError>()
          waiters.add(mine)
          return Deferred.await(mine).pipe(
            Effect.onInterrupt(() => Effect.sync(() => waiters.delete(mine))),
            Effect.andThen(effect)
          )
        })

      return StartupGate.of({
        state: Effect.sync(() => state),
        waiting: Effect.sync(() => waiters.size),
        markReady: settle({ status: "ready" }),
        markFailed: (error) => settle({ status: "failed", error }),
        enqueue
      })
    })

  static readonly layer = Layer.effect(StartupGate, StartupGate.make())
}

// The gate every mutating entry point passes. While the server is `starting`, work waits in a
// bounded FIFO; once `ready` it is let through one at a time in arrival order, each holding the
// line until it is admitted (its command decided, or for a bootstrap its thread created), so a
// `project.create` sent before a bootstrap on that project runs first, whatever their types.
// If startup fails, it all fails with the startup error. Reads never go through here.
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

interface Waiter {
  /** Lets the work start (or fails it with the startup error). */
  readonly go: Deferred.Deferred<void, SpindleError>
  /** Completed by the work once it is admitted, or when it ends. */
  readonly admitted: Deferred.Deferred<void>
}

/** The queued work the current fiber is running, if any: set while the queue drains. */
const CurrentTicket = Context.Reference<Deferred.Deferred<void> | undefined>(
  "spindle/bootstrap/StartupGate/CurrentTicket",
  { defaultValue: () => undefined }
)

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
    /**
     * Called by queued work once what must happen in arrival order has happened (a bootstrap:
     * its thread exists), so the next in line may start while it goes on. A no-op otherwise.
     */
    readonly admitted: Effect.Effect<void>
  }
>()("spindle/bootstrap/StartupGate") {
  static readonly make = (options?: { readonly capacity?: number }) =>
    Effect.gen(function* () {
      const capacity = options?.capacity ?? DEFAULT_QUEUE_CAPACITY
      let state: StartupState = { status: "starting" }
      const queue: Array<Waiter> = []
      // True until the queue that built up while starting has drained: newcomers wait behind it.
      let draining = true
      const scope = yield* Effect.scope

      const drain = Effect.gen(function* () {
        while (queue.length > 0) {
          const next = queue.shift()!
          yield* Deferred.succeed(next.go, undefined)
          yield* Deferred.await(next.admitted)
        }
        draining = false
      })

      const settle = Effect.fn("StartupGate.settle")(function* (next: StartupState) {
        return yield* Effect.suspend(() => {
          if (state.status !== "starting") return Effect.void
          state = next
          if (next.status === "failed") {
            const failed = queue.splice(0)
            draining = false
            return Effect.forEach(failed, (waiter) => Deferred.fail(waiter.go, next.error), {
              discard: true
            })
          }
          return Effect.asVoid(Effect.forkIn(drain, scope))
        })
      })

      const enqueue = Effect.fn("StartupGate.enqueue")(function* <A, E, R>(effect: Effect.Effect<A, E, R>) {
        // Work already let through (a bootstrap the MCP tool enqueued, say) does not queue again.
        if ((yield* CurrentTicket) !== undefined) return yield* effect
        if (state.status === "failed") return yield* Effect.fail(state.error)
        if (state.status === "ready" && !draining) return yield* effect
        if (queue.length >= capacity) {
          return yield* new SpindleError({
            reason: "unavailable",
            message: `The server is still starting and ${capacity} commands are already waiting. Retry in a few seconds.`
          })
        }
        const waiter: Waiter = { go: Deferred.makeUnsafe(), admitted: Deferred.makeUnsafe() }
        queue.push(waiter)
        const release = Effect.suspend(() => {
          const at = queue.indexOf(waiter)
          if (at >= 0) queue.splice(at, 1)
          return Deferred.succeed(waiter.admitted, undefined)
        })
        return yield* Deferred.await(waiter.go).pipe(
          Effect.andThen(effect),
          Effect.provideService(CurrentTicket, waiter.admitted),
          Effect.ensuring(release)
        )
      })

      const admitted = Effect.gen(function* () {
        const ticket = yield* CurrentTicket
        if (ticket !== undefined) yield* Deferred.succeed(ticket, undefined)
      })

      return StartupGate.of({
        state: Effect.sync(() => state),
        waiting: Effect.sync(() => queue.length),
        markReady: settle({ status: "ready" }),
        markFailed: (error) => settle({ status: "failed", error }),
        enqueue,
        admitted
      })
    })

  static readonly layer = Layer.effect(StartupGate, StartupGate.make())
}

// The start queue's runner. A start past a limit is queued by the decider (a `thread.queued`
// event holding its request); this follows the event log and, whenever a slot may have freed (a
// turn ended, a thread archived or deleted, a bootstrap ended), sends the queued threads that may
// start now through the BootstrapTurnStartDispatcher again, next first. It decides nothing itself:
// admission, in the single writer, says whether a start leaves the queue and keeps its order. On
// start it looks once, so the queue a restart finds resumes in its order.
import type { ThreadId } from "@spindle/contracts"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { BootstrapTurnStartDispatcher } from "../bootstrap/BootstrapTurnStartDispatcher.ts"
import { CurrentHost } from "../config/HostIdentity.ts"
import { AdmissionLimits } from "../config/ServerConfig.ts"
import { nextStartable } from "../engine/admission.ts"
import { Engine } from "../engine/Engine.ts"
import { ofTypes } from "../engine/followers.ts"
import { EventStore } from "../persistence/EventStore.ts"

/** How long a queued thread this host failed to send waits before this host tries it again. */
const RETRY_MS = 1_000

/** Events after which a queued thread may be able to start (or the next one be sent). */
const FREES_A_SLOT = ofTypes(
  "thread.turn-ended",
  "thread.archived",
  "thread.deleted",
  "thread.bootstrap-failed",
  "thread.bootstrap-completed",
  "thread.queued",
  "thread.dequeued"
)

export class StartQueue extends Context.Service<
  StartQueue,
  {
    /** Starts following the log (once the server is ready); sends what may start now at once. */
    readonly start: Effect.Effect<void>
    /** Sends nothing more (shutdown: turns ending as agents stop must not start queued threads). */
    readonly stop: Effect.Effect<void>
  }
>()("spindle/queue/StartQueue") {
  static readonly layer = Layer.effect(
    StartQueue,
    Effect.gen(function* () {
      const engine = yield* Engine
      const eventStore = yield* EventStore
      const dispatcher = yield* BootstrapTurnStartDispatcher
      const limits = yield* AdmissionLimits
      const scope: Scope.Scope = yield* Effect.scope
      const self = yield* CurrentHost
      /** Queued threads being sent again right now: not sent twice. */
      const sending = new Set<ThreadId>()

      /**
       * The queued start of `threadId`, as recorded, through the dispatcher again. Answers whether
       * it went through (it left the queue, or stayed queued for want of a slot) or failed: taken
       * by another host first, gone from the queue meanwhile, or no longer valid (then recorded on
       * the thread as a failed bootstrap).
       */
      const send = (threadId: ThreadId): Effect.Effect<"sent" | "failed"> =>
        Effect.gen(function* () {
          const queued = yield* eventStore.lastOfThread(threadId, "thread.queued")
          if (queued?.type !== "thread.queued") {
            yield* Effect.logWarning(`Queued thread ${threadId} has no thread.queued event; left queued`)
            return "failed" as const
          }
          const { command, parent } = queued.payload.request
          if (command.bootstrap === undefined) return "failed" as const
          yield* dispatcher.dispatch({
            command: { ...command, bootstrap: command.bootstrap },
            actor: queued.actor,
            ...(parent === null ? {} : { parent }),
            fromQueue: true
          })
          return "sent" as const
        }).pipe(
          Effect.catch((error) =>
            Effect.as(
              Effect.logDebug(`A queued start of ${threadId} did not go on: ${String(error)}`),
              "failed" as const
            )
          ),
          Effect.withSpan("StartQueue.send", { attributes: { threadId } })
        )

      /**
       * Queued threads this host failed to send, and when it may try each again. Another host of
       * the store took it first (its bootstrap is under way there, or it put it back for want of
       * a slot), or it left the queue meanwhile: this host looks at the next one instead of
       * asking again at once, and comes back to it after RETRY_MS.
       */
      const backOff = new Map<ThreadId, number>()
      /** Bumped by every event that may free a slot: whether one came while a send was out. */
      let generation = 0

      let stopped = false

      /**
       * Sends the next queued thread that may start, one at a time: the next only once the one
       * sent has left the queue (`thread.dequeued`), so they begin in the queue's order.
       */
      const pump: Effect.Effect<void> = Effect.gen(function* () {
        const model = yield* engine.readModel
        if (stopped || model.queue.length === 0) return
        const queued = new Set(model.queue)
        if ([...sending].some((threadId) => queued.has(threadId))) return
        const now = yield* Clock.currentTimeMillis
        for (const [threadId, at] of backOff) if (at <= now || !queued.has(threadId)) backOff.delete(threadId)
        // The queued threads this host may take (their project has a checkout here, and they are
        // not held for another host); admission under the log's lock says whether it gets them.
        const next = nextStartable(model, limits, self?.id ?? null, (id) => backOff.has(id))
        if (next === undefined || sending.has(next)) return
        sending.add(next)
        const sentAt = generation
        yield* Effect.forkIn(
          send(next).pipe(
            Effect.ensuring(Effect.sync(() => sending.delete(next))),
            Effect.flatMap((outcome) =>
              Effect.suspend(() => {
                if (outcome === "failed") {
                  // The next one may be free to take now; this one is looked at again later.
                  backOff.set(next, now + RETRY_MS)
                  return Effect.andThen(
                    Effect.forkIn(Effect.andThen(Effect.sleep(RETRY_MS), pump), scope),
                    pump
                  )
                }
                // Left the queue, or stayed for want of a slot: the slot's event (or the one that
                // came while it was out) says when to look again, not a loop asking now.
                return generation === sentAt ? Effect.void : pump
              })
            )
          ),
          scope
        )
      })

      const follow = (after: number) =>
        engine.events(after, { wanted: FREES_A_SLOT, background: true }).pipe(
          Stream.runForEach(() =>
            Effect.suspend(() => {
              generation++
              return pump
            })
          )
        )

      const start = Effect.gen(function* () {
        const from = (yield* engine.readModel).sequence
        yield* pump
        yield* Effect.forkIn(
          follow(from).pipe(
            Effect.tapError((error) =>
              Effect.logError(`The start queue stopped following the log: ${error.message}`)
            ),
            Effect.ignore
          ),
          scope
        )
      }).pipe(Effect.withSpan("StartQueue.start"))

      return { start, stop: Effect.sync(() => (stopped = true)) }
    })
  )
}

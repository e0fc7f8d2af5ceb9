// Provider tokens follow their thread's life: issued only for a live thread, revoked when the
// thread is archived or deleted. A background fiber follows the Engine's events and, at start,
// revokes the live tokens of threads that are archived, deleted or unknown (a crash between the
// archive and the revoke is reconciled then). Issuing and resolving tokens is ProviderTokens'.
import {
  type IssuedProviderToken,
  type ProviderCapability,
  type Snapshot,
  SpindleError,
  type ThreadId
} from "@spindle/contracts"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type { SqlError } from "effect/sql/SqlError"
import { Engine } from "../engine/Engine.ts"
import { ofTypes } from "../engine/followers.ts"
import { ProviderTokens } from "./ProviderTokens.ts"

export interface ThreadTokenRequest {
  readonly threadId: ThreadId
  readonly providerSessionId: string
  readonly capabilities: ReadonlyArray<ProviderCapability>
}

const threadMissing = (threadId: ThreadId) =>
  new SpindleError({
    reason: "not-found",
    threadId,
    message: `Thread ${threadId} does not exist. List threads with 'spindle thread list'.`
  })

const threadArchived = (threadId: ThreadId) =>
  new SpindleError({
    reason: "conflict",
    threadId,
    message: `Thread ${threadId} is archived: its agents get no provider token. Start a new thread instead.`
  })

export class ThreadProviderTokens extends Context.Service<
  ThreadProviderTokens,
  {
    /**
     * Issues a provider token for a thread that exists and is not archived. A token issued while
     * the thread ended is revoked before this answers, so no live token outlives its thread.
     */
    readonly issueForThread: (
      request: ThreadTokenRequest
    ) => Effect.Effect<IssuedProviderToken, SpindleError | SqlError>
    /** Revokes the live tokens of threads archived, deleted or unknown in `snapshot`; answers how many. */
    readonly reconcile: (snapshot: Snapshot) => Effect.Effect<number, SqlError>
  }
>()("spindle/auth/ThreadProviderTokens") {
  static readonly layer = Layer.effect(
    ThreadProviderTokens,
    Effect.gen(function* () {
      const engine = yield* Engine
      const tokens = yield* ProviderTokens

      const isLive = (threadId: ThreadId) =>
        Effect.map(engine.getThread(threadId), (thread) =>
          thread === undefined ? ("missing" as const) : thread.status === "archived" ? "archived" : "live"
        )

      const issueForThread = Effect.fn("ThreadProviderTokens.issueForThread")(function* (
        request: ThreadTokenRequest
      ) {
        const before = yield* isLive(request.threadId)
        if (before === "missing") return yield* threadMissing(request.threadId)
        if (before === "archived") return yield* threadArchived(request.threadId)
        const thread = (yield* engine.getThread(request.threadId))!
        const issued = yield* tokens.issue({ ...request, projectId: thread.projectId })
        // The read model changes before the event reaches the follower below: if the thread ended
        // meanwhile, the follower may already have revoked its tokens without this one.
        const after = yield* isLive(request.threadId)
        if (after !== "live") {
          yield* tokens.revoke(issued.id)
          return yield* after === "missing"
            ? threadMissing(request.threadId)
            : threadArchived(request.threadId)
        }
        return issued
      })

      const reconcile = Effect.fn("ThreadProviderTokens.reconcile")(function* (snapshot: Snapshot) {
        const live = new Set(snapshot.threads.filter((t) => t.status !== "archived").map((t) => t.id))
        const stale = new Set(
          (yield* tokens.list())
            .filter((token) => token.revokedAt === null && !live.has(token.threadId))
            .map((token) => token.threadId)
        )
        let revoked = 0
        for (const threadId of stale) revoked += yield* tokens.revokeThread(threadId)
        return revoked
      })

      const onThreadEnded = (threadId: ThreadId, why: string) =>
        Effect.flatMap(tokens.revokeThread(threadId), (revoked) =>
          revoked === 0
            ? Effect.void
            : Effect.logInfo(`Revoked the provider tokens of a ${why} thread`).pipe(
                Effect.annotateLogs({ threadId, revoked })
              )
        )

      /** Reconciles from a snapshot, then follows every event after it: no gap between the two. */
      const follow = Effect.gen(function* () {
        const snapshot = yield* engine.snapshot
        const revoked = yield* reconcile(snapshot)
        if (revoked > 0) {
          yield* Effect.logInfo(
            "Revoked provider tokens of threads that ended while the server was down"
          ).pipe(Effect.annotateLogs({ revoked }))
        }
        const ends = ofTypes("thread.archived", "thread.deleted")
        yield* Stream.runForEach(
          engine.events(snapshot.sequence, { wanted: ends, background: true }),
          (event) => {
            if (event.type === "thread.archived") return onThreadEnded(event.payload.threadId, "archived")
            if (event.type === "thread.deleted") return onThreadEnded(event.payload.threadId, "deleted")
            return Effect.void
          }
        )
      })

      yield* Effect.forkScoped(
        Effect.gen(function* () {
          // No catch-up, no follower: the server reports that startup failed.
          const ready = yield* Effect.exit(engine.ready)
          if (ready._tag === "Failure") return
          // A failed database read or revoke starts over from a fresh snapshot, so nothing is missed.
          yield* follow.pipe(
            Effect.tapCause((cause) =>
              Cause.hasInterruptsOnly(cause)
                ? Effect.void
                : Effect.logWarning("Following thread ends for provider tokens failed; starting over").pipe(
                    Effect.annotateLogs({ cause: Cause.pretty(cause) })
                  )
            ),
            Effect.retry(Schedule.spaced("1 second"))
          )
        })
      )

      return { issueForThread, reconcile }
    })
  )
}

// Stops agent sessions nobody uses: a session whose thread has had no live turn, no approval waiting
// and nothing from the agent for the idle timeout is stopped (its process ends, its token is
// revoked) and recorded `stopped` with the reason; the thread keeps its conversation id, so its next
// turn starts a new session that resumes the conversation. Each session's clock restarts on
// whatever it reports and on each turn it is given. How a session is stopped is the provider
// service's, under its per-thread lock, so a stop never races a turn that starts.
import type { ThreadId } from "@spindle/contracts"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { formatQuiet } from "./turnWatchdog.ts"

export const DEFAULT_SESSION_IDLE_TIMEOUT_MS = 15 * 60_000

export interface IdleSessionsDeps {
  /**
   * Stops the thread's session if it is still `providerSessionId` and its thread is idle (no live
   * turn, no approval waiting), under the thread's lock, recording `why` as the stop's reason;
   * answers whether it stopped it.
   */
  readonly stopIfIdle: (threadId: ThreadId, providerSessionId: string, why: string) => Effect.Effect<boolean>
}

export interface IdleSessions {
  /** A session was started, given a turn, or reported something: its clock starts again. */
  readonly touch: (threadId: ThreadId, providerSessionId: string) => Effect.Effect<void>
  /** The session ended: it is no longer watched. */
  readonly forget: (threadId: ThreadId, providerSessionId: string) => Effect.Effect<void>
}

/** How often sessions are looked at: a fifth of the timeout, between 50 ms and 30 s. */
const tickMs = (idleMs: number) => Math.min(30_000, Math.max(50, Math.floor(idleMs / 5)))

export const makeIdleSessions = (
  idleMs: number,
  deps: IdleSessionsDeps
): Effect.Effect<IdleSessions, never, Scope.Scope> =>
  Effect.gen(function* () {
    const lastUse = new Map<ThreadId, { providerSessionId: string; at: number }>()
    if (idleMs <= 0) return { touch: () => Effect.void, forget: () => Effect.void }

    const sweep = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      for (const [threadId, use] of [...lastUse]) {
        if (now - use.at < idleMs) continue
        const why = `idle for ${formatQuiet(now - use.at)} (session idle timeout ${formatQuiet(idleMs)}); the next prompt resumes its conversation`
        const stopped = yield* deps
          .stopIfIdle(threadId, use.providerSessionId, why)
          .pipe(
            Effect.catchCause((cause) =>
              Effect.as(
                Effect.logWarning("Could not stop an idle agent session", cause).pipe(
                  Effect.annotateLogs({ threadId })
                ),
                false
              )
            )
          )
        const current = lastUse.get(threadId)
        if (current !== use) continue
        // Not idle after all (a turn or an approval): its clock starts again.
        if (stopped) lastUse.delete(threadId)
        else current.at = now
      }
    })
    yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep(tickMs(idleMs)), sweep)))

    const sessions: IdleSessions = {
      touch: (threadId, providerSessionId) =>
        Effect.map(Clock.currentTimeMillis, (at) => {
          lastUse.set(threadId, { providerSessionId, at })
        }),
      forget: (threadId, providerSessionId) =>
        Effect.sync(() => {
          if (lastUse.get(threadId)?.providerSessionId === providerSessionId) lastUse.delete(threadId)
        })
    }
    return sessions
  })

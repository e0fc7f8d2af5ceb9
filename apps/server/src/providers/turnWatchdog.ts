// Watches the turns agents are running for progress: a turn with none for the stall timeout is
// marked stalled (a `turn-stalled` report; its next progress clears it), and one with none for the
// interrupt timeout is stopped with the reason. Progress is what the session reports of the turn:
// its start, items and their output, token usage, an approval request; not the agent's notices, so
// a Codex retrying an unreachable model for ever ("Reconnecting...") stalls like a silent one. A
// turn waiting for a person's approval is not stalled. It owns only its clock per turn; how a turn
// is stopped is the provider service's.
import type { ProviderReport, Thread, ThreadId, TurnId } from "@spindle/contracts"
import { hasLiveTurn } from "@spindle/read-model"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

export const DEFAULT_TURN_STALL_TIMEOUT_MS = 5 * 60_000
export const DEFAULT_TURN_STALL_INTERRUPT_MS = 30 * 60_000

export interface WatchdogSettings {
  /** No progress for this long marks the turn stalled; 0: never. */
  readonly stallAfterMs: number
  /** No progress for this long stops the turn; 0: never. */
  readonly interruptAfterMs: number
}

export interface WatchdogDeps {
  readonly thread: (threadId: ThreadId) => Effect.Effect<Thread | undefined>
  /** Records a report for the thread (in order behind its session's). */
  readonly report: (threadId: ThreadId, report: ProviderReport) => Effect.Effect<void>
  /** Stops the thread's session, its live turn ending interrupted with `why`. */
  readonly stop: (threadId: ThreadId, why: string) => Effect.Effect<void>
  /** Ends the turn interrupted with `why` (when no session was there to stop). */
  readonly endTurn: (threadId: ThreadId, turnId: TurnId, why: string) => Effect.Effect<void>
}

export interface TurnWatchdog {
  /** A turn the agent took: its clock starts now. */
  readonly watch: (threadId: ThreadId, turnId: TurnId) => Effect.Effect<void>
  /** What the thread's session reported: progress of the watched turn restarts its clock. */
  readonly observe: (threadId: ThreadId, report: ProviderReport) => Effect.Effect<void>
}

/** "45s", "5m", "1h 30m": a stall's length for people. */
export const formatQuiet = (ms: number): string => {
  const seconds = Math.round(ms / 1000)
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  const rest = seconds % 60
  if (minutes < 60) return rest === 0 ? `${minutes}m` : `${minutes}m ${rest}s`
  return `${Math.floor(minutes / 60)}h${minutes % 60 === 0 ? "" : ` ${minutes % 60}m`}`
}

/** The turn this report shows progress of, if it is progress. */
const progressOf = (report: ProviderReport): TurnId | undefined => {
  switch (report.type) {
    case "turn-started":
    case "turn-item":
    case "turn-usage":
      return report.turnId
    case "approval-requested":
      return report.approval.turnId
    default:
      return undefined
  }
}

interface Watched {
  readonly turnId: TurnId
  lastProgress: number
  stalled: boolean
}

/** How often turns are looked at: often enough for the shorter timeout, at most every 10 s. */
const tickMs = (settings: WatchdogSettings) => {
  const shortest = Math.min(
    ...[settings.stallAfterMs, settings.interruptAfterMs].filter((ms) => ms > 0),
    Number.POSITIVE_INFINITY
  )
  return Math.min(10_000, Math.max(50, Math.floor(shortest / 5)))
}

export const makeTurnWatchdog = (
  settings: WatchdogSettings,
  deps: WatchdogDeps
): Effect.Effect<TurnWatchdog, never, Scope.Scope> =>
  Effect.gen(function* () {
    const watched = new Map<ThreadId, Watched>()
    const off = settings.stallAfterMs <= 0 && settings.interruptAfterMs <= 0

    const check = (threadId: ThreadId, turn: Watched, now: number) =>
      Effect.gen(function* () {
        const thread = yield* deps.thread(threadId)
        if (thread === undefined || !hasLiveTurn(thread, turn.turnId)) {
          if (watched.get(threadId) === turn) watched.delete(threadId)
          return
        }
        // Waiting for a person is not a stall.
        if (thread.pendingApprovals.length > 0) {
          turn.lastProgress = now
          turn.stalled = false
          return
        }
        const quiet = now - turn.lastProgress
        const since = new Date(turn.lastProgress).toISOString()
        const annotations = { threadId, turnId: turn.turnId, quietMs: quiet }
        if (settings.interruptAfterMs > 0 && quiet >= settings.interruptAfterMs) {
          watched.delete(threadId)
          const last = thread.agentNotices
            .filter((n) => n.turnId === turn.turnId && n.level !== "info")
            .at(-1)
          const why = `The turn stalled: the agent showed no progress for ${formatQuiet(quiet)} (since ${since}), so Spindle stopped it (turn stall interrupt: ${formatQuiet(settings.interruptAfterMs)}).${
            last === undefined ? "" : ` The agent last reported: ${last.message}`
          } Send a prompt to go on; the agent's conversation is resumed.`
          yield* Effect.logWarning("Stopping a stalled turn").pipe(Effect.annotateLogs(annotations))
          yield* deps.stop(threadId, why)
          const after = yield* deps.thread(threadId)
          if (after !== undefined && hasLiveTurn(after, turn.turnId))
            yield* deps.endTurn(threadId, turn.turnId, why)
          return
        }
        if (settings.stallAfterMs > 0 && quiet >= settings.stallAfterMs && !turn.stalled) {
          turn.stalled = true
          yield* Effect.logWarning(`The agent's turn stalled: no progress for ${formatQuiet(quiet)}`).pipe(
            Effect.annotateLogs(annotations)
          )
          yield* deps.report(threadId, { type: "turn-stalled", turnId: turn.turnId, since })
        }
      })

    if (!off) {
      const tick = tickMs(settings)
      yield* Effect.forkScoped(
        Effect.forever(
          Effect.gen(function* () {
            yield* Effect.sleep(tick)
            const now = yield* Clock.currentTimeMillis
            for (const [threadId, turn] of [...watched]) {
              yield* check(threadId, turn, now).pipe(
                Effect.catchCause((cause) =>
                  Effect.logWarning("Could not check a turn for progress", cause).pipe(
                    Effect.annotateLogs({ threadId })
                  )
                )
              )
            }
          })
        )
      )
    }

    return {
      watch: (threadId, turnId) =>
        off
          ? Effect.void
          : Effect.map(Clock.currentTimeMillis, (now) => {
              const existing = watched.get(threadId)
              if (existing?.turnId === turnId) return
              watched.set(threadId, { turnId, lastProgress: now, stalled: false })
            }),
      observe: (threadId, report) =>
        Effect.suspend(() => {
          const turn = watched.get(threadId)
          if (turn === undefined) return Effect.void
          if (report.type === "turn-ended" && report.turnId === turn.turnId) {
            watched.delete(threadId)
            return Effect.void
          }
          if (progressOf(report) !== turn.turnId) return Effect.void
          return Effect.map(Clock.currentTimeMillis, (now) => {
            turn.lastProgress = now
            turn.stalled = false
          })
        })
    }
  })

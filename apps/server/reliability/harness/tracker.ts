// A WebSocket subscriber that remembers every event sequence it saw, across reconnects and
// cut-offs (it resumes where the server says), so the invariants can check that each subscriber
// saw every event once and in order. It never judges while running; it only records.
import { SpindleError, type SpindleEvent } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { makeClient, type SpindleClient } from "../../src/cli/rpcClient.ts"

export interface Tracker {
  readonly name: string
  /** The sequence it started after. */
  readonly start: number
  /** Every sequence received, in arrival order (duplicates included). */
  readonly seen: Array<number>
  /** How often the server cut it off and it resubscribed. */
  cutOffs: number
  /** The last sequence received. */
  last: number
}

export const newTracker = (name: string, start = 0): Tracker => ({
  name,
  start,
  seen: [],
  cutOffs: 0,
  last: start
})

/** Follows the server at `url` from the tracker's last sequence until the connection ends or the scope closes. */
export const attach = (tracker: Tracker, url: string, token: string) =>
  Effect.forkScoped(
    Effect.flatMap(makeClient({ url, token }), (client) => followLoop(tracker, client)).pipe(
      Effect.scoped,
      Effect.ignore
    )
  )

/**
 * The same over a client the caller already holds (which may dispatch on the same connection);
 * `onEvent` sees each event as it arrives.
 */
export const follow = (tracker: Tracker, client: SpindleClient, onEvent?: (event: SpindleEvent) => void) =>
  Effect.forkScoped(followLoop(tracker, client, onEvent).pipe(Effect.ignore))

const followLoop = (tracker: Tracker, client: SpindleClient, onEvent?: (event: SpindleEvent) => void) =>
  Effect.gen(function* () {
    while (true) {
      const exit = yield* client["orchestration.subscribe"]({ fromSequence: tracker.last }).pipe(
        Stream.runForEach((event) =>
          Effect.sync(() => {
            tracker.seen.push(event.sequence)
            tracker.last = Math.max(tracker.last, event.sequence)
            onEvent?.(event)
          })
        ),
        Effect.exit
      )
      const error = exit._tag === "Failure" ? findSpindleError(exit.cause) : undefined
      // Cut off for being slow: resubscribe from the sequence the server named.
      if (error?.sequence !== undefined) {
        tracker.cutOffs++
        tracker.last = error.sequence
        continue
      }
      return
    }
  })

const findSpindleError = (cause: unknown): SpindleError | undefined => {
  if (cause instanceof SpindleError) return cause
  if (cause === null || typeof cause !== "object") return undefined
  for (const value of Object.values(cause as Record<string, unknown>)) {
    const found = Array.isArray(value)
      ? value.map(findSpindleError).find((e) => e !== undefined)
      : findSpindleError(value)
    if (found !== undefined) return found
  }
  return undefined
}

/** Waits (bounded) until the tracker has received `sequence`. */
export const caughtUp = (tracker: Tracker, sequence: number, timeout = "20 seconds" as const) =>
  Effect.sync(() => tracker.last >= sequence).pipe(
    Effect.repeat({ until: (done) => done, schedule: Schedule.spaced("20 millis") }),
    Effect.timeout(timeout),
    Effect.orElseSucceed(() => false)
  )

/** What went wrong with what the tracker saw, against the log's last sequence `upTo`. */
export const trackerViolations = (tracker: Tracker, upTo: number): Array<string> => {
  const problems: Array<string> = []
  const counts = new Map<number, number>()
  let previous = tracker.start
  let outOfOrder = 0
  for (const s of tracker.seen) {
    counts.set(s, (counts.get(s) ?? 0) + 1)
    if (s <= previous) outOfOrder++
    previous = Math.max(previous, s)
  }
  const duplicates = [...counts.values()].filter((n) => n > 1).length
  const missing: Array<number> = []
  for (let s = tracker.start + 1; s <= upTo; s++) if (!counts.has(s)) missing.push(s)
  if (duplicates > 0) problems.push(`${tracker.name}: ${duplicates} events received more than once`)
  if (outOfOrder > 0) problems.push(`${tracker.name}: ${outOfOrder} events out of order`)
  if (missing.length > 0)
    problems.push(
      `${tracker.name}: missed ${missing.length} events (first ${missing.slice(0, 5).join(", ")})`
    )
  return problems
}

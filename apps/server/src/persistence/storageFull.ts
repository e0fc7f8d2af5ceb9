// A full store: SQLite answers "database or disk is full" (SQLITE_FULL) or the disk under it says
// ENOSPC. A client's command then fails at once with `storage-full`, nothing applied; what Spindle
// must record itself (a bootstrap's steps, a setup run's outcome, a rollback) waits for the store
// to take writes again and then lands, so nothing stays half-way until a restart.
import { SpindleError } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"

const FULL = /database or disk is full|SQLITE_FULL|No space left on device|ENOSPC/i

/** Whether an error (a SpindleError, an SqlError or what it wraps) says the store is full. */
export const isStorageFull = (error: unknown): boolean => {
  let current: unknown = error
  for (let depth = 0; depth < 6 && current !== undefined && current !== null; depth++) {
    if (current instanceof SpindleError) return current.reason === "storage-full"
    if (typeof current !== "object") return typeof current === "string" && FULL.test(current)
    const e = current as {
      errcode?: unknown
      code?: unknown
      message?: unknown
      reason?: unknown
      cause?: unknown
    }
    if (e.errcode === 13 || e.code === "ENOSPC" || e.code === "SQLITE_FULL") return true
    if (typeof e.message === "string" && FULL.test(e.message)) return true
    current = e.cause ?? (typeof e.reason === "object" ? e.reason : undefined)
  }
  return false
}

export const storageFullMessage = (detail: string) =>
  `The store cannot write: its disk or database is full (${detail}). Nothing was applied; free disk space under the Spindle home and retry the same command.`

/** Between tries while the store is full: quick at first, then every 2 s. */
const WAITING = Schedule.min([Schedule.exponential("100 millis"), Schedule.spaced("2 seconds")])

/**
 * Retries `effect` for as long as it fails because the store is full, saying so in the log once
 * per outage; any other failure is its own. For writes that must land (idempotent ones: the same
 * commandId or journal key each time).
 */
export const untilStored =
  (what: string) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.suspend(() => {
      let waited = false
      return effect.pipe(
        Effect.tapError((error) =>
          isStorageFull(error) && !waited
            ? Effect.sync(() => (waited = true)).pipe(
                Effect.andThen(
                  Effect.logWarning(
                    `${what} waits for the store: it is full. Free disk space under the Spindle home.`
                  )
                )
              )
            : Effect.void
        ),
        Effect.retry({ schedule: WAITING, while: (error: E) => isStorageFull(error) }),
        Effect.tap(() =>
          waited ? Effect.logInfo(`${what} was stored once the store took writes again`) : Effect.void
        )
      )
    })

/**
 * A store failure that is not a full disk, as the `internal` SpindleError a caller can read:
 * `what` names the work and the stage it stopped at, the store's own message follows.
 */
export const storeFailed =
  (what: string) =>
  (error: { readonly message: string }): SpindleError =>
    new SpindleError({
      reason: "internal",
      message: `${what} failed: the store answered "${error.message}". Check the Spindle home's disk and the server's log, then retry.`
    })

// Serializes git metadata changes (worktree add/remove/prune, branch create/delete, fetch) per
// repository, and retries the transient lock contention that other git processes cause. Reads
// and file copying do not come through here, so they run in parallel.

import { makeKeyedLock } from "@spindle/shared/keyedLock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import type { GitError } from "./GitError.ts"

/** What git says when another process holds one of its lock files or is mid-write. */
const TRANSIENT = [
  /Unable to create '.*\.lock': File exists/i,
  /could not lock config file/i,
  /cannot lock ref/i,
  /index\.lock/i,
  /unable to write new index file/i,
  /is locked|lock file exists/i,
  /could not create leading directories of '.*\/worktrees\//i
]

export const isTransientLockError = (error: GitError): boolean =>
  error.reason === "command-failed" &&
  TRANSIENT.some((pattern) => pattern.test(error.stderr ?? error.message))

/** Up to 6 tries over about 1.5 s: long enough for another git command, short enough for a caller. */
const retryPolicy = Schedule.exponential("40 millis", 2).pipe(Schedule.jittered)

/** Retries `attempt` on transient lock contention; `cleanup` runs after each failed attempt. */
export const retryTransient = <A, R>(
  attempt: Effect.Effect<A, GitError, R>,
  cleanup?: Effect.Effect<void, never, R>
) =>
  attempt.pipe(
    Effect.tapError(() => cleanup ?? Effect.void),
    Effect.retry({ schedule: retryPolicy, times: 5, while: isTransientLockError })
  )

export class RepoLocks extends Context.Service<
  RepoLocks,
  {
    /** Runs `effect` holding the repository's lock (keyed by its real path). Not reentrant. */
    readonly withLock: <A, E, R>(repo: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  }
>()("spindle/git/RepoLocks") {
  static readonly layer = Layer.sync(RepoLocks, () => RepoLocks.of({ withLock: makeKeyedLock<string>() }))
}

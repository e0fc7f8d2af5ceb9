// Whether a checkout holds uncommitted changes, as a merge must know of both its sides: git's
// status, unless a watch of that checkout heard nothing since a status found it clean and its
// branch has not moved (a branch moved from elsewhere changes what is uncommitted without a write
// in the checkout). A thread's worktree is watched by the conflict radar. A merge's target checkout
// (the repository's own, or a worktree no live thread owns) gets a watch of its own the first time
// it is looked at, MAX_WATCHED of them at most, and once it has been quiet for a moment after a
// change it is looked at again in the background: a merge into a checkout nobody is writing to
// reads none of its files. A watched checkout's index is not written by these looks (that would be
// a change its watch hears); an unwatched one's is, with the file times git refreshed. A checkout
// with submodules is always looked at, since a submodule's commits happen where no watch sees them.
import { existsSync } from "node:fs"
import { join } from "node:path"
import type { ThreadId } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import { GitCli } from "../git/GitCli.ts"
import type { GitError } from "../git/GitError.ts"
import { Repositories } from "../git/Repositories.ts"
import { ConflictRadar } from "../radar/ConflictRadar.ts"
import {
  ignoredFolders,
  MAX_WATCHED_FOLDERS,
  type WorktreeWatch,
  watchWorktree
} from "../radar/worktreeWatch.ts"

/** Target checkouts watched at most; the one looked at least recently gives its watch up first. */
export const MAX_WATCHED = 8
/** How long a watched checkout stays quiet after a change before it is looked at again. */
export const QUIET_MS = 300

const nextTurn = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

export interface CheckoutLook {
  readonly checkout: string
  readonly repo: string
  /** The branch checked out there. */
  readonly branch: string
  /** The commit the branch points to now (read under the repository's lock). */
  readonly head: string | undefined
  /** Whether untracked files count (a thread's work) or not (a merge's target). */
  readonly untracked: boolean
  /** The thread whose worktree this is: the radar's watch of it is used. */
  readonly threadId?: ThreadId | undefined
}

interface OwnWatch {
  readonly number: number
  /** Undefined while it is being set up. */
  watch: WorktreeWatch | undefined
  /** The last look asked of it, looked at again after a change. */
  look: CheckoutLook
}

export class CleanCheckouts extends Context.Service<
  CleanCheckouts,
  {
    /** How many uncommitted changes the checkout holds (0: clean), as git's status counts them. */
    readonly changes: (look: CheckoutLook) => Effect.Effect<number, GitError>
    /** Completes once every change heard so far was looked at again (for benchmarks and tests). */
    readonly settled: Effect.Effect<void>
  }
>()("spindle/children/CleanCheckouts") {
  static readonly layer = Layer.effect(
    CleanCheckouts,
    Effect.gen(function* () {
      const git = yield* GitCli
      const repositories = yield* Repositories
      const radar = yield* ConflictRadar
      /** Checkouts found clean, by the mark their watch had then and their branch's commit. */
      const cleanAt = new Map<string, string>()
      const own = new Map<string, OwnWatch>()
      let watchesMade = 0
      const again = yield* Queue.unbounded<string>()
      let looking = false
      let arming = 0

      const gitStatus = (look: CheckoutLook, watched: boolean) =>
        Effect.map(
          git.runOk(
            [
              "status",
              "--porcelain=v1",
              "-z",
              "--no-renames",
              `--untracked-files=${look.untracked ? "normal" : "no"}`
            ],
            {
              cwd: look.checkout,
              worktreeOf: look.repo,
              ...(watched ? {} : { env: { GIT_OPTIONAL_LOCKS: "1" } })
            }
          ),
          (out) => out.split("\0").filter((entry) => entry !== "").length
        )

      /** Starts watching a target checkout (in the background); the least recently looked at gives way. */
      const watchTarget = (look: CheckoutLook) =>
        Effect.gen(function* () {
          const known = own.get(look.checkout)
          if (known !== undefined) {
            known.look = look
            // Most recently looked at last.
            own.delete(look.checkout)
            own.set(look.checkout, known)
            return
          }
          if (own.size >= MAX_WATCHED) {
            const [oldest, entry] = own.entries().next().value as [string, OwnWatch]
            entry.watch?.close()
            own.delete(oldest)
          }
          const entry: OwnWatch = { number: ++watchesMade, watch: undefined, look }
          own.set(look.checkout, entry)
          const ignored = yield* ignoredFolders(git, look.checkout, look.repo)
          const watch = yield* Effect.promise(() =>
            watchWorktree(look.checkout, {
              repo: look.repo,
              ignored,
              maxFolders: MAX_WATCHED_FOLDERS,
              onChange: () => Queue.offerUnsafe(again, look.checkout),
              onOverflow: () => {
                if (own.get(look.checkout) === entry) own.delete(look.checkout)
              }
            })
          )
          if (own.get(look.checkout) !== entry) watch.close()
          else entry.watch = watch
        })

      const markOf = (look: CheckoutLook) =>
        Effect.gen(function* () {
          // What was written before this look must be heard first: the kernel queued its events
          // at once, and a whole turn of the event loop reads them (the first immediate may come
          // before the loop polls again, the second comes after).
          yield* nextTurn
          yield* nextTurn
          if (look.head === undefined || existsSync(join(look.checkout, ".gitmodules"))) return undefined
          // Clean without its untracked files says nothing of it with them.
          const what = `${look.untracked ? "all" : "tracked"}@${look.head}`
          if (look.threadId !== undefined) {
            const mark = yield* radar.diskMark(look.threadId)
            return mark === undefined ? undefined : `radar:${mark}:${what}`
          }
          const entry = own.get(look.checkout)
          const watch = entry?.watch
          return entry === undefined || watch === undefined
            ? undefined
            : `own:${entry.number}:${watch.changes()}:${what}`
        })

      /** git's status, remembered as clean under `key`, the mark read before it ran. */
      const statusUnder = (look: CheckoutLook, key: string | undefined) =>
        Effect.gen(function* () {
          const count = yield* gitStatus(look, key !== undefined)
          if (cleanAt.size > 1_000) cleanAt.clear()
          if (key !== undefined && count === 0) cleanAt.set(look.checkout, key)
          else cleanAt.delete(look.checkout)
          return count
        })

      const changes = Effect.fn("CleanCheckouts.changes")(function* (look: CheckoutLook) {
        const key = yield* markOf(look)
        if (key !== undefined && cleanAt.get(look.checkout) === key) return 0
        if (look.threadId === undefined) {
          arming++
          yield* Effect.forkDetach(watchTarget(look).pipe(Effect.ensuring(Effect.sync(() => arming--))))
        }
        return yield* statusUnder(look, key)
      })

      // Watched targets that changed, looked at again once quiet (a burst of changes: one look).
      yield* Effect.forkScoped(
        Effect.forever(
          Effect.gen(function* () {
            const first = yield* Queue.take(again)
            looking = true
            yield* Effect.sleep(QUIET_MS)
            const changed = new Set([first, ...(yield* Queue.clear(again))])
            for (const checkout of changed) {
              const entry = own.get(checkout)
              if (entry === undefined) continue
              const { look } = entry
              const head = yield* repositories
                .branchCommit(look.repo, look.branch)
                .pipe(Effect.orElseSucceed(() => undefined))
              const again = { ...look, head }
              yield* Effect.flatMap(markOf(again), (key) => statusUnder(again, key)).pipe(Effect.ignore)
            }
          }).pipe(Effect.ensuring(Effect.sync(() => (looking = false))))
        )
      )
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          for (const entry of own.values()) entry.watch?.close()
          own.clear()
        })
      )

      const settled = Effect.gen(function* () {
        yield* nextTurn
        yield* nextTurn
        while (looking || arming > 0 || (yield* Queue.size(again)) > 0) yield* Effect.sleep(10)
      })

      return { changes, settled }
    })
  )
}

// A git a killed server left running: `git worktree add` or `remove` goes on after a kill -9 of
// the server that started it, and if recovery judged its path meanwhile, the two would fight (the
// add later removes its own folder and leaves its branch behind). Before recovery looks at a path
// it waits for such a git to finish, and ends it if it does not. A git is one of ours when its
// process group was journaled before it started (GitCli `tracked`; identified by its leader's
// start time, so a reused pid is never taken for it: @spindle/shared/processGroup), or, for a git
// no journal names, when it started before this server did and names the path on its command
// line (Linux /proc; elsewhere nothing is found and recovery goes on as before).
import { readdirSync, readFileSync } from "node:fs"
import {
  groupRunning,
  isRunning,
  isSameGroupRunning,
  type ProcessGroup,
  processStat,
  settleGroup
} from "@spindle/shared/processGroup"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"

/** Clock ticks since boot when a process started. */
export const startTicks = (pid: number | "self"): number | undefined => {
  const startTime = processStat(pid)?.startTime
  return startTime === undefined ? undefined : Number(startTime)
}

const SERVER_STARTED = startTicks("self")

const isGit = (argv0: string) => /(^|\/)git$/.test(argv0)

/** git processes started before this server (or `startedBy`, in clock ticks) whose arguments `match`. */
export const gitProcessesWhere = (
  match: (argv: ReadonlyArray<string>) => boolean,
  startedBy = SERVER_STARTED
): Array<number> => {
  if (startedBy === undefined) return []
  const found: Array<number> = []
  let entries: Array<string>
  try {
    entries = readdirSync("/proc")
  } catch {
    return []
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    const pid = Number(entry)
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")
      if (!isGit(argv[0] ?? "") || !match(argv)) continue
      const started = startTicks(pid)
      if (started !== undefined && started <= startedBy) found.push(pid)
    } catch {
      // It ended while we looked.
    }
  }
  return found
}

/**
 * git processes started before this server (or `startedBy`, in clock ticks) whose arguments name
 * `path` (or a file under it), and every word of `args` when given (e.g. worktree, remove).
 */
export const gitProcessesOn = (
  path: string,
  startedBy = SERVER_STARTED,
  args: ReadonlyArray<string> = []
): Array<number> =>
  gitProcessesWhere(
    (argv) =>
      argv.some((arg) => arg === path || arg.startsWith(`${path}/`)) &&
      args.every((word) => argv.includes(word)),
    startedBy
  )

/**
 * Waits (at most `waitMs`) for what a killed server left working on `path`: the git whose process
 * group `group` was journaled (when given and still that git), and any other git found by
 * `gitProcessesOn`. Whatever still runs then is ended: the journaled group with SIGTERM, then
 * SIGKILL; a git found by its path with SIGKILL. Answers how many it found.
 */
export const settleOrphanedGit = (
  path: string | null,
  waitMs = 30_000,
  startedBy = SERVER_STARTED,
  group: ProcessGroup | null = null
) =>
  Effect.gen(function* () {
    const journaled = group !== null && isSameGroupRunning(group) ? group : null
    const pids = path === null ? [] : gitProcessesOn(path, startedBy)
    const found = pids.length + (journaled === null ? 0 : 1)
    if (found === 0) return 0
    const what = `${path ?? "its path"} (${journaled === null ? "" : `process group ${journaled.pgid}`}${journaled !== null && pids.length > 0 ? ", " : ""}${pids.length === 0 ? "" : `pid ${pids.join(", ")}`})`
    yield* Effect.logWarning(
      `git was still working on ${what} from before the restart; ${waitMs <= 0 ? "ending" : "waiting for"} it`
    )
    const gone = () =>
      (journaled === null || !groupRunning(journaled.pgid)) && pids.every((pid) => !isRunning(pid))
    const finished =
      waitMs <= 0
        ? gone()
        : Option.isSome(
            yield* Effect.sync(gone).pipe(
              Effect.repeat({ until: (ended) => ended, schedule: Schedule.spaced("100 millis") }),
              Effect.timeoutOption(waitMs)
            )
          )
    if (!finished) {
      if (journaled !== null) yield* settleGroup(journaled, { grace: "5 seconds" })
      yield* Effect.sync(() => {
        for (const pid of pids.filter(isRunning)) {
          try {
            process.kill(pid, "SIGKILL")
          } catch {
            // It ended at last.
          }
        }
      })
      yield* Effect.sync(gone).pipe(
        Effect.repeat({ until: (ended) => ended, schedule: Schedule.spaced("50 millis") }),
        Effect.timeoutOption(5_000)
      )
      yield* Effect.logWarning(`Ended the git still working on ${what} after ${waitMs} ms`)
    }
    return found
  })

// A git a killed server left running: `git worktree add` or `remove` goes on after a kill -9 of
// the server that started it, and if recovery judged its path meanwhile, the two would fight (the
// add later removes its own folder and leaves its branch behind). Before recovery looks at a path
// it waits for such a git to finish, and ends it if it does not. A git process is one of ours
// when it started before this server did and names the path on its command line (Linux /proc;
// elsewhere nothing is found and recovery goes on as before).
import { readdirSync, readFileSync } from "node:fs"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"

/** Clock ticks since boot when a process started (field 22 of /proc/<pid>/stat). */
export const startTicks = (pid: number | "self"): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19])
  } catch {
    return undefined
  }
}

const SERVER_STARTED = startTicks("self")

const isGit = (argv0: string) => /(^|\/)git$/.test(argv0)

/**
 * git processes started before this server (or `startedBy`, in clock ticks) whose arguments name
 * `path` (or a file under it), and every word of `args` when given (e.g. worktree, remove).
 */
export const gitProcessesOn = (
  path: string,
  startedBy = SERVER_STARTED,
  args: ReadonlyArray<string> = []
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
      if (!isGit(argv[0] ?? "") || !argv.some((arg) => arg === path || arg.startsWith(`${path}/`))) continue
      if (!args.every((word) => argv.includes(word))) continue
      const started = startTicks(pid)
      if (started !== undefined && started <= startedBy) found.push(pid)
    } catch {
      // It ended while we looked.
    }
  }
  return found
}

/** Running: not gone, and not a zombie its dead parent left for init to reap. */
export const isRunning = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z"
  } catch {
    return false
  }
}

/**
 * Waits (at most `waitMs`) for the git processes a killed server left working on `path`; those
 * still running then are killed. Answers how many there were.
 */
export const settleOrphanedGit = (path: string, waitMs = 30_000, startedBy = SERVER_STARTED) =>
  Effect.gen(function* () {
    const pids = gitProcessesOn(path, startedBy)
    if (pids.length === 0) return 0
    yield* Effect.logWarning(
      `git was still working on ${path} from before the restart (pid ${pids.join(", ")}); waiting for it`
    )
    const done = yield* Effect.sync(() => pids.every((pid) => !isRunning(pid))).pipe(
      Effect.repeat({ until: (gone) => gone, schedule: Schedule.spaced("100 millis") }),
      Effect.timeoutOption(waitMs)
    )
    if (done._tag === "None") {
      yield* Effect.sync(() => {
        for (const pid of pids.filter(isRunning)) {
          try {
            process.kill(pid, "SIGKILL")
          } catch {
            // It ended at last.
          }
        }
      })
      yield* Effect.sync(() => pids.every((pid) => !isRunning(pid))).pipe(
        Effect.repeat({ until: (gone) => gone, schedule: Schedule.spaced("50 millis") }),
        Effect.timeoutOption(5_000)
      )
      yield* Effect.logWarning(`Ended the git still working on ${path} after ${waitMs} ms`)
    }
    return pids.length
  })

// A process group that can outlive the process that started it (a server killed with SIGKILL):
// who it is (its leader's pid and start time, so a reused pid is never taken for it), whether
// anything of it still runs, and ending it. Reads Linux's /proc; it knows nothing of what the
// group does (setup scripts, git) or where its identity is recorded.
import { readdirSync, readFileSync } from "node:fs"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"

export interface ProcessGroup {
  /** The group id: its leader's pid (a process spawned `detached` leads its own group). */
  readonly pgid: number
  /** The leader's start time (clock ticks after boot, /proc/<pid>/stat field 22); null where unknown. */
  readonly startTime: string | null
}

export interface ProcessStat {
  /** R, S, D, Z (a zombie: ended, not yet reaped), ... */
  readonly state: string
  readonly ppid: number
  readonly pgrp: number
  /** Clock ticks after boot when it started. */
  readonly startTime: string
}

/**
 * Fields 3, 4, 5 and 22 of /proc/<pid>/stat (after the command name, which may hold spaces);
 * undefined when the process is gone or there is no /proc.
 */
export const processStat = (pid: number | string): ProcessStat | undefined => {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "latin1")
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ")
    const startTime = fields[19]
    if (fields[0] === undefined || startTime === undefined) return undefined
    return { state: fields[0], ppid: Number(fields[1]), pgrp: Number(fields[2]), startTime }
  } catch {
    return undefined
  }
}

/** Running: not gone, and not a zombie its dead parent left for init to reap. */
export const isRunning = (pid: number) => {
  const stat = processStat(pid)
  return stat !== undefined && stat.state !== "Z"
}

/** The group `pid` leads, as it is now (read right after spawning it, while it cannot be reaped). */
export const groupOf = (pid: number): ProcessGroup => ({
  pgid: pid,
  startTime: processStat(pid)?.startTime ?? null
})

/** The group's members that can still do something (not zombies, which nothing can signal away). */
const liveMembers = (pgid: number): ReadonlyArray<number> | undefined => {
  let entries: ReadonlyArray<string>
  try {
    entries = readdirSync("/proc")
  } catch {
    return undefined
  }
  const members: Array<number> = []
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    const stat = processStat(entry)
    if (stat !== undefined && stat.pgrp === pgid && stat.state !== "Z") members.push(Number(entry))
  }
  return members
}

/** Whether any process of the group still runs (without /proc: whether the group can be signalled). */
export const groupRunning = (pgid: number) => {
  const members = liveMembers(pgid)
  if (members !== undefined) return members.length > 0
  try {
    process.kill(-pgid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * Whether `group` still runs and is still the group that was recorded. A leader alive with
 * another start time means the pid was reused by an unrelated process: not ours. A leader gone
 * while members remain is ours: Linux gives no new process a pid still used as a group id.
 */
export const isSameGroupRunning = (group: ProcessGroup) => {
  if (!Number.isInteger(group.pgid) || group.pgid <= 1 || !groupRunning(group.pgid)) return false
  const leader = processStat(group.pgid)
  if (leader === undefined || leader.state === "Z") return true
  if (leader.pgrp !== group.pgid) return false
  return group.startTime === null || leader.startTime === group.startTime
}

const signal = (pgid: number, name: NodeJS.Signals) => {
  try {
    process.kill(-pgid, name)
  } catch {
    // ESRCH: it ended between the check and the signal.
  }
}

/** True once nothing of the group runs, checked every 50 ms for at most `within`. */
const endsWithin = (pgid: number, within: Duration.Input) =>
  Effect.sync(() => !groupRunning(pgid)).pipe(
    Effect.repeat({ until: (gone) => gone, schedule: Schedule.spaced("50 millis") }),
    Effect.timeout(within),
    Effect.orElseSucceed(() => false)
  )

/**
 * What became of a recorded group: `none` when it no longer ran (or was not ours), `finished`
 * when it ended by itself within `wait`, `ended` when it was ended: SIGTERM (with SIGCONT, so a
 * stopped group hears it), then SIGKILL after `grace`. Answers only once nothing of it runs (or
 * the last bound passed, which `ended` does not hide: the caller looks at the disk afterwards).
 */
export const settleGroup = (
  group: ProcessGroup,
  options: { readonly wait?: Duration.Input; readonly grace?: Duration.Input } = {}
) =>
  Effect.gen(function* () {
    if (!isSameGroupRunning(group)) return "none" as const
    if (options.wait !== undefined && (yield* endsWithin(group.pgid, options.wait)))
      return "finished" as const
    signal(group.pgid, "SIGTERM")
    signal(group.pgid, "SIGCONT")
    if (!(yield* endsWithin(group.pgid, options.grace ?? "3 seconds"))) {
      signal(group.pgid, "SIGKILL")
      yield* endsWithin(group.pgid, "5 seconds")
    }
    return "ended" as const
  })

// What runs on this machine, read from Linux's /proc the way a user would look with ps: each
// process's command, arguments, working directory and process group. For tests that must find a
// process the server left running (a git a crash orphaned) and end it afterwards. Not shipped.
import { readdirSync, readFileSync, readlinkSync } from "node:fs"

export interface RunningProcess {
  readonly pid: number
  readonly pgid: number
  readonly comm: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string | undefined
}

const read = (pid: string): RunningProcess | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    if (fields[0] === "Z") return undefined
    let cwd: string | undefined
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`)
    } catch {
      cwd = undefined
    }
    return {
      pid: Number(pid),
      pgid: Number(fields[2]),
      comm: readFileSync(`/proc/${pid}/comm`, "latin1").trim(),
      args: readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").slice(0, -1),
      cwd
    }
  } catch {
    return undefined
  }
}

/** Live (not zombie) processes for which `where` holds. */
export const processesWhere = (where: (p: RunningProcess) => boolean): ReadonlyArray<RunningProcess> =>
  readdirSync("/proc").flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return []
    const found = read(entry)
    return found !== undefined && where(found) ? [found] : []
  })

/** git processes (past any wrapper) running `git ... <subcommand> <action>` in `repo`. */
export const gitProcessesIn = (repo: string, subcommand: string, action: string) =>
  processesWhere((p) => {
    if (p.comm !== "git" || p.cwd !== repo) return false
    const at = p.args.indexOf(subcommand)
    return at >= 0 && p.args[at + 1] === action
  })

/** SIGKILL to each process group, ignoring the ones already gone. */
export const killGroups = (pgids: Iterable<number>) => {
  for (const pgid of new Set(pgids)) {
    try {
      process.kill(-pgid, "SIGKILL")
    } catch {
      // gone
    }
  }
}

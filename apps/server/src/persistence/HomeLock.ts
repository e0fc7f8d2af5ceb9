// One server per home: an exclusive OS lock on `<home>/server.lock`, held for the server's whole
// life and released by the kernel when the process dies (even on kill -9). Node has no flock, so
// the lock is SQLite's own POSIX fcntl lock: the file opened as a database in exclusive locking
// mode inside a transaction that is never committed. It does not write server.json or open the
// real database; it only says who holds the home when another server does.
import { readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { serverInfoPath } from "../config/ServerConfig.ts"

export class HomeLockError extends Schema.TaggedError<HomeLockError>()("HomeLockError", {
  reason: Schema.Literals(["in-use", "unavailable"]),
  message: Schema.String,
  home: Schema.String
}) {}

export const homeLockPath = (home: string) => join(home, "server.lock")

/** SQLITE_BUSY and SQLITE_LOCKED: another connection holds the lock. */
const BUSY_CODES = new Set([5, 6])

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** Linux names the holder of a POSIX lock in /proc/locks; elsewhere (or unreadable) undefined. */
const lockHolderPid = (lockFile: string): number | undefined => {
  try {
    const inode = statSync(lockFile).ino
    const pids = new Set<number>()
    for (const line of readFileSync("/proc/locks", "utf8").split("\n")) {
      // "1: POSIX  ADVISORY  WRITE 7219 fe:00:2147361 1073741824 1073742335"
      const fields = line.trim().split(/\s+/)
      if (fields[1] !== "POSIX") continue
      const [pid, device] = [Number(fields[4]), fields[5] ?? ""]
      if (Number(device.split(":")[2]) === inode && Number.isInteger(pid) && pid > 0) pids.add(pid)
    }
    return pids.size === 1 ? [...pids][0] : undefined
  } catch {
    return undefined
  }
}

/** The running server's pid and url, from the lock holder and `<home>/server.json` when they agree. */
export const describeHolder = (home: string): { readonly pid: string; readonly url: string } => {
  const holder = lockHolderPid(homeLockPath(home))
  let info: { readonly pid?: unknown; readonly url?: unknown } = {}
  try {
    info = JSON.parse(readFileSync(serverInfoPath({ home }), "utf8"))
  } catch {
    // missing or half-written: the holder may still be starting
  }
  const infoPid = typeof info.pid === "number" && isAlive(info.pid) ? info.pid : undefined
  // server.json left by a server that died is stale; trust it only for the live holder.
  const current = infoPid !== undefined && (holder === undefined || holder === infoPid)
  const pid = holder ?? infoPid
  return {
    pid: pid === undefined ? "unknown" : String(pid),
    url: current && typeof info.url === "string" ? info.url : "unknown"
  }
}

const take = (home: string): DatabaseSync => {
  // timeout 0: a held lock answers SQLITE_BUSY at once instead of waiting.
  const db = new DatabaseSync(homeLockPath(home), { timeout: 0 })
  try {
    db.exec("PRAGMA locking_mode=EXCLUSIVE")
    // No journal file beside the lock; nothing is ever written to it.
    db.exec("PRAGMA journal_mode=MEMORY")
    db.exec("BEGIN EXCLUSIVE")
    return db
  } catch (error) {
    db.close()
    throw error
  }
}

const refusal = (home: string, error: unknown) => {
  const code = (error as { readonly errcode?: unknown }).errcode
  if (typeof code === "number" && BUSY_CODES.has(code)) {
    const { pid, url } = describeHolder(home)
    return new HomeLockError({
      reason: "in-use",
      home,
      message:
        `another Spindle (pid ${pid}, url ${url}) is using ${home}. ` +
        "Stop it first, or pass another --home."
    })
  }
  return new HomeLockError({
    reason: "unavailable",
    home,
    message: `Cannot lock ${homeLockPath(home)}: ${error instanceof Error ? error.message : String(error)}. Check the file and its permissions, or delete it when no Spindle is running.`
  })
}

/**
 * Holds the home's lock for the enclosing scope, or fails with `HomeLockError` (`in-use` when
 * another process holds it) without writing anything.
 */
export const holdHomeLock = (home: string) =>
  Effect.acquireRelease(Effect.try({ try: () => take(home), catch: (error) => refusal(home, error) }), (db) =>
    Effect.sync(() => {
      try {
        db.exec("ROLLBACK")
      } catch {
        // closing releases the lock either way
      }
      db.close()
    })
  ).pipe(Effect.asVoid)

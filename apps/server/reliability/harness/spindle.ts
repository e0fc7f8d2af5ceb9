// The real server for the reliability suite: `npm start -- --port 0 --home <home>` in its own
// process group, with optional environment (crash points) and flags; its pid (from server.json),
// owner token, kill -9, graceful stop and memory figures. Loopback only, every wait bounded.
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import { type StartedCommand, startNpm } from "../../src/testing/serverProcess.ts"

export interface Spindle {
  readonly home: string
  readonly url: string
  /** The server's own node process (not npm's). */
  readonly pid: number
  readonly ownerToken: string
  readonly process: StartedCommand
  /** Everything the process group wrote to stdout and stderr. */
  readonly output: () => string
  /** Resolves once npm (and so the server) has exited. */
  readonly exited: Promise<number | string>
}

export interface StartOptions {
  readonly env?: NodeJS.ProcessEnv
  readonly args?: ReadonlyArray<string>
  readonly timeoutMs?: number
}

const READY = /ready on (http:\/\/127\.0\.0\.1:\d+)/

export const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const killGroup = (started: StartedCommand, signal: NodeJS.Signals) => {
  try {
    if (started.child.pid !== undefined) process.kill(-started.child.pid, signal)
  } catch {
    // already gone
  }
}

const waitFor = (promise: Promise<unknown>, ms: number) =>
  Promise.race([promise.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))])

/** Starts the server and resolves once it logged "ready"; stopped (kill -9) with the scope. */
export const startSpindle = (home: string, options: StartOptions = {}) =>
  Effect.acquireRelease(
    Effect.callback<Spindle, Error>((resume) => {
      const started = startNpm(["start", "--", "--port", "0", "--home", home, ...(options.args ?? [])], {
        ...options.env
      })
      const timeoutMs = options.timeoutMs ?? 30_000
      let settled = false
      const finish = (effect: Effect.Effect<Spindle, Error>) => {
        if (settled) return
        settled = true
        clearInterval(poll)
        clearTimeout(timer)
        resume(effect)
      }
      const timer = setTimeout(() => {
        killGroup(started, "SIGKILL")
        finish(Effect.fail(new Error(`server not ready after ${timeoutMs} ms:\n${started.output()}`)))
      }, timeoutMs)
      const poll = setInterval(() => {
        const url = READY.exec(started.output())?.[1]
        if (url === undefined) return
        const info = JSON.parse(readFileSync(join(home, "server.json"), "utf8")) as { pid: number }
        const tokenPath = join(home, "owner-token")
        finish(
          Effect.succeed({
            home,
            url,
            pid: info.pid,
            ownerToken: existsSync(tokenPath) ? readFileSync(tokenPath, "utf8").trim() : "",
            process: started,
            output: started.output,
            exited: started.exited
          })
        )
      }, 20)
      void started.exited.then((code) =>
        finish(Effect.fail(new Error(`server exited (${code}) before ready:\n${started.output()}`)))
      )
    }),
    (spindle) => Effect.promise(() => kill9(spindle))
  )

/** kill -9 of the server process itself, as a power cut or the OOM killer would; then of npm. */
export const kill9 = async (spindle: Spindle) => {
  try {
    process.kill(spindle.pid, "SIGKILL")
  } catch {
    // already gone
  }
  killGroup(spindle.process, "SIGKILL")
  await waitFor(spindle.exited, 10_000)
  await waitForExit(spindle.pid, 10_000)
}

/** SIGTERM to the server; answers whether it exited within the bound (then it was stopped cleanly). */
export const stopSpindle = async (spindle: Spindle, ms = 15_000) => {
  try {
    process.kill(spindle.pid, "SIGTERM")
  } catch {
    return true
  }
  const stopped = await waitFor(spindle.exited, ms)
  if (!stopped) await kill9(spindle)
  return stopped
}

/** Resolves once `pid` is gone (or the bound passed); answers whether it is gone. */
export const waitForExit = async (pid: number, ms: number) => {
  const until = Date.now() + ms
  while (isAlive(pid)) {
    if (Date.now() > until) return false
    await new Promise((r) => setTimeout(r, 20))
  }
  return true
}

/** Peak and current resident set size of a live process, in KiB (Linux /proc). */
export const memoryOf = (pid: number): { readonly hwmKiB: number; readonly rssKiB: number } | undefined => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8")
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0)
    return { hwmKiB: field("VmHWM"), rssKiB: field("VmRSS") }
  } catch {
    return undefined
  }
}

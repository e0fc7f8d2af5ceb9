// Real child processes for tests: any command with its output collected, and the real server
// started the way a user does (`npm start -- …`) in its own process group, resolved on its
// "ready" line. Only loopback, an ephemeral port, bounded waits.
import { type ChildProcess, spawn } from "node:child_process"
import { join, resolve } from "node:path"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { postgresFor, testPostgres } from "./testStore.ts"

export const REPO_ROOT = resolve(import.meta.dirname, "../../../..")

export interface ServerProcess {
  readonly child: ChildProcess
  readonly url: string
  /** Everything the process wrote to stderr so far. */
  readonly output: () => string
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>
  /** SIGTERM to the whole process group, as a terminal's Ctrl-C or a service manager does. */
  readonly terminate: (signal?: NodeJS.Signals) => void
}

export interface StartedCommand {
  readonly child: ChildProcess
  /** stdout and stderr as they arrived, together. */
  readonly output: () => string
  readonly stdout: () => string
  readonly stderr: () => string
  /** Resolves with the exit code, or the name of the signal that ended it, with all output read. */
  readonly exited: Promise<number | string>
}

/** Starts a process with stdin closed and its output collected. */
export const startProcess = (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv; readonly detached?: boolean } = {}
): StartedCommand => {
  const child = spawn(command, [...args], {
    cwd: options.cwd ?? REPO_ROOT,
    detached: options.detached === true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...options.env }
  })
  let output = ""
  let stdout = ""
  let stderr = ""
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk
    stdout += chunk
  })
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk
    stderr += chunk
  })
  // `exit` can come before the last of a pipe's output has been read: wait for the pipes to close
  // too, for at most 2 s (a process it left running may hold them open).
  const exited = new Promise<number | string>((resolveExit) => {
    child.on("exit", (code, signal) => {
      const ended = code ?? signal ?? "unknown"
      const bound = setTimeout(() => resolveExit(ended), 2_000)
      child.once("close", () => {
        clearTimeout(bound)
        resolveExit(ended)
      })
    })
  })
  return { child, output: () => output, stdout: () => stdout, stderr: () => stderr, exited }
}

/** Runs `npm <args>` from the repository root in a new process group. */
export const startNpm = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = {}): StartedCommand =>
  startProcess("npm", ["--silent", ...args], { env, detached: true })

/** Runs a process to its end (bounded): its exit code (-1 for a signal) and output. */
export const runProcess = (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly env?: NodeJS.ProcessEnv; readonly timeout?: Duration.Input } = {}
) =>
  Effect.promise(async () => {
    const started = startProcess(command, args, options.env === undefined ? {} : { env: options.env })
    const ended = await started.exited
    return {
      code: typeof ended === "number" ? ended : -1,
      stdout: started.stdout(),
      stderr: started.stderr(),
      output: started.output()
    }
  }).pipe(Effect.timeout(options.timeout ?? "30 seconds"), Effect.orDie)

const killGroup = (child: ChildProcess, signal: NodeJS.Signals) => {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal)
  } catch {
    // already gone
  }
}

/**
 * The URL a server started as `started` logs that it is ready on. Fails, saying what it wrote, when
 * it exits first or is not ready within `timeoutMs` (then `onTimeout` runs, to stop it).
 */
export const readyUrl = (started: StartedCommand, timeoutMs: number, onTimeout: () => void = () => {}) =>
  Effect.callback<string, Error>((resume) => {
    const timer = setTimeout(() => {
      onTimeout()
      resume(Effect.fail(new Error(`server not ready after ${timeoutMs} ms:\n${started.output()}`)))
    }, timeoutMs)
    const poll = setInterval(() => {
      const match = /ready on (http:\/\/\S+)/.exec(started.output())
      if (match?.[1] !== undefined) {
        clearInterval(poll)
        clearTimeout(timer)
        resume(Effect.succeed(match[1]))
      }
    }, 25)
    void started.exited.then((code) => {
      clearInterval(poll)
      clearTimeout(timer)
      resume(Effect.fail(new Error(`server exited (${code}) before ready:\n${started.output()}`)))
    })
  })

/** `npm start -- --port 0 --home <home> …`, resolved once it logs that it is ready. */
export const startServer = (
  home: string,
  extraArgs: ReadonlyArray<string> = [],
  timeoutMs = 20_000,
  env: NodeJS.ProcessEnv = {}
) =>
  Effect.acquireRelease(
    Effect.suspend(() => {
      const admin = testPostgres()
      // Under the Postgres test project the server keeps its state where the test's reads look.
      const store =
        admin === undefined || extraArgs.includes("--store")
          ? []
          : ["--store", postgresFor(admin, join(home, "spindle.db"))]
      const started = startNpm(["start", "--", "--port", "0", "--home", home, ...store, ...extraArgs], env)
      const terminate = (signal: NodeJS.Signals = "SIGTERM") => killGroup(started.child, signal)
      return Effect.map(
        readyUrl(started, timeoutMs, () => terminate("SIGKILL")),
        (url): ServerProcess => ({ ...started, url, terminate })
      )
    }),
    // Whatever the test did, leave no process behind.
    (server) =>
      Effect.promise(async () => {
        server.terminate("SIGKILL")
        await Promise.race([server.exited, new Promise((r) => setTimeout(r, 5_000))])
      })
  )

const SPINDLE = resolve(REPO_ROOT, "apps/server/bin/spindle.mjs")

/** `spindle args...` on the Node running the tests, to its end: exit code, stdout, stderr. */
export const runSpindle = (
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  timeout: Duration.Input = "60 seconds"
) => runProcess(process.execPath, [SPINDLE, ...args], { env, timeout })
